// Tests of `raccord search` (engine/app/search_command.cpp; docs/reference.md §3.4, §5.2, §7): option parsing
// (bad date, type, state, protocol, missing --demandeur: exit 2), the aligned table with the CSV
// header's column names, csv/xml on stdout byte for byte the export, --export writing the outbox file
// and printing its path, rights (a demandeur without rights sees the header only), an unknown demandeur
// or no store at all (exit 2), the type from --code-appli, --etat labels, --raison-sociale (issue 18).
// In process through add_search_command + run_search_command; then through the real binary once the
// command is wired into commands.cpp (skipped before).
#include "engine/app/search_command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <sstream>

#include "engine/search.hpp"
#include "outbox/export_writer.hpp"
#include "tests/support/cli_parse.hpp"
#include "tests/support/command.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/files.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using app::add_search_command;
using app::run_search_command;
using app::SearchCommandOptions;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// Column (in code points) where `needle` starts in UTF-8 `line`; npos when absent.
std::size_t column_of(const std::string& line, const std::string& needle) {
  const auto at = line.find(needle);
  if (at == std::string::npos) return std::string::npos;
  std::size_t n = 0;
  for (std::size_t i = 0; i < at; ++i) n += (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

class SearchCommandTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    start();
    setup_world();
    SheetSpec s1 = sftp_sheet();
    s1.interfaces = {{"FSO1101A", "complete"}, {"FSO1100A", "partielle"}, {"FSO1102A", "aucun"}};
    sheet(s1);
    SheetSpec s2 = as2_sheet();
    s2.period_to = "";
    sheet(s2);
    sheet(api_sheet());
    // A raison sociale a terminal and Excel must survive: ';', '"', a newline and accents.
    Transaction tx(db());
    db().execute("UPDATE structures SET raison_sociale = $1 WHERE siret = $2",
                 {std::string("ACME; \"Logistique\"\nÉté"), std::string(kAcme)});
    tx.commit();
  }

  void sheet(const SheetSpec& spec) {
    ++n_;
    const ParsedAck ack = process("c_" + std::to_string(n_) + ".xml",
                                  depot_xml(sheet_xml(spec), "identifiant=\"C-" + std::to_string(n_) + "\""));
    ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
  }

  /// `raccord search ARGS` in process, at the business instant 2026-11-30T08:15:00Z.
  CommandRun search(const std::vector<std::string>& args) {
    CLI::App app{"raccord"};
    SearchCommandOptions options;
    add_search_command(app, options);
    if (auto usage = parse_command_line(app, "search", args)) return *usage;
    CommandRun r;
    std::ostringstream out, err;
    r.code = run_search_command(options, config_, instant("2026-11-30T08:15:00Z"), out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  /// The export file's bytes for the same search, from write_export.
  std::string expected_export(const SearchCriteria& c, const std::string& requester, ExportFormat f,
                              const std::string& reference = "") {
    std::ostringstream out;
    outbox::ExportWriter writer(out, c.kind, f, reference, instant("2026-11-30T08:15:00Z"));
    search_sheets(db(), engine().zone(), c, requester, [&writer](const SearchRow& r) { writer.row(r); });
    writer.finish();
    return out.str();
  }

  int n_ = 0;
};

TEST_F(SearchCommandTest, TableHasTheCsvHeaderNamesAndAlignedColumns) {
  const CommandRun r = search({"--demandeur", kSupport});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 4U) << r.out;  // header + VFE001 FSO1100A, FSO1101A + VFE002 FSO1100A
  const std::vector<std::string> names{"Partenaire",
                                       "Protocole de raccordement",
                                       "Code Appli partenaire",
                                       "Code interface",
                                       "Date de début",
                                       "Date de fin",
                                       "Etat courant"};
  EXPECT_THAT(lines[0], StartsWith("Partenaire  "));
  for (const auto& n : names) EXPECT_NE(column_of(lines[0], n), std::string::npos) << n;
  // The newline of the raison sociale is shown as a space; accents intact.
  EXPECT_THAT(lines[1], StartsWith("12345678200010 - ACME; \"Logistique\" Été  "));
  const std::vector<std::vector<std::string>> cells{
      {"SFTP", "VFE001", "FSO1100A", "01/12/2026", "30/06/2099", "Envoyée"},
      {"SFTP", "VFE001", "FSO1101A", "01/12/2026", "30/06/2099", "Envoyée"},
      {"AS2", "VFE002", "FSO1100A", "01/12/2026", "", "Envoyée"}};
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const std::string& line = lines[i + 1];
    for (std::size_t k = 0; k < cells[i].size(); ++k) {
      if (cells[i][k].empty()) continue;
      EXPECT_EQ(column_of(line, cells[i][k]), column_of(lines[0], names[k + 1])) << line << " / " << names[k + 1];
    }
  }
  // An open-ended period leaves Date de fin empty, the state label still in its column.
  EXPECT_EQ(column_of(lines[3], "Envoyée"), column_of(lines[0], "Etat courant"));
}

