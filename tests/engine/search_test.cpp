// Tests of engine/search.cpp (docs/reference.md §3.4 search request, §5.2 export; issue 5): each criterion, the
// submission date range inclusive at both ends in Europe/Paris civil dates, the rights filter (another
// structure's sheets never leak; consultation-only subscriber sees; refused and pending requests see
// nothing; support sees all; unknown user nothing), deleted drafts never appear, the stable order
// (partner, codeAppli, interface), and write_export's file (name, bytes, "_2" when taken).
//
// The world is built by dépôts at fixed business instants (one Engine per instant on the same store).
#include "engine/search.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "outbox/export_writer.hpp"
#include "tests/support/engine_fixture.hpp"

namespace raccord::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

inline constexpr const char* kBeta = "11111111800001";  // Béta Transports, space active, manager b.gest
inline constexpr const char* kZero = "00123456600006";  // Zéro Industrie (leading zeros), manager c.gest

/// The world of the search tests (on top of EngineTest::setup_world()):
/// - users b.gest, c.gest (managers of kBeta, kZero, both spaces active), c.lecture (validated
///   Consultation-only subscription to kAcme), r.refuse (refused request), p.attente (pending request);
/// - kAcme, by j.dupont:
///   VFE001 SFTP FSO1100A complete, FSO1101A partielle, FSO1102A aucun; submitted 2026-11-28T23:00:00Z
///          (Paris: 29/11 00:00:00), ENVOYEE
///   VFE002 AS2 FSO1100A; submitted 2026-11-29T22:59:59Z (Paris: 29/11 23:59:59), ENVOYEE
///   VFE003 PESIT FSO1101A; submitted 2026-11-29T23:00:00Z (Paris: 30/11 00:00:00), then ACTIVEE
///   VFE004 SFTP FSO1105A, a draft (BROUILLON, never submitted)
///   VFE005 SFTP, a draft then deleted
///   VFE006 API, submitted at 2026-11-29T23:00:00Z, ENVOYEE
/// - kBeta by b.gest: VFE007 SFTP FSO1100A (2026-11-29T23:00:00Z); kZero by c.gest: VFE008 SFTP FSO1100A.
class SearchTest : public EngineTest {
 protected:
  static constexpr const char* kT1 = "2026-11-28T23:00:00Z";
  static constexpr const char* kT2 = "2026-11-29T22:59:59Z";
  static constexpr const char* kT3 = "2026-11-29T23:00:00Z";

  void SetUp() override {
    EngineTest::SetUp();
    start(kT1);
    setup_world();
    StructureSpec beta;
    beta.siret = kBeta;
    beta.raison_sociale = "Béta Transports";
    beta.managers = {{"b.gest", "principal"}};
    beta.technical_users = {"TECH_BETA@example.com"};
    StructureSpec zero;
    zero.siret = kZero;
    zero.raison_sociale = "Zéro Industrie";
    zero.managers = {{"c.gest", "principal"}};
    zero.technical_users = {"TECH_ZERO@example.com"};
    ok(user_xml("b.gest") + user_xml("c.gest") + user_xml("c.lecture") + user_xml("r.refuse") + user_xml("p.attente") +
       structure_xml(beta) + structure_xml(zero));
    ok(activation_xml("b.gest", kBeta) + activation_xml("c.gest", kZero) +
       subscription_request_xml("c.lecture", kAcme, false) + subscription_request_xml("r.refuse", kAcme) +
       subscription_request_xml("p.attente", kAcme));
    ok(decision_xml(kManager, "ABO-000002") + decision_xml(kManager, "ABO-000003", "refuser"));

    SheetSpec s1 = sftp_sheet();
    s1.interfaces = {{"FSO1100A", "complete"}, {"FSO1101A", "partielle"}, {"FSO1102A", "aucun"}};
    sheet(s1, "VFE001");
    start(kT2);
    SheetSpec s2 = as2_sheet();
    sheet(s2, "VFE002");
    start(kT3);
    SheetSpec s3 = pesit_sheet();
    s3.interfaces = {{"FSO1101A", "complete"}};
    sheet(s3, "VFE003");
    activate_by_sql("VFE003");
    SheetSpec s4 = sftp_sheet();
    s4.action = "enregistrer";
    s4.interfaces = {{"FSO1105A", "complete"}};
    sheet(s4, "VFE004");
    SheetSpec s5 = sftp_sheet();
    s5.action = "enregistrer";
    sheet(s5, "VFE005");
    ok("  <FicheEDI demandeur=\"j.dupont\" action=\"supprimer\" codeAppli=\"VFE005\"><Partenaire>" +
       std::string(kAcme) + "</Partenaire></FicheEDI>\n");
    sheet(api_sheet(), "VFE006");
    SheetSpec s7 = sftp_sheet();
    s7.partner = kBeta;
    s7.demandeur = "b.gest";
    sheet(s7, "VFE007");
    SheetSpec s8 = sftp_sheet();
    s8.partner = kZero;
    s8.demandeur = "c.gest";
    sheet(s8, "VFE008");
  }

