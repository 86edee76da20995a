// Tests of domain/text_fold.cpp: accents and case ignored for searches (issue 18: `--etat Activée`,
// `--raison-sociale`, `RaisonSociale` in a Recherche).
#include "domain/text_fold.hpp"

#include <gtest/gtest.h>

namespace raccord {
namespace {

TEST(TextFoldTest, AccentsAndCaseFoldToTheBaseLetterInLowerCase) {
  EXPECT_EQ(fold_for_matching("Activée"), "activee");
  EXPECT_EQ(fold_for_matching("DÉSACTIVÉE"), "desactivee");
  EXPECT_EQ(fold_for_matching("Envoyée MAJ"), "envoyee maj");
  EXPECT_EQ(fold_for_matching("ENVOYEE_MAJ"), "envoyee_maj");
  EXPECT_EQ(fold_for_matching("Société Générale Équipements"), "societe generale equipements");
  EXPECT_EQ(fold_for_matching("ŒUVRE cœur Ærø Straße Çà"), "oeuvre coeur aero strasse ca");
  EXPECT_EQ(fold_for_matching("Łódź Škoda Ÿ"), "lodz skoda y");
}

TEST(TextFoldTest, OtherCharactersAndInvalidBytesAreKept) {
  EXPECT_EQ(fold_for_matching("a×b÷c"), "a×b÷c");
  EXPECT_EQ(fold_for_matching("€ 12 % — 漢字"), "€ 12 % — 漢字");
  EXPECT_EQ(fold_for_matching(std::string("x\xC3", 2)), std::string("x\xC3", 2));  // truncated sequence
  EXPECT_EQ(fold_for_matching(std::string("\xC3(", 2)), std::string("\xC3(", 2));  // not a continuation
  EXPECT_EQ(fold_for_matching(""), "");
}

TEST(TextFoldTest, ContainsFoldedMatchesPartOfTheText) {
  EXPECT_TRUE(contains_folded("ACME Logistique SAS", "logist"));
  EXPECT_TRUE(contains_folded("Société Exemple Équipements", "exemple equip"));
  EXPECT_TRUE(contains_folded("Pro Shop SARL", "pro shop"));
  EXPECT_TRUE(contains_folded("Pro Shop SARL", ""));
  EXPECT_FALSE(contains_folded("Pro Shop SARL", "proshop"));
  EXPECT_FALSE(contains_folded("ACME", "acmé s"));
}

}  // namespace
}  // namespace raccord
