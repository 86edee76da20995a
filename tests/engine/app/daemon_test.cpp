// Tests of engine/app/daemon.cpp (docs/reference.md §6 catching up, §7 `raccord daemon`), end to end: its
// parts are tested in this process by nightly_schedule_test.cpp (the scheduled run and its
// retries), inbox_feed_test.cpp (inotify and settle) and watchdog_test.cpp.
// - the real binary as a child process on a temporary root: dépôts by rename, by slow write
//   (docs/field-cases.md F01) and by hard link (no inotify event: the periodic rescan is the safety net,
//   F08), one accusé each; SIGHUP reloads and the daemon still works; SIGTERM exits 0 with nothing
//   left in inbox/.work/; sd_notify READY=1, WATCHDOG=1, RELOADING=1, STOPPING=1 on NOTIFY_SOCKET;
// - hostile findings/2: SIGTERM during a long backlog ends the pass after the current group: exit 0,
//   fewer accusés than dépôts, every dépôt archived or still in inbox/, nothing left in .work/.
#include "engine/app/daemon.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/engine_fixture.hpp"
#include "tests/support/files.hpp"

extern char** environ;

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using Steady = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// The daemon as a child process (docs/reference.md §7).

/// An AF_UNIX datagram socket playing systemd's notification socket. A thread reads it all the
/// time, as systemd does: sd_notify blocks once the socket's queue (net.unix.max_dgram_qlen,
/// often 10 datagrams) is full, e.g. with WATCHDOG=1 every 200 ms.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    if (ok_) reader_ = std::thread([this] { read_loop(); });
  }
  ~NotifySocket() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool ok() const { return ok_; }

  int count(const std::string& message) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count(messages_.begin(), messages_.end(), message));
  }
  bool any_starting_with(const std::string& prefix) const {
    std::lock_guard lock(mutex_);
    return std::any_of(messages_.begin(), messages_.end(),
                       [&](const std::string& m) { return m.rfind(prefix, 0) == 0; });
  }
  /// Waits (at most `deadline`) until `message` was received `times` times.
  bool await(const std::string& message, int times, std::chrono::seconds deadline) {
    const auto end = Steady::now() + deadline;
    while (count(message) < times && Steady::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds{20});
    return count(message) >= times;
  }
  /// When `message` was first received, if it was.
  std::optional<Steady::time_point> first(const std::string& message) const {
    std::lock_guard lock(mutex_);
    const auto it = std::find(messages_.begin(), messages_.end(), message);
    if (it == messages_.end()) return std::nullopt;
    return times_[static_cast<std::size_t>(it - messages_.begin())];
  }
  /// The longest time in [from, until] without `message` (from `from` to the first one, between
  /// two, from the last one to `until`).
  Steady::duration longest_gap(const std::string& message, Steady::time_point from, Steady::time_point until) const {
    std::lock_guard lock(mutex_);
    Steady::duration longest{0};
    Steady::time_point previous = from;
    for (std::size_t i = 0; i < messages_.size(); ++i) {
      if (messages_[i] != message || times_[i] < from || times_[i] > until) continue;
      longest = std::max(longest, times_[i] - previous);
      previous = times_[i];
    }
    return std::max(longest, until - previous);
  }
  std::string all() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& m : messages_) {
      if (m != "WATCHDOG=1") out += m + " | ";
    }
    return out;
  }

 private:
  /// Every datagram (each may hold several "KEY=VALUE\n" lines) until stop_.
  void read_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      std::array<char, 4096> buffer{};
      const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0) continue;
      const std::string text(buffer.data(), static_cast<std::size_t>(n));
      const auto received = Steady::now();
      std::lock_guard lock(mutex_);
      std::size_t start = 0;
      while (start < text.size()) {
        const auto end = text.find('\n', start);
        messages_.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        times_.push_back(received);
        if (end == std::string::npos) break;
        start = end + 1;
      }
    }
  }

  int fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
  std::vector<Steady::time_point> times_;  // when each message was received
  std::thread reader_;
};

bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline = std::chrono::seconds{20}) {
  const auto end = Steady::now() + deadline;
  while (!condition()) {
    if (Steady::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return true;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class DaemonTest : public ::testing::Test {
 protected:
  static constexpr const char* kNow = "2026-11-29T10:00:00Z";

  void SetUp() override {
    ASSERT_TRUE(fs::exists(RACCORD_BINARY)) << RACCORD_BINARY;
    std::string pattern = (fs::temp_directory_path() / "raccord-daemon-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    tmp_ = pattern;
    TestPki::instance().write_trust_dir(tmp_ / "trust");
    ini_ = tmp_ / "raccord.ini";
    // settle_ms (1 s) is longer than the slow writer's pause (500 ms): the polling path may only
    // take a file whose size and mtime stood still for the quiet period (docs/field-cases.md F01).
    std::ofstream(ini_) << "[paths]\nroot = " << root().string() << "\nrules = " << (tmp_ / "rules").string()
                        << "\n[certificates]\ntrust_dir = " << (tmp_ / "trust").string()
                        << "\n[inbox]\nsettle_ms = 1000\nrescan_s = 2\n";
    const std::string init = "env -u RACCORD_CONFIG -u RACCORD_NOW " + quote(RACCORD_BINARY) +
                             " init --support support.n1 --config " + quote(ini_.string()) + " --now " + kNow +
                             " >/dev/null 2>" + quote((tmp_ / "init.err").string());
    ASSERT_EQ(std::system(init.c_str()), 0) << read_file(tmp_ / "init.err");
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!HasFailure()) {
      std::error_code ec;
      fs::remove_all(tmp_, ec);
    } else {
      std::cerr << "daemon stderr (" << stderr_path() << "):\n" << read_file(stderr_path());
    }
  }

  fs::path root() const { return tmp_ / "var"; }
  fs::path inbox() const { return root() / "inbox"; }
  fs::path outbox() const { return root() / "outbox"; }
  fs::path stderr_path() const { return tmp_ / "daemon.err"; }

  /// fork/exec `raccord daemon --config INI --now NOW`, stderr to a file, NOTIFY_SOCKET and a
  /// watchdog of `watchdog_usec` (WATCHDOG_PID = the child) in its environment.
  void spawn(const fs::path& notify_socket, const char* now = kNow, const char* watchdog_usec = "400000") {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view v(*e);
      if (v.rfind("RACCORD_", 0) == 0 || v.rfind("NOTIFY_SOCKET=", 0) == 0 || v.rfind("WATCHDOG_", 0) == 0) continue;
      env.emplace_back(v);
    }
    env.push_back("NOTIFY_SOCKET=" + notify_socket.string());
    env.push_back(std::string("WATCHDOG_USEC=") + watchdog_usec);
    env.push_back("RACCORD_LOG_LEVEL=info");
    std::string watchdog_pid(32, '\0');  // filled in the child with its own pid
    const std::string binary = RACCORD_BINARY;
    const std::string ini = ini_.string();
    const std::string err = stderr_path().string();
    std::vector<const char*> argv{binary.c_str(), "daemon", "--config", ini.c_str(), "--now", now, nullptr};

    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // Child: only async-signal-safe calls until execve.
      char digits[16];
      int n = 0;
      for (pid_t p = ::getpid(); p > 0; p /= 10) digits[n++] = static_cast<char>('0' + p % 10);
      std::memcpy(watchdog_pid.data(), "WATCHDOG_PID=", 13);
      for (int i = 0; i < n; ++i) watchdog_pid[13 + static_cast<std::size_t>(i)] = digits[n - 1 - i];
      std::vector<const char*> envp;
      envp.reserve(env.size() + 2);
      for (const auto& e : env) envp.push_back(e.c_str());
      envp.push_back(watchdog_pid.c_str());
      envp.push_back(nullptr);
      const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (fd < 0 || null_fd < 0) ::_exit(126);
      ::dup2(fd, STDERR_FILENO);
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDIN_FILENO);
      ::execve(binary.c_str(), const_cast<char* const*>(argv.data()), const_cast<char* const*>(envp.data()));
      ::_exit(127);
    }
  }

  /// The accusés of dépôt `stem` (ACK_<stem>_<instant>[_n].xml).
  std::vector<std::string> acks_of(const std::string& stem) const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(outbox(), ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("ACK_" + stem + "_2", 0) == 0) out.push_back(n);
    }
    return out;
  }

  /// Waits until dépôt `stem` has its accusé; then it must be exactly one, INTEGRE.
  void expect_one_integre_ack(const std::string& stem) {
    EXPECT_TRUE(eventually([&] { return !acks_of(stem).empty(); })) << "no accusé for " << stem;
    const auto acks = acks_of(stem);
    ASSERT_EQ(acks.size(), 1u) << stem;
    const ParsedAck ack = parse_ack(read_file(outbox() / acks[0]), acks[0]);
    EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
    EXPECT_EQ(ack.fichier, stem + ".xml");
  }

  /// Waits for the child to exit (at most 20 s); its wait status, or -1.
  int wait_exit() {
    int status = 0;
    const bool done = eventually([&] {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      return r == pid_;
    });
    if (!done) return -1;
    pid_ = -1;
    return status;
  }

  /// Rewrites the config: the fixture's paths, `[inbox] rescan_s`, and `extra` (sections of its own).
  void write_ini(int rescan_s, const std::string& extra = "") {
    std::ofstream(ini_) << "[paths]\nroot = " << root().string() << "\nrules = " << (tmp_ / "rules").string()
                        << "\n[certificates]\ntrust_dir = " << (tmp_ / "trust").string()
                        << "\n[inbox]\nsettle_ms = 1000\nrescan_s = " << rescan_s << "\n"
                        << extra;
  }

  /// `raccord nightly --now NOW --date DATE` on the fixture's config; its exit status.
  int nightly_command(const std::string& now, const std::string& date) const {
    const std::string command = "env -u RACCORD_CONFIG -u RACCORD_NOW " + quote(RACCORD_BINARY) + " nightly --config " +
                                quote(ini_.string()) + " --now " + now + " --date " + date + " >/dev/null 2>>" +
                                quote((tmp_ / "nightly.err").string());
    return std::system(command.c_str());
  }

  /// How many times `text` occurs in the daemon's stderr.
  int log_count(const std::string& text) const {
    const std::string log = read_file(stderr_path());
    int n = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + text.size())) ++n;
    return n;
  }

  /// A dépôt creating `n` users, identified by `identifiant` (distinct bytes, no DOUBLON).
  static std::string users_depot(const std::string& identifiant, const std::string& prefix, int n) {
    std::string ops;
    for (int i = 1; i <= n; ++i) ops += user_xml(prefix + std::to_string(i));
    return depot_xml(ops, "identifiant=\"" + identifiant + "\"");
  }

  fs::path tmp_;
  fs::path ini_;
  pid_t pid_ = -1;
};

