// Tests of inbox/transcoder.cpp: encoding detection, iconv transcoding, line index (docs/reference.md §3,
// docs/toolchain.md #7, docs/field-cases.md F11).
#include "inbox/transcoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace raccord::inbox {
namespace {

TEST(ParseEncodingName, AcceptsTheThreeEncodingsAndAliasesCaseInsensitively) {
  EXPECT_EQ(parse_encoding_name("UTF-8"), SourceEncoding::Utf8);
  EXPECT_EQ(parse_encoding_name("utf-8"), SourceEncoding::Utf8);
  EXPECT_EQ(parse_encoding_name("iso-8859-1"), SourceEncoding::Latin1);
  EXPECT_EQ(parse_encoding_name("Latin1"), SourceEncoding::Latin1);
  EXPECT_EQ(parse_encoding_name("Windows-1252"), SourceEncoding::Windows1252);
  EXPECT_EQ(parse_encoding_name("CP1252"), SourceEncoding::Windows1252);
  EXPECT_FALSE(parse_encoding_name("UTF-16"));
  EXPECT_FALSE(parse_encoding_name("ISO-8859-15"));
  EXPECT_FALSE(parse_encoding_name(""));
}

TEST(DeclaredEncoding, ReadsTheDeclarationAfterAnOptionalBom) {
  EXPECT_EQ(declared_encoding("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"), "ISO-8859-1");
  EXPECT_EQ(declared_encoding("\xEF\xBB\xBF<?xml version='1.0' encoding = 'utf-8' ?><a/>"), "utf-8");
  EXPECT_FALSE(declared_encoding("<?xml version=\"1.0\"?><a encoding=\"x\"/>"));
  EXPECT_FALSE(declared_encoding("<a/>"));
  EXPECT_FALSE(declared_encoding(""));
}

TEST(TranscodeToUtf8, Utf8PassesThroughAndTheBomIsDropped) {  // F11
  const auto plain = transcode_to_utf8("<a>Société</a>");
  ASSERT_FALSE(plain.error);
  EXPECT_EQ(plain.utf8, "<a>Société</a>");
  const auto bom = transcode_to_utf8("\xEF\xBB\xBF<a>Société</a>");
  ASSERT_FALSE(bom.error);
  EXPECT_EQ(bom.utf8, "<a>Société</a>");
}

/// `text` preceded by a UTF-8 BOM.
std::string with_bom(const std::string& text) {
  std::string out("\xEF\xBB\xBF");
  out.append(text);
  return out;
}

// Issue 7 (hostile test): the bytes are taken by value; a BOM is still dropped (short strings too, kept in place by the
// small-string buffer) and line and column numbers are those of the file.
TEST(TranscodeToUtf8, BomDroppedFromShortAndLongTexts) {
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

TEST(TranscodeToUtf8, Latin1AndWindows1252AreConverted) {
  const auto latin1 = transcode_to_utf8("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<a>Soci\xE9t\xE9</a>");
  ASSERT_FALSE(latin1.error);
  EXPECT_EQ(latin1.utf8, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<a>Société</a>");
  const auto cp1252 = transcode_to_utf8("<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x80 \x9C</a>");
  ASSERT_FALSE(cp1252.error);
  EXPECT_EQ(cp1252.utf8, "<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>€ œ</a>");
}

TEST(TranscodeToUtf8, Windows1252UndefinedBytesAreRefusedWithLineAndColumn) {
  for (const char bad : {'\x81', '\x8D', '\x8F', '\x90', '\x9D'}) {
    const std::string doc = std::string("<?xml version=\"1.0\" encoding=\"cp1252\"?>\n<a>\n  x") + bad + "</a>";
    const auto r = transcode_to_utf8(doc);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, ErrorCode::EncodageInvalide);
    EXPECT_EQ(r.error->line, 3);
    EXPECT_EQ(r.error->column, 4);
  }
}

TEST(TranscodeToUtf8, InvalidUtf8IsRefusedWithLineAndColumnInCharacters) {
  const auto r = transcode_to_utf8("<a>\n<b>é\xE9t\xE9</b></a>");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::EncodageInvalide);
  EXPECT_EQ(r.error->line, 2);
  EXPECT_EQ(r.error->column, 5);  // '<' 'b' '>' 'é' then the bad byte
  EXPECT_NE(r.error->message.find("0xE9"), std::string::npos);
}

TEST(TranscodeToUtf8, OverlongSurrogateAndOutOfRangeSequencesAreRefused) {
  for (const std::string_view bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF"}) {
    EXPECT_TRUE(transcode_to_utf8("<a>" + std::string(bad) + "</a>").error) << bad.size();
  }
  EXPECT_FALSE(transcode_to_utf8("<a>\xF0\x9F\x98\x80 \xE2\x82\xAC</a>").error);
}

TEST(TranscodeToUtf8, OtherDeclaredEncodingsAndBomMismatchAreRefused) {
  const auto utf16 = transcode_to_utf8("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>");
  ASSERT_TRUE(utf16.error);
  EXPECT_EQ(utf16.error->code, ErrorCode::EncodageInvalide);
  EXPECT_EQ(utf16.error->line, 1);
  EXPECT_NE(utf16.error->message.find("UTF-16"), std::string::npos);
  const auto mismatch = transcode_to_utf8("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>");
  ASSERT_TRUE(mismatch.error);
  EXPECT_EQ(mismatch.error->code, ErrorCode::EncodageInvalide);
}

TEST(LineIndex, CountsLfCrLfAndCrAsXmlDoes) {
  const LineIndex index("a\nb\r\nc\rd");
  EXPECT_EQ(index.line_count(), 4);
  EXPECT_EQ(index.line_of(0), 1);
  EXPECT_EQ(index.line_of(1), 1);  // the LF itself ends line 1
  EXPECT_EQ(index.line_of(2), 2);
  EXPECT_EQ(index.line_of(5), 3);
  EXPECT_EQ(index.line_of(7), 4);
  EXPECT_EQ(index.line_of(100), 4);
  EXPECT_EQ(LineIndex("").line_count(), 1);
}

}  // namespace
}  // namespace raccord::inbox
