// Hostile and broken dépôts through the engine (issue 8; docs/reference.md §2, §3, §4, §5.1; docs/field-cases.md F06,
// F07, F13, F14, F15, F16): each gets its accusé, the original lands where docs/reference.md §2 says, nothing
// outside the file is read, nothing outside the root is written, the inbox never blocks, files the
// engine writes are never world-readable, and no private key material is ever echoed.
// (tests/engine/engine_test.cpp holds the ordinary dépôt-level cases; not repeated here.)
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/engine_fixture.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::string kHead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const std::string kOpen = "<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"support.n1\">\n";

/// Every path under `dir` (recursively, not following links), relative to `dir`.
std::set<std::string> tree_of(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    out.insert(fs::relative(it->path(), dir).string());
  }
  return out;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

/// Peak resident set of this process, in KiB.
long peak_rss_kib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

class HostileDepositTest : public EngineTest {
 protected:
  /// The single accusé of a dépôt-level refusal: REJETE, no operation, the one code, the original
  /// byte for byte in error/ with its reason, nothing left in inbox/ or .work/.
  ParsedAck expect_quarantined(const std::string& name, const std::string& bytes, const std::string& code) {
    const ParsedAck ack = process(name, bytes);
    EXPECT_EQ(ack.statut, "REJETE") << ack.xml.substr(0, 2000);
    EXPECT_THAT(ack.operations, IsEmpty());
    EXPECT_THAT(ack.error_codes(), ElementsAre(code)) << ack.xml.substr(0, 2000);
    EXPECT_EQ(fs::file_size(error_dir() / name), bytes.size());
    EXPECT_EQ(read_file(error_dir() / name) == bytes, true);
    EXPECT_THAT(read_file(error_dir() / (name + ".reason.txt")), HasSubstr(code));
    EXPECT_THAT(files_in(inbox()), IsEmpty());
    EXPECT_THAT(files_in(work()), IsEmpty());
    return ack;
  }
};

// ---------------------------------------------------------------------------------------------
// DOCTYPE: entities are never expanded, nothing outside the file is read (F13, F14).

TEST_F(HostileDepositTest, BillionLaughsIsDtdInterditeAndTheNextDepotIsProcessed) {
  start();
  std::string xml = kHead + "<!DOCTYPE Depot [\n  <!ENTITY lol0 \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    xml += "  <!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) xml += "&lol" + std::to_string(i - 1) + ";";
    xml += "\">\n";
  }
  xml += "]>\n" + kOpen + "  <Utilisateur login=\"&lol9;\" email=\"a@exemple.fr\"/>\n</Depot>\n";
  const long before = peak_rss_kib();
  drop_file(inbox(), "a_lol.xml", xml);
  drop_file(inbox(), "b_suivant.xml", depot_xml(user_xml("n.suivant")));
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 2);
  const ParsedAck ack = read_ack(summary.acknowledgements[0]);
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_THAT(ack.error_codes(), ElementsAre("DTD_INTERDITE"));
  EXPECT_EQ(ack.errors[0].ligne, 2);
  EXPECT_THAT(ack.xml, Not(HasSubstr("lollol")));
  EXPECT_EQ(read_ack(summary.acknowledgements[1]).statut, "INTEGRE");
  EXPECT_LT(peak_rss_kib() - before, 50 * 1024) << "an entity was expanded";
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE 'lol%'"), 0);
}

TEST_F(HostileDepositTest, ExternalEntitiesAndExternalDtdAreNeverRead) {
  start();
  // The canary sits at the root and beside it, where a relative SYSTEM id could resolve (not in
  // inbox/: every entry there must be left alone, and the test asserts the inbox ends empty).
  for (const fs::path& dir : {root(), tmp_}) {
    std::ofstream(dir / "canary.txt") << "CANARY-7f3a";
  }
  const std::string canary = (root() / "canary.txt").string();
  const std::string internal = kHead + "<!DOCTYPE Depot [<!ENTITY x SYSTEM \"canary.txt\"><!ENTITY y SYSTEM \"file://" +
                               canary + "\">]>\n" + kOpen +
                               "  <Utilisateur login=\"&x;&y;\" email=\"a@exemple.fr\"/>\n</Depot>\n";
  const std::string external = kHead +
                               "<!DOCTYPE Depot SYSTEM \"http://198.51.100.7/x.dtd\" [<!ENTITY % p SYSTEM \"file://" +
                               canary + "\"> %p;]>\n" + kOpen + "</Depot>\n";
  const ParsedAck a = expect_quarantined("xxe.xml", internal, "DTD_INTERDITE");
  const ParsedAck b = expect_quarantined("dtd_externe.xml", external, "DTD_INTERDITE");
  for (const ParsedAck* ack : {&a, &b}) {
    EXPECT_THAT(ack->xml, Not(HasSubstr("CANARY")));
  }
  EXPECT_THAT(read_file(error_dir() / "xxe.xml.reason.txt"), Not(HasSubstr("CANARY")));
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE ack_content LIKE '%CANARY%' OR reason LIKE '%CANARY%'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE '%CANARY%'"), 0);
}

// ---------------------------------------------------------------------------------------------
// Size and shape (F07, F15).

TEST_F(HostileDepositTest, HundredThousandDeepNestingIsSchemaInvalideWithoutCrashing) {
  start();
  std::string xml = kHead + kOpen + "  <Utilisateur login=\"a.b\" email=\"a@exemple.fr\">";
  for (int i = 0; i < 100000; ++i) xml += "<a>";
  for (int i = 0; i < 100000; ++i) xml += "</a>";
  xml += "</Utilisateur>\n</Depot>\n";
  const ParsedAck ack = expect_quarantined("profond.xml", xml, "SCHEMA_INVALIDE");
  EXPECT_EQ(ack.errors.at(0).ligne, 3);
  EXPECT_THAT(ack.errors.at(0).message, HasSubstr("10000 niveaux"));  // the hard safety limit
}

