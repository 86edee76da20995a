// Tests of engine/housekeeping.cpp (SPEC.md §7 outbox.retention_days, archive.retention_days;
// issue 5): which outbox names are of a kind and their dates, what goes and what never goes
// (current day, metrics.prom, temporaries, other kinds, directories, symlinks, error/), and the
// nightly run's integration (HTML page written with XML/CSV and rewritten from the ledger,
// old files removed). Business dates only: fixed D, fixed mtimes.
#include "engine/housekeeping.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "engine/clock.hpp"
#include "engine/nightly.hpp"
#include "tests/support/engine_fixture.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

void touch(const fs::path& p, std::string_view mtime_iso = "2026-11-30T00:30:00Z") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
  const Instant t = instant(mtime_iso);
  const timespec ts[2] = {{t.time_since_epoch().count(), 0}, {t.time_since_epoch().count(), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << p;
}

std::vector<std::string> names(const std::vector<fs::path>& paths, const fs::path& base) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(fs::relative(p, base).string());
  return out;
}

class HousekeepingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "raccord-menage-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::function<CivilDate(Instant)> paris() {
    return [this](Instant i) { return zone_.date_of(i); };
  }
  fs::path dir_;
  CivilZone zone_{"Europe/Paris"};
};

TEST_F(HousekeepingTest, KindsAndDatesOfOutboxNames) {
  EXPECT_EQ(outbox_file_kind("ACK_lot_20261129T100000Z.xml"), OutboxFileKind::Accuse);
  EXPECT_EQ(outbox_file_kind("ACK_lot_20261129T100000Z_2.xml"), OutboxFileKind::Accuse);
  EXPECT_EQ(outbox_file_kind("EXPORT_EDI_R1_20261129T100000Z.csv"), OutboxFileKind::Export);
  EXPECT_EQ(outbox_file_kind("EXPORT_API_R1_20261129T100000Z_3.xml"), OutboxFileKind::Export);
  EXPECT_EQ(outbox_file_kind("NIGHTLY_2026-11-29.html"), OutboxFileKind::Report);
  for (const char* other :
       {"metrics.prom", "ACK_lot.txt", "EXPORT_XYZ_R_20261129T100000Z.csv", "NIGHTLY_2026-11-29.pdf",
        ".ACK_lot_20261129T100000Z.xml.host.12.tmp", "notes.xml", "ack_lot_20261129T100000Z.xml"}) {
    EXPECT_FALSE(outbox_file_kind(other)) << other;
  }
  // ACK/EXPORT: the UTC instant in the name, as a date in the zone (23:30Z on 29/11 is the 30th in Paris).
  EXPECT_EQ(outbox_file_date("ACK_lot_20261129T233000Z.xml", paris()), civil_date("2026-11-30"));
  EXPECT_EQ(outbox_file_date("ACK_lot_20261129T223000Z_2.xml", paris()), civil_date("2026-11-29"));
  // A stem that itself looks like an instant: the last one (the processing instant) counts.
  EXPECT_EQ(outbox_file_date("ACK_export_20200101T000000Z_20261129T100000Z.xml", paris()), civil_date("2026-11-29"));
  EXPECT_EQ(outbox_file_date("EXPORT_EDI_R1_20260101T000000Z.csv", paris()), civil_date("2026-01-01"));
  EXPECT_EQ(outbox_file_date("NIGHTLY_2026-02-28.csv", paris()), civil_date("2026-02-28"));
  EXPECT_FALSE(outbox_file_date("NIGHTLY_2026-02-30.csv", paris()));
  EXPECT_FALSE(outbox_file_date("ACK_sans_date.xml", paris()));
  EXPECT_FALSE(outbox_file_date("ACK_lot_20261399T100000Z.xml", paris()));
}

