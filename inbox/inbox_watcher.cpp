// The inotify watch on inbox/ (inotify(7); docs/design.md "Settle", "Daemon folders").
#include "inbox/inbox_watcher.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "inbox/inbox_directory.hpp"

namespace raccord::inbox {

InboxWatcher::InboxWatcher() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
}

InboxWatcher::~InboxWatcher() {
  ::close(fd_);
}

InboxWatcher::WatchResult InboxWatcher::watch(const std::filesystem::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return {};  // recreated by the caller, then watched
  if (watch_ >= 0 && st.st_dev == watched_dev_ && st.st_ino == watched_ino_) return {};
  const bool rearm = watch_ >= 0 || watched_ino_ != 0;
  if (watch_ >= 0) (void)::inotify_rm_watch(fd_, watch_);  // its IN_IGNORED is stale
  watch_ = ::inotify_add_watch(
      fd_, dir.c_str(),
      IN_CLOSE_WRITE | IN_MOVED_TO | IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW);
  const int error = errno;
  watched_dev_ = st.st_dev;
  watched_ino_ = st.st_ino;
  if (watch_ < 0) return {Watch::Failed, error};
  return {rearm ? Watch::Rearmed : Watch::Armed, 0};
}

void InboxWatcher::unwatch() {
  if (watch_ >= 0) (void)::inotify_rm_watch(fd_, watch_);
  watch_ = -1;
  watched_ino_ = 0;
}

InboxWatcher::Events InboxWatcher::read() {
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n >= 0) return sort(buffer_.data(), static_cast<std::size_t>(n));
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "lecture inotify");
  }
}

InboxWatcher::Events InboxWatcher::sort(const char* data, std::size_t size) {
  // A dépôt renamed into inbox/ (IN_MOVED_TO) is complete and taken at once; a file closed after
  // writing (IN_CLOSE_WRITE) may be written again (several open/append/close cycles, hostile
  // findings/4), so it is taken only once settled.
  Events events;
  for (std::size_t off = 0; off + sizeof(inotify_event) <= size;) {
    const auto* ev = reinterpret_cast<const inotify_event*>(data + off);
    off += sizeof(inotify_event) + ev->len;
    if (ev->mask & IN_Q_OVERFLOW) events.rescan = true;
    if (ev->wd != watch_ || watch_ < 0) continue;  // a watch removed by watch(): stale
    if (ev->mask & IN_IGNORED) watch_ = -1;        // the directory is gone: watch() re-arms
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) events.rescan = true;
    if (ev->len == 0) continue;
    std::string name(ev->name);
    if (!InboxDirectory::is_deposit_name(name)) continue;
    if (ev->mask & IN_MOVED_TO) {
      events.moved.push_back(std::move(name));
    } else if (ev->mask & IN_CLOSE_WRITE) {
      events.closed.push_back(std::move(name));
    }
  }
  return events;
}

}  // namespace raccord::inbox