  /// Processes a dépôt of `operations` that must be INTEGRE.
  void ok(const std::string& operations) {
    ++n_;
    const ParsedAck ack = process("s_" + std::to_string(n_) + ".xml",
                                  depot_xml(operations, "identifiant=\"S-" + std::to_string(n_) + "\""));
    ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
  }
  void sheet(const SheetSpec& spec, const std::string& expected_code) {
    ++n_;
    const ParsedAck ack = process("s_" + std::to_string(n_) + ".xml",
                                  depot_xml(sheet_xml(spec), "identifiant=\"S-" + std::to_string(n_) + "\""));
    ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
    ASSERT_EQ(ack.operations.at(0).code_appli, expected_code);
  }

  /// Rows as "SIRET|PROTOCOL|CODE|INTERFACE|from|to|STATE" (EDI) or "SIRET|CODE|STATE" (API).
  std::vector<std::string> rows(const SearchCriteria& c, const std::string& requester = kSupport) {
    std::vector<std::string> out;
    search_sheets(db(), engine().zone(), c, requester, [&out, &c](const SearchRow& r) {
      if (c.kind == SheetKind::Api) {
        out.push_back(r.partner_siret + "|" + r.code_appli + "|" + std::string(to_code(r.state)));
        return;
      }
      out.push_back(r.partner_siret + "|" + r.protocol + "|" + r.code_appli + "|" + r.interface_code + "|" +
                    (r.period_from ? format_iso_date(*r.period_from) : "") + "|" +
                    (r.period_to ? format_iso_date(*r.period_to) : "") + "|" + std::string(to_code(r.state)));
    });
    return out;
  }
  /// Only "CODE/INTERFACE" of each row.
  std::vector<std::string> codes(const SearchCriteria& c, const std::string& requester = kSupport) {
    std::vector<std::string> out;
    search_sheets(db(), engine().zone(), c, requester,
                  [&out](const SearchRow& r) { out.push_back(r.code_appli + "/" + r.interface_code); });
    return out;
  }

  int n_ = 0;
};

CivilDate day(std::string_view iso) {
  return parse_iso_date(iso).value();
}

TEST_F(SearchTest, SupportSeesEveryConnectedInterfaceInPartnerCodeInterfaceOrder) {
  // kZero (00…) < kBeta (11…) < kAcme (12…); FSO1102A (aucun) is not a connected interface; VFE005 deleted.
  EXPECT_THAT(rows({}), ElementsAre("00123456600006|SFTP|VFE008|FSO1100A|2026-12-01|2099-06-30|ENVOYEE",
                                    "11111111800001|SFTP|VFE007|FSO1100A|2026-12-01|2099-06-30|ENVOYEE",
                                    "12345678200010|SFTP|VFE001|FSO1100A|2026-12-01|2099-06-30|ENVOYEE",
                                    "12345678200010|SFTP|VFE001|FSO1101A|2026-12-01|2099-06-30|ENVOYEE",
                                    "12345678200010|AS2|VFE002|FSO1100A|2026-12-01|2099-06-30|ENVOYEE",
                                    "12345678200010|PESIT|VFE003|FSO1101A|2026-12-01|2099-06-30|ACTIVEE",
                                    "12345678200010|SFTP|VFE004|FSO1105A|2026-12-01|2099-06-30|BROUILLON"));
  SearchCriteria api;
  api.kind = SheetKind::Api;
  EXPECT_THAT(rows(api), ElementsAre("12345678200010|VFE006|ENVOYEE"));
}

