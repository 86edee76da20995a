// Tests of engine/housekeeping.cpp (docs/reference.md §7 outbox.retention_days, archive.retention_days;
// issue 5; the kinds and dates of outbox names: tests/outbox/file_names_test.cpp): what goes and what never goes
// (current day, metrics.prom, temporaries, other kinds, directories, symlinks, error/), and the
// nightly run's integration (HTML page written with XML/CSV and rewritten from the ledger,
// old files removed). Injected business clock: ages count from the business instant of the run by
// the dates in the names, never from the run's date nor from mtimes.
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

void set_mtime(const fs::path& p, std::string_view mtime_iso) {
  const Instant t = instant(mtime_iso);
  const timespec ts[2] = {{t.time_since_epoch().count(), 0}, {t.time_since_epoch().count(), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << p;
}

void touch(const fs::path& p, std::string_view mtime_iso = "2026-11-30T00:30:00Z") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
  set_mtime(p, mtime_iso);
}

/// Gives every directory under `dir` (and `dir`) the mtime `iso`, as if nothing had been added since.
void age_folders(const fs::path& dir, std::string_view iso) {
  std::vector<fs::path> dirs{dir};
  for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
    if (it->is_directory() && !it->is_symlink()) dirs.push_back(it->path());
  }
  for (const auto& d : dirs) set_mtime(d, iso);
}

std::vector<std::string> names(const std::vector<fs::path>& paths, const fs::path& base) {
  std::vector<std::string> out;
  out.reserve(paths.size());
  for (const auto& p : paths) out.push_back(p.lexically_relative(base).string());  // links as named
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
  /// Ages measured at business instant `now`; the real clock reads `real` (default: the same).
  RetentionClock at(std::string_view now) { return RetentionClock{instant(now), paris()}; }
  fs::path dir_;
  CivilZone zone_{"Europe/Paris"};
};

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
      "ACK_recent_20200101T000000Z.xml",  // an old name written today: ages are business dates
  };
  const std::vector<std::string> kept = {
      "ACK_lot_20260831T220000Z.xml",  // 01/09 00:00 in Paris: exactly 90 days
      "NIGHTLY_2026-09-01.html",
      "ACK_du_jour_20261130T000000Z.xml",
      "NIGHTLY_2026-11-30.xml",
      "ACK_futur_20261205T000000Z.xml",
      "ACK_recent_sans_date.xml",  // no date in the name: kept, whatever its mtime
      "ACK_sans_date.xml",
      "metrics.prom",
      "notes.txt",
      "NIGHTLY_2020-01-01.pdf",
      ".ACK_lot_20200101T000000Z.xml.h.1.tmp",
  };
  for (const auto& n : old_ones)
    touch(dir_ / n, n == old_ones.back() ? "2026-11-30T00:30:00Z" : "2026-01-01T00:00:00Z");
  for (const auto& n : kept)
    touch(dir_ / n, n == "ACK_recent_sans_date.xml" ? "2026-11-30T00:30:00Z" : "2020-01-01T00:00:00Z");
  fs::create_directories(dir_ / "ACK_dossier_20200101T000000Z.xml");
  touch(dir_ / "elsewhere" / "cible.xml", "2020-01-01T00:00:00Z");
  fs::create_symlink(dir_ / "elsewhere" / "cible.xml", dir_ / "ACK_lien_20200101T000000Z.xml");

  const HousekeepingResult r = clean_outbox(dir_, 90, at("2026-11-30T01:00:00Z"));
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
  set_mtime(dir_ / "ACK_hier_20261129T120000Z.xml", "2026-11-29T12:00:00Z");
  const HousekeepingResult r = clean_outbox(dir_, 0, at("2026-11-30T13:00:00Z"));
  EXPECT_THAT(names(r.removed, dir_), ElementsAre("ACK_hier_20261129T120000Z.xml"));
  EXPECT_TRUE(fs::exists(dir_ / "ACK_jour_20261130T120000Z.xml"));
  EXPECT_TRUE(fs::exists(dir_ / "NIGHTLY_2026-11-30.html"));
  EXPECT_THAT(clean_outbox(dir_, -5, at("2026-11-30T13:00:00Z")).removed, IsEmpty());
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
  age_folders(a, "2020-01-01T00:00:00Z");
  const HousekeepingResult r = clean_archive(a, 365, at("2026-11-30T01:00:00Z"));
  EXPECT_THAT(r.failures, IsEmpty());
  EXPECT_THAT(names(r.removed, a), ElementsAre("2024/05/10", "2025/11/29"));
  EXPECT_FALSE(fs::exists(a / "2024"));  // emptied month and year folders go too
  EXPECT_TRUE(fs::exists(a / "2025/11/30/lot.xml"));
  EXPECT_TRUE(fs::exists(a / "2026/11/30/lot.xml"));
  EXPECT_TRUE(fs::exists(a / "2023/notes.txt"));
  EXPECT_TRUE(fs::is_directory(a / "2023/02/30"));
  EXPECT_TRUE(fs::is_directory(a / "divers/01/01"));
  EXPECT_TRUE(fs::exists(dir_ / "error/2020/01/01/bad.xml"));
  EXPECT_THAT(clean_archive(dir_ / "absent", 1, at("2026-11-30T01:00:00Z")).removed, IsEmpty());
}

