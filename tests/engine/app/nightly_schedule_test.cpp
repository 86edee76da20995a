// Tests of engine/app/nightly_schedule.cpp (docs/reference.md §6 schedule, §7 the daemon's nightly run):
// - next_nightly: Europe/Paris DST change days run exactly once (docs/field-cases.md F34), ordinary days;
// - NightlySchedule in this process on a real engine and store, on the daemon's kind of io_context:
//   the scheduled run asks for the business today, not the wall-clock date; a run that meets the
//   store locked, or the nightly lock held by another run, is tried again until it is done. The
//   wall clock is moved to just before nightly.time (NightlyHooks::wall_clock), so the run starts
//   within a second instead of at the next real minute.
#include "engine/app/nightly_schedule.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <utility>  // before Boost.Asio (docs/toolchain.md #2)
#include <vector>

#include "engine/nightly.hpp"
#include "files/atomic_file.hpp"
#include "tests/support/engine_fixture.hpp"

namespace raccord::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// ---------------------------------------------------------------------------------------------
// The scheduler (docs/reference.md §6: a nightly.time in a DST gap runs at the first instant after it, a
// repeated one at the first of the two; docs/field-cases.md F34).

std::string next_of(const CivilZone& zone, int hh, int mm, std::string_view after) {
  const auto [d, at] = app::next_nightly(zone, hh, mm, instant(after));
  return format_iso_date(d) + "@" + format_iso_instant(at);
}

TEST(NextNightlyTest, OrdinaryWinterAndSummerDays) {
  const CivilZone paris("Europe/Paris");
  EXPECT_EQ(next_of(paris, 2, 0, "2026-01-14T12:00:00Z"), "2026-01-15@2026-01-15T01:00:00Z");  // CET
  EXPECT_EQ(next_of(paris, 2, 0, "2026-06-14T12:00:00Z"), "2026-06-15@2026-06-15T00:00:00Z");  // CEST
  // Strictly after: one second before gives that run, the run instant itself gives the next day's.
  EXPECT_EQ(next_of(paris, 2, 0, "2026-06-15T23:59:59Z"), "2026-06-16@2026-06-16T00:00:00Z");
  EXPECT_EQ(next_of(paris, 2, 0, "2026-06-16T00:00:00Z"), "2026-06-17@2026-06-17T00:00:00Z");
  // Just after local midnight (the previous UTC day): the same civil date's run.
  EXPECT_EQ(next_of(paris, 2, 0, "2026-06-15T22:30:00Z"), "2026-06-16@2026-06-16T00:00:00Z");
  EXPECT_EQ(next_of(paris, 23, 30, "2026-06-15T21:00:00Z"), "2026-06-15@2026-06-15T21:30:00Z");
}

TEST(NextNightlyTest, SpringForwardRunsOnceAtTheFirstInstantAfterTheGap) {
  const CivilZone paris("Europe/Paris");
  // 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:00 does not exist → 03:00 CEST = 01:00Z.
  EXPECT_EQ(next_of(paris, 2, 0, "2026-03-28T01:00:00Z"), "2026-03-29@2026-03-29T01:00:00Z");
  EXPECT_EQ(next_of(paris, 2, 0, "2026-03-28T23:00:00Z"), "2026-03-29@2026-03-29T01:00:00Z");
  EXPECT_EQ(next_of(paris, 2, 0, "2026-03-29T01:00:00Z"), "2026-03-30@2026-03-30T00:00:00Z");
  // F34: 02:30 on 2025-03-30 does not exist either → 03:00 CEST = 01:00Z, once.
  EXPECT_EQ(next_of(paris, 2, 30, "2025-03-29T01:30:00Z"), "2025-03-30@2025-03-30T01:00:00Z");
  EXPECT_EQ(next_of(paris, 2, 30, "2025-03-30T01:00:00Z"), "2025-03-31@2025-03-31T00:30:00Z");
}

TEST(NextNightlyTest, FallBackRunsOnceAtTheFirstOfTheTwoRepeatedTimes) {
  const CivilZone paris("Europe/Paris");
  // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens at 00:30Z (CEST) and 01:30Z (CET).
  EXPECT_EQ(next_of(paris, 2, 30, "2026-10-24T00:30:00Z"), "2026-10-25@2026-10-25T00:30:00Z");
  EXPECT_EQ(next_of(paris, 2, 30, "2026-10-25T00:30:00Z"), "2026-10-26@2026-10-26T01:30:00Z");
  // A run that lasted until just before the second 02:30 does not fire again that night.
  EXPECT_EQ(next_of(paris, 2, 30, "2026-10-25T01:29:59Z"), "2026-10-26@2026-10-26T01:30:00Z");
  EXPECT_EQ(next_of(paris, 2, 30, "2026-10-25T01:30:00Z"), "2026-10-26@2026-10-26T01:30:00Z");
  // 02:00 that day: the first 02:00 is 00:00Z (CEST).
  EXPECT_EQ(next_of(paris, 2, 0, "2026-10-24T12:00:00Z"), "2026-10-25@2026-10-25T00:00:00Z");
  // F34 (2025-10-26).
  EXPECT_EQ(next_of(paris, 2, 30, "2025-10-25T12:00:00Z"), "2025-10-26@2025-10-26T00:30:00Z");
  EXPECT_EQ(next_of(paris, 2, 30, "2025-10-26T00:30:00Z"), "2025-10-27@2025-10-27T01:30:00Z");
}

