// Tests of engine/sheet_view.cpp (docs/reference.md §7 `raccord show`): a sheet's identity, state, activated and
// pending versions (protocol, period, interfaces with modes, certificates with end dates, contact,
// network), the whole history in recording order, deleted drafts still loaded, unknown codes.
#include "engine/sheet_view.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/nightly.hpp"
#include "tests/support/engine_fixture.hpp"

namespace raccord::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> interfaces_of(const VersionView& v) {
  std::vector<std::string> out;
  for (const auto& i : v.interfaces) out.push_back(i.code + ":" + i.mode);
  return out;
}

std::vector<std::string> history_of(const SheetView& s) {
  std::vector<std::string> out;
  for (const auto& h : s.history) {
    out.push_back(format_iso_instant(h.instant) + " " + h.actor + ":" + (h.from ? std::string(to_code(*h.from)) : "") +
                  ">" + std::string(to_code(h.to)));
  }
  return out;
}

class SheetViewTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    start("2026-11-29T10:00:00Z");
    setup_world();
  }
  void ok(const std::string& operations) {
    ++n_;
    const ParsedAck ack = process("v_" + std::to_string(n_) + ".xml",
                                  depot_xml(operations, "identifiant=\"V-" + std::to_string(n_) + "\""));
    ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
  }
  int n_ = 0;
};

TEST_F(SheetViewTest, UnknownCodeIsNullopt) {
  EXPECT_FALSE(load_sheet_view(db(), "VFE999").has_value());
  EXPECT_FALSE(load_sheet_view(db(), "").has_value());
}

