// The settle rule (docs/design.md "Settle"): a dépôt written in place is taken once its size and
// mtime stood still for inbox.settle_ms of real time. One tracker for both callers: `raccord process`
// (InboxDirectory::settled_candidates samples the candidates until the quiet period is over) and the
// daemon (files closed after writing, checked when its timer says the next one may be due).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace raccord::inbox {

/// The steady clock the settle rule reads and waits on. Injected so that tests run the rule on a
/// clock of their own, without sleeping; production uses SteadyClock::real().
class SteadyClock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~SteadyClock() = default;
  virtual time_point now() = 0;
  /// Lets `duration` pass (the real clock sleeps; a test clock moves on and may act meanwhile).
  virtual void wait(std::chrono::milliseconds duration) = 0;
  /// std::chrono::steady_clock and std::this_thread::sleep_for (one instance for the process).
  static SteadyClock& real();
};

/// Files of one directory waiting for their quiet period. A file is settled when its size and
/// mtime (lstat: a symbolic link, FIFO or folder is never tracked) are unchanged since the start of
/// its quiet period and that period has lasted `settle`. Not thread-safe (one owner).
class SettleTracker {
 public:
  using time_point = SteadyClock::time_point;

  /// Tracks files of `dir` with the quiet period `settle` (inbox.settle_ms), read on `clock`, which
  /// must outlive the tracker.
  SettleTracker(std::filesystem::path dir, std::chrono::milliseconds settle, SteadyClock& clock = SteadyClock::real());

  /// A new configuration (the daemon's SIGHUP): keeps the tracked files when `dir` is the same
  /// path, forgets them otherwise; the new `settle` applies to every quiet period from now on.
  void reset(std::filesystem::path dir, std::chrono::milliseconds settle);

  /// A write of `name` was just seen (IN_CLOSE_WRITE): its quiet period starts now, whether or not
  /// its size or mtime changed. Forgets it when it is absent or not a regular file.
  void written(const std::string& name);

  /// Samples the candidates `names` a pass listed (they are all that is tracked afterwards), at one
  /// instant: one not tracked yet is from now, one whose size or mtime changed restarts its quiet
  /// period; a
  /// tracked file no longer listed, absent or not a regular file is forgotten.
  void observe(const std::vector<std::string>& names);

  /// Stops tracking `name` (renamed into the folder: complete, taken at once).
  void forget(const std::string& name) { files_.erase(name); }

  /// Samples every tracked file now (as observe()) and returns, in name-byte order, those whose
  /// quiet period has lasted `settle`; they are no longer tracked. Vanished files (claimed by
  /// another engine, removed by their sender) are forgotten.
  std::vector<std::string> take_settled();

  /// When the earliest quiet period ends; nullopt when nothing is tracked.
  std::optional<time_point> next_due() const;

  bool empty() const { return files_.empty(); }
  std::chrono::milliseconds settle() const { return settle_; }
  SteadyClock& clock() const { return clock_; }

 private:
  /// What the rule compares.
  struct FileState {
    std::int64_t size = -1;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileState&) const = default;
  };
  struct Quiet {
    FileState state;
    time_point since;  // start of the quiet period
  };

  /// lstat of dir/name; nullopt when absent or not a regular file.
  std::optional<FileState> state_of(const std::string& name) const;

  std::filesystem::path dir_;
  std::chrono::milliseconds settle_;
  SteadyClock& clock_;
  std::map<std::string, Quiet> files_;
};

}  // namespace raccord::inbox
