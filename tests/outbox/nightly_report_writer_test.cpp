// Tests of outbox/nightly_report_writer.cpp (docs/reference.md §5.3; docs/field-cases.md F16, F29, F31).
#include "outbox/nightly_report_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <pugixml.hpp>
#include <string>

#include "tests/support/dates.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::outbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using raccord::testing::utc;
using raccord::testing::xmllint_text;

/// samples/xsd/rapport.xsd, against which every output of the writer must validate.
const fs::path kXsd = raccord::testing::xsd_path("rapport.xsd");

NightlyReport example() {
  NightlyReport r;
  r.date = year(2026) / month(11) / day(30);
  r.run_instant = utc(2026, 11, 30, 1, 0, 0);
  r.started_at = utc(2026, 11, 30, 1, 0, 2);
  r.finished_at = utc(2026, 11, 30, 1, 0, 7);
  r.transitions.push_back({"VFE039", "35600000000048", SheetState::Envoyee, SheetState::Activee, "activation"});
  r.transitions.push_back(
      {"VFE040", "35600000000048", SheetState::Activee, SheetState::Desactivee, "fin de période (au 29/11/2026)"});
  r.transitions.push_back(
      {"API123", "73282932000074", SheetState::EnvoyeeMaj, SheetState::Activee, "activation de la mise à jour"});

  BlockedActivation blocked;
  blocked.code_appli = "VFE056";
  blocked.partner_siret = "73282932000074";
  blocked.state = SheetState::EnvoyeeMaj;
  blocked.reasons.push_back(Diagnostic::error(ErrorCode::CertExpire, "Certificats/Certificat[1]", 0,
                                              "Le certificat « CN=ACME » a expiré le 01/11/2026."));
  blocked.reasons.push_back(Diagnostic::error(ErrorCode::StructureInactive, "", 0,
                                              "La structure 73282932000074 est inactive : réactivez-la."));
  r.blocked.push_back(blocked);

  r.late.push_back({"VFE056", "73282932000074", SheetState::EnvoyeeMaj, utc(2026, 11, 27, 14, 3, 9),
                    year(2026) / month(11) / day(28)});
  r.expiring.push_back(
      {"VFE039", "35600000000048", "CN=edi.acme.fr,O=ACME,C=FR", "4A:3F:00:12", utc(2026, 12, 15, 23, 59, 59)});
  RevokedSheet revoked;
  revoked.code_appli = "VFE077";
  revoked.partner_siret = "35600000000048";
  revoked.state = SheetState::Desactivee;
  revoked.reasons.push_back(Diagnostic::error(ErrorCode::CertExpire, "Certificats/Certificat[1]", 0, "révoqué"));
  r.revocations.push_back(revoked);
  IgnoredFile ignored;
  ignored.path = "inbox/notes.txt";
  ignored.size = 1234;
  ignored.age = hours{75};
  ignored.modified = utc(2026, 11, 26, 22, 0, 0);
  ignored.modified_on = year(2026) / month(11) / day(26);
  ignored.why = "pas un dépôt (nom sans .xml)";
  r.ignored_files.push_back(ignored);
  r.partner_names = {{"35600000000048", "La Poste"}, {"73282932000074", "ACME; \"Logistique\""}};

  r.sheets_by_state = {
      {SheetState::Envoyee, 4}, {SheetState::EnvoyeeMaj, 1}, {SheetState::Activee, 12}, {SheetState::Desactivee, 3}};
  return r;
}

pugi::xml_node root_of(pugi::xml_document& doc, const std::string& xml) {
  const pugi::xml_parse_result parsed = doc.load_string(xml.c_str());
  EXPECT_TRUE(parsed) << parsed.description();
  return doc.child("RapportNocturne");
}

TEST(NightlyReportXml, ExampleIsValidAgainstTheSchema) {
  const std::string xml = render_nightly_report_xml(example());
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0) << xml;
}

