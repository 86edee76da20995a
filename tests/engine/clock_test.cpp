#include "engine/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace raccord {
namespace {

using namespace std::chrono;

Instant at(const char* iso) {
  const auto i = parse_iso_instant(iso);
  EXPECT_TRUE(i.has_value()) << iso;
  return i.value_or(Instant{});
}

CivilDate day(int y, unsigned m, unsigned d) {
  return CivilDate{year{y}, month{m}, std::chrono::day{d}};
}

TEST(BusinessClock, FixedInstantIsReturnedAsIs) {
  const BusinessClock clock{at("2026-11-29T22:10:04Z")};
  EXPECT_TRUE(clock.is_fixed());
  EXPECT_EQ(format_iso_instant(clock.now()), "2026-11-29T22:10:04Z");
  EXPECT_EQ(clock.now(), clock.now());
}

TEST(BusinessClock, FixedInstantMayBeInThePast) {
  const BusinessClock clock{at("2001-01-01T00:00:00Z")};
  EXPECT_EQ(format_iso_instant(clock.now()), "2001-01-01T00:00:00Z");
}

TEST(BusinessClock, UnfixedFollowsTheSystemClockInWholeSeconds) {
  const BusinessClock clock;
  EXPECT_FALSE(clock.is_fixed());
  const auto before = floor<seconds>(system_clock::now());
  const Instant now = clock.now();
  const auto after = system_clock::now();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

TEST(CivilZone, DateAroundMidnightInParisWinter) {
  const CivilZone paris("Europe/Paris");
  EXPECT_EQ(paris.name(), "Europe/Paris");
  EXPECT_EQ(paris.date_of(at("2026-11-29T23:30:00Z")), day(2026, 11, 30));
  EXPECT_EQ(paris.date_of(at("2026-11-29T23:00:00Z")), day(2026, 11, 30));
  EXPECT_EQ(paris.date_of(at("2026-11-29T22:59:59Z")), day(2026, 11, 29));
  EXPECT_EQ(paris.date_of(at("2026-11-29T00:30:00Z")), day(2026, 11, 29));
}

TEST(CivilZone, DateAroundMidnightInParisSummer) {
  const CivilZone paris("Europe/Paris");
  EXPECT_EQ(paris.date_of(at("2026-06-30T22:00:00Z")), day(2026, 7, 1));
  EXPECT_EQ(paris.date_of(at("2026-06-30T21:59:59Z")), day(2026, 6, 30));
  // New Year's Eve crosses a year.
  EXPECT_EQ(paris.date_of(at("2026-12-31T23:00:00Z")), day(2027, 1, 1));
}

TEST(CivilZone, UtcDatesAreTheInstantsDates) {
  const CivilZone utc("UTC");
  EXPECT_EQ(utc.date_of(at("2026-11-29T23:30:00Z")), day(2026, 11, 29));
  EXPECT_EQ(utc.date_of(at("2026-11-30T00:00:00Z")), day(2026, 11, 30));
}

TEST(CivilZone, FormatsLocalTimeForHumans) {
  const CivilZone paris("Europe/Paris");
  EXPECT_EQ(paris.format_local(at("2026-11-29T23:30:05Z")), "30/11/2026 00:30:05");
  EXPECT_EQ(paris.format_local(at("2026-07-01T08:04:09Z")), "01/07/2026 10:04:09");
}

TEST(CivilZone, OrdinaryDays) {
  const CivilZone paris("Europe/Paris");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2026, 1, 15), 2, 0)), "2026-01-15T01:00:00Z");  // CET
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2026, 7, 15), 2, 0)), "2026-07-15T00:00:00Z");  // CEST
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2026, 12, 1), 2, 0)), "2026-12-01T01:00:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2026, 12, 1), 0, 0)), "2026-11-30T23:00:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2026, 12, 1), 23, 59)), "2026-12-01T22:59:00Z");
}

