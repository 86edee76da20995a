#include "engine/domain/civil_date.hpp"

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

}  // namespace
}  // namespace raccord