TEST_F(SearchTest, OrderIsByCodeAppliWithinAPartnerAndByInterfaceWithinASheet) {
  // Interfaces given in reverse order in the dépôt come out sorted.
  SheetSpec s = sftp_sheet();
  s.interfaces = {{"FSO1101A", "complete"}, {"FSO1100A", "partielle"}};
  sheet(s, "VFE009");
  SearchCriteria c;
  c.partner = kAcme;
  EXPECT_THAT(codes(c), ElementsAre("VFE001/FSO1100A", "VFE001/FSO1101A", "VFE002/FSO1100A", "VFE003/FSO1101A",
                                    "VFE004/FSO1105A", "VFE009/FSO1100A", "VFE009/FSO1101A"));
}

TEST_F(SearchTest, PartnerCriterion) {
  SearchCriteria c;
  c.partner = kBeta;
  EXPECT_THAT(codes(c), ElementsAre("VFE007/FSO1100A"));
  c.partner = kZero;
  EXPECT_THAT(codes(c), ElementsAre("VFE008/FSO1100A"));
  c.partner = kUnknownSiret;
  EXPECT_THAT(codes(c), IsEmpty());
}

TEST_F(SearchTest, StateCriterion) {
  SearchCriteria c;
  c.state = "ACTIVEE";
  EXPECT_THAT(codes(c), ElementsAre("VFE003/FSO1101A"));
  c.state = "BROUILLON";  // the deleted draft VFE005 is still a BROUILLON in the store, never shown
  EXPECT_THAT(codes(c), ElementsAre("VFE004/FSO1105A"));
  c.state = "DESACTIVEE";
  EXPECT_THAT(codes(c), IsEmpty());
  c.state = "Activée";  // a label is not a code: matches nothing
  EXPECT_THAT(codes(c), IsEmpty());
}

TEST_F(SearchTest, CodeAppliCriterion) {
  SearchCriteria c;
  c.code_appli = "VFE001";
  EXPECT_THAT(codes(c), ElementsAre("VFE001/FSO1100A", "VFE001/FSO1101A"));
  c.code_appli = "VFE005";  // deleted
  EXPECT_THAT(codes(c), IsEmpty());
  c.code_appli = "vfe001";  // exact
  EXPECT_THAT(codes(c), IsEmpty());
  SearchCriteria api;
  api.kind = SheetKind::Api;
  api.code_appli = "VFE006";
  EXPECT_THAT(rows(api), ElementsAre("12345678200010|VFE006|ENVOYEE"));
  api.code_appli = "VFE001";  // an EDI sheet is not in an API search
  EXPECT_THAT(rows(api), IsEmpty());
}

TEST_F(SearchTest, ProtocolCriterion) {
  SearchCriteria c;
  c.protocol = "AS2";
  EXPECT_THAT(codes(c), ElementsAre("VFE002/FSO1100A"));
  c.protocol = "PESIT";
  EXPECT_THAT(codes(c), ElementsAre("VFE003/FSO1101A"));
  c.protocol = "SFTP";
  EXPECT_THAT(codes(c), ElementsAre("VFE008/FSO1100A", "VFE007/FSO1100A", "VFE001/FSO1100A", "VFE001/FSO1101A",
                                    "VFE004/FSO1105A"));
}

TEST_F(SearchTest, InterfaceCriterionGivesTheRowsOfThatInterfaceOnly) {
  SearchCriteria c;
  c.interface_code = "FSO1101A";
  EXPECT_THAT(codes(c), ElementsAre("VFE001/FSO1101A", "VFE003/FSO1101A"));
  c.interface_code = "FSO1102A";  // mode aucun: not connected, no row
  EXPECT_THAT(codes(c), IsEmpty());
}