TEST(NightlyReportXml, RootCarriesNamespaceDateAndInstants) {
  pugi::xml_document doc;
  const pugi::xml_node root = root_of(doc, render_nightly_report_xml(example()));
  ASSERT_TRUE(root);
  EXPECT_STREQ(root.attribute("xmlns").value(), "urn:raccord:rapport:1");
  EXPECT_STREQ(root.attribute("date").value(), "2026-11-30");
  EXPECT_STREQ(root.attribute("instant").value(), "2026-11-30T01:00:00Z");
  EXPECT_STREQ(root.attribute("debut").value(), "2026-11-30T01:00:02Z");
  EXPECT_STREQ(root.attribute("fin").value(), "2026-11-30T01:00:07Z");
}

TEST(NightlyReportXml, ChildrenInOrder) {
  pugi::xml_document doc;
  const pugi::xml_node root = root_of(doc, render_nightly_report_xml(example()));
  std::vector<std::string> names;
  for (pugi::xml_node child : root.children()) names.emplace_back(child.name());
  EXPECT_EQ(names, (std::vector<std::string>{"Transition", "Transition", "Transition", "ActivationBloquee", "Retard",
                                             "ExpirationProche", "Revocation", "FichierIgnore", "Totaux"}));
}

TEST(NightlyReportXml, TransitionsUseStateCodes) {
  pugi::xml_document doc;
  const pugi::xml_node root = root_of(doc, render_nightly_report_xml(example()));
  pugi::xml_node t = root.child("Transition");
  EXPECT_STREQ(t.attribute("codeAppli").value(), "VFE039");
  EXPECT_STREQ(t.attribute("partenaire").value(), "35600000000048");
  EXPECT_STREQ(t.attribute("de").value(), "ENVOYEE");
  EXPECT_STREQ(t.attribute("vers").value(), "ACTIVEE");
  EXPECT_STREQ(t.attribute("motif").value(), "activation");
  t = t.next_sibling("Transition");
  EXPECT_STREQ(t.attribute("de").value(), "ACTIVEE");
  EXPECT_STREQ(t.attribute("vers").value(), "DESACTIVEE");
  EXPECT_STREQ(t.attribute("motif").value(), "fin de période (au 29/11/2026)");
  t = t.next_sibling("Transition");
  EXPECT_STREQ(t.attribute("de").value(), "ENVOYEE_MAJ");
}

TEST(NightlyReportXml, BlockedActivationListsEachReason) {
  pugi::xml_document doc;
  const pugi::xml_node root = root_of(doc, render_nightly_report_xml(example()));
  const pugi::xml_node b = root.child("ActivationBloquee");
  EXPECT_STREQ(b.attribute("codeAppli").value(), "VFE056");
  EXPECT_STREQ(b.attribute("partenaire").value(), "73282932000074");
  EXPECT_STREQ(b.attribute("etat").value(), "ENVOYEE_MAJ");
  pugi::xml_node m = b.child("Motif");
  EXPECT_STREQ(m.attribute("code").value(), "CERT_EXPIRE");
  EXPECT_STREQ(m.attribute("champ").value(), "Certificats/Certificat[1]");
  EXPECT_STREQ(m.text().get(), "Le certificat « CN=ACME » a expiré le 01/11/2026.");
  m = m.next_sibling("Motif");
  EXPECT_STREQ(m.attribute("code").value(), "STRUCTURE_INACTIVE");
  EXPECT_FALSE(m.attribute("champ"));  // no field: no attribute
  EXPECT_STREQ(m.text().get(), "La structure 73282932000074 est inactive : réactivez-la.");
  EXPECT_FALSE(m.next_sibling("Motif"));
}