// Issue 20: a 1 MB dépôt of 250,000 empty unknown elements gave a 72 MB accusé (and ~780 MB of
// memory). Each element is an operation rejected with SCHEMA_INVALIDE: the accusé lists every
// Operation, the first 1,000 Erreur and counts the 249,000 others in erreursOmises (docs/reference.md §5.1);
// it is well-formed, valid, of bounded size, and the file is the recorded one.
TEST_F(HostileDepositTest, QuarterMillionEmptyUnknownElementsGetACappedAccuse) {
  start();
  std::string xml = kHead + kOpen;
  for (int i = 0; i < 250000; ++i) xml += "<X/>";
  xml += "\n</Depot>\n";
  ASSERT_GT(xml.size(), 1000000u);
  const ParsedAck ack = process("vides.xml", xml);
  EXPECT_EQ(ack.statut, "REJETE");
  ASSERT_EQ(ack.operations.size(), 250000u);
  std::size_t listed = 0;
  for (const AckOperation& op : ack.operations) {
    EXPECT_EQ(op.statut, "REJETEE");
    listed += op.diagnostics.size();
  }
  EXPECT_EQ(listed, 1000u);
  EXPECT_THAT(ack.operations[999].error_codes(), ElementsAre("SCHEMA_INVALIDE"));
  EXPECT_THAT(ack.operations[1000].diagnostics, IsEmpty());
  EXPECT_EQ(ack.erreurs_omises, "249000");
  EXPECT_LT(ack.xml.size(), 16u * 1000 * 1000) << "one line per Operation, 1,000 findings";
  EXPECT_EQ(xmllint_text(ack.xml, xsd_path("accuse.xsd")).status, 0);
  const auto stored = sql("SELECT ack_content FROM deposits WHERE ack_name = $1", {ack.name});
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(stored[0].text(0) == ack.xml) << "the accusé written is the one recorded";
  EXPECT_THAT(files_in(archive_day()), ElementsAre("vides.xml"));
}

// A Depot holding 1,500 stray texts: 1,500 dépôt-level errors, the first 1,000 listed.
TEST_F(HostileDepositTest, FifteenHundredStrayTextsInDepotAreCappedAtDepositLevel) {
  start();
  std::string xml = kHead + kOpen;
  for (int i = 0; i < 1500; ++i) xml += "t<X/>\n";
  xml += "</Depot>\n";
  const ParsedAck ack = process("textes.xml", xml);
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_THAT(ack.operations, IsEmpty());
  ASSERT_EQ(ack.errors.size(), 1000u);
  EXPECT_GE(ack.errors.back().ligne, 1000) << "the first 1,000, in document order";
  EXPECT_LE(ack.errors.back().ligne, 1003);
  EXPECT_EQ(ack.erreurs_omises, "500");
  EXPECT_EQ(xmllint_text(ack.xml, xsd_path("accuse.xsd")).status, 0);
}

/// `levels` nested <a> elements.
std::string nested(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += "<a>";
  for (int i = 0; i < levels; ++i) out += "</a>";
  return out;
}

// Nesting inside one operation (under the hard limit) is that operation's SCHEMA_INVALIDE, with its
// field and line; in `partielle` mode the other operations are applied and the original is
// archived (docs/reference.md §4 "Placement"). The input: 70 levels (12 already worked); siblings:
// other depths, other operations holding the nesting, the deep operation first or last.
TEST_F(HostileDepositTest, DeepNestingInsideOneOperationRejectsOnlyThatOperation) {
  start();
  setup_world();
  struct Host {
    std::string name;
    std::string before;  // the operation up to the nesting (which starts on line 4)
    std::string after;
    std::string field;
  };
  const std::vector<Host> hosts{
      {"Utilisateur", "<Utilisateur login=\"p.profond\" email=\"p@exemple.fr\">\n", "</Utilisateur>", "a"},
      {"Structure",
       "<Structure siret=\"12345678200028\" raisonSociale=\"Société Exemple Équipements\">\n"
       "<Gestionnaire login=\"g.martin\" role=\"principal\">",
       "</Gestionnaire></Structure>", "Gestionnaire[1]/a"},
      {"FicheEDI",
       "<FicheEDI demandeur=\"j.dupont\" action=\"soumettre\"><Partenaire>12345678200010</Partenaire>\n<Commentaires>",
       "</Commentaires></FicheEDI>", "Commentaires/a"},
      {"FicheAPI",
       "<FicheAPI demandeur=\"j.dupont\" action=\"soumettre\"><Partenaire>12345678200010</Partenaire>\n<Certificats>"
       "<Certificat nom=\"x.p7b\">",
       "</Certificat></Certificats></FicheAPI>", "Certificats/Certificat[1]/a"},
      {"Recherche", "<Recherche>\n<Partenaire>", "</Partenaire></Recherche>", "Partenaire/a"},
  };
  int n = 0;
  for (const int levels : {12, 70, 257, 5000}) {
    for (const Host& host : hosts) {
      for (const bool deep_first : {false, true}) {
        ++n;
        SCOPED_TRACE(host.name + " " + std::to_string(levels) + (deep_first ? " en premier" : " en second"));
        const std::string login = "bon.n" + std::to_string(n);
        const std::string good = "  <Utilisateur login=\"" + login + "\" email=\"b@exemple.fr\"/>\n";
        const std::string deep = host.before + nested(levels) + host.after + "\n";
        std::string xml = kHead +
                          "<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"support.n1\" mode=\"partielle\" "
                          "identifiant=\"PROFOND-" +
                          std::to_string(n) + "\">\n";
        // The deep operation starts on line 3 and its nesting on line 4 either way.
        xml += deep_first ? deep + good : good.substr(0, good.size() - 1) + " " + deep;
        xml += "</Depot>\n";
        const std::string name = "profond_" + std::to_string(n) + ".xml";
        const ParsedAck ack = process(name, xml);
        EXPECT_EQ(ack.statut, "INTEGRE_PARTIEL") << ack.xml.substr(0, 3000);
        EXPECT_THAT(ack.errors, IsEmpty());
        ASSERT_EQ(ack.operations.size(), 2u) << ack.xml.substr(0, 3000);
        const AckOperation& bad = ack.operations[deep_first ? 0 : 1];
        const AckOperation& ok = ack.operations[deep_first ? 1 : 0];
        EXPECT_EQ(ok.statut, "ACCEPTEE");
        EXPECT_EQ(bad.statut, "REJETEE");
        EXPECT_EQ(bad.type, host.name);
        ASSERT_THAT(bad.error_codes(), ElementsAre("SCHEMA_INVALIDE"));
        EXPECT_EQ(bad.diagnostics[0].champ, host.field);
        EXPECT_EQ(bad.diagnostics[0].ligne, 4);
        EXPECT_LT(ack.xml.size(), 10000u);  // the nesting is not echoed
        EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = $1", {login}), 1);
        EXPECT_EQ(read_file(archive_day() / name), xml);
        EXPECT_THAT(files_in(error_dir()), IsEmpty());
      }
    }
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'p.profond'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM structures WHERE siret = '12345678200028' AND raison_sociale = "
                  "'Société Exemple Équipements'"),
            1);
}