// Issue "defects found in operation" 10: an instant of year 10000 wrote
// ACK_…_100000101T005959Z.xml, read back as year 0000 and removed at the next run. A name whose
// instant is not a business instant has no date (tests/outbox/file_names_test.cpp), and a file
// without a date is never removed.
TEST_F(HousekeepingTest, NamesOutsideTheBusinessRangeHaveNoDateAndStay) {
  for (const char* name :
       {"ACK_lot_100000101T005959Z.xml", "ACK_lot_00000101T005959Z.xml", "ACK_lot_19691231T235959Z.xml",
        "ACK_lot_20261129T100000Z_100000101T005959Z.xml", "EXPORT_EDI_R1_100000101T005959Z_2.csv",
        "NIGHTLY_0026-11-30.xml", "NIGHTLY_10000-01-01.csv", "ACK_lot20261129T100000Z.xml"}) {
    touch(dir_ / name, "2000-01-01T00:00:00Z");
  }
  const HousekeepingResult r = clean_outbox(dir_, 36500, at("2090-01-01T00:00:00Z"));
  EXPECT_THAT(r.removed, IsEmpty());
  EXPECT_THAT(clean_outbox(dir_, 0, at("9999-12-30T00:00:00Z")).removed, IsEmpty());
}

// Nothing is removed while it is young by the real clock, whatever the business instant says
// (--now far ahead), nor while it is young by the business instant, whatever its mtime.
TEST_F(HousekeepingTest, AgesAreCountedFromTheBusinessInstantOfTheRunAndFutureNamesStay) {
  touch(dir_ / "ACK_ecrit_20261130T100000Z.xml", "2026-11-30T10:00:00Z");
  touch(dir_ / "ACK_futur_20290101T100000Z.xml", "2000-01-01T00:00:00Z");
  touch(dir_ / "archive/2026/11/30/lot.xml", "2026-11-30T10:00:00Z");
  // The business instant of the run is the same day: nothing is old, whatever the mtimes.
  EXPECT_THAT(clean_outbox(dir_, 90, at("2026-11-30T23:00:00Z")).removed, IsEmpty());
  EXPECT_THAT(clean_archive(dir_ / "archive", 365, at("2026-11-30T23:00:00Z")).removed, IsEmpty());
  // A year and a half later (--now moved forward, as a test or a late catch-up does): the accusé
  // and the day folder go by the dates in their names; the name in the future stays.
  const RetentionClock later = at("2028-06-01T00:00:00Z");
  EXPECT_THAT(names(clean_outbox(dir_, 90, later).removed, dir_), ElementsAre("ACK_ecrit_20261130T100000Z.xml"));
  EXPECT_THAT(names(clean_archive(dir_ / "archive", 365, later).removed, dir_), ElementsAre("archive/2026/11/30"));
  EXPECT_TRUE(fs::exists(dir_ / "ACK_futur_20290101T100000Z.xml"));
}