/// A scheduler loop over [from, until): re-arms right after each run (after = run instant) or
/// after a run lasting `run_length`. Every civil date must get exactly one run, in order.
void expect_one_run_per_date(const CivilZone& zone, int hh, int mm, std::string_view from, std::string_view until,
                             std::chrono::seconds run_length) {
  Instant after = instant(from);
  const Instant end = instant(until);
  std::optional<CivilDate> previous;
  int runs = 0;
  while (after < end) {
    const auto [d, at] = app::next_nightly(zone, hh, mm, after);
    ASSERT_GT(at, after);
    EXPECT_EQ(zone.date_of(at), d) << format_iso_instant(at);
    if (previous) {
      EXPECT_EQ(d, CivilDate{std::chrono::sys_days{*previous} + std::chrono::days{1}})
          << "after " << format_iso_date(*previous) << " came " << format_iso_date(d) << " at "
          << format_iso_instant(at);
    }
    previous = d;
    after = at + run_length;
    ++runs;
  }
  const auto days = (std::chrono::sys_days{zone.date_of(end)} - std::chrono::sys_days{zone.date_of(instant(from))});
  EXPECT_NEAR(static_cast<double>(runs), static_cast<double>(days.count()), 1.0);
}

TEST(NextNightlyTest, SequenceAcrossBothChangeWeekendsGivesOneRunPerCivilDate) {
  const CivilZone paris("Europe/Paris");
  for (const auto run_length : {std::chrono::seconds{0}, std::chrono::seconds{59 * 60 + 59}}) {
    SCOPED_TRACE(run_length.count());
    expect_one_run_per_date(paris, 2, 0, "2026-03-20T00:00:00Z", "2026-11-05T00:00:00Z", run_length);
    expect_one_run_per_date(paris, 2, 30, "2025-03-27T00:00:00Z", "2025-04-02T00:00:00Z", run_length);  // F34
    expect_one_run_per_date(paris, 2, 30, "2025-10-23T00:00:00Z", "2025-10-29T00:00:00Z", run_length);  // F34
    expect_one_run_per_date(paris, 3, 0, "2026-10-20T00:00:00Z", "2026-10-30T00:00:00Z", run_length);
  }
}

// ---------------------------------------------------------------------------------------------
// The schedule on a real engine (docs/reference.md §6, §7): the real clock decides when, the business clock
// (--now) which date; a run that fails is tried again until it is done.

class NightlyScheduleTest : public EngineTest {
 protected:
  static constexpr const char* kBusiness = "2026-01-15T10:00:00Z";

  void SetUp() override {
    EngineTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    config_.timezone = "UTC";
    config_.nightly_time = NightlyTime{2, 0};
  }

  /// The schedule of the engine started at `business`, with a wall clock standing `before` ahead of
  /// the next 02:00 UTC of 2030-06-01 when armed (the wall date is not the business one).
  app::NightlySchedule& schedule(std::chrono::milliseconds before = std::chrono::milliseconds{500}) {
    const auto wall_at = std::chrono::system_clock::time_point{instant("2030-06-01T02:00:00Z").time_since_epoch()};
    const auto offset = (wall_at - before) - std::chrono::system_clock::now();
    schedule_.emplace(io_, app::NightlyHooks{[this]() -> Engine& { return engine(); }, [] { return false; }, [] {},
                                             [this](const std::string& s) { statuses_.push_back(s); }, [] {},
                                             [offset] { return std::chrono::system_clock::now() + offset; }});
    return *schedule_;
  }

  /// Runs the io_context until `done` (at most `deadline` of real time); false when it never was.
  bool run_until(const std::function<bool()>& done, std::chrono::seconds deadline = std::chrono::seconds{60}) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(std::chrono::milliseconds{50});
    }
    return true;
  }

  int count_status(const std::string& text) const {
    return static_cast<int>(std::count(statuses_.begin(), statuses_.end(), text));
  }
  std::vector<std::string> nightly_reports() const {
    std::vector<std::string> out;
    for (const auto& name : files_in(outbox())) {
      if (name.starts_with("NIGHTLY_") && name.ends_with(".xml")) out.push_back(name);
    }
    return out;
  }
  static int count_of(const std::string& log, const std::string& text) {
    int n = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + text.size())) ++n;
    return n;
  }

  boost::asio::io_context io_;
  std::optional<app::NightlySchedule> schedule_;
  std::vector<std::string> statuses_;  // what the schedule said it was doing (sd_notify STATUS=)
};

