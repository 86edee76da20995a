// The inotify watch on inbox/ (docs/design.md "Settle", "Daemon folders"): which dépôts arrived
// complete (renamed in), which were closed after writing (to settle first), and when only a full
// rescan can tell. No event loop here: the daemon waits on fd() with its own.
#pragma once

#include <sys/types.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace raccord::inbox {

class InboxWatcher {
 public:
  /// An inotify instance (non-blocking, close-on-exec) watching nothing yet. Throws
  /// std::system_error when the kernel refuses one (inotify_init1).
  InboxWatcher();
  ~InboxWatcher();
  InboxWatcher(const InboxWatcher&) = delete;
  InboxWatcher& operator=(const InboxWatcher&) = delete;

  /// Readable when events are pending (for the caller's event loop); owned by the watcher.
  int fd() const { return fd_; }

  /// What watch() did, for the caller's log.
  enum class Watch {
    Unchanged,  // `dir` is the directory already watched (or it is missing: the caller recreates it)
    Armed,      // the first watch (or the first after unwatch())
    Rearmed,    // `dir` was removed and recreated, or moved away and replaced: watched anew
    Failed,     // inotify_add_watch failed (`error` holds errno): the periodic rescan alone finds dépôts
  };
  struct WatchResult {
    Watch what = Watch::Unchanged;
    int error = 0;
  };

  /// Watches `dir` as it is now. A watch follows a directory (inode), not its path, and is lost
  /// with it (IN_IGNORED): it is (re)armed when there is none, or when `dir` is no longer the
  /// directory watched (lstat: device and inode), the old one removed. After Failed, the next call
  /// tries again (Rearmed when it works).
  WatchResult watch(const std::filesystem::path& dir);

  /// Stops watching (the configuration moved inbox/ elsewhere); the next watch() is Armed.
  void unwatch();

  /// The pending events, sorted.
  struct Events {
    std::vector<std::string> moved;   // dépôt names renamed in (IN_MOVED_TO): complete, taken at once
    std::vector<std::string> closed;  // dépôt names closed after writing (IN_CLOSE_WRITE): to settle
    bool rescan = false;              // queue overflow, or the watched directory deleted or moved: a full pass
  };

  /// Reads the events pending now (one read, at most 64 KiB of them; call again while fd() stays
  /// readable) and sorts them: only dépôt names (InboxDirectory::is_deposit_name), in arrival
  /// order; events of a watch removed by watch() are stale and dropped. Empty when none is pending.
  /// Throws std::system_error when the read fails.
  Events read();

  /// The sorting of read() on `size` bytes of inotify events at `data` (what read() read).
  Events sort(const char* data, std::size_t size);

 private:
  int fd_ = -1;
  int watch_ = -1;
  dev_t watched_dev_ = 0;  // the directory watch_ was armed on (see watch())
  ino_t watched_ino_ = 0;
  alignas(8) std::array<char, std::size_t{64} * 1024> buffer_{};  // inotify_event is 4-byte aligned
};

}  // namespace raccord::inbox