TEST_F(DaemonTest, ProcessesDepositsByRenameSlowWriteAndRescanReloadsOnSighupAndStopsCleanlyOnSigterm) {
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok()) << std::strerror(errno);
  spawn(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.await("READY=1", 1, std::chrono::seconds{20})) << notify.all();
  // STATUS= follows READY=1 from the start-up pass: wait for it rather than race it.
  EXPECT_TRUE(eventually([&] { return notify.any_starting_with("STATUS="); }, std::chrono::seconds{5})) << notify.all();
  EXPECT_TRUE(notify.await("WATCHDOG=1", 1, std::chrono::seconds{5})) << notify.all();

  // 1. A complete file renamed into inbox/ (IN_MOVED_TO).
  drop_file(inbox(), "a_rename.xml", users_depot("DMN-A", "a.renomme", 1));

  // 2. A slow writer: half, a 500 ms pause, the rest, then close (IN_CLOSE_WRITE only at the end).
  const std::string slow = users_depot("DMN-B", "b.lent", 40);
  {
    const int fd = ::open((inbox() / "b_slow.xml").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    ASSERT_GE(fd, 0);
    const std::size_t half = slow.size() / 2;
    ASSERT_EQ(::write(fd, slow.data(), half), static_cast<ssize_t>(half));
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    ASSERT_EQ(::write(fd, slow.data() + half, slow.size() - half), static_cast<ssize_t>(slow.size() - half));
    ::close(fd);
  }

  // 3. A hard link into inbox/: IN_CREATE only, no IN_CLOSE_WRITE nor IN_MOVED_TO; only the
  //    periodic rescan (rescan_s = 2) finds it (docs/field-cases.md F08 safety net).
  const fs::path outside = tmp_ / "d_link.xml";
  std::ofstream(outside) << users_depot("DMN-D", "d.lien", 1);
  ASSERT_EQ(::link(outside.c_str(), (inbox() / "d_link.xml").c_str()), 0) << std::strerror(errno);

  expect_one_integre_ack("a_rename");
  expect_one_integre_ack("b_slow");
  expect_one_integre_ack("d_link");

  // 4. SIGHUP: reload (RELOADING=1 then READY=1 again); the daemon still takes dépôts.
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  EXPECT_TRUE(notify.await("RELOADING=1", 1, std::chrono::seconds{20})) << notify.all();
  EXPECT_TRUE(notify.await("READY=1", 2, std::chrono::seconds{20})) << notify.all();
  drop_file(inbox(), "c_after_hup.xml", users_depot("DMN-C", "c.apres", 1));
  expect_one_integre_ack("c_after_hup");

  // At least one full rescan after the last dépôt: still exactly one accusé each.
  std::this_thread::sleep_for(std::chrono::milliseconds{2500});
  for (const char* stem : {"a_rename", "b_slow", "d_link", "c_after_hup"}) {
    EXPECT_EQ(acks_of(stem).size(), 1u) << stem;
  }

  // 5. SIGTERM: exit status 0, nothing left in inbox/ nor inbox/.work/.
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  const int status = wait_exit();
  ASSERT_NE(status, -1) << "the daemon did not stop within 20 s";
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(notify.await("STOPPING=1", 1, std::chrono::seconds{2}));
  EXPECT_EQ(notify.count("STOPPING=1"), 1) << notify.all();

  EXPECT_TRUE(fs::is_empty(inbox() / ".work")) << "left in .work/";
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(inbox())) {
    if (e.path().filename() != ".work") left.push_back(e.path().filename().string());
  }
  EXPECT_TRUE(left.empty()) << left.front();
  std::size_t archived = 0;
  for (const auto& e : fs::recursive_directory_iterator(root() / "archive")) archived += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(archived, 4u);

  // Logs: journald priority prefixes, the reload and the stop said, no certificate bytes.
  const std::string log = read_file(stderr_path());
  EXPECT_THAT(log, HasSubstr("<6>"));
  EXPECT_THAT(log, HasSubstr("SIGHUP"));
  EXPECT_THAT(log, HasSubstr("signal 15"));
  EXPECT_THAT(log, Not(HasSubstr("BEGIN CERTIFICATE")));
}

