// Tests of inbox/xml_gate.cpp: expat well-formedness gate (docs/reference.md §3, §4; docs/field-cases.md F13–F16).
#include "inbox/xml_gate.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>

namespace raccord::inbox {
namespace {

TEST(CheckWellFormed, AcceptsAWellFormedDocumentWhateverItsDeclaredEncoding) {
  EXPECT_FALSE(check_well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a xmlns=\"urn:x\"><b/></a>"));
  // The text was transcoded before: the declaration's encoding is not obeyed (é is UTF-8 here).
  EXPECT_FALSE(check_well_formed("<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>é</a>"));
}

TEST(CheckWellFormed, MalformedGivesLineAndColumn) {
  const auto d = check_well_formed("<a>\n  <b></c>\n</a>");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->code, ErrorCode::XmlMalforme);
  EXPECT_EQ(d->line, 2);
  EXPECT_EQ(d->column, 8);
  EXPECT_NE(d->message.find("ligne 2, colonne 8"), std::string::npos);
}

TEST(CheckWellFormed, ColumnsCountCharactersNotBytes) {
  const auto d = check_well_formed("<a>\xC3\xA9\xE2\x82\xAC\x0B</a>");  // "<a>é€" then a vertical tab
  ASSERT_TRUE(d);
  EXPECT_EQ(d->line, 1);
  EXPECT_EQ(d->column, 6);
}

TEST(CheckWellFormed, DoctypeIsRefusedBeforeTheInternalSubset) {
  const auto d = check_well_formed("<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x \"y\">]>\n<a>&x;</a>");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->code, ErrorCode::DtdInterdite);
  EXPECT_EQ(d->line, 2);
}

// The hard safety limit (10 000 levels): deeper is refused, up to it is read (an operation's
// schema error then, inbox/deposit_reader.hpp).
TEST(CheckWellFormed, DepthIsCapped) {
  ASSERT_EQ(kMaxElementDepth, 10000);
  std::string deep;
  for (int i = 0; i < kMaxElementDepth + 1; ++i) deep += "<a>";
  for (int i = 0; i < kMaxElementDepth + 1; ++i) deep += "</a>";
  const auto d = check_well_formed(deep);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->code, ErrorCode::SchemaInvalide);
  EXPECT_NE(d->message.find("10000 niveaux"), std::string::npos) << d->message;
  std::string ok;
  for (int i = 0; i < kMaxElementDepth; ++i) ok += "<a>";
  for (int i = 0; i < kMaxElementDepth; ++i) ok += "</a>";
  EXPECT_FALSE(check_well_formed(ok));
  std::string seventy = "<r>";  // the 70 levels inside an operation: read
  for (int i = 0; i < 70; ++i) seventy += "<a>";
  for (int i = 0; i < 70; ++i) seventy += "</a>";
  EXPECT_FALSE(check_well_formed(seventy + "</r>"));
}

