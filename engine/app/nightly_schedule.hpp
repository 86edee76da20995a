// The daemon's nightly run (docs/reference.md §6, §7): the real clock decides when (nightly.time in
// engine.timezone), the business clock which date; a run that fails or finds the lock held is
// owed and tried again with backoff; the dates missed meanwhile are caught up.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/clock.hpp"

namespace boost::asio {
class io_context;
}

namespace raccord {
class Engine;
}

namespace raccord::app {

/// The first scheduled nightly instant strictly after `after`, and its business date: the civil
/// date D whose run instant (D at `hh:mm` in `zone`; for a time in a DST gap the first instant after
/// it; for a repeated time the first of the two) is the earliest one after `after`.
std::pair<CivilDate, Instant> next_nightly(const CivilZone& zone, int hh, int mm, Instant after);

/// What the schedule needs from the daemon that owns it.
struct NightlyHooks {
  std::function<Engine&()> engine;                 // the engine of now (a reload replaces it)
  std::function<bool()> stopping;                  // true once a stop is under way: nothing more runs
  std::function<void()> before_run;                // before each attempt (the daemon's folders); may throw
  std::function<void(const std::string&)> status;  // what the daemon is doing (sd_notify STATUS=)
  std::function<void()> progress;                  // called during a run (the watchdog)
  /// The real clock, which decides when the scheduled run starts. Tests move it; the timer still
  /// waits real time (the difference between this clock's run instant and its now).
  std::function<std::chrono::system_clock::time_point()> wall_clock = [] { return std::chrono::system_clock::now(); };
};

/// Runs on the daemon's io_context (one thread: not thread-safe).
class NightlySchedule {
 public:
  NightlySchedule(boost::asio::io_context& io, NightlyHooks hooks);
  ~NightlySchedule();
  NightlySchedule(const NightlySchedule&) = delete;
  NightlySchedule& operator=(const NightlySchedule&) = delete;

  /// Runs what the nightly job owes: first the date of a scheduled run that has not succeeded,
  /// then the dates after the ledger's last one whose run instant has passed on the business clock
  /// (docs/reference.md §6 "catching up"; with no recorded run there is none). Called at start and by its
  /// own retries: a run that fails (store unavailable: logged, the store reconnected; any other
  /// error: logged) or finds the lock held by another run is tried again after a backoff of real
  /// time (1 s, doubling, at most kRetryMax) until it is done. Nothing once a stop is under way.
  /// Never throws.
  void run_owed();

  /// At each rescan: run_owed() unless a retry is armed (that retry runs what is owed).
  void catch_up();

  /// Arms the next scheduled run (replacing an armed one): at nightly.time on the wall clock,
  /// for the business today of that moment (docs/reference.md §7: --now sets the nightly run's "today"),
  /// logged with its instant; the run re-arms the next one. At start and after a reload.
  void arm();

  /// The longest wait (real time) between two attempts of a run that failed (docs/design.md).
  static constexpr std::chrono::seconds kRetryMax{300};

 private:
  /// Runs `date` (and the dates it catches up). True when done (run now or before); false when
  /// another run holds the lock. Throws what run_nightly throws.
  bool run_date(CivilDate date);
  void schedule_retry();
  CivilDate business_today() const;
  /// The last date whose run instant has passed on the business clock.
  CivilDate last_due_date() const;

  struct Timers;  // Boost.Asio's, kept out of this header
  NightlyHooks hooks_;
  std::unique_ptr<Timers> timers_;
  std::optional<CivilDate> owed_;  // a scheduled date not yet run successfully
  bool retry_armed_ = false;
  std::chrono::seconds backoff_{1};
};

}  // namespace raccord::app
