// The nightly run (docs/reference.md §6): activation of sent sheets, deactivation of ended ones, the ledger,
// the store lock, catch-up of missed dates, and the report (docs/reference.md §5.3).
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/nightly_report.hpp"
#include "engine/engine.hpp"

namespace raccord {

enum class NightlyStatus {
  Ran,         // the date (and any missed dates before it) ran now
  AlreadyRun,  // the date had been run; nothing done (its report files rewritten if missing)
  Locked,      // another run holds the lock (exit code 3)
};

/// A date the nightly run refuses (usage error, exit 2 for the command): nothing was done.
class NightlyDateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct NightlyResult {
  NightlyStatus status = NightlyStatus::Ran;
  std::vector<CivilDate> dates_run;    // in order, catch-up dates first
  std::vector<NightlyReport> reports;  // one per date run
};

/// Records the store's creation instant ('created_at' in store_info) if it is not recorded yet:
/// the business instant `now`, or the earliest instant the store already holds (history, dépôts,
/// nightly runs) when earlier (a store created before this was recorded). Returns the recorded
/// instant. Engine::open calls it. Throws StoreError.
Instant record_store_creation(Database& db, Instant now);

/// The first date a nightly run may be asked for: the civil date, in engine.timezone, of the
/// store's creation (record_store_creation; recorded now if missing).
CivilDate first_nightly_date(Engine& engine);

/// Why `date` may not be run with `engine` (opened) now, in French (what to do), or nullopt when
/// it may: a date after the business today (the civil date of the business instant in
/// engine.timezone), or before first_nightly_date unless it is the business today and at most
/// 366 days before it (--now may go back before the store's creation) (docs/design.md "The
/// nightly run's date").
/// The nightly command and the daemon ask it before any run.
std::optional<std::string> nightly_date_problem(Engine& engine, CivilDate date);

/// Runs the nightly job for business date `date` with `engine` (opened). Throws NightlyDateError,
/// before anything is done, for a date nightly_date_problem refuses. Takes the store lock
/// "nightly" (held by host:pid, stolen only from a dead process on this host or after 6 h without
/// heartbeat elsewhere); when the ledger's last date L is before date-1, first runs L+1 .. date-1
/// in order, each at its own run instant (date at nightly.time in engine.timezone, or the business
/// now if earlier). Each date is one store transaction with its ledger row; the report files
/// NIGHTLY_<date>.xml/.csv are written after the commit. Throws StoreError on store failures.
/// `progress`, when set, is called on this thread before each date and after each chunk of
/// re-checked or activated sheets (a few hundred), so that a caller may show it is alive during a
/// long run (the daemon pings the systemd watchdog from it); it must not touch the store.
NightlyResult run_nightly(Engine& engine, CivilDate date, const std::function<void()>& progress = {});

/// The run instant of `date`: `date` at nightly.time in engine.timezone, or `now` if earlier.
Instant nightly_run_instant(const Engine& engine, CivilDate date, Instant now);

/// The last business date recorded in the ledger, if any.
std::optional<CivilDate> last_nightly_date(Database& db);

}  // namespace raccord
