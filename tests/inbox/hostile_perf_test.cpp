// Hostile tests of the issue 7 changes in inbox/ (to be merged by the integrator into
// tests/inbox/xml_gate_test.cpp, transcoder_test.cpp, deposit_reader_test.cpp and
// inbox_directory_test.cpp): expat fed 256 KiB at a time (errors, a DOCTYPE, a too deep element
// and a multi-byte character right at a 262,144-byte boundary), the bytes taken by value (a BOM
// still dropped, lines and columns unchanged), read_all of a file that grows after the claim.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "inbox/deposit_reader.hpp"
#include "inbox/inbox_directory.hpp"
#include "inbox/transcoder.hpp"
#include "inbox/xml_gate.hpp"

namespace raccord::inbox {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kChunk = std::size_t{1} << 18;  // expat's feed in check_well_formed
/// `text` preceded by a UTF-8 BOM.
std::string with_bom(const std::string& text) {
  std::string out("\xEF\xBB\xBF");
  out.append(text);
  return out;
}

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
TEST(HostileXmlGate, ErrorAroundTheChunkBoundaryKeepsItsLineAndColumn) {
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
TEST(HostileXmlGate, MultiByteCharacterAcrossTheBoundaryAndDocumentOfExactlyOneChunk) {
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
TEST(HostileXmlGate, DoctypeAcrossTheBoundaryIsRefused) {
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
TEST(HostileXmlGate, TooDeepElementAcrossTheBoundary) {
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

// The bytes are taken by value: a BOM is still dropped (short strings too, kept in place by the
// small-string buffer) and line and column numbers are those of the file.
TEST(HostileTranscoder, BomDroppedFromShortAndLongTexts) {
  std::vector<std::string> bodies{"", "<a/>", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r/>"};
  bodies.emplace_back(100, 'x');
  for (const std::string& body : bodies) {
    TranscodeResult r = transcode_to_utf8(with_bom(body));
    ASSERT_FALSE(r.error.has_value()) << body;
    EXPECT_EQ(r.utf8, body);
    TranscodeResult plain = transcode_to_utf8(body);
    EXPECT_EQ(plain.utf8, body);
  }
  // Invalid UTF-8 after a BOM: the position is counted without the BOM.
  TranscodeResult bad = transcode_to_utf8(with_bom("<r>\nab\xFF</r>"));
  ASSERT_TRUE(bad.error.has_value());
  EXPECT_EQ(bad.error->line, 2);
}

TEST(HostileDepositReader, BomKeepsLinesAndColumnsOfXmlErrors) {
  const std::string doc =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Depot xmlns=\"urn:raccord:depot:1\">\n  <a x=\"1\" "
      "x=\"2\"/>\n</Depot>\n";
  const DepositReadResult plain = read_deposit(doc, 1 << 20);
  const DepositReadResult bom = read_deposit(with_bom(doc), 1 << 20);
  ASSERT_EQ(plain.errors.size(), 1u);
  ASSERT_EQ(bom.errors.size(), 1u);
  EXPECT_EQ(bom.errors[0].code, ErrorCode::XmlMalforme);
  EXPECT_EQ(bom.errors[0].line, 3);
  EXPECT_EQ(bom.errors[0].line, plain.errors[0].line);
  EXPECT_EQ(bom.errors[0].column, plain.errors[0].column);
  EXPECT_EQ(bom.errors[0].message, plain.errors[0].message);
}

// A file that grows after its claim (a writer still appending) is read whole, past the size
// measured at the claim and past the 64 KiB buffer of the growth loop.
TEST(HostileInboxDirectory, ReadAllReadsAFileThatGrewAfterTheClaim) {
  char templ[] = "/tmp/raccord_hostile7_inbox_XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  const fs::path root = templ;
  InboxDirectory dirs(root);
  dirs.ensure_layout();
  const std::string first(100000, 'a');
  std::ofstream(dirs.inbox_dir() / "grow.xml", std::ios::binary) << first;
  auto claimed = dirs.claim("grow.xml");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->size(), first.size());
  std::string more;
  for (int i = 0; i < 200000; ++i) more += static_cast<char>('0' + i % 10);
  std::ofstream(dirs.work_dir() / "grow.xml", std::ios::binary | std::ios::app) << more;
  EXPECT_EQ(claimed->read_all(), first + more);
  // Shrunk after the claim: what is there.
  fs::resize_file(dirs.work_dir() / "grow.xml", 10);
  EXPECT_EQ(claimed->read_all(), std::string(10, 'a'));
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace raccord::inbox