// Sender accounts (docs/accounts.md): each account's inbox/NAME/ is watched like inbox/ (a dépôt renamed in
// is answered in outbox/NAME/ long before any rescan), accounts added by a SIGHUP are watched from then on,
// and an invalid account section at a reload changes nothing.
TEST_F(DaemonTest, WatchesEachAccountsFolderAndTakesAccountsAddedAtAReload) {
  const auto account_acks = [&](const std::string& account, const std::string& stem) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(outbox() / account, ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("ACK_" + stem + "_2", 0) == 0) out.push_back(n);
    }
    return out;
  };
  write_ini(600, "[compte.acme]\nlogins = support.n1\n");
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok()) << std::strerror(errno);
  spawn(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.await("READY=1", 1, std::chrono::seconds{20})) << notify.all();
  drop_file(inbox() / "acme", "a_compte.xml", users_depot("ACC-A", "a.compte", 1));
  ASSERT_TRUE(eventually([&] { return !account_acks("acme", "a_compte").empty(); })) << "no accusé in outbox/acme/";
  const auto acks = account_acks("acme", "a_compte");
  ASSERT_EQ(acks.size(), 1u);
  const ParsedAck ack = parse_ack(read_file(outbox() / "acme" / acks[0]), acks[0]);
  EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
  EXPECT_EQ(ack.compte, "acme");

  // An invalid account section: the reload is refused, the accounts stay as they were.
  write_ini(600, "[compte.acme]\nlogins = support.n1\n[compte.Beta!]\nlogins = x\n");
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(notify.await("READY=1", 2, std::chrono::seconds{20})) << notify.all();
  drop_file(inbox() / "acme", "b_compte.xml", users_depot("ACC-B", "b.compte", 1));
  EXPECT_TRUE(eventually([&] { return !account_acks("acme", "b_compte").empty(); }));

  // A new account: its folders are created and watched.
  write_ini(600, "[compte.acme]\nlogins = support.n1\n[compte.beta]\nlogins = support.n1\n");
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(notify.await("READY=1", 3, std::chrono::seconds{20})) << notify.all();
  ASSERT_TRUE(eventually([&] { return fs::is_directory(inbox() / "beta"); }));
  drop_file(inbox() / "beta", "c_compte.xml", users_depot("ACC-C", "c.compte", 1));
  EXPECT_TRUE(eventually([&] { return !account_acks("beta", "c_compte").empty(); })) << "no accusé in outbox/beta/";
  EXPECT_TRUE(account_acks("acme", "c_compte").empty());
  EXPECT_THAT(read_file(stderr_path()), HasSubstr("rechargement impossible"));
}

