#include "domain/civil_date.hpp"

#include <gtest/gtest.h>

namespace raccord {
namespace {

using namespace std::chrono;

TEST(CivilDate, ParsesIsoDates) {
  auto d = parse_iso_date("2026-02-28");
  ASSERT_TRUE(d);
  EXPECT_EQ(format_french_date(*d), "28/02/2026");
  EXPECT_FALSE(parse_iso_date("2026-02-30"));
  EXPECT_FALSE(parse_iso_date("2026-2-03"));
  EXPECT_FALSE(parse_iso_date(" 2026-02-03"));
  EXPECT_FALSE(parse_iso_date("2026-02-03x"));
}

TEST(CivilDate, ParsesInstantsWithOffsets) {
  auto a = parse_iso_instant("2026-11-29T22:10:04Z");
  auto b = parse_iso_instant("2026-11-29T23:10:04+01:00");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(format_iso_instant(*a), "2026-11-29T22:10:04Z");
  EXPECT_EQ(format_compact_instant(*a), "20261129T221004Z");
  EXPECT_EQ(*parse_iso_instant("2026-11-29"), sys_days{2026y / November / 29});
  EXPECT_FALSE(parse_iso_instant("2026-11-29T25:00:00Z"));
  EXPECT_FALSE(parse_iso_instant("yesterday"));
}

// Issue "defects found in operation" 10: business dates and instants are those of the years
// 1970 to 9999, in UTC once the offset is applied, so that every name and folder written from them
// (YYYYMMDDTHHMMSSZ, archive/YYYY/MM/DD) has four digits and reads back as the same instant.
TEST(CivilDate, DatesOutsideTheYears1970To9999AreRefused) {
  EXPECT_TRUE(parse_iso_date("1970-01-01"));
  EXPECT_TRUE(parse_iso_date("9999-12-31"));
  for (const char* text : {"1969-12-31", "0026-11-30", "0000-01-01", "10000-01-01", "+2026-11-30", "-2026-11-30"}) {
    EXPECT_FALSE(parse_iso_date(text)) << text;
  }
  EXPECT_TRUE(is_business_date(1970y / January / 1));
  EXPECT_TRUE(is_business_date(9999y / December / 31));
  EXPECT_FALSE(is_business_date(1969y / December / 31));
  EXPECT_FALSE(is_business_date(year{10000} / January / 1));
  EXPECT_FALSE(is_business_date(2026y / February / 30));
}

TEST(CivilDate, InstantsAreInTheRangeOnceTheirOffsetIsApplied) {
  EXPECT_EQ(format_iso_instant(*parse_iso_instant("9999-12-31T23:59:59Z")), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_compact_instant(*parse_iso_instant("9999-12-31T23:59:59+01:00")), "99991231T225959Z");
  EXPECT_EQ(format_iso_instant(*parse_iso_instant("1970-01-01T00:30:00-00:30")), "1970-01-01T01:00:00Z");
  EXPECT_EQ(*parse_iso_instant("1970-01-01"), sys_days{1970y / January / 1});
  for (const char* text :
       {"9999-12-31T23:59:59-01:00",  // 10000-01-01T00:59:59Z: was written ACK_…_100000101T005959Z.xml
        "9999-12-31T23:30:00-00:30", "9999-12-31T23:59:60Z", "9999-12-31T23:59:60.5Z", "1970-01-01T00:30:00+01:00",
        "1969-12-31T23:59:59Z", "1969-12-31T23:00:00-01:00", "0026-11-30T10:00:00Z", "0000-01-01", "1969-12-31",
        "10000-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_iso_instant(text)) << text;
  }
  EXPECT_TRUE(is_business_instant(sys_days{1970y / January / 1}));
  EXPECT_FALSE(is_business_instant(sys_days{1970y / January / 1} - seconds{1}));
  EXPECT_TRUE(is_business_instant(sys_days{year{10000} / January / 1} - seconds{1}));
  EXPECT_FALSE(is_business_instant(sys_days{year{10000} / January / 1}));
}

}  // namespace
}  // namespace raccord