TEST_F(SearchTest, SubmissionRangeIsInclusiveAtBothEndsInParisCivilDates) {
  SearchCriteria c;
  c.partner = kAcme;
  c.submitted_from = day("2026-11-29");
  c.submitted_to = day("2026-11-29");
  // VFE001 at 29/11 00:00:00 Paris (28/11 23:00 UTC) and VFE002 at 29/11 23:59:59 Paris are in; VFE003
  // at 30/11 00:00:00 Paris (29/11 23:00 UTC) is not; the never-submitted draft VFE004 is not either.
  EXPECT_THAT(codes(c), ElementsAre("VFE001/FSO1100A", "VFE001/FSO1101A", "VFE002/FSO1100A"));

  c.submitted_from = day("2026-11-30");
  c.submitted_to.reset();
  EXPECT_THAT(codes(c), ElementsAre("VFE003/FSO1101A"));

  c.submitted_from.reset();
  c.submitted_to = day("2026-11-28");
  EXPECT_THAT(codes(c), IsEmpty());

  c.submitted_to = day("2026-11-30");
  EXPECT_THAT(codes(c), ElementsAre("VFE001/FSO1100A", "VFE001/FSO1101A", "VFE002/FSO1100A", "VFE003/FSO1101A"));

  SearchCriteria api;
  api.kind = SheetKind::Api;
  api.submitted_from = day("2026-11-30");
  api.submitted_to = day("2026-11-30");
  EXPECT_THAT(rows(api), ElementsAre("12345678200010|VFE006|ENVOYEE"));
  api.submitted_to = day("2026-11-29");
  EXPECT_THAT(rows(api), IsEmpty());  // from after to: nothing
}

TEST_F(SearchTest, CriteriaCombineWithAnd) {
  SearchCriteria c;
  c.partner = kAcme;
  c.protocol = "SFTP";
  c.interface_code = "FSO1100A";
  c.state = "ENVOYEE";
  EXPECT_THAT(codes(c), ElementsAre("VFE001/FSO1100A"));
  c.state = "ACTIVEE";
  EXPECT_THAT(codes(c), IsEmpty());
}

TEST_F(SearchTest, AUserOfAStructureSearchingAnotherGetsNothing) {
  SearchCriteria c;
  c.partner = kAcme;
  EXPECT_THAT(codes(c, "b.gest"), IsEmpty());
  c.code_appli = "VFE001";
  EXPECT_THAT(codes(c, "b.gest"), IsEmpty());
  SearchCriteria beta;
  beta.partner = kBeta;
  EXPECT_THAT(codes(beta, kSubscriber), IsEmpty());
  EXPECT_THAT(codes(beta, kManager), IsEmpty());
  // Without criteria each sees only their own structure.
  EXPECT_THAT(codes({}, "b.gest"), ElementsAre("VFE007/FSO1100A"));
  EXPECT_THAT(codes({}, "c.gest"), ElementsAre("VFE008/FSO1100A"));
}

TEST_F(SearchTest, ValidatedSubscribersAndManagersSeeTheirStructure) {
  const std::vector<std::string> acme{"VFE001/FSO1100A", "VFE001/FSO1101A", "VFE002/FSO1100A", "VFE003/FSO1101A",
                                      "VFE004/FSO1105A"};
  EXPECT_EQ(codes({}, kSubscriber), acme);  // Consultation + Modification
  EXPECT_EQ(codes({}, "c.lecture"), acme);  // Consultation only
  EXPECT_EQ(codes({}, kManager), acme);     // gestionnaire of an active space
  SearchCriteria api;
  api.kind = SheetKind::Api;
  EXPECT_THAT(rows(api, "c.lecture"), ElementsAre("12345678200010|VFE006|ENVOYEE"));
}

TEST_F(SearchTest, RefusedPendingOutsiderAndUnknownUsersSeeNothing) {
  for (const char* who : {"r.refuse", "p.attente", kOutsider, "inconnu", ""}) {
    EXPECT_THAT(codes({}, who), IsEmpty()) << who;
    SearchCriteria c;
    c.partner = kAcme;
    EXPECT_THAT(codes(c, who), IsEmpty()) << who;
    SearchCriteria api;
    api.kind = SheetKind::Api;
    EXPECT_THAT(rows(api, who), IsEmpty()) << who;
  }
}