TEST(NightlyReportXml, LateAndExpiring) {
  pugi::xml_document doc;
  const pugi::xml_node root = root_of(doc, render_nightly_report_xml(example()));
  const pugi::xml_node late = root.child("Retard");
  EXPECT_STREQ(late.attribute("codeAppli").value(), "VFE056");
  EXPECT_STREQ(late.attribute("partenaire").value(), "73282932000074");
  EXPECT_STREQ(late.attribute("etat").value(), "ENVOYEE_MAJ");
  EXPECT_STREQ(late.attribute("soumis").value(), "2026-11-27T14:03:09Z");
  EXPECT_STREQ(late.attribute("echeance").value(), "2026-11-28");
  const pugi::xml_node e = root.child("ExpirationProche");
  EXPECT_STREQ(e.attribute("codeAppli").value(), "VFE039");
  EXPECT_STREQ(e.attribute("partenaire").value(), "35600000000048");
  EXPECT_STREQ(e.attribute("sujet").value(), "CN=edi.acme.fr,O=ACME,C=FR");
  EXPECT_STREQ(e.attribute("serie").value(), "4A:3F:00:12");
  EXPECT_STREQ(e.attribute("finValidite").value(), "2026-12-15");  // UTC date of notAfter
}

TEST(NightlyReportXml, RevocationsAndIgnoredFiles) {
  pugi::xml_document doc;
  const pugi::xml_node root = root_of(doc, render_nightly_report_xml(example()));
  const pugi::xml_node v = root.child("Revocation");
  EXPECT_STREQ(v.attribute("codeAppli").value(), "VFE077");
  EXPECT_STREQ(v.attribute("etat").value(), "DESACTIVEE");
  EXPECT_STREQ(v.child("Motif").attribute("code").value(), "CERT_EXPIRE");
  EXPECT_STREQ(v.child("Motif").text().get(), "révoqué");
  const pugi::xml_node f = root.child("FichierIgnore");
  EXPECT_STREQ(f.attribute("chemin").value(), "inbox/notes.txt");
  EXPECT_STREQ(f.attribute("taille").value(), "1234");
  EXPECT_STREQ(f.attribute("age").value(), "270000");
  EXPECT_STREQ(f.attribute("modifie").value(), "2026-11-26T22:00:00Z");
  EXPECT_STREQ(f.attribute("motif").value(), "pas un dépôt (nom sans .xml)");
}

TEST(NightlyReportXml, Totals) {
  pugi::xml_document doc;
  const pugi::xml_node root = root_of(doc, render_nightly_report_xml(example()));
  const pugi::xml_node totals = root.child("Totaux");
  EXPECT_STREQ(totals.attribute("transitions").value(), "3");
  EXPECT_STREQ(totals.attribute("activations").value(), "2");
  EXPECT_STREQ(totals.attribute("desactivations").value(), "1");
  EXPECT_STREQ(totals.attribute("bloquees").value(), "1");
  EXPECT_STREQ(totals.attribute("retards").value(), "1");
  EXPECT_STREQ(totals.attribute("expirationsProches").value(), "1");
  EXPECT_STREQ(totals.attribute("revocations").value(), "1");
  EXPECT_STREQ(totals.attribute("fichiersIgnores").value(), "1");
  std::vector<std::pair<std::string, std::string>> states;
  for (pugi::xml_node s : totals.children("Etat")) {
    states.emplace_back(s.attribute("code").value(), s.attribute("nombre").value());
  }
  EXPECT_EQ(states,
            (std::vector<std::pair<std::string, std::string>>{
                {"BROUILLON", "0"}, {"ENVOYEE", "4"}, {"ENVOYEE_MAJ", "1"}, {"ACTIVEE", "12"}, {"DESACTIVEE", "3"}}));
}