// In `complete` mode the dépôt is REJETE as for any operation in error, but the error stays on its
// operation (listed, with field and line) and the original is archived, not put in error/.
TEST_F(HostileDepositTest, DeepNestingInACompleteDepotIsAnOperationErrorAndArchived) {
  start();
  const std::string xml = kHead + kOpen + "  <Utilisateur login=\"bon.un\" email=\"b@exemple.fr\"/>\n" +
                          "  <Utilisateur login=\"p.profond\" email=\"p@exemple.fr\">" + nested(70) +
                          "</Utilisateur>\n</Depot>\n";
  const ParsedAck ack = process("profond_complet.xml", xml);
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_THAT(ack.errors, IsEmpty());
  ASSERT_EQ(ack.operations.size(), 2u);
  EXPECT_THAT(ack.operations[0].error_codes(), IsEmpty());
  ASSERT_THAT(ack.operations[1].error_codes(), ElementsAre("SCHEMA_INVALIDE"));
  EXPECT_EQ(ack.operations[1].diagnostics[0].champ, "a");
  EXPECT_EQ(ack.operations[1].diagnostics[0].ligne, 4);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login IN ('bon.un', 'p.profond')"), 0);
  EXPECT_EQ(read_file(archive_day() / "profond_complet.xml"), xml);
  EXPECT_THAT(files_in(error_dir()), IsEmpty());
}

// 64 MiB + 1 byte with the default inbox.max_bytes: refused, hashed from the file, never loaded
// (the peak resident set grows far less than the file).
TEST_F(HostileDepositTest, SixtyFourMebibytesPlusOneIsFichierTropVolumineuxAndNeverLoaded) {
  ASSERT_EQ(config_.max_bytes, 64ll * 1024 * 1024);  // the default
  start();
  const std::uintmax_t size = 64ull * 1024 * 1024 + 1;
  {
    std::ofstream out(inbox() / ".gros.xml.part", std::ios::binary);
    out << kHead << kOpen;
  }
  fs::resize_file(inbox() / ".gros.xml.part", size);  // sparse: costs no disk
  fs::rename(inbox() / ".gros.xml.part", inbox() / "gros.xml");
  const long before = peak_rss_kib();
  const PassSummary summary = engine().process_pass();
  const long grown_kib = peak_rss_kib() - before;
  ASSERT_EQ(summary.processed, 1);
  const ParsedAck ack = read_ack(summary.acknowledgements[0]);
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_THAT(ack.error_codes(), ElementsAre("FICHIER_TROP_VOLUMINEUX"));
  EXPECT_THAT(ack.errors.at(0).message, HasSubstr("67108865"));
  EXPECT_THAT(ack.errors.at(0).message, HasSubstr("67108864"));
  EXPECT_EQ(fs::file_size(error_dir() / "gros.xml"), size);
  EXPECT_LT(grown_kib, 32 * 1024) << "the dépôt was read into memory";
}

TEST_F(HostileDepositTest, TenMegabyteAttributeIsReportedWithoutBeingEchoed) {
  start();
  const std::string huge(10 * 1000 * 1000, 'A');
  const std::string xml = kHead + kOpen + "  <Utilisateur login=\"a.b\" email=\"a@exemple.fr\" note=\"" + huge +
                          "\"/>\n  <Utilisateur login=\"c.d\" email=\"c@exemple.fr\" reference=\"r2\"/>\n</Depot>\n";
  const ParsedAck ack = process("attribut.xml", xml);
  EXPECT_EQ(ack.statut, "REJETE");
  ASSERT_EQ(ack.operations.size(), 2u);
  ASSERT_THAT(ack.operations[0].error_codes(), ElementsAre("SCHEMA_INVALIDE"));
  EXPECT_EQ(ack.operations[0].diagnostics[0].champ, "@note");
  EXPECT_EQ(ack.operations[0].diagnostics[0].ligne, 3);
  EXPECT_LT(ack.xml.size(), 10000u) << "the value was echoed";
  EXPECT_THAT(files_in(archive_day()), ElementsAre("attribut.xml"));
}

// A certificate of 50 MB of base64 (inbox.max_bytes raised to fit it): CERT_FORMAT on its element,
// the content never echoed.
TEST_F(HostileDepositTest, FiftyMegabyteCertificateIsCertFormatWithoutBeingEchoed) {
  config_.max_bytes = 60ll * 1000 * 1000;
  start();
  setup_world();
  std::string junk;
  junk.reserve(50 * 1000 * 1000 + 50 * 1000 * 1000 / 76 + 1);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < 50u * 1000 * 1000; ++i) {
    junk.push_back(alphabet[(i * 7919u + i / 64u) % 64u]);
    if (i % 76 == 75) junk.push_back('\n');
  }
  SheetSpec spec = sftp_sheet();
  spec.certificates = {junk + "\n"};
  const std::string xml = depot_xml(sheet_xml(spec));
  ASSERT_LT(xml.size(), static_cast<std::size_t>(config_.max_bytes));
  const ParsedAck ack = process("certificat_geant.xml", xml);
  EXPECT_EQ(ack.statut, "REJETE");
  ASSERT_EQ(ack.operations.size(), 1u);
  EXPECT_THAT(ack.operations[0].error_codes(), ElementsAre("CERT_FORMAT"));
  const AckDiagnostic* d = ack.operations[0].find("CERT_FORMAT");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->champ, "Certificats/Certificat[1]");
  EXPECT_EQ(d->ligne, line_of(xml, "<Certificat "));
  EXPECT_LT(ack.xml.size(), 10000u) << "the content was echoed";
  EXPECT_THAT(files_in(archive_day()), Contains("certificat_geant.xml"));
}

