// Tests of `raccord show` (engine/app/show_command.cpp; docs/reference.md §7): the text for support (identity,
// state label, activated and pending versions with protocol, period dd/mm/yyyy, interfaces with modes,
// certificates with end dates, contact; history in Europe/Paris local time), the XML (root Fiche,
// Version role=active|pending, Historique/Evenement) valid against samples/xsd/fiche.xsd, deleted
// drafts shown with a mark, exit 1 for an unknown code or no store, exit 2 for usage errors.
// In process; then through the real binary once the command is wired into commands.cpp (skipped before).
#include "engine/app/show_command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <pugixml.hpp>
#include <sstream>

#include "engine/nightly.hpp"
#include "tests/support/cli_parse.hpp"
#include "tests/support/command.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/files.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using app::add_show_command;
using app::run_show_command;
using app::ShowCommandOptions;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path kFicheXsd = xsd_path("fiche.xsd");

class ShowCommandTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    start();  // 2026-11-29T10:00:00Z = 11:00:00 in Paris
    setup_world();
  }
  void ok(const std::string& operations) {
    ++n_;
    const ParsedAck ack = process("w_" + std::to_string(n_) + ".xml",
                                  depot_xml(operations, "identifiant=\"W-" + std::to_string(n_) + "\""));
    ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
  }
  /// VFE001 (AS2): submitted on 29/11, activated by the nightly run of 01/12, then an update submitted
  /// at 2026-12-02T09:30:00Z with an open-ended period and another interface (ENVOYEE_MAJ).
  void build_activated_with_update(const std::string& code = "VFE001") {
    SheetSpec first = as2_sheet();
    first.interfaces = {{"FSO1100A", "complete"}, {"FSO1101A", "partielle"}};
    ok(sheet_xml(first));
    start("2026-12-01T05:00:00Z");
    ASSERT_EQ(run_nightly(engine(), *parse_iso_date("2026-12-01")).status, NightlyStatus::Ran);
    start("2026-12-02T09:30:00Z");
    SheetSpec update = as2_sheet();
    update.code_appli = code;
    update.period_from = "2026-12-05";
    update.period_to = "";
    update.contact_email = "renouvellement@exemple.fr";
    update.interfaces = {{"FSO1105A", "complete"}};
    ok(sheet_xml(update));
  }

  CommandRun show(const std::vector<std::string>& args, const Config* config = nullptr) {
    CLI::App app{"raccord"};
    ShowCommandOptions options;
    add_show_command(app, options);
    if (auto usage = parse_command_line(app, "show", args)) return *usage;
    CommandRun r;
    std::ostringstream out, err;
    r.code = run_show_command(options, config != nullptr ? *config : config_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  /// xmllint against fiche.xsd; "" when valid, else its log.
  std::string schema_errors(const std::string& xml) {
    const fs::path file = tmp_ / "fiche.xml";
    write_file(file, xml);
    const XmllintResult lint = xmllint_file(file, kFicheXsd);
    return lint.ok() ? std::string() : lint.log + xml;
  }

  int n_ = 0;
};

TEST_F(ShowCommandTest, TextShowsIdentityVersionsAndHistoryInLocalTime) {
  build_activated_with_update();
  const CommandRun r = show({"VFE001"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string& t = r.out;
  EXPECT_THAT(t, HasSubstr("Fiche VFE001 (EDI)\n"));
  EXPECT_THAT(t, Not(HasSubstr("supprimée")));
  EXPECT_THAT(t, HasSubstr("Partenaire : 12345678200010 - ACME Logistique SAS\n"));
  EXPECT_THAT(t, HasSubstr("Etat courant : Envoyée MAJ (ENVOYEE_MAJ)\n"));
  EXPECT_THAT(t, HasSubstr("Soumise le : 02/12/2026 10:30:00\n"));
  // Activated version, then the pending one.
  const auto active = t.find("Version activée (version n° ");
  const auto pending = t.find("Version en attente d'activation (version n° ");
  ASSERT_NE(active, std::string::npos) << t;
  ASSERT_NE(pending, std::string::npos) << t;
  EXPECT_LT(active, pending);
  const std::string a = t.substr(active, pending - active);
  const std::string p = t.substr(pending);
  EXPECT_THAT(a, HasSubstr("« soumettre » par j.dupont le 29/11/2026 11:00:00"));
  EXPECT_THAT(a, HasSubstr("  Protocole : AS2\n"));
  EXPECT_THAT(a, HasSubstr("  Période : du 01/12/2026 au 30/06/2099\n"));
  EXPECT_THAT(a, HasSubstr("    FSO1100A   complete\n    FSO1101A   partielle\n"));
  EXPECT_THAT(a, HasSubstr("    CN=client.exemple.fr — n° de série "));
  EXPECT_THAT(a, HasSubstr(" — fin de validité 31/12/2030 (certificat final)\n"));
  EXPECT_THAT(a, HasSubstr("(autorité)"));
  EXPECT_THAT(a,
              HasSubstr("  Contact technique : Julien Dupont — tél. 01 23 45 67 89 — j.dupont@exemple.fr — fax —\n"));
  EXPECT_THAT(a, HasSubstr("  Réseau du partenaire : identifiant PARTAS2 — adresse 203.0.113.10 — port 4080 — chemin "
                           "/as2/in\n"));
  EXPECT_THAT(p, HasSubstr("  Période : du 05/12/2026 (sans date de fin)\n"));
  EXPECT_THAT(p, HasSubstr("    FSO1105A   complete\n"));
  EXPECT_THAT(p, HasSubstr("renouvellement@exemple.fr"));
  // The whole history, instants in Europe/Paris local time, oldest first.
  const auto h = t.find("Historique (3 événement(s), heure locale Europe/Paris) :\n");
  ASSERT_NE(h, std::string::npos) << t;
  const std::string history = t.substr(h);
  const auto e1 = history.find("  29/11/2026 11:00:00  j.dupont     (création) → Envoyée");
  const auto e2 = history.find("  01/12/2026 02:00:00  nightly      Envoyée → Activée : ");
  const auto e3 = history.find("  02/12/2026 10:30:00  j.dupont     Activée → Envoyée MAJ");
  EXPECT_NE(e1, std::string::npos) << history;
  EXPECT_NE(e2, std::string::npos) << history;
  EXPECT_NE(e3, std::string::npos) << history;
  EXPECT_LT(e1, e2);
  EXPECT_LT(e2, e3);
}

TEST_F(ShowCommandTest, XmlHasFicheVersionsAndHistoryAndIsValid) {
  build_activated_with_update();
  const CommandRun r = show({"VFE001", "--format", "xml"});
  ASSERT_EQ(r.code, 0) << r.err;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.out.c_str())) << r.out;
  const pugi::xml_node fiche = doc.child("Fiche");
  ASSERT_TRUE(fiche) << r.out;
  EXPECT_STREQ(fiche.attribute("codeAppli").value(), "VFE001");
  EXPECT_STREQ(fiche.attribute("type").value(), "EDI");
  EXPECT_STREQ(fiche.attribute("partenaire").value(), kAcme);
  EXPECT_STREQ(fiche.attribute("etat").value(), "ENVOYEE_MAJ");
  EXPECT_STREQ(fiche.attribute("libelleEtat").value(), "Envoyée MAJ");
  EXPECT_STREQ(fiche.attribute("supprimee").value(), "false");
  EXPECT_STREQ(fiche.attribute("soumis").value(), "2026-12-02T09:30:00Z");
  std::vector<std::string> roles;
  for (const auto& v : fiche.children("Version")) roles.push_back(v.attribute("role").value());
  EXPECT_EQ(roles, (std::vector<std::string>{"active", "pending"}));
  const pugi::xml_node active = fiche.find_child_by_attribute("Version", "role", "active");
  EXPECT_STREQ(active.attribute("protocole").value(), "AS2");
  EXPECT_STREQ(active.attribute("debut").value(), "2026-12-01");
  EXPECT_STREQ(active.attribute("fin").value(), "2099-06-30");
  EXPECT_STREQ(active.child("Interface").attribute("code").value(), "FSO1100A");
  EXPECT_STREQ(active.child("Interface").attribute("mode").value(), "complete");
  const pugi::xml_node leaf = active.find_child_by_attribute("Certificat", "finale", "true");
  EXPECT_STREQ(leaf.attribute("fin").value(), "2030-12-31T23:59:59Z");
  EXPECT_STREQ(active.child("Contact").attribute("email").value(), "j.dupont@exemple.fr");
  const pugi::xml_node pending = fiche.find_child_by_attribute("Version", "role", "pending");
  EXPECT_TRUE(pending.attribute("debut"));
  EXPECT_FALSE(pending.attribute("fin"));  // open-ended
  std::vector<std::string> events;
  for (const auto& e : fiche.child("Historique").children("Evenement")) {
    events.push_back(std::string(e.attribute("instant").value()) + " " + e.attribute("acteur").value() + " " +
                     e.attribute("de").value() + ">" + e.attribute("vers").value());
    EXPECT_TRUE(e.attribute("motif")) << "motif always present";
  }
  EXPECT_EQ(events, (std::vector<std::string>{"2026-11-29T10:00:00Z j.dupont >ENVOYEE",
                                              "2026-12-01T01:00:00Z nightly ENVOYEE>ACTIVEE",
                                              "2026-12-02T09:30:00Z j.dupont ACTIVEE>ENVOYEE_MAJ"}));
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  EXPECT_EQ(schema_errors(r.out), "");
}

// Issue 18 item 3, what support did: "why is VFE001 not activated?" — `show` said "Envoyée" and a
// creation event, the reason (CERT_EXPIRE) was only in the nightly reports. `show` now states what a
// waiting sheet waits for: the current block's codes and messages and since when (text `En attente :`,
// xml `Attente depuis` with `Motif code champ`), or its du, or the next run (API).
TEST_F(ShowCommandTest, AWaitingSheetSaysWhatItWaitsFor) {
  SheetSpec expired = sftp_sheet();
  expired.period_from = "2026-11-29";
  LeafOptions leaf;
  leaf.common_name = "vfe.exemple.fr";
  leaf.not_after = "2026-11-30T00:30:00Z";  // valid when sent, expired at the run of 30/11
  expired.certificates = {TestPki::instance().bundle_base64(leaf)};
  ok(sheet_xml(expired));       // VFE001
  ok(sheet_xml(sftp_sheet()));  // VFE002, du 01/12/2026
  ok(sheet_xml(api_sheet()));   // VFE003
  const CommandRun before = show({"VFE001"});
  EXPECT_THAT(before.out, HasSubstr("En attente : du 29/11/2026 — activée par la première exécution nocturne"));

  start("2026-11-30T07:00:00Z");
  ASSERT_EQ(run_nightly(engine(), *parse_iso_date("2026-11-30")).status, NightlyStatus::Ran);
  ASSERT_EQ(state_of("VFE001"), "ENVOYEE");
  ASSERT_EQ(state_of("VFE003"), "ACTIVEE");
  const CommandRun text = show({"VFE001"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Etat courant : Envoyée (ENVOYEE)\n"));
  EXPECT_THAT(text.out, HasSubstr("En attente : activation bloquée depuis le 30/11/2026 02:00:00 (exécution "
                                  "nocturne), motif(s) :\n  CERT_EXPIRE (Certificats/Certificat[1]) : "));
  EXPECT_THAT(text.out, HasSubstr("nightly      Envoyée → Envoyée : activation bloquée : CERT_EXPIRE"));
  const CommandRun du = show({"VFE002"});
  EXPECT_THAT(du.out, HasSubstr("En attente : du 01/12/2026 — activée par la première exécution nocturne de cette "
                                "date ou après, si ses contrôles sont bons\n"));
  EXPECT_THAT(show({"VFE003"}).out, Not(HasSubstr("En attente")));  // activated: waits for nothing

  const CommandRun xml = show({"VFE001", "--format", "xml"});
  ASSERT_EQ(xml.code, 0) << xml.err;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.out.c_str())) << xml.out;
  const pugi::xml_node waiting = doc.child("Fiche").child("Attente");
  ASSERT_TRUE(waiting) << xml.out;
  EXPECT_STREQ(waiting.attribute("depuis").value(), "2026-11-30T01:00:00Z");
  EXPECT_FALSE(waiting.attribute("du"));
  EXPECT_STREQ(waiting.child("Motif").attribute("code").value(), "CERT_EXPIRE");
  EXPECT_STREQ(waiting.child("Motif").attribute("champ").value(), "Certificats/Certificat[1]");
  EXPECT_THAT(std::string(waiting.child("Motif").text().get()), HasSubstr("vfe.exemple.fr"));
  const CommandRun du_xml = show({"VFE002", "--format", "xml"});
  EXPECT_THAT(du_xml.out, HasSubstr("<Attente du=\"2026-12-01\"/>"));
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  EXPECT_EQ(schema_errors(xml.out), "");
  EXPECT_EQ(schema_errors(du_xml.out), "");
}

// Issue 18 item 8: support read "version n° 2008" for a sheet's second version (the store's global
// sequence). Versions are numbered per sheet, 1, 2, … whatever the other sheets stored before.
TEST_F(ShowCommandTest, VersionsAreNumberedPerSheetNotFromTheGlobalSequence) {
  SheetSpec other = api_sheet();
  other.action = "enregistrer";
  ok(sheet_xml(other));  // VFE001: the store's versions 1, 2, 3
  other.code_appli = "VFE001";
  ok(sheet_xml(other));
  ok(sheet_xml(other));
  build_activated_with_update("VFE002");  // its versions 1 (activated) and 2 (pending)
  const CommandRun text = show({"VFE002"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Version activée (version n° 1, « soumettre »"));
  EXPECT_THAT(text.out, HasSubstr("Version en attente d'activation (version n° 2, « soumettre »"));
  EXPECT_THAT(text.out, Not(HasSubstr("version n° 4"))) << text.out;
  EXPECT_THAT(text.out, Not(HasSubstr("version n° 5"))) << text.out;
  const CommandRun draft = show({"VFE001"});
  EXPECT_THAT(draft.out, HasSubstr("Version en attente (brouillon) (version n° 3, « enregistrer »"));

  const CommandRun xml = show({"VFE002", "--format", "xml"});
  ASSERT_EQ(xml.code, 0) << xml.err;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.out.c_str())) << xml.out;
  const pugi::xml_node fiche = doc.child("Fiche");
  EXPECT_STREQ(fiche.find_child_by_attribute("Version", "role", "active").attribute("numero").value(), "1");
  EXPECT_STREQ(fiche.find_child_by_attribute("Version", "role", "pending").attribute("numero").value(), "2");
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  EXPECT_EQ(schema_errors(xml.out), "");
}

TEST_F(ShowCommandTest, DeletedDraftIsShownWithAMark) {
  SheetSpec draft = api_sheet();
  draft.action = "enregistrer";
  ok(sheet_xml(draft));
  ok("  <FicheAPI demandeur=\"j.dupont\" action=\"supprimer\" codeAppli=\"VFE001\"><Partenaire>" + std::string(kAcme) +
     "</Partenaire></FicheAPI>\n");
  const CommandRun text = show({"VFE001"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Fiche VFE001 (API) — supprimée"));
  EXPECT_THAT(text.out, HasSubstr("Etat courant : Brouillon (BROUILLON)"));
  EXPECT_THAT(text.out, HasSubstr("Version activée : aucune"));
  EXPECT_THAT(text.out, HasSubstr("Version en attente (brouillon)"));
  EXPECT_THAT(text.out, HasSubstr("Soumise le : —"));
  EXPECT_THAT(text.out, Not(HasSubstr("Protocole :")));  // API
  const CommandRun xml = show({"VFE001", "--format", "xml"});
  ASSERT_EQ(xml.code, 0);
  EXPECT_THAT(xml.out, HasSubstr("supprimee=\"true\""));
  EXPECT_THAT(xml.out, HasSubstr("type=\"API\""));
  EXPECT_THAT(xml.out, HasSubstr("<Version role=\"pending\""));
  EXPECT_THAT(xml.out, Not(HasSubstr("soumis=")));
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  EXPECT_EQ(schema_errors(xml.out), "");
}

TEST_F(ShowCommandTest, FreeTextIsEscapedInXmlAndKeptOnOneLineInText) {
  SheetSpec s = sftp_sheet();
  s.contact_name = "Jean &amp; &lt;Léa&gt; &quot;Q&quot;";  // XML of the dépôt: Jean & <Léa> "Q"
  ok(sheet_xml(s));
  {
    Transaction tx(db());
    db().execute("UPDATE sheet_versions SET comments = $1", {std::string("ligne 1\nligne 2 ; \"fin\"")});
    tx.commit();
  }
  const CommandRun text = show({"VFE001"});
  EXPECT_THAT(text.out, HasSubstr("Contact technique : Jean & <Léa> \"Q\" — "));
  EXPECT_THAT(text.out, HasSubstr("  Commentaires : ligne 1 ligne 2 ; \"fin\"\n"));
  const CommandRun xml = show({"VFE001", "--format", "xml"});
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.out.c_str())) << xml.out;
  const pugi::xml_node v = doc.child("Fiche").child("Version");
  EXPECT_STREQ(v.child("Contact").attribute("nomPrenom").value(), "Jean & <Léa> \"Q\"");
  EXPECT_STREQ(v.child("Commentaires").text().get(), "ligne 1\nligne 2 ; \"fin\"");
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  EXPECT_EQ(schema_errors(xml.out), "");
}

TEST_F(ShowCommandTest, UnknownCodeExitsOne) {
  for (const char* format : {"text", "xml"}) {
    const CommandRun r = show({"VFE999", "--format", format});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, HasSubstr("Fiche VFE999 inconnue"));
  }
}

TEST_F(ShowCommandTest, NoStoreExitsOneAndCreatesNothing) {
  Config empty = config_;
  empty.root = tmp_ / "nowhere";
  fs::create_directories(empty.root);
  const CommandRun r = show({"VFE001"}, &empty);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("aucun store"));
  EXPECT_TRUE(fs::is_empty(empty.root));
}

