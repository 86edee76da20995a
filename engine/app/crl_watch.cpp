#include "engine/app/crl_watch.hpp"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
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

namespace {

constexpr std::uint32_t kEvents =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

struct CrlWatch::Waits {
  Waits(asio::io_context& io, int fd) : events(io), debounce(io) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);  // Asio owns (and closes) its copy
    if (copy < 0) throw std::system_error(errno, std::generic_category(), "inotify (CRL)");
    events.assign(copy);
  }
  asio::posix::stream_descriptor events;
  asio::steady_timer debounce;
};

CrlWatch::CrlWatch(asio::io_context& io, std::function<void()> reload) : reload_(std::move(reload)) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "inotify (CRL)");
  try {
    waits_ = std::make_unique<Waits>(io, fd_);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

CrlWatch::~CrlWatch() {
  waits_.reset();
  ::close(fd_);
}

void CrlWatch::configure(const std::filesystem::path& dir) {
  if (dir != dir_ && wd_ >= 0) {
    ::inotify_rm_watch(fd_, wd_);
    wd_ = -1;
  }
  if (dir != dir_) warned_ = false;
  dir_ = dir;
  if (!listening_) wait_events();
  listening_ = true;
  ensure_watch();
}

void CrlWatch::ensure_watch() {
  if (dir_.empty() || wd_ >= 0) return;
  const bool first = !warned_;
  wd_ = ::inotify_add_watch(fd_, dir_.c_str(), kEvents);
  if (wd_ < 0) {
    if (!warned_) {
      log::info("répertoire des CRL {} non surveillé ({}) : il le sera dès qu'il existera", dir_.string(),
                std::strerror(errno));
      warned_ = true;
    }
    return;
  }
  if (!first) {
    log::info("répertoire des CRL {} surveillé de nouveau", dir_.string());
    changed();  // what it holds now may differ from the CRLs in use
  }
  warned_ = true;
}

void CrlWatch::wait_events() {
  waits_->events.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) {
      if (ec != asio::error::operation_aborted) log::warning("inotify (CRL) : {}", ec.message());
      return;
    }
    read_events();
    wait_events();
  });
}

void CrlWatch::read_events() {
  alignas(inotify_event) std::array<char, 16384> buffer{};
  bool any = false;
  for (;;) {
    const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
    if (n <= 0) break;  // EAGAIN: all read
    for (std::size_t at = 0; at < static_cast<std::size_t>(n);) {
      inotify_event event{};
      std::memcpy(&event, buffer.data() + at, sizeof event);
      at += sizeof event + event.len;
      if ((event.mask & IN_Q_OVERFLOW) != 0) {
        any = true;
        continue;
      }
      if (event.wd != wd_ || wd_ < 0) continue;  // an old watch's events
      if ((event.mask & IN_IGNORED) != 0) {
        wd_ = -1;  // the directory was deleted or moved away: ensure_watch arms it again
        any = true;
        continue;
      }
      if ((event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
        ::inotify_rm_watch(fd_, wd_);
        wd_ = -1;
      }
      any = true;
    }
  }
  if (any) changed();
}

void CrlWatch::changed() {
  waits_->debounce.expires_after(kDebounce);
  waits_->debounce.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) reload_();
  });
}

}  // namespace raccord::app
