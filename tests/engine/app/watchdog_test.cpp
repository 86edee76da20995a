// Tests of engine/app/watchdog.cpp in this process: the service manager's socket is a datagram
// socket of the test (NOTIFY_SOCKET), WATCHDOG_USEC names the period (sd_watchdog_enabled(3)).
#include "engine/app/watchdog.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <utility>  // before Boost.Asio (docs/toolchain.md #2)
#include <vector>

#include "tests/support/files.hpp"

namespace raccord::testing {
namespace {

using std::chrono::milliseconds;

/// Sets (or, with nullopt, unsets) an environment variable for the test's lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class WatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
  }
  void TearDown() override { ::close(fd_); }

  /// Every message received so far (one per datagram).
  std::vector<std::string> received() {
    std::array<char, 4096> buffer{};
    for (ssize_t n; (n = ::recv(fd_, buffer.data(), buffer.size(), 0)) > 0;) {
      messages_.emplace_back(buffer.data(), static_cast<std::size_t>(n));
    }
    return messages_;
  }
  int pings() {
    const auto messages = received();
    return static_cast<int>(std::count(messages.begin(), messages.end(), "WATCHDOG=1"));
  }

  TempDir tmp_{"raccord-watchdog"};
  std::string socket_path_ = (tmp_.path() / "notify.sock").string();
  ScopedEnv notify_socket_{"NOTIFY_SOCKET", socket_path_};
  ScopedEnv watchdog_pid_{"WATCHDOG_PID", std::to_string(::getpid())};
  int fd_ = -1;
  std::vector<std::string> messages_;
  boost::asio::io_context io_;
};

TEST_F(WatchdogTest, NotifySendsTheStateToTheServiceManager) {
  app::notify("STATUS=en attente de dépôts");
  EXPECT_EQ(received(), std::vector<std::string>{"STATUS=en attente de dépôts"});
}

TEST_F(WatchdogTest, PingsEveryHalfPeriodAndFromLongWorkWhenDue) {
  ScopedEnv usec("WATCHDOG_USEC", "200000");  // ping period 100 ms
  app::Watchdog watchdog(io_);
  watchdog.start();
  EXPECT_EQ(pings(), 1) << "a first ping at start";
  watchdog.ping_if_due();
  EXPECT_EQ(pings(), 1) << "the last ping is fresh";
  io_.run_for(milliseconds{350});
  EXPECT_GE(pings(), 3) << "the timer pings every half period";
  // Long work in the loop's thread (no timer runs meanwhile): the hook pings once it is due.
  const int before = pings();
  std::this_thread::sleep_for(milliseconds{120});
  watchdog.ping_if_due();
  EXPECT_EQ(pings(), before + 1);
  watchdog.ping_if_due();
  EXPECT_EQ(pings(), before + 1);
}

TEST_F(WatchdogTest, WithoutAWatchdogNothingIsSent) {
  ScopedEnv usec("WATCHDOG_USEC", std::nullopt);
  app::Watchdog watchdog(io_);
  watchdog.start();
  watchdog.ping_if_due();
  io_.run_for(milliseconds{50});
  EXPECT_TRUE(received().empty());
}

}  // namespace
}  // namespace raccord::testing