// 100,000 operations in one dépôt: all applied, one accusé listing them all, in bounded time.
TEST_F(HostileDepositTest, HundredThousandOperationsAreAllApplied) {
  start();
  constexpr int kOperations = 100000;
  std::string ops;
  ops.reserve(static_cast<std::size_t>(kOperations) * 80);
  for (int i = 0; i < kOperations; ++i) {
    const std::string login = "u" + std::to_string(i);
    ops += "  <Utilisateur login=\"" + login + "\" email=\"" + login + "@exemple.fr\"/>\n";
  }
  const std::string xml = kHead + kOpen + ops + "</Depot>\n";
  const auto started = std::chrono::steady_clock::now();
  const ParsedAck ack = process("cent_mille.xml", xml);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::cout << "[ mesure  ] 100 000 opérations : " << elapsed.count() << " ms\n";
  EXPECT_EQ(ack.statut, "INTEGRE");
  ASSERT_EQ(ack.operations.size(), static_cast<std::size_t>(kOperations));
  EXPECT_EQ(ack.operations.back().rang, kOperations);
  EXPECT_EQ(ack.operations.back().statut, "ACCEPTEE");
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE 'u%'"), kOperations);
}

// ---------------------------------------------------------------------------------------------
// Encodings and forbidden bytes (docs/reference.md §3, F16).

TEST_F(HostileDepositTest, InvalidUtf8FormsAreEncodageInvalideWithTheirPosition) {
  start();
  struct Case {
    std::string name;
    std::string bad;  // placed on line 3 after `  <Utilisateur login="` (22 characters)
  };
  for (const Case& c : {Case{"surlong.xml", "\xC0\xAF"}, Case{"surrogat.xml", "\xED\xA0\x80"},
                        Case{"hors_unicode.xml", "\xF4\x90\x80\x80"}, Case{"suite_seule.xml", "\x80"}}) {
    const std::string xml =
        kHead + kOpen + "  <Utilisateur login=\"" + c.bad + "\" email=\"a@exemple.fr\"/>\n</Depot>\n";
    const ParsedAck ack = expect_quarantined(c.name, xml, "ENCODAGE_INVALIDE");
    ASSERT_EQ(ack.errors.size(), 1u) << c.name;
    EXPECT_EQ(ack.errors[0].ligne, 3) << c.name;
    EXPECT_EQ(ack.errors[0].colonne, 23) << c.name;
  }
  // Cut in the middle of a character at the very end of the file.
  const std::string cut = kHead + kOpen + "</Depot>\n\xC3";
  const ParsedAck ack = expect_quarantined("coupe.xml", cut, "ENCODAGE_INVALIDE");
  EXPECT_EQ(ack.errors.at(0).ligne, 4);
}

TEST_F(HostileDepositTest, BytesUndefinedInADeclaredWindows1252AreEncodageInvalide) {
  start();
  for (const char undefined : {'\x81', '\x8D', '\x8F', '\x90', '\x9D'}) {
    const std::string name = "cp1252_" + std::to_string(static_cast<unsigned char>(undefined)) + ".xml";
    const std::string xml = "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n" + kOpen +
                            "  <Utilisateur login=\"caf\xE9" + std::string(1, undefined) +
                            "\" email=\"a@exemple.fr\"/>\n</Depot>\n";
    const ParsedAck ack = expect_quarantined(name, xml, "ENCODAGE_INVALIDE");
    EXPECT_EQ(ack.errors.at(0).ligne, 3) << name;
    EXPECT_EQ(ack.errors.at(0).colonne, 27) << name;  // 22 characters, then "café"
  }
  // The same bytes without 0x81: transcoded, accepted, stored as UTF-8.
  const std::string fine = "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n" + kOpen +
                           "  <Utilisateur login=\"caf\xE9\x80\" email=\"a@exemple.fr\"/>\n</Depot>\n";
  EXPECT_EQ(process("cp1252_ok.xml", fine).statut, "INTEGRE");
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = $1", {std::string("caf\xC3\xA9\xE2\x82\xAC")}), 1);
}

TEST_F(HostileDepositTest, NulBytesAreXmlMalformeWherePresent) {
  start();
  const std::string in_value =
      kHead + kOpen + "  <Utilisateur login=\"a" + std::string(1, '\0') + "b\" email=\"a@exemple.fr\"/>\n</Depot>\n";
  const ParsedAck a = expect_quarantined("nul_valeur.xml", in_value, "XML_MALFORME");
  EXPECT_EQ(a.errors.at(0).ligne, 3);
  EXPECT_GT(a.errors.at(0).colonne, 0);
  // NUL bytes after the root: never a truncated "valid" file.
  const std::string after = kHead + kOpen + "</Depot>\n" + std::string(16, '\0');
  const ParsedAck b = expect_quarantined("nul_fin.xml", after, "XML_MALFORME");
  EXPECT_EQ(b.errors.at(0).ligne, 4);
  // UTF-16 without a declaration is not UTF-8 either.
  const std::string utf16("<\0D\0e\0p\0o\0t\0/\0>\0", 16);
  expect_quarantined("utf16.xml", utf16, "XML_MALFORME");
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE 'a%'"), 0);
}