TEST_F(SearchCommandTest, ApiTable) {
  const CommandRun r = search({"--type", "API", "--demandeur", kSubscriber});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2U) << r.out;
  EXPECT_EQ(column_of(lines[0], "Code Appli partenaire"), column_of(lines[1], "VFE003"));
  EXPECT_EQ(column_of(lines[0], "Etat courant"), column_of(lines[1], "Envoyée"));
}

TEST_F(SearchCommandTest, ForeignDemandeurSeesTheHeaderOnly) {
  const CommandRun r = search({"--demandeur", kOutsider});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(lines_of(r.out).size(), 1U) << r.out;
  EXPECT_THAT(r.out, StartsWith("Partenaire  Protocole de raccordement  Code Appli partenaire  Code interface  "
                                "Date de début  Date de fin  Etat courant"));
  const CommandRun csv = search({"--demandeur", kOutsider, "--format", "csv"});
  EXPECT_EQ(csv.out, "\xEF\xBB\xBF" + std::string(outbox::export_csv_header(SheetKind::Edi)) + "\r\n");
}

// Issue 18 item 4, what support did: `--demandeur x.nobody` and a 13-digit `--partenaire` gave an
// empty table with exit 0; `--code-appli` of an API sheet found nothing without `--type API`;
// `--etat Activée` said "état inconnu"; there was no search by company name. docs/reference.md §7: exit 2 with the
// reason; the type from the code; codes or labels for --etat; --raison-sociale.
TEST_F(SearchCommandTest, SilentSearchesNowAnswerOrSayWhy) {
  const CommandRun nobody = search({"--demandeur", "x.nobody"});
  EXPECT_EQ(nobody.code, 2);
  EXPECT_EQ(nobody.out, "");
  EXPECT_THAT(nobody.err, HasSubstr("demandeur inconnu « x.nobody »"));
  for (const char* format : {"csv", "xml"}) {
    EXPECT_EQ(search({"--demandeur", "x.nobody", "--format", format}).code, 2) << format;
  }
  EXPECT_EQ(search({"--demandeur", "x.nobody", "--export"}).code, 2);
  EXPECT_FALSE(fs::exists(outbox() / "EXPORT_EDI_recherche_20261130T081500Z.csv"));

  for (const char* siret : {"1234567820001", "123456782000100", "1234567820001A", "12345678 200010"}) {
    const CommandRun r = search({"--demandeur", kSupport, "--partenaire", siret});
    EXPECT_EQ(r.code, 2) << siret;
    EXPECT_EQ(r.out, "") << siret;
    EXPECT_THAT(r.err, HasSubstr("SIRET malformé")) << siret;
    EXPECT_THAT(r.err, HasSubstr("14 chiffres")) << siret;
  }

  const CommandRun api = search({"--demandeur", kSupport, "--code-appli", "VFE003"});
  ASSERT_EQ(api.code, 0) << api.err;
  const auto api_lines = lines_of(api.out);
  ASSERT_EQ(api_lines.size(), 2U) << api.out;
  EXPECT_THAT(api_lines[0], StartsWith("Partenaire  "));
  EXPECT_NE(column_of(api_lines[0], "Code Appli partenaire"), std::string::npos);
  EXPECT_EQ(column_of(api_lines[0], "Protocole de raccordement"), std::string::npos) << "the API columns";
  EXPECT_EQ(column_of(api_lines[1], "VFE003"), column_of(api_lines[0], "Code Appli partenaire"));
  // --type given wins.
  EXPECT_EQ(lines_of(search({"--demandeur", kSupport, "--code-appli", "VFE003", "--type", "EDI"}).out).size(), 1U);

  for (const char* state : {"Envoyée", "envoyee", "ENVOYÉE", "ENVOYEE"}) {
    const CommandRun r = search({"--demandeur", kSupport, "--etat", state});
    EXPECT_EQ(r.code, 0) << state << r.err;
    EXPECT_EQ(lines_of(r.out).size(), 4U) << state << r.out;
  }
  const CommandRun activated = search({"--demandeur", kSupport, "--etat", "Activée"});
  EXPECT_EQ(activated.code, 0) << activated.err;
  EXPECT_EQ(lines_of(activated.out).size(), 1U);
  const CommandRun bad_state = search({"--demandeur", kSupport, "--etat", "Active"});
  EXPECT_EQ(bad_state.code, 2);
  EXPECT_THAT(bad_state.err, HasSubstr("état inconnu « Active »"));

  // The raison sociale is "ACME; \"Logistique\"\nÉté" (SetUp).
  for (const char* part : {"logistique", "ÉTÉ", "ete", "acme; \"log"}) {
    const CommandRun r = search({"--demandeur", kSupport, "--raison-sociale", part});
    EXPECT_EQ(r.code, 0) << part << r.err;
    EXPECT_EQ(lines_of(r.out).size(), 4U) << part << r.out;
  }
  EXPECT_EQ(lines_of(search({"--demandeur", kSupport, "--raison-sociale", "exemple"}).out).size(), 1U);
}