TEST(CheckWellFormed, NoRootUnboundPrefixNulAndControlCharacters) {
  for (const std::string& doc : {std::string(""), std::string(" \r\n"), std::string("<!-- c -->"),
                                 std::string("<p:a/>"), std::string("<a>x\0y</a>", 10), std::string("<a>\x0B</a>"),
                                 std::string("<a>&#x1A;</a>"), std::string("<a>&#0;</a>"), std::string("<a/><b/>")}) {
    const auto d = check_well_formed(doc);
    ASSERT_TRUE(d) << doc;
    EXPECT_EQ(d->code, ErrorCode::XmlMalforme) << doc;
    EXPECT_GE(d->line, 1);
    EXPECT_GE(d->column, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Issue 7 (hostile tests): expat is fed 256 KiB at a time; an error, a DOCTYPE, a too deep element
// and a multi-byte character right at a 262,144-byte boundary are found as anywhere else, with the
// same line and column.

constexpr std::size_t kChunk = std::size_t{1} << 18;  // expat's feed in check_well_formed
/// "<?xml ...?>\n<r>\n" then a comment padding the text so that `tail` starts at byte `at`.
/// The padding is made of lines of 63 'x' (+ '\n'), the last one shorter.
std::string placed_at(std::size_t at, const std::string& tail,
                      const std::string& head = "<?xml version=\"1.0\"?>\n<r>\n") {
  std::string doc = head;
  doc.append("<!--\n");
  while (doc.size() + 64 + 4 <= at) doc.append(63, 'x').push_back('\n');
  doc.append(at - 4 - doc.size(), 'y').append("-->\n");
  EXPECT_EQ(doc.size(), at);
  doc.append(tail);
  return doc;
}

int line_at(const std::string& doc, std::size_t offset) {
  int line = 1;
  for (std::size_t i = 0; i < offset; ++i) line += doc[i] == '\n';
  return line;
}
int column_at(const std::string& doc, std::size_t offset) {  // ASCII lines only
  const std::size_t start = doc.rfind('\n', offset - 1);
  return static_cast<int>(offset - (start == std::string::npos ? 0 : start + 1)) + 1;
}

// A forbidden control character at each byte around the boundary: the line and column of the byte.
TEST(CheckWellFormed, ErrorAroundTheChunkBoundaryKeepsItsLineAndColumn) {
  for (std::size_t at : {kChunk - 2, kChunk - 1, kChunk, kChunk + 1, 2 * kChunk - 1, 2 * kChunk}) {
    SCOPED_TRACE(at);
    // The error byte lands at offset `at`: "<a>" ends the padding line.
    std::string doc = placed_at(at - 6, "<a>ok\x01</a>\n</r>\n");
    const std::size_t bad = doc.find('\x01');
    ASSERT_EQ(bad, at - 1);
    const auto verdict = check_well_formed(doc);
    ASSERT_TRUE(verdict.has_value());
    EXPECT_EQ(verdict->code, ErrorCode::XmlMalforme);
    EXPECT_EQ(verdict->line, line_at(doc, bad));
    EXPECT_EQ(verdict->column, column_at(doc, bad));
  }
}

// A two-byte character split by the boundary is one character; an unclosed tag at the very end of
// a document exactly one chunk long is reported as such.
TEST(CheckWellFormed, MultiByteCharacterAcrossTheBoundaryAndDocumentOfExactlyOneChunk) {
  for (std::size_t at : {kChunk - 1, kChunk, kChunk - 2}) {
    SCOPED_TRACE(at);
    std::string doc = placed_at(at - 3, "<a>\xC3\xA9</a>\n</r>\n");
    ASSERT_EQ(doc.substr(at, 2), "\xC3\xA9");
    EXPECT_FALSE(check_well_formed(doc).has_value()) << check_well_formed(doc)->message;
  }
  std::string exact = placed_at(kChunk - 7, "</r>\n<b");
  ASSERT_EQ(exact.size(), kChunk);
  const auto verdict = check_well_formed(exact);
  ASSERT_TRUE(verdict.has_value());
  EXPECT_EQ(verdict->code, ErrorCode::XmlMalforme);
  EXPECT_EQ(verdict->line, line_at(exact, exact.size() - 2));
}

// A DOCTYPE straddling the boundary is refused (DTD_INTERDITE, its line), as anywhere else.
TEST(CheckWellFormed, DoctypeAcrossTheBoundaryIsRefused) {
  for (std::size_t at : {kChunk - 5, kChunk - 1, kChunk, kChunk + 3}) {
    SCOPED_TRACE(at);
    std::string doc = placed_at(at, "<!DOCTYPE r [<!ENTITY e \"x\">]>\n<r>&e;</r>\n", "<?xml version=\"1.0\"?>\n");
    const auto verdict = check_well_formed(doc);
    ASSERT_TRUE(verdict.has_value());
    EXPECT_EQ(verdict->code, ErrorCode::DtdInterdite) << verdict->message;
    EXPECT_EQ(verdict->line, line_at(doc, at));
  }
}

// The element one level too deep, its start tag across the boundary: SCHEMA_INVALIDE on its line.
TEST(CheckWellFormed, TooDeepElementAcrossTheBoundary) {
  std::string opens;
  for (int i = 1; i < kMaxElementDepth; ++i) opens += "<e>";  // the root <r> is level 1
  for (std::size_t at : {kChunk - 2, kChunk, kChunk + 1}) {
    SCOPED_TRACE(at);
    // "<r>\n" then the comment, then the opens on one line; the (max+1)th start tag at `at`.
    std::string doc = placed_at(at - opens.size(), opens + "<z>t</z>\n");
    const auto verdict = check_well_formed(doc);
    ASSERT_TRUE(verdict.has_value());
    EXPECT_EQ(verdict->code, ErrorCode::SchemaInvalide) << verdict->message;
    EXPECT_EQ(verdict->line, line_at(doc, at));
  }
}

// A token longer than a chunk (an attribute of several chunks) makes the next chunks grow (expat scans
// a pending token again at every chunk); whatever the token's length and where it ends against the
// growing chunks, the verdict is the same, and an error just after it keeps its line and column, as
// does an error after the chunks shrank back behind it.
TEST(CheckWellFormed, LongTokenAcrossGrowingChunksKeepsVerdictsAndPositions) {
  for (std::size_t length : {kChunk - 40, kChunk + 1, 3 * kChunk, 3 * kChunk + 7, 7 * kChunk - 3, 15 * kChunk}) {
    SCOPED_TRACE(length);
    const std::string head = "<r>\n<u login=\"";
    const std::string good = head + std::string(length, 'a') + "\" email=\"u@a.fr\"/>\n</r>\n";
    EXPECT_FALSE(check_well_formed(good).has_value());
    for (const std::string& tail :
         {std::string("\" e=\"x\x01\"/>\n</r>\n"), "\"/>\n" + std::string(3 * kChunk, ' ') + "<b>\x01</b>\n</r>\n"}) {
      std::string bad = head + std::string(length, 'a');
      bad += tail;
      const std::size_t at = bad.find('\x01');
      const auto verdict = check_well_formed(bad);
      ASSERT_TRUE(verdict.has_value());
      EXPECT_EQ(verdict->code, ErrorCode::XmlMalforme);
      EXPECT_EQ(verdict->line, line_at(bad, at));
      EXPECT_EQ(verdict->column, column_at(bad, at));
    }
  }
}

// Issue 18: a file that ends inside the XML (an upload cut short) is said to be truncated, with the
// line and column of its end, for every place a file can be cut.
TEST(CheckWellFormed, FileEndingInsideTheDocumentIsSaidTruncatedAtItsEnd) {
  const std::string head = "<?xml version=\"1.0\"?>\n<Depot xmlns=\"urn:x\">\n  ";
  struct Cut {
    std::string tail;  // what follows `head` up to the cut
    int column;        // of the end, on line 3
  };
  for (const Cut& cut :
       {Cut{"<Op", 6}, Cut{"<Op code=\"A", 14}, Cut{"<Op>texte é", 14}, Cut{"<!-- note", 12}, Cut{"<Op><![CDATA[x", 17},
        Cut{"<Op/>", 8}, Cut{"<Op/></Dep", 13}, Cut{"", 3}, Cut{"<Op>\xC3", 8}}) {
    const auto d = check_well_formed(head + cut.tail);
    ASSERT_TRUE(d) << cut.tail;
    EXPECT_EQ(d->code, ErrorCode::XmlMalforme) << cut.tail;
    const std::string expected =
        "le fichier semble tronqué : fin inattendue ligne 3, colonne " + std::to_string(cut.column);
    EXPECT_NE(d->message.find(expected), std::string::npos) << cut.tail << " : " << d->message;
    EXPECT_EQ(d->line, 3) << cut.tail;
    EXPECT_EQ(d->column, cut.column) << cut.tail;
  }
  // Cut inside the root's start tag, on its first line.
  const auto root = check_well_formed("<Depot xmlns=\"urn");
  ASSERT_TRUE(root);
  EXPECT_NE(root->message.find("fin inattendue ligne 1, colonne 18"), std::string::npos) << root->message;
}

TEST(CheckWellFormed, EmptyOrBadlyClosedDocumentsAreNotSaidTruncated) {
  for (const std::string& doc :
       {std::string("  \n"), std::string("<!-- seul -->"), std::string("<a></b>"), std::string("<a/><b/>")}) {
    const auto d = check_well_formed(doc);
    ASSERT_TRUE(d) << doc;
    EXPECT_EQ(d->message.find("tronqué"), std::string::npos) << doc << " : " << d->message;
  }
}

}  // namespace
}  // namespace raccord::inbox
