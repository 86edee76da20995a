// Tests of rules/siret.cpp: docs/reference.md §4 SIRET_INVALIDE and docs/field-cases.md F38 (every row of its table).
#include "rules/siret.hpp"

#include <gtest/gtest.h>

namespace raccord::rules {
namespace {

Field field(std::string value, int line = 7) {
  return Field{std::move(value), line, true};
}

constexpr Environment kProd = Environment::Production;
constexpr Environment kQualif = Environment::Qualification;

// --- F38 table, production ----------------------------------------------------------------------

TEST(SiretF38, LaPosteEstablishmentFailsLuhnButDigitSumIsMultipleOf5) {
  // 35600000009075: Luhn(14) fails, digit sum 35 -> accepted by the La Poste exception.
  EXPECT_EQ(check_siret("35600000009075", kProd), SiretCheck::Ok);
}

TEST(SiretF38, LaPosteHeadOfficePassesLuhn) {
  // 35600000000048: Luhn passes, digit sum 26 (not a multiple of 5): accepted through Luhn.
  EXPECT_EQ(check_siret("35600000000048", kProd), SiretCheck::Ok);
}

TEST(SiretF38, LaPosteWithDigitSum36IsSiretChecksum) {
  EXPECT_EQ(check_siret("35600000009076", kProd), SiretCheck::SiretChecksum);
}

TEST(SiretF38, InventedLuhnValidSiretsAreAccepted) {
  EXPECT_EQ(check_siret("12345678200010", kProd), SiretCheck::Ok);
  EXPECT_EQ(check_siret("12345678200028", kProd), SiretCheck::Ok);
  EXPECT_EQ(check_siret("98765432400019", kProd), SiretCheck::Ok);
  EXPECT_EQ(check_siret("81034732800017", kProd), SiretCheck::Ok);  // docs/reference.md §3.1 example
}

TEST(SiretF38, LuhnValidOver14ButSirenFailsIsSirenChecksum) {
  EXPECT_EQ(check_siret("11122233344455", kProd), SiretCheck::SirenChecksum);
}

TEST(SiretF38, SpacesAreRefusedBecauseSpecWins) {
  // The field report behind docs/field-cases.md F38 proposed to accept "356 000 000 09075" after stripping spaces,
  // but docs/reference.md §4 says SIRET_INVALIDE when the value is "not exactly 14 ASCII digits", and the reference
  // wins: spaces are refused with the format check, in both environments.
  EXPECT_EQ(check_siret("356 000 000 09075", kProd), SiretCheck::Format);
  EXPECT_EQ(check_siret("356 000 000 09075", kQualif), SiretCheck::Format);
}

TEST(SiretF38, ThirteenDigitsLetterOAndArabicIndicDigitsAreFormat) {
  EXPECT_EQ(check_siret("3560000000907", kProd), SiretCheck::Format);
  EXPECT_EQ(check_siret("3560000000907O", kProd), SiretCheck::Format);
  // "٣٥٦٠٠٠٠٠٠٠٩٠٧٥": Arabic-Indic digits (U+0660..U+0669), not ASCII.
  EXPECT_EQ(check_siret("\u0663\u0665\u0666\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0669\u0660\u0667\u0665", kProd),
            SiretCheck::Format);
  EXPECT_EQ(
      check_siret("\u0663\u0665\u0666\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0669\u0660\u0667\u0665", kQualif),
      SiretCheck::Format);
}

TEST(SiretProduction, OtherFormatFailures) {
  EXPECT_EQ(check_siret("", kProd), SiretCheck::Format);
  EXPECT_EQ(check_siret("123456782000100", kProd), SiretCheck::Format);  // 15 digits
  EXPECT_EQ(check_siret("+2345678200010", kProd), SiretCheck::Format);
  EXPECT_EQ(check_siret("1234567820001\t", kProd), SiretCheck::Format);
}

TEST(SiretProduction, SirenValidButSiretLuhnWrong) {
  EXPECT_EQ(check_siret("12345678200011", kProd), SiretCheck::SiretChecksum);
}

TEST(SiretProduction, LaPosteExceptionOnlyForSiren356000000) {
  // 12345678200007: SIREN 123456782 passes Luhn, 14-digit Luhn fails, digit sum 40 (mod 5 = 0): not La Poste.
  EXPECT_EQ(check_siret("12345678200007", kProd), SiretCheck::SiretChecksum);
}

// --- Qualification: exactly 14 digits only ------------------------------------------------------

TEST(SiretQualification, OnlyTheFormatIsChecked) {
  EXPECT_EQ(check_siret("00000000000149", kQualif), SiretCheck::Ok);
  EXPECT_EQ(check_siret("11122233344455", kQualif), SiretCheck::Ok);
  EXPECT_EQ(check_siret("12345678200011", kQualif), SiretCheck::Ok);
  EXPECT_EQ(check_siret("0000000000014", kQualif), SiretCheck::Format);
  EXPECT_EQ(check_siret("0000000000014A", kQualif), SiretCheck::Format);
  // The same qualification identifier fails the checksum rules in production.
  EXPECT_NE(check_siret("00000000000149", kProd), SiretCheck::Ok);
}

// --- validate_siret -----------------------------------------------------------------------------

TEST(ValidateSiret, ValidGivesNothing) {
  EXPECT_FALSE(validate_siret(field("35600000009075"), "Partenaire", kProd).has_value());
}

TEST(ValidateSiret, MissingOrEmptyIsFormatError) {
  const auto missing = validate_siret(Field{}, "Partenaire", kProd);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->code, ErrorCode::SiretInvalide);
  EXPECT_TRUE(missing->is_error());
  EXPECT_EQ(missing->field, "Partenaire");
  EXPECT_EQ(missing->line, 0);
  EXPECT_NE(missing->message.find("absent"), std::string::npos);

  const auto empty = validate_siret(field("", 12), "Partenaire", kQualif);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->code, ErrorCode::SiretInvalide);
  EXPECT_EQ(empty->line, 12);
}

TEST(ValidateSiret, MessagesSayWhichCheckFailed) {
  const auto format = validate_siret(field("356 000 000 09075", 4), "Partenaire", kProd);
  ASSERT_TRUE(format.has_value());
  EXPECT_EQ(format->field, "Partenaire");
  EXPECT_EQ(format->line, 4);
  EXPECT_NE(format->message.find("356 000 000 09075"), std::string::npos);
  EXPECT_NE(format->message.find("14 chiffres"), std::string::npos);

  const auto siren = validate_siret(field("11122233344455"), "editeur", kProd);
  ASSERT_TRUE(siren.has_value());
  EXPECT_EQ(siren->field, "editeur");
  EXPECT_NE(siren->message.find("SIREN 111222333"), std::string::npos);

  const auto siret = validate_siret(field("12345678200011"), "Partenaire", kProd);
  ASSERT_TRUE(siret.has_value());
  EXPECT_EQ(siret->message,
            "Le SIRET 12345678200011 est invalide : la clé de contrôle (Luhn) des 14 chiffres est fausse. "
            "Vérifiez le numéro.");
}

}  // namespace
}  // namespace raccord::rules