TEST_F(SearchCommandTest, CriteriaReachTheSearch) {
  auto codes = [this](std::vector<std::string> args) {
    args.insert(args.end(), {"--demandeur", kSupport});
    std::vector<std::string> out;
    const auto lines = lines_of(search(args).out);
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const auto at = lines[i].find("VFE");
      out.push_back(lines[i].substr(at, 6) + "/" + lines[i].substr(lines[i].find("FSO"), 8));
    }
    return out;
  };
  EXPECT_THAT(codes({"--protocole", "as2"}), ElementsAre("VFE002/FSO1100A"));
  EXPECT_THAT(codes({"--code-interface", "FSO1101A"}), ElementsAre("VFE001/FSO1101A"));
  EXPECT_THAT(codes({"--code-appli", "VFE002"}), ElementsAre("VFE002/FSO1100A"));
  EXPECT_THAT(codes({"--etat", "envoyee", "--partenaire", kAcme}),
              ElementsAre("VFE001/FSO1100A", "VFE001/FSO1101A", "VFE002/FSO1100A"));
  EXPECT_THAT(codes({"--etat", "ACTIVEE"}), ElementsAre());
  EXPECT_THAT(codes({"--partenaire", kNoSpace}), ElementsAre());
  // Submitted 2026-11-29T10:00:00Z = 29/11 in Paris: inclusive at both ends.
  EXPECT_THAT(codes({"--soumis-depuis", "2026-11-29", "--soumis-jusqua", "2026-11-29"}),
              ElementsAre("VFE001/FSO1100A", "VFE001/FSO1101A", "VFE002/FSO1100A"));
  EXPECT_THAT(codes({"--soumis-depuis", "2026-11-30"}), ElementsAre());
  EXPECT_THAT(codes({"--soumis-jusqua", "2026-11-28"}), ElementsAre());
}

TEST_F(SearchCommandTest, UsageErrorsExitTwo) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--demandeur", kSupport, "--soumis-depuis", "2026-02-30"},
                                             {"--demandeur", kSupport, "--soumis-jusqua", "30/11/2026"},
                                             {"--demandeur", kSupport, "--type", "FTP"},
                                             {"--demandeur", kSupport, "--format", "xlsx"},
                                             {"--demandeur", kSupport, "--etat", "ACTIVE"},
                                             {"--demandeur", kSupport, "--protocole", "FTP"},
                                             {"--demandeur", kSupport, "--partenaire", "1234567820001"},
                                             {"--partenaire", kAcme}}) {
    const CommandRun r = search(args);
    EXPECT_EQ(r.code, 2) << args.back();
    EXPECT_TRUE(r.out.empty());
  }
  // run_search_command itself refuses a bad date (options built without the parser).
  SearchCommandOptions o;
  o.requester = kSupport;
  o.submitted_from = "2026-13-01";
  std::ostringstream out, err;
  EXPECT_EQ(run_search_command(o, config_, instant(kNow), out, err), 2);
  EXPECT_THAT(err.str(), HasSubstr("date invalide « 2026-13-01 »"));
  EXPECT_TRUE(out.str().empty());
}

