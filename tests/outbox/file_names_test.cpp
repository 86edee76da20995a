// Tests of outbox/file_names.cpp (docs/reference.md §5.1-§5.3; issue 5, docs/design.md "Retention"): which
// outbox names are of a kind and the dates they carry, including names whose instant is outside the
// business range (issue "defects found in operation" 10), which carry none.
#include "outbox/file_names.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/dates.hpp"

namespace raccord::outbox {
namespace {

using raccord::testing::civil_date;

/// The civil date in Europe/Paris in winter (UTC+1): every instant below is a winter one. (The zone
/// itself is the engine's: engine/clock.hpp, tested there and through housekeeping.)
CivilDate paris_date(Instant i) {
  return CivilDate{std::chrono::floor<std::chrono::days>(i + std::chrono::hours(1))};
}

TEST(FileNamesTest, KindsAndDatesOfOutboxNames) {
  EXPECT_EQ(file_kind("ACK_lot_20261129T100000Z.xml"), FileKind::Accuse);
  EXPECT_EQ(file_kind("ACK_lot_20261129T100000Z_2.xml"), FileKind::Accuse);
  EXPECT_EQ(file_kind("EXPORT_EDI_R1_20261129T100000Z.csv"), FileKind::Export);
  EXPECT_EQ(file_kind("EXPORT_API_R1_20261129T100000Z_3.xml"), FileKind::Export);
  EXPECT_EQ(file_kind("NIGHTLY_2026-11-29.html"), FileKind::Report);
  for (const char* other :
       {"metrics.prom", "ACK_lot.txt", "EXPORT_XYZ_R_20261129T100000Z.csv", "NIGHTLY_2026-11-29.pdf",
        ".ACK_lot_20261129T100000Z.xml.host.12.tmp", "notes.xml", "ack_lot_20261129T100000Z.xml"}) {
    EXPECT_FALSE(file_kind(other)) << other;
  }
  // ACK/EXPORT: the UTC instant in the name, as a date in the zone (23:30Z on 29/11 is the 30th in Paris).
  EXPECT_EQ(file_date("ACK_lot_20261129T233000Z.xml", paris_date), civil_date("2026-11-30"));
  EXPECT_EQ(file_date("ACK_lot_20261129T223000Z_2.xml", paris_date), civil_date("2026-11-29"));
  // A stem that itself looks like an instant: the last one (the processing instant) counts.
  EXPECT_EQ(file_date("ACK_export_20200101T000000Z_20261129T100000Z.xml", paris_date), civil_date("2026-11-29"));
  EXPECT_EQ(file_date("EXPORT_EDI_R1_20260101T000000Z.csv", paris_date), civil_date("2026-01-01"));
  EXPECT_EQ(file_date("NIGHTLY_2026-02-28.csv", paris_date), civil_date("2026-02-28"));
  EXPECT_FALSE(file_date("NIGHTLY_2026-02-30.csv", paris_date));
  EXPECT_FALSE(file_date("ACK_sans_date.xml", paris_date));
  EXPECT_FALSE(file_date("ACK_lot_20261399T100000Z.xml", paris_date));
}

// Issue "defects found in operation" 10: an instant of year 10000 wrote
// ACK_…_100000101T005959Z.xml, read back as year 0000 and removed at the next run. A name whose
// instant is not a business instant has no date.
TEST(FileNamesTest, NamesOutsideTheBusinessRangeHaveNoDate) {
  for (const char* name :
       {"ACK_lot_100000101T005959Z.xml", "ACK_lot_00000101T005959Z.xml", "ACK_lot_19691231T235959Z.xml",
        "ACK_lot_20261129T100000Z_100000101T005959Z.xml", "EXPORT_EDI_R1_100000101T005959Z_2.csv",
        "NIGHTLY_0026-11-30.xml", "NIGHTLY_10000-01-01.csv", "ACK_lot20261129T100000Z.xml"}) {
    EXPECT_FALSE(file_date(name, paris_date)) << name;
  }
  EXPECT_EQ(file_date("ACK_lot_19700101T000000Z_12.xml",
                      [](Instant i) { return CivilDate{std::chrono::floor<std::chrono::days>(i)}; }),
            civil_date("1970-01-01"));
}

}  // namespace
}  // namespace raccord::outbox