TEST_F(HousekeepingTest, OutboxKeepsTheRetentionWindowTheCurrentDayAndEverythingElse) {
  // D = 2026-11-30, 90 days: files dated before 2026-09-01 go.
  const std::vector<std::string> old_ones = {
      "ACK_lot_20260831T215959Z.xml",        // 31/08 23:59:59 in Paris
      "ACK_lot_20260101T000000Z_2.xml",      //
      "EXPORT_EDI_R1_20260301T080000Z.csv",  //
      "EXPORT_API_R2_20260301T080000Z.xml",  //
      "NIGHTLY_2026-08-31.xml",
      "NIGHTLY_2026-08-31.csv",
      "NIGHTLY_2026-08-31.html",
      "ACK_sans_date.xml",  // no date in the name: its old mtime
  };
  const std::vector<std::string> kept = {
      "ACK_lot_20260831T220000Z.xml",  // 01/09 00:00 in Paris: exactly 90 days
      "NIGHTLY_2026-09-01.html",
      "ACK_du_jour_20261130T000000Z.xml",
      "NIGHTLY_2026-11-30.xml",
      "ACK_futur_20261205T000000Z.xml",
      "ACK_recent_sans_date.xml",  // recent mtime
      "metrics.prom",
      "notes.txt",
      "NIGHTLY_2020-01-01.pdf",
      ".ACK_lot_20200101T000000Z.xml.h.1.tmp",
  };
  for (const auto& n : old_ones) touch(dir_ / n, "2026-01-01T00:00:00Z");
  for (const auto& n : kept)
    touch(dir_ / n, n == "ACK_recent_sans_date.xml" ? "2026-11-30T00:30:00Z" : "2020-01-01T00:00:00Z");
  fs::create_directories(dir_ / "ACK_dossier_20200101T000000Z.xml");
  touch(dir_ / "elsewhere" / "cible.xml", "2020-01-01T00:00:00Z");
  fs::create_symlink(dir_ / "elsewhere" / "cible.xml", dir_ / "ACK_lien_20200101T000000Z.xml");

  const HousekeepingResult r = clean_outbox(dir_, civil_date("2026-11-30"), 90, paris());
  EXPECT_THAT(r.failures, IsEmpty());
  EXPECT_THAT(names(r.removed, dir_), UnorderedElementsAre(old_ones[0], old_ones[1], old_ones[2], old_ones[3],
                                                           old_ones[4], old_ones[5], old_ones[6], old_ones[7]));
  for (const auto& n : old_ones) EXPECT_FALSE(fs::exists(dir_ / n)) << n;
  for (const auto& n : kept) EXPECT_TRUE(fs::exists(dir_ / n)) << n;
  EXPECT_TRUE(fs::is_directory(dir_ / "ACK_dossier_20200101T000000Z.xml"));
  EXPECT_TRUE(fs::is_symlink(dir_ / "ACK_lien_20200101T000000Z.xml"));
  EXPECT_TRUE(fs::exists(dir_ / "elsewhere" / "cible.xml"));
}

TEST_F(HousekeepingTest, RetentionZeroStillKeepsTheCurrentDay) {
  touch(dir_ / "ACK_hier_20261129T120000Z.xml");
  touch(dir_ / "ACK_jour_20261130T120000Z.xml");
  touch(dir_ / "NIGHTLY_2026-11-30.html");
  const HousekeepingResult r = clean_outbox(dir_, civil_date("2026-11-30"), 0, paris());
  EXPECT_THAT(names(r.removed, dir_), ElementsAre("ACK_hier_20261129T120000Z.xml"));
  EXPECT_TRUE(fs::exists(dir_ / "ACK_jour_20261130T120000Z.xml"));
  EXPECT_TRUE(fs::exists(dir_ / "NIGHTLY_2026-11-30.html"));
  EXPECT_THAT(clean_outbox(dir_, civil_date("2026-11-30"), -5, paris()).removed, IsEmpty());
}