TEST_F(SearchCommandTest, CsvAndXmlOnStdoutAreTheExportBytes) {
  SearchCriteria all;
  const CommandRun csv = search({"--demandeur", kSubscriber, "--format", "csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(csv.out, expected_export(all, kSubscriber, ExportFormat::Csv));
  EXPECT_THAT(csv.out, HasSubstr("\r\n\"12345678200010 - ACME; \"\"Logistique\"\"\nÉté\";SFTP;VFE001;FSO1100A;"
                                 "01/12/2026;30/06/2099;Envoyée\r\n"));

  const CommandRun xml = search({"--demandeur", kSubscriber, "--format", "xml", "--reference", "req-9"});
  ASSERT_EQ(xml.code, 0) << xml.err;
  EXPECT_EQ(xml.out, expected_export(all, kSubscriber, ExportFormat::Xml, "req-9"));
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  const fs::path file = tmp_ / "stdout.xml";
  std::ofstream(file, std::ios::binary) << xml.out;
  const XmllintResult lint = xmllint_file(file, xsd_path("export.xsd"));
  EXPECT_TRUE(lint.ok()) << lint.log;
}

TEST_F(SearchCommandTest, ExportWritesTheOutboxFileAndPrintsItsPath) {
  const CommandRun r =
      search({"--demandeur", kSupport, "--export", "--reference", "support/n1", "--partenaire", kAcme});
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path expected = outbox() / "EXPORT_EDI_support_n1_20261130T081500Z.csv";
  EXPECT_EQ(r.out, expected.string() + "\n");
  SearchCriteria c;
  c.partner = kAcme;
  EXPECT_EQ(read_file(expected), expected_export(c, kSupport, ExportFormat::Csv));
  // Same instant again: a new name, never an overwrite.
  const CommandRun again =
      search({"--demandeur", kSupport, "--export", "--reference", "support/n1", "--format", "table"});
  EXPECT_EQ(again.out, (outbox() / "EXPORT_EDI_support_n1_20261130T081500Z_2.csv").string() + "\n");
  const CommandRun xml = search({"--demandeur", kSupport, "--export", "--format", "xml", "--type", "API"});
  const fs::path xml_file = outbox() / "EXPORT_API_recherche_20261130T081500Z.xml";
  EXPECT_EQ(xml.out, xml_file.string() + "\n");
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  const XmllintResult lint = xmllint_file(xml_file, xsd_path("export.xsd"));
  EXPECT_TRUE(lint.ok()) << lint.log;
}

TEST_F(SearchCommandTest, WithoutAStoreTheDemandeurIsUnknownAndNothingIsCreated) {
  Config empty = config_;
  empty.root = tmp_ / "nowhere";
  fs::create_directories(empty.root);
  SearchCommandOptions o;
  o.requester = kSupport;
  std::ostringstream out, err;
  EXPECT_EQ(run_search_command(o, empty, instant(kNow), out, err), 2) << err.str();
  EXPECT_EQ(out.str(), "");
  EXPECT_THAT(err.str(), HasSubstr("demandeur inconnu « support.n1 » : aucun store"));
  EXPECT_TRUE(fs::is_empty(empty.root));
}

// Through the real binary, once `search` is wired into engine/app/commands.cpp.
TEST_F(SearchCommandTest, Binary) {
  const fs::path ini = tmp_ / "raccord.ini";
  std::ofstream(ini) << "[engine]\ntimezone = Europe/Paris\n[paths]\nroot = " << root().string() << "\n";
  auto run = [&](const std::string& args) {
    return run_command(
        raccord_command_line(
            "search " + args + " --config " + shell_quote(ini.string()) + " --now 2026-11-30T08:15:00Z", tmp_),
        tmp_);
  };
  const CommandRun csv = run("--demandeur support.n1 --format csv");
  EXPECT_EQ(csv.code, 0);
  SearchCriteria all;
  EXPECT_EQ(csv.out, expected_export(all, kSupport, ExportFormat::Csv));
  const CommandRun unknown = run("--demandeur inconnu");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("demandeur inconnu « inconnu »"));
  EXPECT_EQ(run("--demandeur support.n1 --partenaire 1234567820001").code, 2);
  EXPECT_EQ(run("--demandeur support.n1 --etat Activée").code, 0);
  EXPECT_EQ(lines_of(run("--demandeur support.n1 --code-appli VFE003").out).size(), 2U);
  EXPECT_EQ(run("--demandeur support.n1 --soumis-depuis 2026-02-30").code, 2);
  const CommandRun exported = run("--demandeur support.n1 --export --reference bin");
  EXPECT_EQ(exported.code, 0);
  EXPECT_EQ(exported.out, (outbox() / "EXPORT_EDI_bin_20261130T081500Z.csv").string() + "\n");
  EXPECT_TRUE(fs::exists(outbox() / "EXPORT_EDI_bin_20261130T081500Z.csv"));
}

}  // namespace
}  // namespace raccord::testing