// docs/field-cases.md F34, docs/reference.md §6: a wall time in the spring gap runs at the first instant after the gap.
TEST(CivilZone, SpringForwardGapGivesTheFirstInstantAfterIt) {
  const CivilZone paris("Europe/Paris");
  // 2025-03-30: 02:00 CET → 03:00 CEST (01:00Z).
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 3, 30), 2, 30)), "2025-03-30T01:00:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 3, 30), 2, 0)), "2025-03-30T01:00:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 3, 30), 2, 59)), "2025-03-30T01:00:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 3, 30), 3, 0)), "2025-03-30T01:00:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 3, 30), 1, 59)), "2025-03-30T00:59:00Z");
  EXPECT_EQ(paris.date_of(paris.instant_of(day(2025, 3, 30), 2, 30)), day(2025, 3, 30));
  // The days around it.
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 3, 29), 2, 30)), "2025-03-29T01:30:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 3, 31), 2, 30)), "2025-03-31T00:30:00Z");
}

// docs/field-cases.md F34, docs/reference.md §6: a wall time that happens twice runs at the first of the two.
TEST(CivilZone, AutumnBackAmbiguityGivesTheFirstOfTheTwo) {
  const CivilZone paris("Europe/Paris");
  // 2025-10-26: 03:00 CEST → 02:00 CET; 02:30 happens at 00:30Z (CEST) and 01:30Z (CET).
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 10, 26), 2, 30)), "2025-10-26T00:30:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 10, 26), 2, 0)), "2025-10-26T00:00:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 10, 26), 3, 0)), "2025-10-26T02:00:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 10, 25), 2, 30)), "2025-10-25T00:30:00Z");
  EXPECT_EQ(format_iso_instant(paris.instant_of(day(2025, 10, 27), 2, 30)), "2025-10-27T01:30:00Z");
}

TEST(CivilZone, UnknownZoneThrowsWithItsName) {
  try {
    const CivilZone zone("Europe/Atlantis");
    FAIL() << "an unknown zone must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("Europe/Atlantis"), std::string::npos) << e.what();
  }
  EXPECT_THROW(CivilZone(""), std::runtime_error);
}

// The business instant of --now / RACCORD_NOW: in the years 1970-9999 in UTC and as a civil date
// of engine.timezone (the date that names archive/YYYY/MM/DD and the nightly run's today).
TEST(BusinessInstant, IsInTheRangeInUtcAndInTheZone) {
  const CivilZone paris("Europe/Paris");
  const CivilZone new_york("America/New_York");
  const CivilZone utc("UTC");
  EXPECT_EQ(parse_business_instant("2026-11-29T23:10:04+01:00", paris), at("2026-11-29T22:10:04Z"));
  EXPECT_EQ(parse_business_instant("9999-12-31T22:59:59Z", paris), at("9999-12-31T22:59:59Z"));
  EXPECT_EQ(parse_business_instant("9999-12-31T23:59:59Z", utc), at("9999-12-31T23:59:59Z"));
  EXPECT_EQ(parse_business_instant("1970-01-01T05:00:00Z", new_york), at("1970-01-01T05:00:00Z"));
  // Year 10000 in UTC once the offset is applied, whatever the zone.
  for (const CivilZone* zone : {&paris, &new_york, &utc}) {
    EXPECT_FALSE(parse_business_instant("9999-12-31T23:59:59-01:00", *zone)) << zone->name();
    EXPECT_FALSE(parse_business_instant("1969-12-31T23:59:59Z", *zone)) << zone->name();
    EXPECT_FALSE(parse_business_instant("0026-11-30T10:00:00Z", *zone)) << zone->name();
    EXPECT_FALSE(parse_business_instant("not an instant", *zone)) << zone->name();
  }
  // In range in UTC, but already 10000-01-01 in Paris, still 1969-12-31 in New York.
  EXPECT_FALSE(parse_business_instant("9999-12-31T23:30:00Z", paris));
  EXPECT_FALSE(parse_business_instant("1970-01-01T03:00:00Z", new_york));
}

}  // namespace
}  // namespace raccord
