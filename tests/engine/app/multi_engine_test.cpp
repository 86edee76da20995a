// Several engines on one inbox and one PostgreSQL store (issue 6, docs/reference.md §2 "Claim", "Exactly once"):
// - two `raccord daemon` processes share a temporary inbox; 2,000 dépôts dropped while they run get
//   exactly one accusé each, every effect is stored once, codes are unique, nothing stays in .work/;
// - the same with one engine killed (SIGKILL) halfway and restarted;
// - PostgreSQL stopped while a daemon runs and started again: no dépôt lost, all answered;
// - PostgreSQL stopped over the daemon's nightly.time and started again: the run happens once it is back.
// They run only when RACCORD_TEST_BACKEND=postgresql and RACCORD_TEST_POSTGRES name a server
// (scripts/test.sh starts one). The outage tests (MultiEngineOutageTest) stop and start their server: they
// run on a server of their own, RACCORD_TEST_OUTAGE_POSTGRES with its pg_ctl command in
// RACCORD_TEST_OUTAGE_PG_CTL (scripts/test.sh starts a second one), so that the other tests, running
// beside them, never see an outage.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/database.hpp"
#include "tests/support/postgres.hpp"

extern char** environ;

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int deposit_count() {
  const char* v = std::getenv("RACCORD_MULTI_DEPOSITS");
  int n = 2000;
  if (v != nullptr) std::from_chars(v, v + std::strlen(v), n);  // a value that is no number keeps 2000
  return n;
}

class MultiEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!postgres_requested()) GTEST_SKIP() << "PostgreSQL only (RACCORD_TEST_BACKEND=postgresql)";
    if (server_.empty()) {
      auto connection = create_test_schema(schema_);
      if (!connection) GTEST_SKIP() << "RACCORD_TEST_POSTGRES n'est pas défini";
      connection_ = *connection;
    } else {
      connection_ = create_test_schema(schema_, server_);
    }
    std::string pattern = (fs::temp_directory_path() / "raccord-multi-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::ofstream ini(dir_ / "raccord.ini");
    ini << "[paths]\nroot = var\n[inbox]\nsettle_ms = 300\nrescan_s = 1\n[store]\nbackend = postgresql\n"
        << "connection = " << connection_
        << "\n"
        // A sender account (docs/accounts.md): its dépôts are taken by every engine like inbox/'s.
        << "[compte.acme]\nlogins = g.martin\n"
        // [engine] last: a test appends its own keys to it.
        << "[engine]\nenvironment = qualification\n";
    ini.close();
    ASSERT_EQ(run({"init", "--support", "support.n1"}), 0);
    // A structure with an active space, so that drafts get codes.
    drop("00_setup.xml",
         "<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"support.n1\">"
         "<Utilisateur login=\"g.martin\" email=\"g.martin@exemple.fr\"/>"
         "<Structure siret=\"12345678200010\" raisonSociale=\"ACME Logistique SAS\">"
         "<Gestionnaire login=\"g.martin\" role=\"principal\"/></Structure>"
         "<ActivationEspace demandeur=\"g.martin\" structure=\"12345678200010\"/></Depot>");
    ASSERT_EQ(run({"process"}), 0);
  }

  void TearDown() override {
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    drop_test_schema(schema_, server_);
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  fs::path inbox() const { return dir_ / "var" / "inbox"; }
  fs::path outbox() const { return dir_ / "var" / "outbox"; }

  pid_t spawn(const std::vector<std::string>& args) {
    std::vector<std::string> all{RACCORD_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    all.push_back("--config");
    all.push_back((dir_ / "raccord.ini").string());
    std::vector<char*> argv;
    argv.reserve(all.size() + 1);
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = (dir_ / ("engine-" + std::to_string(children_.size()) + ".log")).string();
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  int run(const std::vector<std::string>& args) {
    const pid_t pid = spawn(args);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  pid_t start_daemon() {
    const pid_t pid = spawn({"daemon"});
    children_.push_back(pid);
    return pid;
  }

  void stop(pid_t pid, int signal) {
    ::kill(pid, signal);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::erase(children_, pid);
    if (signal == SIGTERM) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
  }

  /// Writes under a temporary name, then renames into the inbox, or the account's folder inbox/ACCOUNT/
  /// (a complete dépôt).
  void drop(const std::string& name, const std::string& content, const std::string& account = "") {
    const fs::path dir = account.empty() ? inbox() : inbox() / account;
    const fs::path tmp = dir / ("." + name + ".part");
    fs::create_directories(dir);
    std::ofstream(tmp) << content;
    fs::rename(tmp, dir / name);
  }

  static std::string user_depot(int i) {
    return "<Depot xmlns=\"urn:raccord:depot:1\" identifiant=\"LOT-" + std::to_string(i) +
           "\" demandeur=\"support.n1\"><Utilisateur login=\"u" + std::to_string(i) + "\" email=\"u" +
           std::to_string(i) + "@exemple.fr\"/></Depot>";
  }

  static std::string draft_depot(int i) {
    return "<Depot xmlns=\"urn:raccord:depot:1\" identifiant=\"FICHE-" + std::to_string(i) +
           "\" demandeur=\"g.martin\"><FicheEDI action=\"enregistrer\" reference=\"r" + std::to_string(i) +
           "\"><Partenaire>12345678200010</Partenaire><Protocole>SFTP</Protocole></FicheEDI></Depot>";
  }

  /// Accusés by dépôt stem, in outbox/ and the account's outbox/acme/.
  std::map<std::string, int> accuses() const {
    std::map<std::string, int> by_stem;
    std::vector<fs::directory_entry> entries;
    for (const auto& dir : {outbox(), outbox() / "acme"}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e);
    }
    for (const auto& e : entries) {
      const std::string n = e.path().filename().string();
      if (n.rfind("ACK_", 0) != 0) continue;
      const auto cut = n.rfind('_', n.size() - 6);  // ACK_<stem>_<instant>[_N].xml
      std::string stem = n.substr(4, cut - 4);
      if (stem.size() > 17 && stem[stem.size() - 17] == '_' && stem.back() == 'Z') stem.resize(stem.size() - 17);
      ++by_stem[stem];
    }
    return by_stem;
  }

  bool wait_for_accuses(std::size_t n, std::chrono::seconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      if (accuses().size() >= n) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  void drop_all(int n) {
    for (int i = 1; i <= n; ++i) {
      const std::string name = "d" + std::to_string(100000 + i) + ".xml";
      // The drafts (by g.martin) come through the sender account acme.
      if (i % 10 == 0) {
        drop(name, draft_depot(i), "acme");
      } else {
        drop(name, user_depot(i));
      }
    }
  }

  void check_invariants(int n) {
    const auto by_stem = accuses();
    EXPECT_EQ(by_stem.size(), static_cast<std::size_t>(n) + 1);  // + 00_setup
    for (const auto& [stem, count] : by_stem) EXPECT_EQ(count, 1) << stem;
    EXPECT_TRUE(fs::is_empty(dir_ / "var" / "inbox" / ".work" / "acme"));
    std::size_t left = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "var" / "inbox" / ".work"))
      left += e.path().filename() != "acme";
    for (const auto& e : fs::directory_iterator(inbox())) {
      left += e.path().filename().string()[0] != '.' && e.path().filename() != "acme";
    }
    for (const auto& e : fs::directory_iterator(inbox() / "acme")) left += e.path().filename().string()[0] != '.';
    EXPECT_EQ(left, 0u);
    Database db(Backend::Postgresql, connection_);
    const int drafts = n / 10;
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM users WHERE login LIKE 'u%'")->integer(0), n - drafts);
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM sheets")->integer(0), drafts);
    EXPECT_EQ(db.query_one("SELECT COUNT(DISTINCT code_appli) FROM sheets")->integer(0), drafts);
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM deposits")->integer(0), n + 1);
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM deposits WHERE status = 'INTEGRE'")->integer(0), n + 1);
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM history")->integer(0), drafts);
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM deposits WHERE channel = 'acme'")->integer(0), drafts);
  }

  fs::path dir_;
  std::string schema_;
  std::string server_;  // empty: RACCORD_TEST_POSTGRES's server
  std::string connection_;
  std::vector<pid_t> children_;
};

TEST_F(MultiEngineTest, TwoDaemonsAnswerEveryDepositExactlyOnce) {
  const int n = deposit_count();
  const pid_t a = start_daemon();
  const pid_t b = start_daemon();
  drop_all(n);
  ASSERT_TRUE(wait_for_accuses(static_cast<std::size_t>(n) + 1, 300s));
  std::this_thread::sleep_for(1500ms);  // a late duplicate would show up now
  stop(a, SIGTERM);
  stop(b, SIGTERM);
  check_invariants(n);
}

TEST_F(MultiEngineTest, OneDaemonKilledHalfwayAndRestartedLosesAndRepeatsNothing) {
  const int n = deposit_count();
  const pid_t a = start_daemon();
  const pid_t b = start_daemon();
  drop_all(n);
  ASSERT_TRUE(wait_for_accuses(static_cast<std::size_t>(n) / 2, 300s));
  stop(a, SIGKILL);
  const pid_t a2 = start_daemon();  // recovers what `a` left in .work/
  ASSERT_TRUE(wait_for_accuses(static_cast<std::size_t>(n) + 1, 300s));
  std::this_thread::sleep_for(1500ms);
  stop(a2, SIGTERM);
  stop(b, SIGTERM);
  check_invariants(n);
}

/// Starts the test cluster again with `pg_ctl` (RACCORD_TEST_OUTAGE_PG_CTL, which holds `-l LOG`), waiting up
/// to 180 s; tries three times, since a loaded CI machine can be slow to bring it back, and prints
/// the end of the server's log when it does not come back.
bool start_postgresql(const std::string& pg_ctl) {
  for (int attempt = 1; attempt <= 3; ++attempt) {
    if (std::system((pg_ctl + " -t 180 -w start >/dev/null 2>&1").c_str()) == 0) return true;
    std::this_thread::sleep_for(2s);
  }
  const auto at = pg_ctl.find(" -l ");
  if (at != std::string::npos) {
    const std::string log = pg_ctl.substr(at + 4, pg_ctl.find(' ', at + 4) - at - 4);
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ADD_FAILURE() << "PostgreSQL ne redémarre pas ; fin de " << log << " :\n"
                  << text.substr(text.size() > 4000 ? text.size() - 4000 : 0);
  }
  return false;
}

/// The outage tests: on a server of their own (RACCORD_TEST_OUTAGE_POSTGRES), which they stop and
/// start with RACCORD_TEST_OUTAGE_PG_CTL; skipped when either is unset.
class MultiEngineOutageTest : public MultiEngineTest {
 protected:
  void SetUp() override {
    const char* server = std::getenv("RACCORD_TEST_OUTAGE_POSTGRES");
    const char* pg_ctl = std::getenv("RACCORD_TEST_OUTAGE_PG_CTL");
    if (!postgres_requested() || server == nullptr || *server == '\0' || pg_ctl == nullptr || *pg_ctl == '\0') {
      GTEST_SKIP() << "RACCORD_TEST_OUTAGE_POSTGRES et RACCORD_TEST_OUTAGE_PG_CTL : un serveur PostgreSQL "
                      "propre à ces tests, qu'ils arrêtent (scripts/test.sh en démarre un)";
    }
    server_ = server;
    pg_ctl_ = pg_ctl;
    MultiEngineTest::SetUp();
  }

  std::string pg_ctl_;
};

TEST_F(MultiEngineOutageTest, DatabaseStoppedWhileTheDaemonRunsLosesNothing) {
  const char* pg_ctl = pg_ctl_.c_str();
  const pid_t a = start_daemon();
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(std::system((std::string(pg_ctl) + " -m fast -w stop >/dev/null 2>&1").c_str()), 0);
  const int n = 30;
  drop_all(n);
  std::this_thread::sleep_for(4s);  // the daemon keeps running, retrying
  EXPECT_EQ(::kill(a, 0), 0) << "le démon s'est arrêté pendant la panne";
  ASSERT_TRUE(start_postgresql(pg_ctl));
  ASSERT_TRUE(wait_for_accuses(static_cast<std::size_t>(n) + 1, 120s));
  std::this_thread::sleep_for(1500ms);
  stop(a, SIGTERM);
  check_invariants(n);
}

TEST_F(MultiEngineOutageTest, NightlyRunDuringADatabaseOutageHappensOnceTheDatabaseIsBack) {
  // Issue item 5: PostgreSQL restarting at nightly.time; the daemon logged it and waited for the
  // next day. The run must be tried again (backoff of real time) until it is done.
  const char* pg_ctl = pg_ctl_.c_str();
  // nightly.time: the next minute at least 15 s ahead (UTC), so that it is armed for today.
  const auto at = std::chrono::ceil<std::chrono::minutes>(std::chrono::system_clock::now() + 15s);
  const auto day = std::chrono::floor<std::chrono::days>(at);
  const std::chrono::hh_mm_ss hms{at - day};
  const std::chrono::year_month_day today{day};
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(today.year()),
                static_cast<unsigned>(today.month()), static_cast<unsigned>(today.day()));
  char time[16];
  std::snprintf(time, sizeof time, "%02d:%02d", static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()));
  std::ofstream(dir_ / "raccord.ini", std::ios::app) << "timezone = UTC\n[nightly]\ntime = " << time << "\n";
  const fs::path report = outbox() / ("NIGHTLY_" + std::string(date) + ".xml");

  const pid_t a = start_daemon();
  std::this_thread::sleep_for(3s);
  ASSERT_EQ(std::system((std::string(pg_ctl) + " -m fast -w stop >/dev/null 2>&1").c_str()), 0);
  // The run instant passes while the database is down, and a few attempts fail.
  std::this_thread::sleep_until(at + 6s);
  EXPECT_FALSE(fs::exists(report));
  EXPECT_EQ(::kill(a, 0), 0) << "le démon s'est arrêté pendant la panne";
  ASSERT_TRUE(start_postgresql(pg_ctl));
  // The daemon's retries back off up to 5 min (real time): wait past one whole period, so that a
  // restart slowed by a loaded machine still sees the next attempt.
  const auto end = std::chrono::steady_clock::now() + 330s;
  while (!fs::exists(report) && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(fs::exists(report)) << "the nightly run was not tried again once PostgreSQL was back";
  Database db(Backend::Postgresql, connection_);
  EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM nightly_runs")->integer(0), 1);
  stop(a, SIGTERM);
}

}  // namespace
}  // namespace raccord::testing