TEST_F(ShowCommandTest, UsageErrorsExitTwo) {
  EXPECT_EQ(show({}).code, 2);                              // CODE is required
  EXPECT_EQ(show({"VFE001", "--format", "html"}).code, 2);  // unknown format
  ShowCommandOptions o;
  o.code = "VFE001";
  o.format = "csv";
  std::ostringstream out, err;
  EXPECT_EQ(run_show_command(o, config_, out, err), 2);
  EXPECT_THAT(err.str(), HasSubstr("Format inconnu « csv »"));
}

// Through the real binary, once `show` is wired into engine/app/commands.cpp.
TEST_F(ShowCommandTest, Binary) {
  ok(sheet_xml(sftp_sheet()));
  const fs::path ini = tmp_ / "raccord.ini";
  std::ofstream(ini) << "[engine]\ntimezone = Europe/Paris\n[paths]\nroot = " << root().string() << "\n";
  auto run = [&](const std::string& args) {
    return run_command(raccord_command_line("show " + args + " --config " + shell_quote(ini.string()), tmp_), tmp_);
  };
  const CommandRun text = run("VFE001");
  EXPECT_EQ(text.code, 0);
  EXPECT_THAT(text.out, HasSubstr("Etat courant : Envoyée (ENVOYEE)"));
  const CommandRun xml = run("VFE001 --format xml");
  EXPECT_EQ(xml.code, 0);
  if (xmllint_available()) {
    EXPECT_EQ(schema_errors(xml.out), "");
  }
  EXPECT_EQ(run("VFE999").code, 1);
  EXPECT_EQ(run("VFE001 --format html").code, 2);
}

}  // namespace
}  // namespace raccord::testing
