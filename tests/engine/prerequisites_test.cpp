// Tests of engine/prerequisites.cpp (docs/reference.md §4 PREREQUIS_QUALIFICATION, TIERS_TELETRANSMISSION,
// UTILISATEUR_TECHNIQUE_ABSENT): one function for the submission and the nightly re-check.
#include "engine/prerequisites.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/database.hpp"

namespace raccord {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> codes(const Diagnostics& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.emplace_back(to_code(d.code));
  return out;
}

class PrerequisitesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = open_database(Backend::Sqlite, ":memory:");
    db_->migrate();
  }
  StructureRecord structure(const std::string& siret, bool qualified) {
    StructureRecord s;
    s.siret = siret;
    s.raison_sociale = "Structure " + siret;
    s.connected_in_qualification = qualified;
    return s;
  }
  std::unique_ptr<Database> db_;
};

TEST_F(PrerequisitesTest, QualifiedStructureWithEdiSheetHasNone) {
  Store store(*db_);
  EXPECT_THAT(
      check_partner_prerequisites(store, Environment::Production, structure("12345678200010", true), SheetKind::Edi, 7),
      IsEmpty());
}

TEST_F(PrerequisitesTest, UnqualifiedStructureNeedsAQualifiedEditorInProductionOnly) {
  Store store(*db_);
  StructureRecord s = structure("12345678200010", false);
  const auto in_production = check_partner_prerequisites(store, Environment::Production, s, SheetKind::Edi, 7);
  EXPECT_THAT(codes(in_production), ElementsAre("PREREQUIS_QUALIFICATION"));
  EXPECT_EQ(in_production[0].field, "Partenaire");
  EXPECT_EQ(in_production[0].line, 7);
  EXPECT_NE(in_production[0].message.find("12345678200010"), std::string::npos);
  EXPECT_THAT(check_partner_prerequisites(store, Environment::Qualification, s, SheetKind::Edi, 7), IsEmpty());

  StructureRecord editor = structure("98765432400019", true);
  store.upsert_structure(editor, {}, {}, Instant{});
  s.editor_siret = editor.siret;
  EXPECT_THAT(check_partner_prerequisites(store, Environment::Production, s, SheetKind::Edi, 7), IsEmpty());
}

TEST_F(PrerequisitesTest, TiersAndMissingTechnicalUserForAnApiSheet) {
  Store store(*db_);
  StructureRecord s = structure("12345678200010", true);
  s.uses_tiers = true;
  EXPECT_THAT(codes(check_partner_prerequisites(store, Environment::Production, s, SheetKind::Api, 3)),
              ElementsAre("TIERS_TELETRANSMISSION", "UTILISATEUR_TECHNIQUE_ABSENT"));
  EXPECT_THAT(codes(check_partner_prerequisites(store, Environment::Production, s, SheetKind::Edi, 3)),
              ElementsAre("TIERS_TELETRANSMISSION"));
}

}  // namespace
}  // namespace raccord