TEST_F(NightlyScheduleTest, ScheduledRunAsksForTheBusinessTodayNotTheWallClockDate) {
  // Issue item 6: business today (--now) already run; at nightly.time the daemon ran the wall-clock
  // date and caught up every date in between at the business instant. It must ask for the
  // business today again: already run, nothing else happens.
  start(kBusiness);
  ASSERT_EQ(run_nightly(engine(), civil_date("2026-01-15")).status, NightlyStatus::Ran);
  ASSERT_EQ(nightly_reports(), std::vector<std::string>{"NIGHTLY_2026-01-15.xml"});
  ::testing::internal::CaptureStderr();
  schedule().arm();
  // The scheduled run fired and the next one was armed.
  const bool fired = run_until([&] { return count_status("en attente de dépôts") >= 1; });
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(fired) << log;
  EXPECT_EQ(count_of(log, "prochaine exécution nocturne"), 2) << log;
  EXPECT_EQ(count_of(log, "nuit du 2026-01-15 déjà exécutée"), 1) << log;
  EXPECT_THAT(statuses_, Contains("exécution nocturne du 2026-01-15"));
  EXPECT_THAT(statuses_, Not(Contains(HasSubstr("2030-"))));
  EXPECT_EQ(nightly_reports(), std::vector<std::string>{"NIGHTLY_2026-01-15.xml"});
}

TEST_F(NightlyScheduleTest, ScheduledRunThatFindsTheStoreLockedIsRetriedOnceTheStoreIsBack) {
  // Issue item 5: the store is unavailable at nightly.time (here SQLite held locked by another
  // connection, past the busy timeout). The run must be tried again and happen once the store is
  // back, for the business today (no ledger yet: nothing to catch up).
  if (config_.store_backend != Backend::Sqlite) GTEST_SKIP() << "a SQLite write lock";
  start(kBusiness);
  engine().database().execute("PRAGMA busy_timeout=200");  // the first attempt gives up sooner
  ::testing::internal::CaptureStderr();
  std::string log;
  {
    auto db = open_database(Backend::Sqlite, config_.effective_connection());
    Transaction held(*db);  // BEGIN IMMEDIATE: the store's write lock, until the end of this block
    schedule().arm();
    const bool failed = run_until([&] { return count_status("en attente de dépôts") >= 1; });
    EXPECT_TRUE(failed) << "the scheduled run never met the locked store";
    EXPECT_TRUE(nightly_reports().empty());
  }
  const bool retried = run_until([&] { return !nightly_reports().empty(); });
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(retried) << "the failed nightly run was not tried again once the store was back\n" << log;
  EXPECT_GE(count_of(log, "store indisponible"), 1) << log;
  EXPECT_EQ(nightly_reports(), std::vector<std::string>{"NIGHTLY_2026-01-15.xml"});
}

TEST_F(NightlyScheduleTest, ScheduledRunThatFindsTheLockHeldByAnotherRunIsRetriedOnceItIsFree) {
  // The sibling of item 5: at nightly.time another run (a live process of this host: the test's
  // parent) holds the store's nightly lock. The schedule must not give up until tomorrow: once the
  // lock is free, its run happens.
  if (config_.store_backend != Backend::Sqlite) GTEST_SKIP() << "the lock row of SQLite";
  start(kBusiness);
  const std::string holder = files::host_name() + ":" + std::to_string(::getppid());  // alive: never stale
  db().execute("UPDATE locks SET holder = $1, acquired_at = $2, heartbeat = $2 WHERE name = 'nightly'",
               {holder, std::string(kBusiness)});
  ::testing::internal::CaptureStderr();
  schedule().arm();
  const bool met = run_until([&] { return count_status("en attente de dépôts") >= 1; });
  EXPECT_TRUE(met) << "the scheduled run never met the held lock";
  EXPECT_TRUE(nightly_reports().empty());
  db().execute("UPDATE locks SET holder = NULL, heartbeat = NULL WHERE name = 'nightly'");
  const bool retried = run_until([&] { return !nightly_reports().empty(); });
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(retried) << "the nightly run was not tried again once the lock was free\n" << log;
  EXPECT_GE(count_of(log, "en cours sur un autre moteur"), 1) << log;
  EXPECT_EQ(nightly_reports(), std::vector<std::string>{"NIGHTLY_2026-01-15.xml"});
}

TEST_F(NightlyScheduleTest, OwedDatesAreCaughtUpOnceAndARescanFindsNothingMoreToRun) {
  // Ledger: last run 2026-01-12; business today 2026-01-15 at 10:00Z (02:00 UTC has passed): the
  // dates 13, 14 and 15 are owed (docs/reference.md §6 "catching up"). A rescan's catch_up() then finds
  // nothing owed.
  start("2026-01-12T10:00:00Z");  // the store's creation
  ASSERT_EQ(run_nightly(engine(), civil_date("2026-01-12")).status, NightlyStatus::Ran);
  start(kBusiness);
  schedule().run_owed();
  EXPECT_EQ(nightly_reports(), (std::vector<std::string>{"NIGHTLY_2026-01-12.xml", "NIGHTLY_2026-01-13.xml",
                                                         "NIGHTLY_2026-01-14.xml", "NIGHTLY_2026-01-15.xml"}));
  ::testing::internal::CaptureStderr();
  schedule_->catch_up();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(log, "exécution nocturne"), 0) << log;
  EXPECT_EQ(nightly_reports().size(), 4U);
}

}  // namespace
}  // namespace raccord::testing