// ---------------------------------------------------------------------------------------------
// Names: a Certificat/@nom is a label, never a path; dépôt file names with spaces, accents and
// newlines are answered under their own name.

TEST_F(HostileDepositTest, CertificateNomIsNeverUsedAsAPath) {
  start();
  setup_world();
  const fs::path outside = tmp_ / "dehors";
  fs::create_directory(outside);
  const std::set<std::string> before_outside = tree_of(tmp_);
  const std::vector<std::string> noms = {
      "../../../dehors/evil.p7b", (outside / "absolu.p7b").string(), "/etc/passwd", "a/b/c.p7b", "..", "/"};
  std::string ops;
  int n = 0;
  for (const std::string& nom : noms) {
    SheetSpec spec = sftp_sheet();
    spec.reference = "nom" + std::to_string(++n);
    std::string sheet = sheet_xml(spec);
    const std::string from = "nom=\"certificat_1.p7b\"";
    sheet.replace(sheet.find(from), from.size(), "nom=\"" + nom + "\"");
    ops += sheet;
  }
  const ParsedAck ack = process("noms.xml", depot_xml(ops));
  EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
  ASSERT_EQ(ack.operations.size(), noms.size());
  EXPECT_TRUE(fs::is_empty(outside));
  EXPECT_FALSE(fs::exists("/etc/passwd.p7b"));
  // Nothing new anywhere under the temporary directory but the engine's own tree.
  for (const std::string& p : tree_of(tmp_)) {
    if (before_outside.count(p) == 0) {
      EXPECT_EQ(p.rfind("var", 0), 0u) << "created outside the root: " << p;
    }
  }
  // Inside the root: only the expected directories and files.
  for (const std::string& p : tree_of(root())) {
    EXPECT_THAT(p, Not(HasSubstr(".p7b"))) << p;
    EXPECT_THAT(p, Not(HasSubstr("evil"))) << p;
  }
}

TEST_F(HostileDepositTest, FileNamesWithSpacesAccentsAndNewlinesKeepTheirName) {
  start();
  const std::vector<std::string> names = {"lot du 29 novembre.xml", "fiche_société_été.xml", "ligne\nsuivante.xml",
                                          " espace devant.XML", "tab\tulation.xml"};
  for (const std::string& name : names) {
    drop_file(inbox(), name, depot_xml(user_xml("u." + std::to_string(name.size()) + std::to_string(name[1]))));
  }
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, static_cast<int>(names.size()));
  std::set<std::string> answered;
  for (const std::string& ack_name : summary.acknowledgements) {
    const ParsedAck ack = read_ack(ack_name);
    EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
    answered.insert(ack.fichier);
    const std::string stem = ack.fichier.substr(0, ack.fichier.rfind('.'));
    EXPECT_EQ(ack_name, "ACK_" + stem + "_20261129T100000Z.xml");
    EXPECT_TRUE(fs::exists(archive_day() / ack.fichier)) << ack.fichier;
  }
  EXPECT_EQ(answered, std::set<std::string>(names.begin(), names.end()));
  EXPECT_THAT(files_in(inbox()), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Entries that are not dépôts: never followed, never blocking, left where they are (docs/reference.md §2).

TEST_F(HostileDepositTest, SymlinkFifoAndDirectoryAreLeftAloneWithoutBlocking) {
  start();
  const fs::path outside = tmp_ / "secret.xml";
  const std::string secret = depot_xml(user_xml("n.secret"));
  std::ofstream(outside) << secret;
  fs::create_symlink(outside, inbox() / "lien.xml");
  fs::create_symlink(tmp_ / "nulle_part.xml", inbox() / "lien_casse.xml");
  ASSERT_EQ(::mkfifo((inbox() / "tube.xml").c_str(), 0600), 0);
  fs::create_symlink(inbox() / "tube.xml", inbox() / "lien_tube.xml");
  fs::create_directory(inbox() / "dossier.xml");
  drop_file(inbox() / "dossier.xml", "dedans.xml", depot_xml(user_xml("n.dedans")));
  drop_file(inbox(), "vrai.xml", depot_xml(user_xml("n.vrai")));

  // Both entry points: the pass (scan) and the names reported by inotify. A blocking open of the
  // FIFO would hang here (no writer ever comes).
  PassSummary by_names =
      engine().process_names({"lien.xml", "lien_casse.xml", "tube.xml", "lien_tube.xml", "dossier.xml"});
  EXPECT_EQ(by_names.processed, 0);
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 1);
  EXPECT_EQ(read_ack(summary.acknowledgements.at(0)).fichier, "vrai.xml");
  EXPECT_EQ(summary.left_for_later, 0);

  EXPECT_TRUE(fs::is_symlink(inbox() / "lien.xml"));
  EXPECT_TRUE(fs::is_symlink(inbox() / "lien_casse.xml"));
  EXPECT_TRUE(fs::is_symlink(inbox() / "lien_tube.xml"));
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(inbox() / "tube.xml")));
  EXPECT_TRUE(fs::is_regular_file(inbox() / "dossier.xml" / "dedans.xml"));
  EXPECT_EQ(read_file(outside), secret);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login IN ('n.secret', 'n.dedans')"), 0);
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_THAT(files_in(outbox()), ElementsAre(summary.acknowledgements[0]));
}

// A file that keeps growing is left for a later pass; once it stops it is taken exactly once.
TEST_F(HostileDepositTest, GrowingFileIsLeftForLaterThenTakenOnce) {
  config_.settle_ms = 400;
  start();
  const fs::path path = inbox() / "croissant.xml";
  {
    std::ofstream out(path, std::ios::binary);
    out << kHead << kOpen << "  <Utilisateur login=\"n.croissant\" email=\"a@exemple.fr\"/>\n";
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    while (!stop) {
      out << "  <!-- encore -->\n" << std::flush;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    out << "</Depot>\n";
  });
  const PassSummary during = engine().process_pass();
  stop = true;
  writer.join();
  EXPECT_EQ(during.processed, 0);
  EXPECT_EQ(during.left_for_later, 1);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_THAT(files_in(outbox()), IsEmpty());

  const PassSummary after = engine().process_pass();
  ASSERT_EQ(after.processed, 1);
  EXPECT_EQ(read_ack(after.acknowledgements[0]).statut, "INTEGRE");
  EXPECT_EQ(engine().process_pass().processed, 0);
  EXPECT_EQ(files_in(outbox()).size(), 1u);
}

