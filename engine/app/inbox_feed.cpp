#include "engine/app/inbox_feed.hpp"

#include <fcntl.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "engine/log.hpp"

namespace raccord::app {

namespace asio = boost::asio;

struct InboxFeed::Waits {
  Waits(asio::io_context& io, int fd) : events(io), settle_timer(io) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);  // Asio owns (and closes) its copy
    if (copy < 0) throw std::system_error(errno, std::generic_category(), "inotify");
    events.assign(copy);
  }
  asio::posix::stream_descriptor events;  // the watcher's descriptor
  asio::steady_timer settle_timer;
};

InboxFeed::InboxFeed(asio::io_context& io, InboxFeedHooks hooks)
    : hooks_(std::move(hooks)), waits_(std::make_unique<Waits>(io, watcher_.fd())) {}

InboxFeed::~InboxFeed() = default;

void InboxFeed::configure(const std::filesystem::path& dir, std::chrono::milliseconds settle) {
  if (listening_ && dir != dir_) watcher_.unwatch();
  dir_ = dir;
  settle_.reset(dir, settle);  // forgets the old folder's files
  if (!listening_) wait_events();
  listening_ = true;
  ensure_watch();
}

void InboxFeed::ensure_watch() {
  const auto result = watcher_.watch(dir_);
  if (result.what == inbox::InboxWatcher::Watch::Failed) {
    log::warning("inotify sur {} impossible ({}) : balayage périodique seul", dir_.string(),
                 std::strerror(result.error));
  } else if (result.what == inbox::InboxWatcher::Watch::Rearmed) {
    log::warning("surveillance inotify de {} réarmée (répertoire recréé ou remplacé)", dir_.string());
  }
}

void InboxFeed::wait_events() {
  waits_->events.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) {
      if (ec != asio::error::operation_aborted) log::warning("inotify : {}", ec.message());
      return;
    }
    inbox::InboxWatcher::Events events;
    try {
      events = watcher_.read();
    } catch (const std::system_error& e) {
      log::warning("inotify : {}", e.what());
      return;
    }
    if (!hooks_.stopping()) take(events);
    wait_events();
  });
}

void InboxFeed::take(const inbox::InboxWatcher::Events& events) {
  if (events.rescan) {
    log::warning("file d'événements inotify débordée, ou répertoire supprimé ou déplacé : balayage complet");
    hooks_.rescan();
    return;
  }
  for (const auto& name : events.moved) settle_.forget(name);
  if (!events.moved.empty()) hooks_.take_renamed(events.moved);
  for (const auto& name : events.closed) settle_.written(name);
  if (!events.closed.empty()) schedule_settle_check();
}

void InboxFeed::schedule_settle_check() {
  if (settle_.settle() <= std::chrono::milliseconds::zero()) {
    settle_check();
  } else if (!settle_armed_) {
    arm_settle(settle_.clock().now() + settle_.settle());
  }
}

void InboxFeed::arm_settle(inbox::SteadyClock::time_point at) {
  settle_armed_ = true;
  waits_->settle_timer.expires_at(at);
  waits_->settle_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    settle_armed_ = false;
    if (!hooks_.stopping()) settle_check();
  });
}

void InboxFeed::settle_check() {
  const std::vector<std::string> ready = settle_.take_settled();
  if (!ready.empty()) hooks_.take_settled(ready);
  if (settle_.empty() || hooks_.stopping() || settle_armed_) return;
  arm_settle(std::max(*settle_.next_due(), settle_.clock().now() + kSettleBatch));
}

}  // namespace raccord::app