TEST_F(HousekeepingTest, ArchiveRemovesOldDayFoldersAndTheirEmptyParentsOnly) {
  // D = 2026-11-30, 365 days: day folders before 2025-11-30 go.
  const fs::path a = dir_ / "archive";
  touch(a / "2024/05/10/lot.xml");
  touch(a / "2025/11/29/lot.xml");
  touch(a / "2025/11/29/lot.xml.1");
  touch(a / "2025/11/30/lot.xml");
  touch(a / "2026/11/30/lot.xml");
  touch(a / "2023/notes.txt");               // not a day folder: its year stays
  fs::create_directories(a / "2023/02/30");  // not a date
  fs::create_directories(a / "divers/01/01");
  touch(dir_ / "error/2020/01/01/bad.xml");  // error/ is never touched
  const HousekeepingResult r = clean_archive(a, civil_date("2026-11-30"), 365);
  EXPECT_THAT(r.failures, IsEmpty());
  EXPECT_THAT(names(r.removed, a), ElementsAre("2024/05/10", "2025/11/29"));
  EXPECT_FALSE(fs::exists(a / "2024"));  // emptied month and year folders go too
  EXPECT_TRUE(fs::exists(a / "2025/11/30/lot.xml"));
  EXPECT_TRUE(fs::exists(a / "2026/11/30/lot.xml"));
  EXPECT_TRUE(fs::exists(a / "2023/notes.txt"));
  EXPECT_TRUE(fs::is_directory(a / "2023/02/30"));
  EXPECT_TRUE(fs::is_directory(a / "divers/01/01"));
  EXPECT_TRUE(fs::exists(dir_ / "error/2020/01/01/bad.xml"));
  EXPECT_THAT(clean_archive(dir_ / "absent", civil_date("2026-11-30"), 1).removed, IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// The nightly run.

class NightlyHousekeepingTest : public EngineTest {
 protected:
  NightlyResult nightly(std::string_view now, std::string_view d) {
    engine_.reset();
    engine_ = std::make_unique<Engine>(config_, BusinessClock(instant(now)));
    engine_->open();
    return run_nightly(*engine_, civil_date(d));
  }
};

TEST_F(NightlyHousekeepingTest, RunWritesTheHtmlPageAndRemovesOldFiles) {
  config_.outbox_retention_days = 30;
  config_.archive_retention_days = 60;
  start();
  setup_world();  // three dépôts: accusés of 2026-11-29 and archive/2026/11/29
  touch(outbox() / "ACK_vieux_20261001T100000Z.xml", "2026-10-01T10:00:00Z");
  touch(outbox() / "NIGHTLY_2026-10-30.html", "2026-10-30T01:00:00Z");
  touch(outbox() / "NIGHTLY_2026-10-31.html", "2026-10-31T01:00:00Z");
  touch(root() / "archive/2026/09/30/vieux.xml");
  touch(error_dir() / "vieux.xml", "2020-01-01T00:00:00Z");

  ASSERT_EQ(nightly("2026-11-30T07:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  const std::string html = read_file(outbox() / "NIGHTLY_2026-11-30.html");
  EXPECT_THAT(html, HasSubstr("<title>Rapport nocturne du 30/11/2026</title>"));
  EXPECT_THAT(html, HasSubstr("30/11/2026 02:00:00 (Europe/Paris)"));  // run instant in local time
  EXPECT_TRUE(fs::exists(outbox() / "NIGHTLY_2026-11-30.xml"));
  EXPECT_TRUE(fs::exists(outbox() / "metrics.prom"));
  EXPECT_FALSE(fs::exists(outbox() / "ACK_vieux_20261001T100000Z.xml"));
  EXPECT_FALSE(fs::exists(outbox() / "NIGHTLY_2026-10-30.html"));
  EXPECT_TRUE(fs::exists(outbox() / "NIGHTLY_2026-10-31.html"));  // exactly 30 days
  EXPECT_FALSE(fs::exists(root() / "archive/2026/09"));
  EXPECT_TRUE(fs::exists(archive_day("2026/11/29")));
  EXPECT_TRUE(fs::exists(error_dir() / "vieux.xml"));
  std::size_t acks = 0;
  for (const auto& n : files_in(outbox())) acks += n.rfind("ACK_00_", 0) == 0 ? 1 : 0;
  EXPECT_EQ(acks, 3u);

  // The page lost: rewritten from the ledger, byte for byte, by the next invocation for that date.
  fs::remove(outbox() / "NIGHTLY_2026-11-30.html");
  EXPECT_EQ(nightly("2026-11-30T09:00:00Z", "2026-11-30").status, NightlyStatus::AlreadyRun);
  EXPECT_EQ(read_file(outbox() / "NIGHTLY_2026-11-30.html"), html);

  // The next run's chart holds both nights.
  ASSERT_EQ(nightly("2026-12-01T07:00:00Z", "2026-12-01").status, NightlyStatus::Ran);
  const std::string next = read_file(outbox() / "NIGHTLY_2026-12-01.html");
  EXPECT_THAT(next, HasSubstr("Transitions des 2 dernières nuits"));
  EXPECT_THAT(next, HasSubstr("<title>30/11/2026 : 0 activation(s)</title>"));
}

}  // namespace
}  // namespace raccord::testing