TEST_F(SearchTest, ManagerOfAnInactiveSpaceSeesNothingThere) {
  // g.martin is gestionnaire of kNoSpace, whose space is not active: put a sheet there by SQL.
  {
    Transaction tx(db());
    db().execute(
        "INSERT INTO sheets (code_appli, kind, partner_siret, state, deleted, active_version, pending_version, "
        "submitted_at, created_at, updated_at) SELECT 'VFE900', kind, $1, state, 0, active_version, "
        "pending_version, submitted_at, created_at, updated_at FROM sheets WHERE code_appli = 'VFE007'",
        {std::string(kNoSpace)});
    tx.commit();
  }
  SearchCriteria c;
  c.partner = kNoSpace;
  EXPECT_THAT(codes(c, kManager), IsEmpty());
  EXPECT_THAT(codes(c, kSupport), ElementsAre("VFE900/FSO1100A"));
}

TEST_F(SearchTest, DeletedDraftsNeverAppear) {
  for (const char* who : {kSupport, kSubscriber, kManager, "c.lecture"}) {
    for (const auto& line : codes({}, who)) EXPECT_EQ(line.find("VFE005"), std::string::npos) << who;
  }
  SearchCriteria c;
  c.code_appli = "VFE005";
  c.state = "BROUILLON";
  EXPECT_THAT(codes(c), IsEmpty());
  // A deleted API draft too.
  SheetSpec draft = api_sheet();
  draft.action = "enregistrer";
  sheet(draft, "VFE009");
  SearchCriteria api;
  api.kind = SheetKind::Api;
  EXPECT_THAT(rows(api), ElementsAre("12345678200010|VFE006|ENVOYEE", "12345678200010|VFE009|BROUILLON"));
  ok("  <FicheAPI demandeur=\"j.dupont\" action=\"supprimer\" codeAppli=\"VFE009\"><Partenaire>" + std::string(kAcme) +
     "</Partenaire></FicheAPI>\n");
  EXPECT_THAT(rows(api), ElementsAre("12345678200010|VFE006|ENVOYEE"));
}

TEST_F(SearchTest, PendingUpdateIsShownRatherThanTheActivatedVersion) {
  // VFE003 is ACTIVEE with FSO1101A; an update moves it to FSO1100A: the row shows the update.
  SheetSpec update = pesit_sheet();
  update.code_appli = "VFE003";
  update.interfaces = {{"FSO1100A", "complete"}};
  update.period_to = "";
  ok(sheet_xml(update));
  SearchCriteria c;
  c.code_appli = "VFE003";
  EXPECT_THAT(rows(c), ElementsAre("12345678200010|PESIT|VFE003|FSO1100A|2026-12-01||ENVOYEE_MAJ"));
}

// Issue 18 item 4: `--etat Activée` said "état inconnu". A state criterion is a code or a label,
// accents and case ignored (docs/reference.md §7).
TEST_F(SearchTest, StateCriterionTextNamesAStateByCodeOrLabelAccentsAndCaseIgnored) {
  for (const char* text : {"ACTIVEE", "activee", "Activée", "ACTIVÉE", " activée "}) {
    EXPECT_EQ(parse_state_criterion(text), SheetState::Activee) << text;
  }
  for (const char* text : {"ENVOYEE_MAJ", "Envoyée MAJ", "envoyee maj", "Envoyée_MAJ", "ENVOYÉE-MAJ"}) {
    EXPECT_EQ(parse_state_criterion(text), SheetState::EnvoyeeMaj) << text;
  }
  EXPECT_EQ(parse_state_criterion("Désactivée"), SheetState::Desactivee);
  EXPECT_EQ(parse_state_criterion("brouillon"), SheetState::Brouillon);
  EXPECT_EQ(parse_state_criterion("envoyée"), SheetState::Envoyee);
  for (const char* text : {"ACTIVE", "", "  ", "envoyee majeure", "ACTIVEE2"}) {
    EXPECT_EQ(parse_state_criterion(text), std::nullopt) << text;
  }
  SearchCriteria c;
  c.state = std::string(to_code(*parse_state_criterion("Activée")));
  EXPECT_THAT(codes(c), ElementsAre("VFE003/FSO1101A"));
}