// F06: a zero-byte file is held for the settle window, then refused FICHIER_VIDE; BOM-only and
// CR LF-only files have no root element; the two valid dépôts beside them are processed.
TEST_F(HostileDepositTest, ZeroByteBomOnlyAndBlankFilesBesideTwoValidDepots) {
  config_.settle_ms = 50;
  start();
  drop_file(inbox(), "a_valide.xml", depot_xml(user_xml("n.a")));
  drop_file(inbox(), "b_vide.xml", "");
  drop_file(inbox(), "c_bom.xml", "\xEF\xBB\xBF");
  drop_file(inbox(), "d_crlf.xml", "\r\n");
  drop_file(inbox(), "e_valide.xml", depot_xml(user_xml("n.e")));
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 5);
  std::vector<std::string> verdicts;
  for (const auto& name : summary.acknowledgements) {
    const ParsedAck ack = read_ack(name);
    verdicts.push_back(ack.fichier + ":" + ack.statut + ":" + (ack.errors.empty() ? "" : ack.errors[0].code));
  }
  EXPECT_THAT(verdicts,
              ElementsAre("a_valide.xml:INTEGRE:", "b_vide.xml:REJETE:FICHIER_VIDE", "c_bom.xml:REJETE:XML_MALFORME",
                          "d_crlf.xml:REJETE:XML_MALFORME", "e_valide.xml:INTEGRE:"));
  EXPECT_THAT(files_in(error_dir()), ElementsAre("b_vide.xml", "b_vide.xml.reason.txt", "c_bom.xml",
                                                 "c_bom.xml.reason.txt", "d_crlf.xml", "d_crlf.xml.reason.txt"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM structures"), 0);
}

// ---------------------------------------------------------------------------------------------
// The same file dropped twice at once.

TEST_F(HostileDepositTest, HardLinksUnderTwoNamesAreOneIntegreAndOneDoublon) {
  start();
  drop_file(inbox(), "lot_a.xml", depot_xml(user_xml("n.lien"), "identifiant=\"LIEN-1\""));
  ASSERT_EQ(::link((inbox() / "lot_a.xml").c_str(), (inbox() / "lot_b.xml").c_str()), 0);
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 2);
  const ParsedAck first = read_ack(summary.acknowledgements[0]);
  const ParsedAck second = read_ack(summary.acknowledgements[1]);
  EXPECT_EQ(first.fichier, "lot_a.xml");
  EXPECT_EQ(first.statut, "INTEGRE");
  EXPECT_EQ(second.fichier, "lot_b.xml");
  EXPECT_EQ(second.statut, "DOUBLON");
  EXPECT_EQ(second.original, first.name);
  EXPECT_THAT(files_in(archive_day()), ElementsAre("lot_a.xml", "lot_b.xml"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'n.lien'"), 1);
  EXPECT_EQ(engine().process_pass().processed, 0);
}

// Regression (hostile tester, finding 1): the archived original linked back into inbox/ under its
// name has the name, the bytes and the inode of a dépôt already answered (as a re-sent file has once
// ext4 reuses the inode of a removed original). It is a new drop: its own DOUBLON accusé, never the
// old answer taken for a crash leftover.
TEST_F(HostileDepositTest, ArchivedOriginalLinkedBackIsANewDropAndDoublon) {
  start();
  const ParsedAck first = process("revient.xml", depot_xml(user_xml("n.revient")));
  ASSERT_EQ(first.statut, "INTEGRE");
  ASSERT_EQ(::link((archive_day() / "revient.xml").c_str(), (inbox() / "revient.xml").c_str()), 0);
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 1);
  EXPECT_EQ(summary.doublon, 1);
  const ParsedAck second = read_ack(summary.acknowledgements.front());
  EXPECT_EQ(second.statut, "DOUBLON");
  EXPECT_EQ(second.original, first.name);
  EXPECT_NE(second.name, first.name);
  EXPECT_THAT(files_in(archive_day()), ElementsAre("revient.xml", "revient.xml.1"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE file_name = 'revient.xml'"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'n.revient'"), 1);
}

// Regression (hostile tester, finding 7): a legal name of 222 bytes or more made the accusé name, the
// temporaries and the reason file too long (ENAMETOOLONG): the whole group stayed in .work/ and every
// later pass failed on it. Each now gets its accusé (stem cut at a character boundary) and its place.
TEST_F(HostileDepositTest, NamesOfTheMaximumLengthAreAnsweredAndDoNotBlockTheInbox) {
  start();
  // 249 bytes at most: drop_file writes ".<name>.part" first (6 bytes more) to rename it in.
  std::string accented;
  for (int i = 0; i < 122; ++i) accented += "é";               // 244 bytes
  const std::string ok_name = std::string(245, 'a') + ".xml";  // 249 bytes
  const std::string bad_name = accented + ".xml";              // 248 bytes, malformed: error/ + reason
  drop_file(inbox(), ok_name, depot_xml(user_xml("n.long")));
  drop_file(inbox(), bad_name, "<Depot");
  drop_file(inbox(), "court.xml", depot_xml(user_xml("n.court")));
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 3);
  EXPECT_EQ(summary.integre, 2);
  EXPECT_EQ(summary.rejete, 1);
  for (const auto& name : summary.acknowledgements) {
    EXPECT_LE(name.size(), 255u);
    EXPECT_EQ(name.substr(name.size() - 4), ".xml");
  }
  EXPECT_THAT(files_in(archive_day()), ElementsAre(ok_name, "court.xml"));
  const auto in_error = files_in(error_dir());
  ASSERT_EQ(in_error.size(), 2u);
  EXPECT_EQ(in_error[0].substr(in_error[0].size() - 11), ".reason.txt");
  EXPECT_EQ(in_error[1], bad_name);
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login IN ('n.long', 'n.court')"), 2);
  // The same long name again: DOUBLON under an accusé name with its "_2", still within 255 bytes.
  drop_file(inbox(), ok_name, depot_xml(user_xml("n.long")));
  const PassSummary again = engine().process_pass();
  ASSERT_EQ(again.processed, 1);
  EXPECT_EQ(again.doublon, 1);
  EXPECT_LE(again.acknowledgements.front().size(), 255u);
}