TEST_F(SheetViewTest, ActivatedAndPendingVersionsWithTheWholeHistory) {
  SheetSpec first = as2_sheet();
  first.interfaces = {{"FSO1100A", "complete"}, {"FSO1101A", "partielle"}, {"FSO1102A", "aucun"}};
  std::string first_xml = sheet_xml(first);
  const std::string fixture_comment = "<Commentaires>Fiche de test.</Commentaires>";
  first_xml.replace(first_xml.find(fixture_comment), fixture_comment.size(),
                    "<Commentaires>Première fiche ; deux interfaces.</Commentaires>");
  ok(first_xml);
  // The nightly run of 2026-12-01 activates it (du = 2026-12-01).
  start("2026-12-01T05:00:00Z");
  ASSERT_EQ(run_nightly(engine(), *parse_iso_date("2026-12-01")).status, NightlyStatus::Ran);
  // A renewal submitted on 2026-12-02: ENVOYEE_MAJ, the activated version stays in force.
  start("2026-12-02T09:30:00Z");
  SheetSpec update = as2_sheet();
  update.code_appli = "VFE001";
  update.period_from = "2026-12-05";
  update.period_to = "";
  update.contact_email = "renouvellement@exemple.fr";
  update.interfaces = {{"FSO1105A", "complete"}};
  ok(sheet_xml(update));

  const auto view = load_sheet_view(db(), "VFE001");
  ASSERT_TRUE(view.has_value());
  const SheetView& s = *view;
  EXPECT_EQ(s.code_appli, "VFE001");
  EXPECT_EQ(s.kind, SheetKind::Edi);
  EXPECT_EQ(s.partner_siret, kAcme);
  EXPECT_EQ(s.raison_sociale, "ACME Logistique SAS");
  EXPECT_EQ(s.state, SheetState::EnvoyeeMaj);
  EXPECT_FALSE(s.deleted);
  ASSERT_TRUE(s.submitted_at.has_value());
  EXPECT_EQ(format_iso_instant(*s.submitted_at), "2026-12-02T09:30:00Z");
  EXPECT_EQ(format_iso_instant(s.created_at), "2026-11-29T10:00:00Z");

  ASSERT_TRUE(s.active.has_value());
  const VersionView& a = *s.active;
  EXPECT_EQ(to_code(a.action), "soumettre");
  EXPECT_EQ(a.protocol, "AS2");
  ASSERT_TRUE(a.period_from && a.period_to);
  EXPECT_EQ(format_iso_date(*a.period_from), "2026-12-01");
  EXPECT_EQ(format_iso_date(*a.period_to), "2099-06-30");
  EXPECT_THAT(interfaces_of(a), ElementsAre("FSO1100A:complete", "FSO1101A:partielle", "FSO1102A:aucun"));
  EXPECT_EQ(a.contact_name, "Julien Dupont");
  EXPECT_EQ(a.contact_phone, "01 23 45 67 89");
  EXPECT_EQ(a.contact_email, "j.dupont@exemple.fr");
  EXPECT_EQ(a.network_identifier, "PARTAS2");
  EXPECT_EQ(a.network_address, "203.0.113.10");
  EXPECT_EQ(a.network_port, "4080");
  EXPECT_EQ(a.network_path, "/as2/in");
  EXPECT_EQ(a.comments, "Première fiche ; deux interfaces.");
  EXPECT_EQ(a.created_by, kSubscriber);
  EXPECT_EQ(format_iso_instant(a.created_at), "2026-11-29T10:00:00Z");
  ASSERT_EQ(a.certificates.size(), 2U);  // leaf + intermediate, in bundle order
  const auto leaf = std::find_if(a.certificates.begin(), a.certificates.end(), [](const auto& c) { return c.is_leaf; });
  ASSERT_NE(leaf, a.certificates.end());
  EXPECT_EQ(leaf->subject, "CN=client.exemple.fr");
  EXPECT_FALSE(leaf->serial.empty());
  EXPECT_FALSE(leaf->is_ca);
  EXPECT_EQ(format_iso_instant(leaf->not_after), "2030-12-31T23:59:59Z");
  EXPECT_EQ(format_iso_instant(leaf->not_before), "2025-01-01T00:00:00Z");
  EXPECT_EQ(leaf->bundle_index, 1);  // Certificats/Certificat[1]
  EXPECT_EQ(leaf->bundle_name, "certificat_1.p7b");

  ASSERT_TRUE(s.pending.has_value());
  const VersionView& p = *s.pending;
  EXPECT_NE(p.id, a.id);
  EXPECT_EQ(format_iso_date(*p.period_from), "2026-12-05");
  EXPECT_FALSE(p.period_to.has_value());  // open-ended
  EXPECT_EQ(p.contact_email, "renouvellement@exemple.fr");
  EXPECT_THAT(interfaces_of(p), ElementsAre("FSO1105A:complete"));
  EXPECT_EQ(format_iso_instant(p.created_at), "2026-12-02T09:30:00Z");

  EXPECT_THAT(history_of(s),
              ElementsAre("2026-11-29T10:00:00Z j.dupont:>ENVOYEE", "2026-12-01T01:00:00Z nightly:ENVOYEE>ACTIVEE",
                          "2026-12-02T09:30:00Z j.dupont:ACTIVEE>ENVOYEE_MAJ"));
  EXPECT_FALSE(s.history[1].reason.empty());  // the run says why
}

TEST_F(SheetViewTest, DeletedDraftIsStillLoadedWithItsHistory) {
  SheetSpec draft = api_sheet();
  draft.action = "enregistrer";
  ok(sheet_xml(draft));
  ok("  <FicheAPI demandeur=\"j.dupont\" action=\"supprimer\" codeAppli=\"VFE001\"><Partenaire>" + std::string(kAcme) +
     "</Partenaire></FicheAPI>\n");
  const auto view = load_sheet_view(db(), "VFE001");
  ASSERT_TRUE(view.has_value());
  EXPECT_TRUE(view->deleted);
  EXPECT_EQ(view->kind, SheetKind::Api);
  EXPECT_EQ(view->state, SheetState::Brouillon);
  EXPECT_FALSE(view->submitted_at.has_value());
  EXPECT_FALSE(view->active.has_value());
  ASSERT_TRUE(view->pending.has_value());
  EXPECT_EQ(to_code(view->pending->action), "enregistrer");
  EXPECT_EQ(view->pending->protocol, "");
  EXPECT_THAT(view->pending->interfaces, IsEmpty());
  EXPECT_EQ(view->pending->certificates.size(), 2U);
  EXPECT_THAT(history_of(*view), ElementsAre("2026-11-29T10:00:00Z j.dupont:>BROUILLON",
                                             "2026-11-29T10:00:00Z j.dupont:BROUILLON>BROUILLON"));
}