// Issue 18 item 4: there was no search by company name. `raison_sociale` matches part of the
// partner's name, accents and case ignored (docs/reference.md §3.4, §7).
TEST_F(SearchTest, RaisonSocialeMatchesPartOfTheNameAccentsAndCaseIgnored) {
  SearchCriteria c;
  c.raison_sociale = "beta";  // Béta Transports
  EXPECT_THAT(codes(c), ElementsAre("VFE007/FSO1100A"));
  c.raison_sociale = "ZÉRO ind";
  EXPECT_THAT(codes(c), ElementsAre("VFE008/FSO1100A"));
  c.raison_sociale = "logistique";  // ACME Logistique SAS
  EXPECT_THAT(codes(c), ElementsAre("VFE001/FSO1100A", "VFE001/FSO1101A", "VFE002/FSO1100A", "VFE003/FSO1101A",
                                    "VFE004/FSO1105A"));
  c.raison_sociale = "transports zero";
  EXPECT_THAT(codes(c), IsEmpty());
  c.raison_sociale = "béta";  // combined with the rights: b.gest sees kBeta, c.gest does not
  EXPECT_THAT(codes(c, "b.gest"), ElementsAre("VFE007/FSO1100A"));
  EXPECT_THAT(codes(c, "c.gest"), IsEmpty());
  SearchCriteria api;
  api.kind = SheetKind::Api;
  api.raison_sociale = "acme";
  EXPECT_THAT(rows(api), ElementsAre("12345678200010|VFE006|ENVOYEE"));
}

// Issue 18 item 4: `--code-appli` of an API sheet found nothing without `--type API`. With no type
// given, the type is that of the sheet the code names, when the demandeur may consult it (docs/reference.md §3.4).
TEST_F(SearchTest, TypeOfARequestWithoutOneIsTheTypeOfTheSheetItsCodeNames) {
  SearchCriteria c;
  c.code_appli = "VFE006";  // API, kAcme
  EXPECT_EQ(search_kind_of_code(db(), c, kSupport), SheetKind::Api);
  EXPECT_EQ(search_kind_of_code(db(), c, kSubscriber), SheetKind::Api);
  EXPECT_EQ(search_kind_of_code(db(), c, "c.lecture"), SheetKind::Api);  // Consultation only
  EXPECT_EQ(search_kind_of_code(db(), c, "b.gest"), SheetKind::Edi);     // may not consult kAcme: nothing learnt
  EXPECT_EQ(search_kind_of_code(db(), c, "inconnu"), SheetKind::Edi);
  c.code_appli = "VFE001";
  EXPECT_EQ(search_kind_of_code(db(), c, kSupport), SheetKind::Edi);
  c.code_appli = "VFE999";
  EXPECT_EQ(search_kind_of_code(db(), c, kSupport), SheetKind::Edi);
  c.code_appli.reset();
  EXPECT_EQ(search_kind_of_code(db(), c, kSupport), SheetKind::Edi);

  // A deleted API draft is never found, its type neither.
  SheetSpec draft = api_sheet();
  draft.action = "enregistrer";
  sheet(draft, "VFE009");
  ok("  <FicheAPI demandeur=\"j.dupont\" action=\"supprimer\" codeAppli=\"VFE009\"><Partenaire>" + std::string(kAcme) +
     "</Partenaire></FicheAPI>\n");
  c.code_appli = "VFE009";
  EXPECT_EQ(search_kind_of_code(db(), c, kSupport), SheetKind::Edi);
}

