#include "engine/app/watchdog.hpp"

#include <systemd/sd-daemon.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>

namespace raccord::app {

void notify(const std::string& state) {
  sd_notify(0, state.c_str());
}

struct Watchdog::Timer {
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
};

Watchdog::Watchdog(boost::asio::io_context& io) : timer_(std::make_unique<Timer>(io)) {}

Watchdog::~Watchdog() = default;

void Watchdog::start() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  period_ = std::chrono::microseconds{usec / 2};
  beat();
}

void Watchdog::ping_if_due() {
  if (period_ <= std::chrono::microseconds::zero()) return;
  if (std::chrono::steady_clock::now() - last_ping_ < period_) return;
  notify("WATCHDOG=1");
  last_ping_ = std::chrono::steady_clock::now();
}

void Watchdog::beat() {
  notify("WATCHDOG=1");
  last_ping_ = std::chrono::steady_clock::now();
  timer_->timer.expires_after(period_);
  timer_->timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) beat();
  });
}

}  // namespace raccord::app