TEST_F(SheetViewTest, DeactivatedSheetKeepsItsActivatedVersionAndNoPending) {
  ok(sheet_xml(sftp_sheet()));
  activate_by_sql("VFE001");
  start("2026-11-28T08:00:00Z");  // --now may move backwards: history stays in recording order
  ok("  <FicheEDI demandeur=\"g.martin\" action=\"desactiver\" codeAppli=\"VFE001\"><Partenaire>" + std::string(kAcme) +
     "</Partenaire></FicheEDI>\n");
  const auto view = load_sheet_view(db(), "VFE001");
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->state, SheetState::Desactivee);
  ASSERT_TRUE(view->active.has_value());
  EXPECT_THAT(interfaces_of(*view->active), ElementsAre("FSO1100A:complete"));
  EXPECT_FALSE(view->pending.has_value());
  EXPECT_THAT(history_of(*view), ElementsAre("2026-11-29T10:00:00Z j.dupont:>ENVOYEE",
                                             "2026-11-28T08:00:00Z g.martin:ACTIVEE>DESACTIVEE"));
}

// A state, kind or action that no release writes, read for `raccord show`, is a StoreError naming
// the table, the row and the value: never a sheet shown in a default state, nor a history line
// left without its origin (issue 15).
TEST_F(SheetViewTest, AnUnknownStoredValueIsAStoreErrorNamingTheRow) {
  ok(sheet_xml(sftp_sheet()));
  activate_by_sql("VFE001");
  const auto corrupt = [this](const std::string& statement) {
    Transaction tx(db());
    db().execute(statement);
    tx.commit();
  };
  const auto expect_error = [this](const std::string& table, const std::string& row, const std::string& value) {
    try {
      (void)load_sheet_view(db(), "VFE001");
      ADD_FAILURE() << "no StoreError for " << table << " = " << value;
    } catch (const StoreError& e) {
      const std::string what = e.what();
      EXPECT_THAT(what, ::testing::HasSubstr(table));
      EXPECT_THAT(what, ::testing::HasSubstr(row));
      EXPECT_THAT(what, ::testing::HasSubstr("« " + value + " »"));
      EXPECT_FALSE(e.transient);
    }
  };
  ASSERT_TRUE(load_sheet_view(db(), "VFE001").has_value());
  const std::string version = std::to_string(sql("SELECT active_version FROM sheets")[0].integer(0));

  corrupt("UPDATE sheets SET state = 'ACTIVE'");
  expect_error("sheets.state", "VFE001", "ACTIVE");
  corrupt("UPDATE sheets SET state = 'ACTIVEE', kind = 'SOAP'");
  expect_error("sheets.kind", "VFE001", "SOAP");
  corrupt("UPDATE sheets SET kind = 'EDI'");
  corrupt("UPDATE history SET to_state = 'PERDUE' WHERE from_state IS NULL");
  expect_error("history.to_state", "VFE001", "PERDUE");
  corrupt("UPDATE history SET to_state = 'ENVOYEE' WHERE from_state IS NULL");
  corrupt(
      "INSERT INTO history (id, code_appli, instant, actor, from_state, to_state, reason) VALUES "
      "(1000, 'VFE001', '2026-11-30T01:00:00Z', 'nightly', 'envoyee', 'ACTIVEE', 'activation')");
  expect_error("history.from_state", "VFE001", "envoyee");
  corrupt("UPDATE history SET from_state = 'ENVOYEE' WHERE id = 1000");
  corrupt("UPDATE sheet_versions SET action = 'publier'");
  expect_error("sheet_versions.action", version, "publier");
  corrupt("UPDATE sheet_versions SET action = 'soumettre'");
  EXPECT_TRUE(load_sheet_view(db(), "VFE001").has_value());
}

}  // namespace
}  // namespace raccord::testing