// The same in a Recherche dépôt (docs/reference.md §3.4): no `type` and the CodeAppli of an API sheet writes the
// API export with that sheet; `RaisonSociale` filters by name. Read from the export files written.
TEST_F(SearchTest, RechercheDepotTakesItsTypeFromTheCodeAndFiltersByRaisonSociale) {
  ok("  <Recherche demandeur=\"support.n1\" reference=\"par-code\"><CodeAppli>VFE006</CodeAppli></Recherche>\n"
     "  <Recherche demandeur=\"support.n1\" reference=\"par-nom\"><RaisonSociale>BETA trans</RaisonSociale>"
     "</Recherche>\n"
     "  <Recherche demandeur=\"b.gest\" reference=\"sans-droit\"><CodeAppli>VFE006</CodeAppli></Recherche>\n"
     "  <Recherche demandeur=\"support.n1\" type=\"EDI\" reference=\"type-donne\"><CodeAppli>VFE006</CodeAppli>"
     "</Recherche>\n");
  const std::string at = "20261129T230000Z";
  EXPECT_EQ(read_file(outbox() / ("EXPORT_API_par-code_" + at + ".csv")),
            "\xEF\xBB\xBF" + std::string(outbox::export_csv_header(SheetKind::Api)) +
                "\r\n12345678200010 - ACME Logistique SAS;VFE006;Envoyée\r\n");
  EXPECT_EQ(read_file(outbox() / ("EXPORT_EDI_par-nom_" + at + ".csv")),
            "\xEF\xBB\xBF" + std::string(outbox::export_csv_header(SheetKind::Edi)) +
                "\r\n11111111800001 - Béta Transports;SFTP;VFE007;FSO1100A;01/12/2026;30/06/2099;Envoyée\r\n");
  // A demandeur who may not consult the sheet learns nothing of its type: an empty EDI export.
  EXPECT_EQ(read_file(outbox() / ("EXPORT_EDI_sans-droit_" + at + ".csv")),
            "\xEF\xBB\xBF" + std::string(outbox::export_csv_header(SheetKind::Edi)) + "\r\n");
  // A type given wins.
  EXPECT_EQ(read_file(outbox() / ("EXPORT_EDI_type-donne_" + at + ".csv")),
            "\xEF\xBB\xBF" + std::string(outbox::export_csv_header(SheetKind::Edi)) + "\r\n");
}

TEST_F(SearchTest, WriteExportNamesTheFileAndNeverOverwrites) {
  SearchCriteria c;
  c.partner = kBeta;
  const Instant at = instant("2026-11-30T08:15:00Z");
  const std::string first =
      write_export(db(), engine().zone(), c, kSupport, ExportFormat::Csv, "req 7/é", at, outbox());
  // One "_" per character outside A-Za-z0-9_- (docs/reference.md §5.2): " ", "/" and "é" (two bytes) give three.
  EXPECT_EQ(first, "EXPORT_EDI_req_7___20261130T081500Z.csv");
  const std::string second =
      write_export(db(), engine().zone(), c, kSupport, ExportFormat::Csv, "req 7/é", at, outbox());
  EXPECT_EQ(second, "EXPORT_EDI_req_7___20261130T081500Z_2.csv");
  EXPECT_EQ(read_file(outbox() / first),
            "\xEF\xBB\xBF" + std::string(outbox::export_csv_header(SheetKind::Edi)) +
                "\r\n11111111800001 - Béta Transports;SFTP;VFE007;FSO1100A;01/12/2026;30/06/2099;Envoyée\r\n");
  EXPECT_EQ(read_file(outbox() / second), read_file(outbox() / first));
  const std::string empty = write_export(db(), engine().zone(), c, "inconnu", ExportFormat::Xml, "", at, outbox());
  EXPECT_EQ(empty, "EXPORT_EDI_recherche_20261130T081500Z.xml");
  EXPECT_EQ(read_file(outbox() / empty),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Export xmlns=\"urn:raccord:export:1\" type=\"EDI\" "
            "reference=\"\" genere=\"2026-11-30T08:15:00Z\">\n</Export>\n");
  // No temporary file is left behind.
  for (const auto& name : files_in(outbox())) {
    if (name.rfind("EXPORT_", 0) == 0) {
      EXPECT_NE(name.find("2026"), std::string::npos) << name;
    }
  }
}

}  // namespace
}  // namespace raccord::testing
