// What the daemon hears from inbox/ (docs/reference.md §2 "When it is taken"): a dépôt renamed in is taken
// at once, one closed after writing once settled (inbox/settle_tracker.hpp), and a full pass when
// events were lost or inbox/ was deleted or moved. The inotify watch is inbox/inbox_watcher.hpp;
// this class waits on it and on the settle timer on the daemon's io_context.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "inbox/inbox_watcher.hpp"
#include "inbox/settle_tracker.hpp"

namespace boost::asio {
class io_context;
}

namespace raccord::app {

/// What the feed asks of the daemon.
struct InboxFeedHooks {
  /// Dépôts renamed into inbox/: complete, to claim and process now (arrival order).
  std::function<void(const std::vector<std::string>&)> take_renamed;
  /// Dépôts written in place that stood still for inbox.settle_ms (name-byte order).
  std::function<void(const std::vector<std::string>&)> take_settled;
  /// Events were lost (queue overflow) or inbox/ was deleted or moved: a full pass.
  std::function<void()> rescan;
  /// True once a stop is under way: nothing more is taken.
  std::function<bool()> stopping;
};

/// Runs on the daemon's io_context (one thread: not thread-safe).
class InboxFeed {
 public:
  /// Throws std::system_error when no inotify instance can be had (InboxWatcher).
  InboxFeed(boost::asio::io_context& io, InboxFeedHooks hooks);
  ~InboxFeed();
  InboxFeed(const InboxFeed&) = delete;
  InboxFeed& operator=(const InboxFeed&) = delete;

  /// Listens on `dir` (inbox/) with the quiet period `settle` (inbox.settle_ms), then
  /// ensure_watch(). Called at start and after each reload: when `dir` changed, the old folder is
  /// no longer watched and its files waiting to settle are forgotten; else they keep waiting, with
  /// the new period.
  void configure(const std::filesystem::path& dir, std::chrono::milliseconds settle);

  /// Watches inbox/ as it is now (InboxWatcher::watch: re-armed when it was removed and recreated,
  /// or replaced); a re-armed or failed watch is logged (the periodic rescan then finds the
  /// dépôts). The daemon calls it before every pass, after recreating missing folders.
  void ensure_watch();

  /// The least delay between two settle checks: files closed around the same time (a copy of many
  /// dépôts) are then taken together, in groups (issue 7), rather than one pass each.
  static constexpr std::chrono::milliseconds kSettleBatch{250};

 private:
  void wait_events();
  void take(const inbox::InboxWatcher::Events& events);
  /// After files were closed after writing: a settle check now (settle 0) or when the quiet
  /// period is over.
  void schedule_settle_check();
  void arm_settle(inbox::SteadyClock::time_point at);
  /// Takes the files that stood still for the quiet period, and re-arms for the next one due.
  void settle_check();

  struct Waits;  // Boost.Asio's descriptor and timer, kept out of this header
  InboxFeedHooks hooks_;
  inbox::InboxWatcher watcher_;
  inbox::SettleTracker settle_{{}, std::chrono::milliseconds{0}};  // files closed after writing
  std::unique_ptr<Waits> waits_;
  std::filesystem::path dir_;
  bool listening_ = false;
  bool settle_armed_ = false;
};

}  // namespace raccord::app
