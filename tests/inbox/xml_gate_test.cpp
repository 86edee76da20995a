// Tests of inbox/xml_gate.cpp: expat well-formedness gate (SPEC.md §3, §4; FIELD-CASES F13–F16).
#include "inbox/xml_gate.hpp"

#include <gtest/gtest.h>

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

TEST(CheckWellFormed, DepthIsCapped) {
  std::string deep;
  for (int i = 0; i < 65; ++i) deep += "<a>";
  for (int i = 0; i < 65; ++i) deep += "</a>";
  const auto d = check_well_formed(deep);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->code, ErrorCode::SchemaInvalide);
  std::string ok;
  for (int i = 0; i < 64; ++i) ok += "<a>";
  for (int i = 0; i < 64; ++i) ok += "</a>";
  EXPECT_FALSE(check_well_formed(ok));
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

}  // namespace
}  // namespace raccord::inbox