TEST(NightlyReportXml, EmptyRunIsValidWithZeroTotals) {
  NightlyReport r;
  r.date = year(2026) / month(3) / day(29);
  r.run_instant = utc(2026, 3, 29, 1, 0, 0);
  r.started_at = r.run_instant;
  r.finished_at = r.run_instant;
  const std::string xml = render_nightly_report_xml(r);
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0) << xml;
  pugi::xml_document doc;
  const pugi::xml_node root = root_of(doc, xml);
  EXPECT_STREQ(root.first_child().name(), "Totaux");
  EXPECT_STREQ(root.child("Totaux").attribute("transitions").value(), "0");
  EXPECT_EQ(std::distance(root.child("Totaux").children("Etat").begin(), root.child("Totaux").children("Etat").end()),
            5);
}

TEST(NightlyReportXml, EveryErrorCodeIsAllowedAsMotif) {
  NightlyReport r = example();
  BlockedActivation& b = r.blocked.front();
  b.reasons.clear();
  for (int c = static_cast<int>(ErrorCode::XmlMalforme); c <= static_cast<int>(ErrorCode::ReseauIgnore); ++c) {
    b.reasons.push_back(Diagnostic::error(static_cast<ErrorCode>(c), "", 0, "motif"));
  }
  const std::string xml = render_nightly_report_xml(r);
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0);
}

TEST(NightlyReportXml, SchemaRejectsWhatItMust) {
  // The schema can fail: a state that is not a code, a bad date.
  std::string xml = render_nightly_report_xml(example());
  ASSERT_EQ(xmllint_text(xml, kXsd).status, 0);
  std::string wrong_state = xml;
  wrong_state.replace(wrong_state.find("vers=\"ACTIVEE\""), 14, "vers=\"Activée\"");
  EXPECT_NE(xmllint_text(wrong_state, kXsd).status, 0);
  std::string wrong_date = xml;
  wrong_date.replace(wrong_date.find("date=\"2026-11-30\""), 17, "date=\"30/11/2026\"");
  EXPECT_NE(xmllint_text(wrong_date, kXsd).status, 0);
}

TEST(NightlyReportXml, F16_EveryValueIsSanitised) {
  NightlyReport r = example();
  r.transitions[0].reason = std::string("motif\x01 <&> \"cité\"") + '\x00' + "fin";
  r.blocked[0].reasons[0].message = "message \x1B[31m";
  r.blocked[0].reasons[0].field = "champ\x02";
  r.expiring[0].subject = "CN=\x7F\x0B\xFF";
  r.expiring[0].serial = "\x0C";
  const std::string xml = render_nightly_report_xml(r);
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0) << xml;
  pugi::xml_document doc;
  const pugi::xml_node root = root_of(doc, xml);
  EXPECT_EQ(std::string(root.child("Transition").attribute("motif").value()), "motif\\u0001 <&> \"cité\"\\u0000fin");
  EXPECT_STREQ(root.child("ActivationBloquee").child("Motif").text().get(), "message \\u001B[31m");
  EXPECT_STREQ(root.child("ActivationBloquee").child("Motif").attribute("champ").value(), "champ\\u0002");
  EXPECT_STREQ(root.child("ExpirationProche").attribute("sujet").value(), "CN=\x7F\\u000B\\xFF");
  EXPECT_STREQ(root.child("ExpirationProche").attribute("serie").value(), "\\u000C");

  // Identifiers that broke the engine's own invariants still give well-formed XML.
  r.transitions[0].code_appli = "VFE\x01";
  r.late[0].partner_siret = "\xC3";
  EXPECT_EQ(xmllint_text(render_nightly_report_xml(r)).status, 0);
}

const std::string kBom = "\xEF\xBB\xBF";

const std::string kHeader = "Type;Code Appli partenaire;Partenaire;De;Vers;Motif;Date\r\n";

