#include "domain/vocabulary.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace raccord {
namespace {

// Checks to_code / parse for every enumerator, and that near misses (case, spaces, labels) are refused.
template <typename E, typename Parse>
void expect_round_trips(const std::vector<std::pair<E, std::string>>& values, Parse parse,
                        const std::vector<std::string>& refused) {
  for (const auto& [value, code] : values) {
    EXPECT_EQ(to_code(value), code);
    const auto parsed = parse(code);
    ASSERT_TRUE(parsed.has_value()) << code;
    EXPECT_EQ(*parsed, value) << code;
  }
  for (const auto& text : refused) EXPECT_FALSE(parse(text).has_value()) << "« " << text << " »";
  EXPECT_FALSE(parse("").has_value());
}

TEST(Vocabulary, Protocol) {
  expect_round_trips<Protocol>({{Protocol::Pesit, "PESIT"}, {Protocol::Sftp, "SFTP"}, {Protocol::As2, "AS2"}},
                               parse<Protocol>, {"sftp", "PeSIT", "FTP", " AS2", "AS2 "});
}

TEST(Vocabulary, ProcessingMode) {
  expect_round_trips<ProcessingMode>({{ProcessingMode::Aucun, "aucun"},
                                      {ProcessingMode::Complete, "complete"},
                                      {ProcessingMode::Partielle, "partielle"}},
                                     parse<ProcessingMode>, {"AUCUN", "complète", "partiel"});
}

TEST(Vocabulary, Environment) {
  expect_round_trips<Environment>(
      {{Environment::Production, "production"}, {Environment::Qualification, "qualification"}}, parse<Environment>,
      {"Production", "prod", "recette"});
}

TEST(Vocabulary, SheetKind) {
  expect_round_trips<SheetKind>({{SheetKind::Edi, "EDI"}, {SheetKind::Api, "API"}}, parse<SheetKind>,
                                {"edi", "Api", "FicheEDI"});
}

TEST(Vocabulary, SheetAction) {
  expect_round_trips<SheetAction>({{SheetAction::Enregistrer, "enregistrer"},
                                   {SheetAction::Soumettre, "soumettre"},
                                   {SheetAction::Supprimer, "supprimer"},
                                   {SheetAction::Desactiver, "desactiver"}},
                                  parse<SheetAction>, {"Soumettre", "désactiver", "activer", "expirer"});
}

TEST(Vocabulary, DepositMode) {
  expect_round_trips<DepositMode>({{DepositMode::Complete, "complete"}, {DepositMode::Partielle, "partielle"}},
                                  parse<DepositMode>, {"Complete", "aucun", "partial"});
}

TEST(Vocabulary, DepositStatus) {
  expect_round_trips<DepositStatus>({{DepositStatus::Integre, "INTEGRE"},
                                     {DepositStatus::IntegrePartiel, "INTEGRE_PARTIEL"},
                                     {DepositStatus::Rejete, "REJETE"},
                                     {DepositStatus::Doublon, "DOUBLON"}},
                                    parse<DepositStatus>, {"integre", "INTÉGRÉ", "ACCEPTEE", "REJETEE"});
}

TEST(Vocabulary, ManagerRole) {
  expect_round_trips<ManagerRole>({{ManagerRole::Principal, "principal"}, {ManagerRole::Secondaire, "secondaire"}},
                                  parse<ManagerRole>, {"Principal", "gestionnaire"});
}

TEST(Vocabulary, Decision) {
  expect_round_trips<Decision>({{Decision::Valider, "valider"}, {Decision::Refuser, "refuser"}}, parse<Decision>,
                               {"VALIDER", "valide", "accepter"});
}

TEST(Vocabulary, ExportFormat) {
  expect_round_trips<ExportFormat>({{ExportFormat::Csv, "csv"}, {ExportFormat::Xml, "xml"}}, parse<ExportFormat>,
                                   {"CSV", "table", "json"});
}

TEST(Vocabulary, SubscriptionStatus) {
  expect_round_trips<SubscriptionStatus>({{SubscriptionStatus::EnAttente, "EN_ATTENTE"},
                                          {SubscriptionStatus::Validee, "VALIDEE"},
                                          {SubscriptionStatus::Refusee, "REFUSEE"}},
                                         parse<SubscriptionStatus>, {"en_attente", "VALIDÉE", "valider", "ACCEPTEE"});
}

// Only an applied dépôt holds its bytes and its identifiant (docs/reference.md §2 "Exactly once").
TEST(Vocabulary, AppliedDepositStatusesAreIntegreAndIntegrePartiel) {
  EXPECT_TRUE(is_applied(DepositStatus::Integre));
  EXPECT_TRUE(is_applied(DepositStatus::IntegrePartiel));
  EXPECT_FALSE(is_applied(DepositStatus::Rejete));
  EXPECT_FALSE(is_applied(DepositStatus::Doublon));
}

TEST(Vocabulary, BooleansAreExactlyTrueOrFalse) {
  EXPECT_EQ(parse_boolean("true"), std::optional<bool>(true));
  EXPECT_EQ(parse_boolean("false"), std::optional<bool>(false));
  for (const char* text : {"", "TRUE", "True", "1", "0", "yes", "oui", "vrai", " true", "false "}) {
    EXPECT_FALSE(parse_boolean(text).has_value()) << "« " << text << " »";
  }
}

}  // namespace
}  // namespace raccord
