// The daemon's word to its service manager (sd_notify(3), systemd.service(5) Type=notify,
// WatchdogSec=): READY=1, STATUS=..., STOPPING=1, and WATCHDOG=1 at least every half period.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace raccord::app {

/// Sends `state` ("READY=1", "STATUS=...") to the service manager (NOTIFY_SOCKET); nothing
/// without one. Never fails.
void notify(const std::string& state);

/// WATCHDOG=1 from a timer every half of WATCHDOG_USEC, and from within long work (a pass, a
/// nightly run) through ping_if_due(). Runs on the daemon's io_context (one thread).
class Watchdog {
 public:
  explicit Watchdog(boost::asio::io_context& io);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Starts the pings when the service manager asks for them (sd_watchdog_enabled: WATCHDOG_USEC,
  /// and WATCHDOG_PID naming this process); nothing otherwise.
  void start();

  /// From within long work (the engine's hook between groups of dépôts, the nightly run's
  /// progress): WATCHDOG=1 when the last ping is older than the ping period; nothing when off.
  void ping_if_due();

 private:
  void beat();

  struct Timer;  // Boost.Asio's, kept out of this header
  std::unique_ptr<Timer> timer_;
  std::chrono::microseconds period_{0};
  std::chrono::steady_clock::time_point last_ping_{};
};

}  // namespace raccord::app