// docs/revocation.md "The CRL directory": a running daemon reloads its CRLs when certificates.crl_dir
// changes (inotify, debounced), without a SIGHUP. A CRL of the intermediate listing a leaf, renamed into
// crl_dir (IN_MOVED_TO, as `trust refresh` writes), makes the next sheet with that leaf CERT_REVOQUE; the
// CRL deleted again (IN_DELETE), the same sheet is accepted; a file that is no CRL, written in place
// (IN_CLOSE_WRITE), is skipped and logged while the other CRLs stay in use.
TEST_F(DaemonTest, ReloadsTheCrlsWhenCrlDirChangesWithoutSighup) {
  const fs::path crl_dir = tmp_ / "crl";
  fs::create_directories(crl_dir);
  const auto& pki = TestPki::instance();
  CrlOptions current;  // current at kNow (2026-11-29)
  current.this_update = "2026-11-28T00:00:00Z";
  current.next_update = "2026-12-05T00:00:00Z";
  std::ofstream(crl_dir / "root.crl", std::ios::binary) << TestPki::crl_pem({pki.root().crl_der(current)});
  std::ofstream(crl_dir / "intermediate.crl", std::ios::binary)
      << TestPki::crl_pem({pki.intermediate().crl_der(current)});
  std::ofstream(ini_) << "[paths]\nroot = " << root().string() << "\nrules = " << (tmp_ / "rules").string()
                      << "\n[certificates]\ntrust_dir = " << (tmp_ / "trust").string()
                      << "\ncrl_dir = " << crl_dir.string()
                      << "\n[inbox]\nsettle_ms = 1000\nrescan_s = 3600\n";  // no rescan rewrites metrics.prom here
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok()) << std::strerror(errno);
  spawn(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.await("READY=1", 1, std::chrono::seconds{20})) << notify.all();
  // metrics.prom's CRL ages (docs/reference.md §5.4), at the daemon's start: the root's (a trust anchor), 34 hours
  // at kNow; the intermediate's waits for a check that proves the intermediate (it is in no trust_dir).
  const auto crl_ages = [&] {
    std::map<std::string, std::string> ages;
    std::istringstream in(read_file(outbox() / "metrics.prom"));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("raccord_crl_age_seconds{", 0) == 0)
        ages[line.substr(0, line.rfind(' '))] = line.substr(line.rfind(' ') + 1);
    }
    return ages;
  };
  const std::string root_age = R"(raccord_crl_age_seconds{emetteur="CN=Raccord Test Root CA"})";
  const std::string intermediate_age = R"(raccord_crl_age_seconds{emetteur="CN=Raccord Test Intermediate CA"})";
  EXPECT_EQ(crl_ages(), (std::map<std::string, std::string>{{root_age, "122400"}}));

  // The world the sheet needs (as EngineFixture::setup_world), one dépôt at a time.
  StructureSpec no_space;
  no_space.siret = kNoSpace;
  no_space.raison_sociale = "Société Exemple Équipements";
  const std::vector<std::pair<std::string, std::string>> world{
      {"w1_referentiel", depot_xml(user_xml(kManager) + user_xml(kSubscriber) + user_xml(kOutsider) +
                                       structure_xml(StructureSpec{}) + structure_xml(no_space),
                                   R"(identifiant="REF-0001")")},
      {"w2_espace", depot_xml(activation_xml(kManager, kAcme) + subscription_request_xml(kSubscriber, kAcme),
                              R"(identifiant="ESP-0001")")},
      {"w3_decision", depot_xml(decision_xml(kManager, "ABO-000001"), R"(identifiant="DEC-0001")")}};
  for (const auto& [stem, xml] : world) {
    drop_file(inbox(), stem + ".xml", xml);
    expect_one_integre_ack(stem);
  }

  const std::string leaf = pki.leaf_der();
  SheetSpec sheet = sftp_sheet();
  sheet.certificates = {TestPki::base64(TestPki::pkcs7_der({leaf, pki.intermediate_der()}))};
  int sheets = 0;
  const auto sheet_ack = [&](const std::string& stem) -> AckOperation {
    const std::string identifiant = "FIC-" + std::to_string(++sheets);
    drop_file(inbox(), stem + ".xml", depot_xml(sheet_xml(sheet), "identifiant=\"" + identifiant + "\""));
    EXPECT_TRUE(eventually([&] { return !acks_of(stem).empty(); })) << "no accusé for " << stem;
    const auto acks = acks_of(stem);
    if (acks.size() != 1) return {};
    const ParsedAck ack = parse_ack(read_file(outbox() / acks[0]), acks[0]);
    return ack.operations.empty() ? AckOperation{} : ack.operations[0];
  };
  const auto reloads = [&] { return log_count("CRL rechargées"); };
  ASSERT_EQ(reloads(), 0);

  // 1. A CRL listing the leaf written elsewhere, then renamed in: revoked, without any SIGHUP.
  CrlOptions listing = current;
  listing.crl_number = 2;
  listing.entries = {CrlEntry{TestPki::serial_hex(leaf)}};
  std::ofstream(crl_dir / ".revoked.crl.tmp", std::ios::binary)
      << TestPki::crl_pem({pki.intermediate().crl_der(listing)});
  fs::rename(crl_dir / ".revoked.crl.tmp", crl_dir / "revoked.crl");
  ASSERT_TRUE(eventually([&] { return reloads() >= 1; })) << "crl_dir changed, CRLs not reloaded";
  const AckOperation revoked = sheet_ack("fiche_revoquee");
  EXPECT_THAT(revoked.error_codes(), ::testing::ElementsAre("CERT_REVOQUE")) << revoked.statut;

  // 2. A file that is no CRL, written in place: skipped and logged; the listing CRL still revokes.
  const int before_garbage = reloads();
  std::ofstream(crl_dir / "garbage.crl", std::ios::binary) << "ceci n'est pas une CRL\n";
  ASSERT_TRUE(eventually([&] { return reloads() > before_garbage; }));
  EXPECT_GE(log_count("garbage.crl ignoré"), 1);
  const AckOperation still = sheet_ack("fiche_toujours_revoquee");
  EXPECT_THAT(still.error_codes(), ::testing::ElementsAre("CERT_REVOQUE")) << still.statut;

  // 3. The listing CRL deleted: the same sheet is accepted (the intermediate's CRL proves it good).
  const int before_delete = reloads();
  fs::remove(crl_dir / "revoked.crl");
  ASSERT_TRUE(eventually([&] { return reloads() > before_delete; }));
  const AckOperation good = sheet_ack("fiche_bonne");
  EXPECT_TRUE(good.error_codes().empty()) << good.statut;
  EXPECT_EQ(good.find("CERT_REVOCATION_INCONNUE"), nullptr);
  EXPECT_EQ(good.find("CERT_REVOQUE"), nullptr);
  EXPECT_EQ(crl_ages(), (std::map<std::string, std::string>{{intermediate_age, "122400"}, {root_age, "122400"}}));

  // 4. A newer CRL of the root: the reload rewrites metrics.prom with its age (10 hours); the intermediate, proved
  // by the checks before, keeps its line across the reload.
  CrlOptions newer = current;
  newer.this_update = "2026-11-29T00:00:00Z";
  newer.crl_number = 3;
  std::ofstream(crl_dir / ".root2.crl.tmp", std::ios::binary) << TestPki::crl_pem({pki.root().crl_der(newer)});
  fs::rename(crl_dir / ".root2.crl.tmp", crl_dir / "root2.crl");
  EXPECT_TRUE(eventually([&] { return crl_ages()[root_age] == "36000"; })) << read_file(outbox() / "metrics.prom");
  EXPECT_EQ(crl_ages(), (std::map<std::string, std::string>{{intermediate_age, "122400"}, {root_age, "36000"}}));
}

