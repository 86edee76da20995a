#include "tests/support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

namespace raccord::testing {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::uint32_t read_be32(const char* p) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool is_commit(std::string_view query) {
  while (!query.empty() && std::isspace(static_cast<unsigned char>(query.front()))) query.remove_prefix(1);
  while (!query.empty() &&
         (std::isspace(static_cast<unsigned char>(query.back())) || query.back() == ';' || query.back() == '\0')) {
    query.remove_suffix(1);
  }
  std::string upper(query);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper == "COMMIT" || upper == "END" || upper == "COMMIT TRANSACTION" || upper == "COMMIT WORK";
}

/// Splits the client's byte stream into PostgreSQL protocol messages and tells which run a COMMIT.
class ClientStream {
 public:
  /// Adds bytes; returns true when a complete message among them runs COMMIT.
  bool feed(const char* data, std::size_t size) {
    buffer_.append(data, size);
    bool commit = false;
    for (;;) {
      if (!typed_) {  // SSLRequest, GSSENCRequest, CancelRequest, StartupMessage: length, code
        if (buffer_.size() < 8) break;
        const std::uint32_t length = read_be32(buffer_.data());
        if (buffer_.size() < length) break;
        const std::uint32_t code = read_be32(buffer_.data() + 4);
        if (code != 80877103 && code != 80877104 && code != 80877102) typed_ = true;  // the startup message
        buffer_.erase(0, length);
        continue;
      }
      if (buffer_.size() < 5) break;
      const char type = buffer_[0];
      const std::uint32_t length = read_be32(buffer_.data() + 1);
      if (buffer_.size() < 1 + static_cast<std::size_t>(length)) break;
      const std::string_view body(buffer_.data() + 5, length - 4);
      if (type == 'Q') {  // simple query: runs now
        commit = commit || is_commit(body);
      } else if (type == 'P') {  // Parse (statement name, NUL, query, NUL, ...): prepared, not run yet
        const auto name_end = body.find('\0');
        const std::string_view rest = name_end == std::string_view::npos ? "" : body.substr(name_end + 1);
        commit_parsed_ = is_commit(rest.substr(0, rest.find('\0')));
      } else if (type == 'E' && commit_parsed_) {  // Execute of the COMMIT just parsed
        commit = true;
        commit_parsed_ = false;
      }
      buffer_.erase(0, 1 + static_cast<std::size_t>(length));
    }
    return commit;
  }

 private:
  std::string buffer_;
  bool typed_ = false;
  bool commit_parsed_ = false;  // the last statement parsed (extended protocol) is a COMMIT
};

/// Where the value of the `port=` word of a libpq connection string starts and ends (npos when absent).
std::pair<std::size_t, std::size_t> port_value(const std::string& connection) {
  for (std::size_t at = connection.find("port="); at != std::string::npos; at = connection.find("port=", at + 1)) {
    if (at > 0 && !std::isspace(static_cast<unsigned char>(connection[at - 1]))) continue;
    const std::size_t begin = at + 5;
    std::size_t end = begin;
    while (end < connection.size() && std::isdigit(static_cast<unsigned char>(connection[end]))) ++end;
    return {begin, end};
  }
  return {std::string::npos, std::string::npos};
}

}  // namespace

std::uint16_t port_of(const std::string& connection) {
  const auto [begin, end] = port_value(connection);
  if (begin == std::string::npos || begin == end) return 5432;
  return static_cast<std::uint16_t>(std::stoi(connection.substr(begin, end - begin)));
}

PgCommitCutProxy::PgCommitCutProxy(std::uint16_t server_port) : server_port_(server_port) {
  if (::pipe(wake_) != 0) fail("pipe");
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("bind");
  if (::listen(listener_, 16) != 0) fail("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) fail("getsockname");
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

PgCommitCutProxy::~PgCommitCutProxy() {
  stopping_ = true;
  const char byte = 0;
  (void)!::write(wake_[1], &byte, 1);  // the pipe stays readable: every poll() returns
  acceptor_.join();
  std::vector<std::thread> relays;
  {
    std::lock_guard lock(mutex_);
    relays.swap(relays_);
  }
  for (auto& t : relays) t.join();
  ::close(listener_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::string PgCommitCutProxy::through(const std::string& connection) const {
  const auto [begin, end] = port_value(connection);
  if (begin == std::string::npos) return connection + " port=" + std::to_string(port_);
  return connection.substr(0, begin) + std::to_string(port_) + connection.substr(end);
}

void PgCommitCutProxy::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (stopping_ || (fds[1].revents & POLLIN) != 0) return;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(server_port_);
    if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (server >= 0) ::close(server);
      ::close(client);
      continue;
    }
    std::lock_guard lock(mutex_);
    relays_.emplace_back([this, client, server] { relay(client, server); });
  }
}

void PgCommitCutProxy::relay(int client, int server) {
  ClientStream stream;
  bool cut_next_answer = false;
  char buffer[65536];
  for (;;) {
    pollfd fds[3] = {{client, POLLIN, 0}, {server, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (stopping_ || (fds[2].revents & POLLIN) != 0) break;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      if (stream.feed(buffer, static_cast<std::size_t>(n)) && armed_.exchange(false)) cut_next_answer = true;
      if (!write_all(server, buffer, static_cast<std::size_t>(n))) break;
    }
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::recv(server, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      if (cut_next_answer) {  // the server has answered the COMMIT: the client never sees it
        ++cuts_;
        break;
      }
      if (!write_all(client, buffer, static_cast<std::size_t>(n))) break;
    }
  }
  ::shutdown(client, SHUT_RDWR);
  ::shutdown(server, SHUT_RDWR);
  ::close(client);
  ::close(server);
}

}  // namespace raccord::testing