// Issue "defects found in operation" 8: archive/ as a symbolic link to other storage was never
// cleaned. The configured folders (outbox/, archive/) are followed; a link found inside them
// (a year, month or day folder, a file) is never followed nor removed.
TEST_F(HousekeepingTest, ConfiguredFoldersBehindLinksAreCleanedLinksInsideAreNot) {
  const fs::path storage = dir_ / "stockage";
  touch(storage / "archive/2024/05/10/lot.xml");
  touch(storage / "archive/2026/11/30/lot.xml");
  touch(storage / "ailleurs/2019/01/01/garde.xml");
  touch(storage / "ailleurs/01/02/garde.xml");
  touch(storage / "ailleurs/03/garde.xml");
  fs::create_directories(storage / "archive/2025/01");
  fs::create_directory_symlink(storage / "ailleurs/2019", storage / "archive/2019");      // a year link
  fs::create_directory_symlink(storage / "ailleurs/01", storage / "archive/2025/02");     // a month link
  fs::create_directory_symlink(storage / "ailleurs/03", storage / "archive/2025/01/03");  // a day link
  age_folders(storage, "2020-01-01T00:00:00Z");
  fs::create_directory_symlink(storage / "archive", dir_ / "archive");
  touch(storage / "outbox/ACK_vieux_20260101T000000Z.xml", "2026-01-01T00:00:00Z");
  touch(storage / "outbox/ACK_jour_20261130T000000Z.xml");
  fs::create_directory_symlink(storage / "outbox", dir_ / "outbox");

  const HousekeepingResult a = clean_archive(dir_ / "archive", 365, at("2026-11-30T01:00:00Z"));
  EXPECT_THAT(a.failures, IsEmpty());
  EXPECT_THAT(names(a.removed, dir_), ElementsAre("archive/2024/05/10"));
  EXPECT_FALSE(fs::exists(storage / "archive/2024"));
  EXPECT_TRUE(fs::exists(storage / "archive/2026/11/30/lot.xml"));
  EXPECT_TRUE(fs::is_symlink(storage / "archive/2019"));
  EXPECT_TRUE(fs::is_symlink(storage / "archive/2025/02"));
  EXPECT_TRUE(fs::is_symlink(storage / "archive/2025/01/03"));
  EXPECT_TRUE(fs::exists(storage / "ailleurs/2019/01/01/garde.xml"));
  EXPECT_TRUE(fs::exists(storage / "ailleurs/01/02/garde.xml"));
  EXPECT_TRUE(fs::exists(storage / "ailleurs/03/garde.xml"));
  EXPECT_TRUE(fs::is_symlink(dir_ / "archive"));

  const HousekeepingResult o = clean_outbox(dir_ / "outbox", 90, at("2026-11-30T01:00:00Z"));
  EXPECT_THAT(names(o.removed, dir_), ElementsAre("outbox/ACK_vieux_20260101T000000Z.xml"));
  EXPECT_TRUE(fs::exists(storage / "outbox/ACK_jour_20261130T000000Z.xml"));
}