// Issue 18 item 3: the CSV support opens in Excel had only the transitions (a header only on a night
// without any). Every row type of docs/reference.md §5.3, with the partner's raison sociale and the Date rules.
TEST(NightlyReportCsv, EveryRowTypeWithLabelsPartnerNamesAndDates) {
  EXPECT_EQ(
      render_nightly_report_csv(example()),
      kBom + kHeader +
          "Transition;VFE039;35600000000048 - La Poste;Envoyée;Activée;activation;30/11/2026\r\n"
          "Transition;VFE040;35600000000048 - La Poste;Activée;Désactivée;fin de période (au 29/11/2026);"
          "30/11/2026\r\n"
          "Transition;API123;\"73282932000074 - ACME; \"\"Logistique\"\"\";Envoyée MAJ;Activée;activation de la mise "
          "à jour;30/11/2026\r\n"
          "Blocage;VFE056;\"73282932000074 - ACME; \"\"Logistique\"\"\";;;\"CERT_EXPIRE (Certificats/Certificat[1]) : "
          "Le certificat « CN=ACME » a expiré le 01/11/2026. ; STRUCTURE_INACTIVE : La structure 73282932000074 "
          "est inactive : réactivez-la.\";30/11/2026\r\n"
          "Retard;VFE056;\"73282932000074 - ACME; \"\"Logistique\"\"\";;;Envoyée MAJ, non activée plus d'un jour "
          "après son échéance du 28/11/2026 (soumission, ou début de période);28/11/2026\r\n"
          "Expiration;VFE039;35600000000048 - La Poste;;;certificat CN=edi.acme.fr,O=ACME,C=FR (n° de série "
          "4A:3F:00:12) valable jusqu'au 15/12/2026;15/12/2026\r\n"
          "Revocation;VFE077;35600000000048 - La Poste;;;CERT_EXPIRE (Certificats/Certificat[1]) : révoqué;"
          "30/11/2026\r\n"
          "FichierIgnore;;;;;inbox/notes.txt, 1234 octet(s), 3 jour(s), pas un dépôt (nom sans .xml);"
          "26/11/2026\r\n");
}

TEST(NightlyReportCsv, EmptyRunHasTheHeaderOnly) {
  EXPECT_EQ(render_nightly_report_csv(NightlyReport{}), kBom + kHeader);
}

TEST(NightlyReportCsv, PartnerWithoutAKnownNameIsItsSiret) {
  NightlyReport r = example();
  r.partner_names.clear();
  EXPECT_EQ(partner_cell(r, "35600000000048"), "35600000000048");
  EXPECT_EQ(partner_cell(example(), "35600000000048"), "35600000000048 - La Poste");
}

TEST(NightlyReportCsv, F31_HostileReasonIsNeutralisedAndQuoted) {
  NightlyReport r;
  r.transitions.push_back({"VFE039", "00000000000048", SheetState::Activee, SheetState::Desactivee,
                           "=HYPERLINK(\"http://exemple.invalid\";\"x\")"});
  r.transitions.push_back(
      {"VFE040", "35600000000048", SheetState::Activee, SheetState::Desactivee, std::string("ligne 1\r\nligne 2\x01")});
  r.date = year(2026) / month(11) / day(30);
  EXPECT_EQ(render_nightly_report_csv(r),
            kBom + kHeader +
                "Transition;VFE039;00000000000048;Activée;Désactivée;\"'=HYPERLINK(\"\"http://"
                "exemple.invalid\"\";\"\"x\"\")\";"
                "30/11/2026\r\n"
                "Transition;VFE040;35600000000048;Activée;Désactivée;\"ligne 1\r\nligne 2\\u0001\";30/11/2026\r\n");
}

TEST(NightlyReportName, DateAndExtension) {
  const CivilDate d = year(2026) / month(11) / day(30);
  EXPECT_EQ(nightly_report_name(d, "xml"), "NIGHTLY_2026-11-30.xml");
  EXPECT_EQ(nightly_report_name(d, ".csv"), "NIGHTLY_2026-11-30.csv");
  EXPECT_EQ(nightly_report_name(year(2027) / month(1) / day(5), "csv"), "NIGHTLY_2027-01-05.csv");
}

}  // namespace
}  // namespace raccord::outbox