// docs/reference.md §7 (issue 18, item 7): the daemon says once at start, as a warning, which AIFE sides still
// carry example values; a SIGHUP reload does not repeat it.
TEST_F(DaemonTest, SaysOnceAtStartWhichAifeSidesAreExampleValues) {
  write_ini(2, "[aife]\nsftp_address = 198.51.100.7\nsftp_port = 22\n");
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok()) << std::strerror(errno);
  spawn(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.await("READY=1", 1, std::chrono::seconds{20})) << notify.all();
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(notify.await("READY=1", 2, std::chrono::seconds{20})) << notify.all();
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  ASSERT_NE(wait_exit(), -1);
  EXPECT_EQ(log_count("<4>côté AIFE PESIT non configuré"), 1);
  EXPECT_EQ(log_count("<4>côté AIFE AS2 non configuré"), 1);
  EXPECT_EQ(log_count("côté AIFE SFTP"), 0);
  EXPECT_EQ(log_count("côté AIFE"), 2);
}

// docs/design.md "Gauges of metrics.prom" (hostile review of the scanned figures): metrics.prom may hold an older
// engine's figures (another process, the daemon before a restart or a reload), which an idle engine never
// rewrote since it only measures the sheets by state and the files in error/ at the end of a pass that committed
// groups. The daemon measures them for each engine it builds: at start and at a SIGHUP, with nothing to take.
TEST_F(DaemonTest, AnIdleDaemonRewritesMetricsLeftByAnOlderEngineAtStartAndAtAReload) {
  fs::create_directories(outbox());
  const std::string stale = "raccord_sheets{etat=\"ENVOYEE\"} 999\nraccord_error_files 999\n";
  write_file(outbox() / "metrics.prom", stale);
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok()) << std::strerror(errno);
  spawn(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.await("READY=1", 1, std::chrono::seconds{20})) << notify.all();
  std::string text = read_file(outbox() / "metrics.prom");
  EXPECT_THAT(text, HasSubstr("raccord_sheets{etat=\"ENVOYEE\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("raccord_error_files 0\n"));
  write_file(outbox() / "metrics.prom", stale);
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(notify.await("READY=1", 2, std::chrono::seconds{20})) << notify.all();
  text = read_file(outbox() / "metrics.prom");
  EXPECT_THAT(text, HasSubstr("raccord_sheets{etat=\"ENVOYEE\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("raccord_error_files 0\n"));
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(wait_exit(), 0);
}

// docs/accounts.md "Who may change what is trusted": a trust directory made group-writable while the daemon runs
// is refused at the SIGHUP (the previous configuration kept, the path named, the daemon still up); at start, the
// daemon does not start (exit 1).
TEST_F(DaemonTest, TrustMadeWritableByOthersIsRefusedAtReloadAndAtStart) {
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok()) << std::strerror(errno);
  spawn(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.await("READY=1", 1, std::chrono::seconds{20})) << notify.all();
  const fs::path trust = tmp_ / "trust";
  fs::permissions(trust, fs::perms::group_write, fs::perm_options::add);
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(notify.await("READY=1", 2, std::chrono::seconds{20})) << notify.all();
  EXPECT_EQ(log_count("rechargement impossible, configuration précédente conservée"), 1);
  EXPECT_EQ(log_count(trust.string() + " est modifiable par son groupe"), 1);
  EXPECT_EQ(::kill(pid_, 0), 0) << "the daemon still runs";
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  const int stopped = wait_exit();
  EXPECT_TRUE(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0) << stopped;
  spawn(tmp_ / "notify.sock");  // its stderr starts anew
  const int refused = wait_exit();
  EXPECT_TRUE(WIFEXITED(refused) && WEXITSTATUS(refused) == 1) << refused;
  EXPECT_EQ(log_count(trust.string() + " est modifiable par son groupe"), 1);
}

TEST_F(DaemonTest, CatchesUpMissedNightlyDatesAtStartWithTheBusinessClock) {
  // Ledger: last run 2026-11-26. The daemon starts at 2026-11-29T10:00Z (business, --now): the
  // dates 27, 28 and 29 (02:00 Paris has passed) are run, right after READY=1 (docs/reference.md §6, §7).
  const std::string seed = "env -u RACCORD_CONFIG -u RACCORD_NOW " + quote(RACCORD_BINARY) + " nightly --config " +
                           quote(ini_.string()) + " --now 2026-11-26T01:00:00Z --date 2026-11-26 >/dev/null 2>&1";
  ASSERT_EQ(std::system(seed.c_str()), 0);
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok());
  spawn(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.await("READY=1", 1, std::chrono::seconds{20})) << notify.all();
  ASSERT_TRUE(eventually([&] { return fs::exists(outbox() / "NIGHTLY_2026-11-29.xml"); }));
  for (const char* d : {"2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29"}) {
    EXPECT_TRUE(fs::exists(outbox() / ("NIGHTLY_" + std::string(d) + ".xml"))) << d;
  }
  EXPECT_FALSE(fs::exists(outbox() / "NIGHTLY_2026-11-30.xml"));  // not due at 10:00Z on the 29th
  const std::string report = read_file(outbox() / "NIGHTLY_2026-11-28.xml");
  EXPECT_THAT(report, HasSubstr("instant=\"2026-11-28T01:00:00Z\""));
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  const int status = wait_exit();
  ASSERT_NE(status, -1);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(DaemonTest, WithoutNotifySocketItStillRunsAndStopsOnSigint) {
  spawn(tmp_ / "nobody-listens.sock");  // sd_notify to a missing socket must not break the daemon
  drop_file(inbox(), "e_sans_notify.xml", users_depot("DMN-E", "e.seul", 1));
  expect_one_integre_ack("e_sans_notify");
  ASSERT_EQ(::kill(pid_, SIGINT), 0);
  const int status = wait_exit();
  ASSERT_NE(status, -1);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(fs::is_empty(inbox() / ".work"));
}

TEST_F(DaemonTest, SigtermDuringALongBacklogStopsAfterTheCurrentGroupAndLosesNothing) {
  // Hostile findings/2: the signal used to be seen only after the whole backlog. 5 groups of the
  // largest size (Engine::kGroupDeposits); SIGTERM right after the first accusé appears.
  constexpr int kDeposits = 5 * static_cast<int>(Engine::kGroupDeposits);
  for (int i = 0; i < kDeposits; ++i) {
    const std::string stem = fmt::format("g_{:04d}", i);
    drop_file(inbox(), stem + ".xml", users_depot(fmt::format("DMN-G-{}", i), fmt::format("g{}.u", i), 1));
  }
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok());
  spawn(tmp_ / "notify.sock");
  auto ack_count = [&] {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(outbox(), ec)) n += e.path().filename().string().rfind("ACK_", 0) == 0;
    return n;
  };
  ASSERT_TRUE(eventually([&] { return ack_count() > 0; }, std::chrono::seconds{60})) << "no accusé at all";
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  const int status = wait_exit();
  ASSERT_NE(status, -1) << "the daemon did not stop within 20 s";
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);

  const std::size_t acks = ack_count();
  EXPECT_LT(acks, static_cast<std::size_t>(kDeposits)) << "the whole backlog was drained before stopping";
  EXPECT_TRUE(fs::is_empty(inbox() / ".work")) << "left in .work/";
  // Every dépôt is answered (archived, with its accusé) or still waiting in inbox/: none lost.
  std::size_t archived = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(root() / "archive", ec)) archived += e.is_regular_file();
  std::size_t waiting = 0;
  for (const auto& e : fs::directory_iterator(inbox())) waiting += e.path().filename() != ".work";
  EXPECT_EQ(archived, acks);
  EXPECT_EQ(archived + waiting, static_cast<std::size_t>(kDeposits));
  EXPECT_THAT(read_file(stderr_path()), HasSubstr("signal 15"));
}