// Regression (hostile finding 2): dépôts whose long names share their first bytes, answered in one
// group (two and three of them) or in two passes: each accusé answers its own dépôt (the accusés'
// temporaries were cut to one name, the second overwrote the first, the pass failed and both accusés
// named the second file). 255-byte names are written in place (settle_ms is 0 here).
TEST_F(HostileDepositTest, LongNamesSharingTheirFirstBytesEachGetTheirOwnAccuse) {
  start();
  std::string accented;
  for (int i = 0; i < 117; ++i) accented += "é";  // 234 bytes: the cut falls among two-byte characters
  const std::vector<std::string> used = {
      std::string(246, 'l') + "a.xml",                  // 251 bytes
      std::string(246, 'l') + "b.xml",                  //
      std::string(246, 'l') + "c1234.xml",              // 255 bytes, the most a name may have
      accented + "x" + std::string(15, 'z') + "1.xml",  // 255 bytes, 234 of them accented
      accented + "x" + std::string(15, 'z') + "2.xml",
  };
  for (std::size_t i = 0; i < used.size(); ++i) {
    ASSERT_LE(used[i].size(), 255u);
    write_file(inbox() / used[i], depot_xml(user_xml("n.long" + std::to_string(i))));
  }
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 5);
  EXPECT_EQ(summary.integre, 5);
  std::set<std::string> fichiers;
  for (const auto& ack_name : summary.acknowledgements) {
    EXPECT_LE(ack_name.size(), 255u);
    fichiers.insert(read_ack(ack_name).fichier);
  }
  EXPECT_EQ(fichiers, std::set<std::string>(used.begin(), used.end()));
  EXPECT_EQ(files_in(outbox()).size(), 5u);
  for (const auto& e : fs::directory_iterator(outbox())) {
    EXPECT_NE(e.path().filename().string().front(), '.') << e.path();  // no temporary left
  }
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE 'n.long%'"), 5);

  // The same names again in a later pass (same instant): DOUBLON each, each naming its own original.
  for (std::size_t i = 0; i < used.size(); ++i) {
    write_file(inbox() / used[i], depot_xml(user_xml("n.long" + std::to_string(i))));
  }
  const PassSummary again = engine().process_pass();
  ASSERT_EQ(again.processed, 5);
  EXPECT_EQ(again.doublon, 5);
  std::set<std::string> all_acks(summary.acknowledgements.begin(), summary.acknowledgements.end());
  for (std::size_t i = 0; i < again.acknowledgements.size(); ++i) {
    const ParsedAck ack = read_ack(again.acknowledgements[i]);
    EXPECT_TRUE(all_acks.insert(ack.name).second) << ack.name;
    EXPECT_EQ(read_ack(ack.original).fichier, ack.fichier);
  }
  EXPECT_EQ(files_in(archive_day()).size(), 10u);
}

// Regression (hostile finding 3): malformed dépôts whose 249-byte names share their first 244 bytes,
// in one pass (two, then three) and in two passes: error/ holds every original and one reason file
// for each, which names its own dépôt (the second's reason replaced the first's).
TEST_F(HostileDepositTest, LongNamesSharingTheirFirstBytesEachKeepTheirOwnReasonFile) {
  start();
  const std::string prefix(244, 'q');
  auto check = [&](const std::vector<std::string>& expected_originals) {
    std::vector<std::string> originals;
    std::vector<std::string> reasons;
    for (const auto& f : files_in(error_dir())) (f.ends_with(".reason.txt") ? reasons : originals).push_back(f);
    EXPECT_EQ(originals, expected_originals);
    ASSERT_EQ(reasons.size(), originals.size());
    std::multiset<std::string> named;  // the dépôt each reason file names
    for (const auto& r : reasons) {
      EXPECT_LE(r.size(), 255u);
      const std::string text = read_file(error_dir() / r);
      EXPECT_THAT(text, HasSubstr("XML_MALFORME"));
      for (const char* end : {"a.xml", "b.xml", "c.xml"}) {
        if (text.find("« " + prefix + end + " »") != std::string::npos) named.insert(end);
      }
    }
    std::multiset<std::string> expected;  // the dépôt of each original ("NAME.1" is NAME's copy)
    for (const auto& o : originals) expected.insert(o.substr(prefix.size(), 5));
    EXPECT_EQ(named, expected);
  };
  drop_file(inbox(), prefix + "a.xml", "<Depot");
  drop_file(inbox(), prefix + "b.xml", "<Depot");
  ASSERT_EQ(engine().process_pass().rejete, 2);
  check({prefix + "a.xml", prefix + "b.xml"});
  drop_file(inbox(), prefix + "c.xml", "<Depot");
  ASSERT_EQ(engine().process_pass().rejete, 1);
  check({prefix + "a.xml", prefix + "b.xml", prefix + "c.xml"});
  // The same name again: its copy "NAME.1" gets its own reason file, the first one's stays.
  drop_file(inbox(), prefix + "a.xml", "<Depot ");
  ASSERT_EQ(engine().process_pass().rejete, 1);
  check({prefix + "a.xml", prefix + "a.xml.1", prefix + "b.xml", prefix + "c.xml"});
}

