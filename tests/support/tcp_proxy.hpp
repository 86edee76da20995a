// A TCP proxy on loopback between the engine and a PostgreSQL server, to cut a connection at a
// chosen instant of the wire protocol (tests of an unknown commit outcome, tests/engine/engine_test.cpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace raccord::testing {

/// Listens on 127.0.0.1 (a port the kernel picks) and forwards each accepted connection to
/// 127.0.0.1:`server_port`, both ways. Once armed (arm_commit_cut), the first client message that
/// runs a `COMMIT` (PostgreSQL protocol 3.0: a simple query 'Q', or the Execute 'E' after the Parse
/// 'P' of a COMMIT, as Poco sends it) is forwarded to the server, and when the server's first bytes after it arrive,
/// they are NOT forwarded: both sockets of that connection are closed. So the server has committed (it answers only
/// after the commit) and the client never learns it. Later connections are forwarded as usual. Throws std::system_error
/// when it cannot listen. The destructor closes every socket and joins.
class PgCommitCutProxy {
 public:
  explicit PgCommitCutProxy(std::uint16_t server_port);
  ~PgCommitCutProxy();
  PgCommitCutProxy(const PgCommitCutProxy&) = delete;
  PgCommitCutProxy& operator=(const PgCommitCutProxy&) = delete;

  /// The port to connect to.
  std::uint16_t port() const { return port_; }
  /// Cuts the next COMMIT's answer (once).
  void arm_commit_cut() { armed_ = true; }
  /// Number of COMMIT answers cut so far.
  int cuts() const { return cuts_; }

  /// `connection` (a libpq "key=value ..." string) with its `port=` word replaced by this proxy's.
  std::string through(const std::string& connection) const;

 private:
  void accept_loop();
  void relay(int client, int server);

  std::uint16_t port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: the destructor wakes every poll()
  std::atomic<bool> armed_{false};
  std::atomic<int> cuts_{0};
  std::atomic<bool> stopping_{false};
  std::uint16_t server_port_;
  std::mutex mutex_;
  std::vector<std::thread> relays_;
  std::thread acceptor_;
};

/// The port of a libpq connection string's `port=` word (5432 when absent).
std::uint16_t port_of(const std::string& connection);

}  // namespace raccord::testing