// ---------------------------------------------------------------------------------------------
// Issue item 7: the daemon's folders removed or replaced while it runs.

TEST_F(DaemonTest, FoldersRemovedOrReplacedWhileRunningAreRecreatedAndInboxIsWatchedAgain) {
  // rescan_s = 3600: after the first repair, a dépôt renamed into inbox/ is seen only through the
  // re-armed inotify watch.
  write_ini(3600);
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok());
  spawn(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.await("READY=1", 1, std::chrono::seconds{20})) << notify.all();
  // Idle: `n` originals archived, so that no dépôt is lost with a folder removed under it.
  auto idle = [&](std::size_t n) {
    return eventually([&] {
      std::size_t archived = 0;
      std::error_code ec;
      for (const auto& e : fs::recursive_directory_iterator(root() / "archive", ec)) archived += e.is_regular_file();
      return archived == n;
    });
  };
  // Removes `dir` like `rm -rf`, again if the daemon was still writing in it (metrics.prom).
  auto remove = [&](const fs::path& dir) {
    return eventually([&] {
      std::error_code ec;
      fs::remove_all(dir, ec);
      return !ec && !fs::exists(dir);
    });
  };
  drop_file(inbox(), "h_0.xml", users_depot("DMN-H0", "h.zero", 1));
  expect_one_integre_ack("h_0");
  ASSERT_TRUE(idle(1));

  // 1. inbox/ removed (with .work/), then recreated by the operator.
  ASSERT_TRUE(remove(inbox()));
  ASSERT_TRUE(eventually([&] { return log_count("réarmée") >= 1; })) << "inotify watch not re-armed";
  fs::create_directories(inbox());
  // The daemon recreates .work/ at its next look (it may have seen the removal twice: the test's
  // rm -rf loop can remove what the daemon had just recreated), never the test.
  EXPECT_TRUE(eventually([&] { return fs::is_directory(inbox() / ".work"); }));
  drop_file(inbox(), "h_1.xml", users_depot("DMN-H1", "h.un", 1));
  expect_one_integre_ack("h_1");
  ASSERT_TRUE(idle(2));

  // 2. inbox/ moved away and replaced by a new directory (the old watch follows the old one).
  fs::rename(inbox(), root() / "inbox.old");
  fs::create_directories(inbox());
  ASSERT_TRUE(eventually([&] { return log_count("réarmée") >= 2; })) << "inotify watch not re-armed";
  drop_file(inbox(), "h_2.xml", users_depot("DMN-H2", "h.deux", 1));
  expect_one_integre_ack("h_2");
  ASSERT_TRUE(idle(3));
  drop_file(root() / "inbox.old", "h_old.xml", users_depot("DMN-HX", "h.ancien", 1));

  // 3. inbox/.work/ alone removed (no event on inbox/): recreated before the next pass.
  ASSERT_TRUE(remove(inbox() / ".work"));
  drop_file(inbox(), "h_3.xml", users_depot("DMN-H3", "h.trois", 1));
  expect_one_integre_ack("h_3");
  ASSERT_TRUE(idle(4));

  // 4. outbox/, archive/ and error/ removed: recreated, the accusé and the original land there.
  for (const char* dir : {"outbox", "archive", "error"}) ASSERT_TRUE(remove(root() / dir)) << dir;
  drop_file(inbox(), "h_4.xml", users_depot("DMN-H4", "h.quatre", 1));
  expect_one_integre_ack("h_4");
  EXPECT_TRUE(fs::is_directory(root() / "error"));
  EXPECT_TRUE(idle(1)) << "h_4 not archived in the recreated archive/";

  EXPECT_TRUE(acks_of("h_old").empty()) << "a file in the moved-away inbox was taken";
  EXPECT_TRUE(fs::exists(root() / "inbox.old" / "h_old.xml"));
  EXPECT_GE(log_count("disparu(s), recréé(s)"), 4);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  const int status = wait_exit();
  ASSERT_NE(status, -1);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// ---------------------------------------------------------------------------------------------