TEST_F(HostileDepositTest, SameNameTwiceInARowIsAnsweredTwiceAndAppliedOnce) {
  start();
  const std::string xml = depot_xml(user_xml("n.deux"));
  drop_file(inbox(), "deux.xml", xml);
  // The second copy arrives while the first is claimed (in .work/): it waits, then is DOUBLON.
  auto claimed = engine().inbox().claim("deux.xml");
  ASSERT_TRUE(claimed.has_value());
  drop_file(inbox(), "deux.xml", xml);
  EXPECT_FALSE(engine().inbox().claim("deux.xml").has_value());
  const DepositAnswer first = engine().process_claimed(*claimed);
  claimed.reset();
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 1);
  EXPECT_EQ(first.status, DepositStatus::Integre);
  const ParsedAck second = read_ack(summary.acknowledgements[0]);
  EXPECT_EQ(second.statut, "DOUBLON");
  EXPECT_EQ(second.original, first.ack_name);
  EXPECT_EQ(second.name, "ACK_deux_20261129T100000Z_2.xml");
  EXPECT_THAT(files_in(archive_day()), ElementsAre("deux.xml", "deux.xml.1"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'n.deux'"), 1);
}

// Two engines sharing one root and one store, each with its own pass, on the same files at once:
// every dépôt file is answered exactly once, its effects applied once (docs/reference.md §2 "Claim").
TEST_F(HostileDepositTest, TwoEnginesAtOnceAnswerEachFileOnce) {
  start();
  constexpr int kFiles = 12;
  for (int i = 0; i < kFiles; ++i) {
    const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
    drop_file(inbox(), "lot_" + n + ".xml", depot_xml(user_xml("n.deux_moteurs_" + n)));
  }
  ASSERT_EQ(::link((inbox() / "lot_00.xml").c_str(), (inbox() / "lot_99.xml").c_str()), 0);
  Engine other(config_, BusinessClock(instant(kNow)));
  other.open();
  PassSummary a;
  PassSummary b;
  std::thread t([&] { b = other.process_pass(); });
  a = engine().process_pass();
  t.join();
  // lot_99.xml is lot_00.xml's inode: while one engine holds lot_00.xml (its group locked), the other
  // cannot claim lot_99.xml and leaves it for its next pass.
  const PassSummary c = engine().process_pass();
  EXPECT_EQ(a.processed + b.processed + c.processed, kFiles + 1);
  std::multiset<std::string> answered;
  for (const auto& name : files_in(outbox())) answered.insert(read_ack(name).fichier);
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(kFiles + 1));
  EXPECT_EQ(std::set<std::string>(answered.begin(), answered.end()).size(), static_cast<std::size_t>(kFiles + 1));
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE 'n.deux_moteurs_%'"), kFiles);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE status = 'DOUBLON'"), 1);
  EXPECT_THAT(files_in(inbox()), IsEmpty());
  EXPECT_THAT(files_in(work()), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Rights of written files, and no private material anywhere.

TEST_F(HostileDepositTest, FilesTheEngineWritesAreNeverWorldReadable) {
  const mode_t saved = ::umask(022);  // a usual default umask: the engine must not rely on a stricter one
  start();
  const ParsedAck ok = process("bon.xml", depot_xml(user_xml("n.mode")));
  const ParsedAck bad = process("mauvais.xml", "<Depot");
  ::umask(saved);
  EXPECT_EQ(mode_of(outbox() / ok.name), 0640u);
  EXPECT_EQ(mode_of(outbox() / bad.name), 0640u);
  EXPECT_EQ(mode_of(error_dir() / "mauvais.xml.reason.txt"), 0640u);
  // The originals were the sender's (0644 here): the engine's copies are not world-readable.
  EXPECT_EQ(mode_of(archive_day() / "bon.xml") & 0007u, 0u);
  EXPECT_EQ(mode_of(error_dir() / "mauvais.xml") & 0007u, 0u);
  for (const auto& entry : fs::directory_iterator(root())) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind("raccord.db", 0) == 0) {
      EXPECT_EQ(mode_of(entry.path()) & 0007u, 0u) << name << " is world-readable";
    }
  }
}

TEST_F(HostileDepositTest, PrivateKeyInABundleIsCertFormatAndNeverEchoed) {
  start();
  setup_world();
  const std::string key_pem = TestPki::private_key_pem();
  const std::string key_der = TestPki::private_key_der();
  const TestPki& pki = TestPki::instance();
  const std::string leaf_pem = TestPki::certificates_pem({pki.leaf_der()});
  const std::vector<std::string> contents = {key_pem, TestPki::base64(key_pem), TestPki::base64(key_der),
                                             TestPki::base64(pki.pkcs12_der()), leaf_pem + key_pem};
  std::string ops;
  int n = 0;
  for (const std::string& c : contents) {
    SheetSpec spec = sftp_sheet();
    spec.reference = "cle" + std::to_string(++n);
    spec.certificates = {c + (c.ends_with('\n') ? "" : "\n")};
    ops += sheet_xml(spec);
  }
  ::testing::internal::CaptureStderr();
  const ParsedAck ack = process("cle.xml", depot_xml(ops, "mode=\"partielle\""));
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(ack.statut, "REJETE");
  ASSERT_EQ(ack.operations.size(), contents.size());
  for (const AckOperation& op : ack.operations) {
    EXPECT_THAT(op.error_codes(), Contains("CERT_FORMAT")) << op.reference;
  }
  // Nothing of the key: not its PEM armour, not a line of its base64, not the base64 of its DER.
  std::vector<std::string> needles = {"PRIVATE KEY", TestPki::base64(key_der).substr(0, 40)};
  std::istringstream lines(key_pem);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() >= 32 && line.find("-----") == std::string::npos) needles.push_back(line);
  }
  const std::string stored = [&] {
    std::string all;
    for (const auto& row : sql("SELECT ack_content FROM deposits")) all += row.text(0);
    return all;
  }();
  for (const std::string& needle : needles) {
    EXPECT_THAT(ack.xml, Not(HasSubstr(needle)));
    EXPECT_THAT(logged, Not(HasSubstr(needle)));
    EXPECT_THAT(stored, Not(HasSubstr(needle)));
  }
}

}  // namespace
}  // namespace raccord::testing