// A day folder holding a link to files elsewhere: the folder goes, the link with it, never what
// it points to.
TEST_F(HousekeepingTest, RemovingADayFolderNeverFollowsTheLinksInIt) {
  touch(dir_ / "precieux/garde.xml");
  touch(dir_ / "archive/2024/05/10/lot.xml");
  fs::create_directory_symlink(dir_ / "precieux", dir_ / "archive/2024/05/10/lien");
  age_folders(dir_ / "archive", "2020-01-01T00:00:00Z");
  EXPECT_THAT(names(clean_archive(dir_ / "archive", 365, at("2026-11-30T01:00:00Z")).removed, dir_),
              ElementsAre("archive/2024/05/10"));
  EXPECT_TRUE(fs::exists(dir_ / "precieux/garde.xml"));
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
  set_mtime(root() / "archive/2026/09/30", "2026-09-30T10:00:00Z");
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

// Regression (a read of the hot path for what grows without bound): the nightly run cleaned outbox/ only, so a
// sender account's accusés and exports in outbox/NAME/ were kept for ever, against outbox.retention_days.
TEST_F(NightlyHousekeepingTest, EachAccountsOutboxKeepsTheRetentionWindowToo) {
  config_.outbox_retention_days = 30;
  config_.accounts = {SenderAccount{"acme", {kSubscriber}, std::nullopt, SignatureRequirement::None, {}}};
  start();
  touch(outbox() / "acme" / "ACK_vieux_20261001T100000Z.xml", "2026-10-01T10:00:00Z");
  touch(outbox() / "acme" / "EXPORT_EDI_vieux_20261001T100000Z.csv", "2026-10-01T10:00:00Z");
  touch(outbox() / "acme" / "ACK_recent_20261115T100000Z.xml", "2026-11-15T10:00:00Z");
  touch(outbox() / "ACK_vieux_20261001T100000Z.xml", "2026-10-01T10:00:00Z");
  ASSERT_EQ(nightly("2026-11-30T07:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  EXPECT_FALSE(fs::exists(outbox() / "acme" / "ACK_vieux_20261001T100000Z.xml"));
  EXPECT_FALSE(fs::exists(outbox() / "acme" / "EXPORT_EDI_vieux_20261001T100000Z.csv"));
  EXPECT_TRUE(fs::exists(outbox() / "acme" / "ACK_recent_20261115T100000Z.xml"));
  EXPECT_FALSE(fs::exists(outbox() / "ACK_vieux_20261001T100000Z.xml"));
}

// Ages count from the business instant of the run, never from its date D: run at 30/11 for the
// date 29/11, the limit of 30 days is 31/10, not 30/10.
TEST_F(NightlyHousekeepingTest, RetentionCountsFromTheBusinessInstantNotFromTheDate) {
  config_.outbox_retention_days = 30;
  start();
  touch(outbox() / "NIGHTLY_2026-10-30.html", "2026-10-30T01:00:00Z");
  touch(outbox() / "NIGHTLY_2026-10-31.html", "2026-10-31T01:00:00Z");
  ASSERT_EQ(nightly("2026-11-30T07:00:00Z", "2026-11-29").status, NightlyStatus::Ran);
  EXPECT_FALSE(fs::exists(outbox() / "NIGHTLY_2026-10-30.html"));
  EXPECT_TRUE(fs::exists(outbox() / "NIGHTLY_2026-10-31.html"));
}

// Issue "defects found in operation" 2: at 30/11/2026, --date 2027-12-31 (a typo) measured the
// ages from 2027 and removed the accusés and originals of the day, then recorded every date up to
// 2027. A date after the business today, or before the store's creation, changes nothing.
TEST_F(NightlyHousekeepingTest, AFutureOrPrehistoricDateRemovesAndRecordsNothing) {
  config_.outbox_retention_days = 30;
  config_.archive_retention_days = 60;
  start("2026-11-30T06:50:00Z");
  setup_world();  // accusés and archived originals of minutes ago
  touch(outbox() / "ACK_vieux_20261001T100000Z.xml", "2026-10-01T10:00:00Z");
  const auto outbox_before = files_in(outbox());
  const auto archive_before = files_in(archive_day("2026/11/30"));
  ASSERT_FALSE(archive_before.empty());
  for (const char* d : {"2026-12-01", "2027-12-31", "9999-12-31", "2026-11-29", "1970-01-01"}) {
    engine_.reset();
    engine_ = std::make_unique<Engine>(config_, BusinessClock(instant("2026-11-30T07:00:00Z")));
    engine_->open();
    EXPECT_TRUE(nightly_date_problem(*engine_, civil_date(d))) << d;
    EXPECT_THROW(run_nightly(*engine_, civil_date(d)), NightlyDateError) << d;
    EXPECT_EQ(files_in(outbox()), outbox_before) << d;
    EXPECT_EQ(files_in(archive_day("2026/11/30")), archive_before) << d;
    EXPECT_TRUE(sql("SELECT run_date FROM nightly_runs").empty()) << d;
  }
  // Just after midnight in Paris (23:10Z), the 1st of December is today.
  EXPECT_EQ(nightly("2026-11-30T23:10:00Z", "2026-12-01").status, NightlyStatus::Ran);
  EXPECT_EQ(nightly("2026-12-02T07:00:00Z", "2026-12-02").status, NightlyStatus::Ran);
  EXPECT_FALSE(fs::exists(outbox() / "ACK_vieux_20261001T100000Z.xml"));  // a run of today still cleans
}

}  // namespace
}  // namespace raccord::testing