// Issue item 9: the watchdog fed during a long start-up catch-up.

TEST_F(DaemonTest, WatchdogIsFedThroughoutALongStartUpCatchUp) {
  // Ledger: last run 2025-11-30 (a year before the store's creation, the earliest a today may be);
  // business today 2029-12-01 at 10:00Z: the start-up catch-up runs 1,462 dates (each one store commit and its
  // reports), several watchdog periods long (1 s here, WatchdogSec=120s in the unit). READY=1 comes before it, and
  // from then on WATCHDOG=1 never stops for a whole period. (731 dates took 2.9 s on an idle machine with a warm
  // page cache: too close to the 3 periods the test needs; twice as many keep it clear of that.)
  constexpr const char* kBusiness = "2029-12-01T10:00:00Z";
  constexpr auto kWatchdog = std::chrono::seconds{1};
  write_ini(3600, "[engine]\ntimezone = UTC\n[nightly]\ntime = 02:00\n");
  ASSERT_EQ(nightly_command("2025-11-30T10:00:00Z", "2025-11-30"), 0) << read_file(tmp_ / "nightly.err");
  NotifySocket notify(tmp_ / "notify.sock");
  ASSERT_TRUE(notify.ok());
  spawn(tmp_ / "notify.sock", kBusiness, "1000000");
  ASSERT_TRUE(notify.await("READY=1", 1, std::chrono::seconds{30})) << notify.all();
  const auto ready = *notify.first("READY=1");
  EXPECT_FALSE(fs::exists(outbox() / "NIGHTLY_2029-12-01.xml")) << "READY=1 must come before the catch-up";
  ASSERT_TRUE(eventually([&] { return fs::exists(outbox() / "NIGHTLY_2029-12-01.xml"); }, std::chrono::seconds{280}));
  const auto done = Steady::now();
  ASSERT_GT(done - ready, 3 * kWatchdog) << "the catch-up is too short to test the watchdog";
  const auto gap = notify.longest_gap("WATCHDOG=1", ready, done);
  EXPECT_LT(gap, kWatchdog) << "no WATCHDOG=1 for "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(gap).count() << " ms";
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  ASSERT_NE(wait_exit(), -1);
}

}  // namespace
}  // namespace raccord::testing
