// Crash harness (issue 8, docs/reference.md §2 "Exactly once", "Atomic outputs"): the real binary is killed
// with SIGKILL at random instants, then run to completion, and the invariants are checked:
// - `raccord process` on a few hundred dépôts (user upserts, drafts that get codes, byte-identical
//   duplicates that must be DOUBLON, malformed ones that go to error/): every dépôt has exactly one
//   accusé, its effects are stored once, every original is in archive/ or error/, nothing is left
//   in inbox/ or inbox/.work/ (no temporaries anywhere), `PRAGMA integrity_check` is ok, and every
//   accusé is complete XML whose statut is the one recorded in the deposits table;
// - `raccord daemon` (inotify, start-up pass, rescan): the same dépôts dropped into inbox/ in batches
//   while it runs, SIGKILLed at random instants and restarted; a last daemon drains everything and
//   stops on SIGTERM with exit 0; then the same invariants as for `raccord process`;
// - `raccord nightly --date D` on sheets due for activation and deactivation: each transition is
//   in the history once, one ledger row, the report files are there.
// Seeded and reproducible: RACCORD_CRASH_SEED (default 20261129), RACCORD_CRASH_KILLS (default 40
// per test, 30 for the daemon: its part of the CI run stays well under a minute on 2 idle cores),
// RACCORD_CRASH_DEPOSITS (default 300); the number of kills survived is printed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/database.hpp"
#include "engine/search.hpp"
#include "tests/support/engine_fixture.hpp"

extern char** environ;

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProcessNow = "2026-11-29T10:00:00Z";

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? static_cast<int>(std::strtol(v, nullptr, 10)) : fallback;
}

std::uint32_t seed() {
  return static_cast<std::uint32_t>(env_int("RACCORD_CRASH_SEED", 20261129));
}
int kills_wanted() {
  return env_int("RACCORD_CRASH_KILLS", 40);
}
int deposits_wanted() {
  return env_int("RACCORD_CRASH_DEPOSITS", 300);
}

int daemon_kills_wanted() {
  return env_int("RACCORD_CRASH_KILLS", 30);
}

/// Polls `condition` every 50 ms until it holds or `deadline` (real time) has passed.
bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return true;
}

/// The dépôts of the process and daemon harnesses and what each must become.
struct Workload {
  /// (name, content) in drop order: originals "aNNNN.xml" in numbering order, each byte-identical
  /// copy "zNNNN.xml" right after its original (so it is always taken after it: DOUBLON).
  std::vector<std::pair<std::string, std::string>> files;
  std::map<std::string, std::string> expected_status;  // stem -> statut
  std::set<std::string> to_error;                      // stems whose original goes to error/
  int users = 0, drafts = 0, malformed = 0, duplicates = 0;
};

/// Regular files directly in `dir` (recursively when `recursive`), names only.
std::vector<std::string> names_in(const fs::path& dir, bool recursive = false) {
  std::vector<std::string> out;
  std::error_code ec;
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file()) out.push_back(it->path().filename().string());
    }
  } else {
    for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  }
  return out;
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (postgres_requested()) GTEST_SKIP() << "SQLite store only (the multi-engine tests cover PostgreSQL)";
    std::string pattern = (fs::temp_directory_path() / "raccord-crash-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    TestPki::instance().write_trust_dir(dir_ / "trust");
    std::ofstream ini(dir_ / "raccord.ini");
    ini << "[paths]\nroot = var\n[inbox]\nsettle_ms = 0\n[certificates]\ntrust_dir = trust\n"
        << "[engine]\nenvironment = qualification\n";
    ini.close();
    ASSERT_EQ(run({"init", "--support", kSupport}), 0);
    rng_.seed(seed());
  }

  void TearDown() override {
    if (!HasFailure() && !dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    } else if (!dir_.empty()) {
      std::cout << "répertoire conservé pour examen : " << dir_ << " (graine " << seed() << ")\n";
    }
  }

  fs::path root() const { return dir_ / "var"; }
  fs::path inbox() const { return root() / "inbox"; }
  fs::path work() const { return inbox() / ".work"; }
  fs::path outbox() const { return root() / "outbox"; }
  fs::path store_path() const { return root() / "raccord.db"; }

  pid_t spawn(const std::vector<std::string>& args, const std::string& now = kProcessNow) {
    std::vector<std::string> all{RACCORD_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    all.insert(all.end(), {"--now", now, "--config", (dir_ / "raccord.ini").string()});
    std::vector<char*> argv;
    argv.reserve(all.size() + 1);
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = (dir_ / "engine.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
    // The caller's environment, but info-level logs (the recovery counts and the daemon's start-up
    // line are read from them) and no systemd notification or watchdog variables.
    std::vector<std::string> env{"RACCORD_LOG_LEVEL=info"};
    if (!kill_at_.empty()) env.push_back("RACCORD_TEST_KILL_AT=" + kill_at_);
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view v(*e);
      if (v.rfind("RACCORD_LOG_LEVEL=", 0) == 0 || v.rfind("NOTIFY_SOCKET=", 0) == 0 || v.rfind("WATCHDOG_", 0) == 0 ||
          v.rfind("RACCORD_TEST_KILL_AT=", 0) == 0) {
        continue;
      }
      env.emplace_back(v);
    }
    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  /// Runs to completion and sets startup_ms_ to its real duration (the window the kills cover is
  /// 0 .. startup_ms_ + 150 ms, so they land in the work too on a loaded machine).
  int timed_run(const std::vector<std::string>& args) {
    const auto start = std::chrono::steady_clock::now();
    const int code = run(args);
    startup_ms_ = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    return code;
  }

  /// Runs to completion; the exit code (-1 when killed by a signal).
  int run(const std::vector<std::string>& args, const std::string& now = kProcessNow) {
    const pid_t pid = spawn(args, now);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  /// Spawns `args`, sleeps a random 0..max_ms ms, SIGKILLs it. True when the kill landed (the
  /// process had not exited by itself); false when it had already finished (exit code checked).
  bool run_and_kill(const std::vector<std::string>& args, int max_ms, const std::string& now = kProcessNow) {
    std::uniform_int_distribution<int> delay(0, max_ms);
    const int ms = delay(rng_);
    const pid_t pid = spawn(args, now);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return true;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "après " << ms << " ms, statut " << status;
    return false;
  }

  /// Writes under a hidden temporary name, then renames into the inbox (a complete dépôt).
  void drop(const std::string& name, const std::string& content) { drop_file(inbox(), name, content); }

  /// Hidden files (temporaries) anywhere under the root, except the store's own files.
  std::vector<std::string> temporaries() const {
    std::vector<std::string> out;
    for (const fs::path& d : {inbox(), work(), outbox(), root() / "error", root() / "archive"}) {
      for (const auto& n : names_in(d, d == root() / "archive")) {
        if (!n.empty() && n[0] == '.' && n != ".work") out.push_back((d.filename() / n).string());
      }
    }
    return out;
  }

  /// Accusés named ACK_<stem>_* in outbox/.
  std::map<std::string, int> accuses_by_stem(const std::set<std::string>& stems) const {
    std::map<std::string, int> by_stem;
    for (const auto& n : names_in(outbox())) {
      if (n.rfind("ACK_", 0) != 0) continue;
      // Stems all have the same length (fixed-width numbering): no stem is a prefix of another.
      bool matched = false;
      for (const auto& s : stems) {
        if (n.rfind("ACK_" + s + "_", 0) == 0) {
          ++by_stem[s];
          matched = true;
          break;
        }
      }
      EXPECT_TRUE(matched) << "accusé sans dépôt : " << n;
    }
    return by_stem;
  }

  /// True when inbox/ holds nothing but .work/ and .work/ is empty (every dépôt answered).
  bool drained() const { return names_in(inbox()) == std::vector<std::string>{".work"} && fs::is_empty(work()); }

  /// The exactly-once invariants after the last run over `workload` (plus the referential
  /// a0000.xml): nothing left behind and no temporaries; one accusé per dépôt; every original once
  /// in archive/ or error/; the store sound with each effect once; every accusé whole and saying
  /// what the store says (docs/reference.md §2, §5.1).
  void check_deposit_invariants(const Workload& workload) {
    // Nothing left behind, no temporaries anywhere.
    EXPECT_EQ(names_in(inbox()), std::vector<std::string>{".work"});
    EXPECT_TRUE(fs::is_empty(work()));
    EXPECT_EQ(temporaries(), std::vector<std::string>{});

    // One accusé per dépôt.
    std::set<std::string> stems{"a0000"};
    for (const auto& [stem, status] : workload.expected_status) stems.insert(stem);
    const auto by_stem = accuses_by_stem(stems);
    EXPECT_EQ(by_stem.size(), stems.size());
    for (const auto& stem : stems) {
      const auto it = by_stem.find(stem);
      EXPECT_EQ(it == by_stem.end() ? 0 : it->second, 1) << stem;
    }

    // Every original kept once: in error/ for the malformed ones, in archive/ for the others.
    std::multiset<std::string> archived, quarantined;
    for (const auto& f : names_in(root() / "archive", true)) archived.insert(f);
    for (const auto& f : names_in(root() / "error")) {
      if (!f.ends_with(".reason.txt")) quarantined.insert(f);
    }
    for (const auto& stem : stems) {
      const bool error = workload.to_error.contains(stem);
      EXPECT_EQ(archived.count(stem + ".xml"), error ? 0u : 1u) << stem;
      EXPECT_EQ(quarantined.count(stem + ".xml"), error ? 1u : 0u) << stem;
    }
    EXPECT_EQ(archived.size() + quarantined.size(), stems.size());

    // The store: sound, effects once.
    Database db(Backend::Sqlite, store_path().string());
    EXPECT_EQ(db.query_one("PRAGMA integrity_check")->text(0), "ok");
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM users WHERE login LIKE 'u%'")->integer(0), workload.users);
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM sheets")->integer(0), workload.drafts);
    EXPECT_EQ(db.query_one("SELECT COUNT(DISTINCT code_appli) FROM sheets")->integer(0), workload.drafts);
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM history")->integer(0), workload.drafts);
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM deposits")->integer(0), static_cast<std::int64_t>(stems.size()));
    EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM deposits WHERE status = 'DOUBLON'")->integer(0), workload.duplicates);

    // Every accusé whole, and saying what the store says.
    int checked = 0;
    for (const auto& name : names_in(outbox())) {
      if (name.rfind("ACK_", 0) != 0) continue;
      const ParsedAck ack = parse_ack(read_file(outbox() / name), name);
      const auto row = db.query_one("SELECT status, file_name FROM deposits WHERE ack_name = $1", {name});
      ASSERT_TRUE(row.has_value()) << "accusé absent du store : " << name;
      EXPECT_EQ(ack.statut, row->text(0)) << name;
      const std::string stem = row->text(1).substr(0, row->text(1).size() - 4);
      if (stem != "a0000") {
        const auto it = workload.expected_status.find(stem);
        EXPECT_EQ(ack.statut, it == workload.expected_status.end() ? std::string("?") : it->second) << name;
      }
      if (ack.statut == "DOUBLON") {
        EXPECT_FALSE(ack.original.empty()) << name;
      }
      ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(stems.size()));
  }

  fs::path dir_;
  std::mt19937 rng_;
  int startup_ms_ = 0;
  std::string kill_at_;  // RACCORD_TEST_KILL_AT of the processes spawned (engine/engine.cpp crash_point)
};

/// Occurrences of `needle` in `text` (log lines of the engine's recovery paths).
int occurrences(const std::string& text, const std::string& needle) {
  int count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

std::string numbered(const std::string& prefix, int i) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d", i);
  return prefix + buffer;
}

std::string user_depot(int i) {
  return depot_xml(user_xml(numbered("u", i)), "identifiant=\"" + numbered("LOT-", i) + "\"");
}

std::string draft_depot(int i) {
  return depot_xml("  <FicheEDI demandeur=\"g.martin\" action=\"enregistrer\" reference=\"" + numbered("r", i) +
                       "\"><Partenaire>12345678200010</Partenaire><Protocole>SFTP</Protocole></FicheEDI>\n",
                   "identifiant=\"" + numbered("FICHE-", i) + "\"");
}

/// The referential: the gestionnaire, ACME with its space active (drafts get codes).
std::string referential_depot() {
  return depot_xml(user_xml(kManager) + structure_xml(StructureSpec{}) + activation_xml(kManager, kAcme),
                   "identifiant=\"REF-0001\"");
}

/// `n` numbered dépôts: user upserts, drafts that get codes (every 5th), malformed ones that go to
/// error/ (every 25th), and byte-identical copies of earlier applied ones (DOUBLON).
Workload make_workload(int n) {
  Workload w;
  std::map<int, std::string> applied_content;
  std::vector<std::pair<std::string, std::string>> originals;
  for (int i = 1; i <= n; ++i) {
    const std::string stem = numbered("a", i);
    std::string content;
    if (i % 25 == 0) {
      content = i % 50 == 0 ? "<?xml version=\"1.0\"?>\n<Depot xmlns=\"urn:raccord:depot:1\"><Utilisateur"
                            : "<Autre xmlns=\"urn:raccord:depot:1\"/>";
      ++w.malformed;
      w.expected_status[stem] = "REJETE";
      w.to_error.insert(stem);
    } else if (i % 5 == 0) {
      content = draft_depot(i);
      ++w.drafts;
      w.expected_status[stem] = "INTEGRE";
      applied_content[i] = content;
    } else {
      content = user_depot(i);
      ++w.users;
      w.expected_status[stem] = "INTEGRE";
      applied_content[i] = content;
    }
    originals.emplace_back(stem + ".xml", content);
  }
  std::map<int, std::string> copy_after;  // original's number -> copy's stem
  for (int i = 7; i <= n; i += 37) {
    const auto it = applied_content.lower_bound(i);
    if (it == applied_content.end()) break;
    copy_after[it->first] = numbered("z", i);
    w.expected_status[numbered("z", i)] = "DOUBLON";
    ++w.duplicates;
  }
  for (int i = 1; i <= n; ++i) {
    w.files.push_back(originals[static_cast<std::size_t>(i - 1)]);
    const auto copy = copy_after.find(i);
    if (copy != copy_after.end()) w.files.emplace_back(copy->second + ".xml", applied_content[i]);
  }
  return w;
}

TEST_F(CrashTest, ProcessKilledAtRandomInstantsAnswersEveryDepositExactlyOnce) {
  drop("a0000.xml", referential_depot());
  ASSERT_EQ(timed_run({"process"}), 0);
  const Workload workload = make_workload(deposits_wanted());
  ASSERT_GT(workload.drafts, 0);
  ASSERT_GT(workload.duplicates, 0);
  for (const auto& [name, content] : workload.files) drop(name, content);

  // Kill, again and again, while there is work left.
  const int wanted = kills_wanted();
  int kills = 0, runs = 0;
  while (kills < wanted && runs < 4 * wanted) {
    ++runs;
    if (run_and_kill({"process"}, startup_ms_ + 150)) ++kills;
    if (drained()) break;
  }
  const std::size_t left = names_in(inbox()).size() - 1 + names_in(work()).size();
  ASSERT_EQ(run({"process"}), 0);
  const std::string log = read_file(dir_ / "engine.log");
  std::cout << "raccord process : " << kills << " SIGKILL survécus en " << runs << " lancements (graine " << seed()
            << ", fenêtre 0.." << startup_ms_ + 150 << " ms, " << workload.expected_status.size() << " dépôts, " << left
            << " encore en attente avant le dernier passage ; " << occurrences(log, "reprise après interruption")
            << " reprises depuis .work/, " << occurrences(log, "déjà traité avant une interruption")
            << " accusés repris du store)\n";
  check_deposit_invariants(workload);
}

/// The value of attribute `name` of the first element carrying it in `xml` ("" when absent).
std::string attribute(const std::string& xml, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const auto at = xml.find(key);
  if (at == std::string::npos) return {};
  const auto begin = at + key.size();
  return xml.substr(begin, xml.find('"', begin) - begin);
}

// Regression (hostile finding 7): a SIGKILL right after a Recherche's export is written and before its
// dépôt commits left, after restart, the orphan export and a second one "_2" named by the accusé. Killed
// at each instant around the commit (export staged, committed, export published; RACCORD_TEST_KILL_AT),
// then run again: one export per request, the one its accusé names, with the rows of the search, and
// no temporary left. Two requests with the same reference in one group, then a third in a later pass.
TEST_F(CrashTest, RechercheKilledAroundItsCommitLeavesOneExportNamedByItsAccuse) {
  SheetSpec sheet = sftp_sheet();
  sheet.demandeur = kManager;
  sheet.action = "enregistrer";
  sheet.reference = "r1";
  drop("a0000.xml", depot_xml(user_xml(kManager) + structure_xml(StructureSpec{}) + activation_xml(kManager, kAcme) +
                              sheet_xml(sheet)));
  ASSERT_EQ(run({"process"}), 0);
  int n = 0;
  for (const std::string point : {"before-commit", "after-commit", "after-exports"}) {
    const std::string reference = "req-" + point;
    const std::string search = "  <Recherche demandeur=\"support.n1\" type=\"EDI\" reference=\"" + reference + "\"/>\n";
    std::vector<std::string> stems;
    for (int i = 0; i < 2; ++i) {  // one group: two dépôts, the same reference
      stems.push_back(numbered("s", ++n));
      drop(stems.back() + ".xml", depot_xml(user_xml(numbered("u", n)) + search));
    }
    kill_at_ = point;
    EXPECT_EQ(run({"process"}), -1) << point << " : le processus devait être tué à cet instant";
    kill_at_.clear();
    ASSERT_EQ(run({"process"}), 0) << point;
    stems.push_back(numbered("s", ++n));  // the same request again, in a later pass
    drop(stems.back() + ".xml", depot_xml(user_xml(numbered("u", n)) + search));
    ASSERT_EQ(run({"process"}), 0) << point;

    std::set<std::string> exports;
    for (const auto& f : names_in(outbox())) {
      if (f.starts_with("EXPORT_EDI_" + reference + "_")) exports.insert(f);
    }
    std::set<std::string> named;
    for (const auto& stem : stems) {
      std::vector<std::string> acks;
      for (const auto& f : names_in(outbox())) {
        if (f.starts_with("ACK_" + stem + "_")) acks.push_back(f);
      }
      ASSERT_EQ(acks.size(), 1u) << point << " " << stem;
      const std::string xml = read_file(outbox() / acks.front());
      EXPECT_EQ(attribute(xml, "statut"), "INTEGRE") << point << " " << stem;
      const std::string export_name = attribute(xml, "export");
      ASSERT_TRUE(exports.contains(export_name)) << point << " " << stem << " : " << export_name;
      EXPECT_TRUE(named.insert(export_name).second) << export_name;
      // The bytes of the same search written now (the store has not changed since).
      Database db(Backend::Sqlite, store_path().string());
      const fs::path scratch = dir_ / "attendu";
      fs::create_directories(scratch);
      SearchCriteria criteria;
      criteria.kind = SheetKind::Edi;
      const std::string expected = write_export(db, CivilZone("Europe/Paris"), criteria, kSupport, ExportFormat::Csv,
                                                reference, instant(attribute(xml, "traite")), scratch);
      const std::string bytes = read_file(outbox() / export_name);
      EXPECT_EQ(bytes, read_file(scratch / expected)) << point << " " << export_name;
      EXPECT_NE(bytes.find("ACME"), std::string::npos) << bytes;
      fs::remove_all(scratch);
    }
    EXPECT_EQ(exports, named) << point << " : un export qu'aucun accusé ne nomme";
    EXPECT_EQ(exports.size(), 3u) << point;
  }
  EXPECT_EQ(temporaries(), std::vector<std::string>{});
  EXPECT_TRUE(drained());
}

// Signed dépôts (docs/accounts.md "After a crash"): killed between the claim's two renames (the .p7s still
// in inbox/signe/), after the commit (both in .work/signe/) and between the two moves out of .work/ (the
// dépôt in archive/ or error/, its .p7s not yet), then run again: one accusé per dépôt, the dépôt and its
// .p7s once each under the same final name, nothing left in inbox/signe/ nor .work/signe/. Killed between
// the two moves, the destination note is one symbolic link naming the dépôt's destination (made whole by
// one symlink(2)); the same crash with the note as a file of the version before (an upgrade over the
// leftovers) ends the same way.
TEST_F(CrashTest, SignedDepotKilledBetweenItsTwoRenamesOrItsTwoMovesEndsOnceWithItsSignatureBeside) {
  const TestSigner signer = TestPki::instance().signer({.common_name = "signature.exemple.fr"});
  std::ofstream(dir_ / "signataires.pem") << signer.pem();
  fs::permissions(dir_ / "signataires.pem", fs::perms(0640));
  std::ofstream(dir_ / "raccord.ini", std::ios::app)
      << "[compte.signe]\nlogins = " << kSupport << "\nsignature = obligatoire\nsignataires = signataires.pem\n";
  ASSERT_EQ(run({"init"}), 0);
  const fs::path signed_inbox = inbox() / "signe";
  struct Case {
    std::string point;
    bool valid;             // else its signature is over other bytes: SIGNATURE_INVALIDE, to error/
    bool old_note = false;  // the note left by the kill rewritten as the previous version's file
  };
  int n = 0;
  for (const Case& c : {Case{"between-claim-renames", true}, Case{"after-commit", true},
                        Case{"between-signature-moves", true}, Case{"between-signature-moves", false},
                        Case{"between-signature-moves", true, true}, Case{"between-signature-moves", false, true}}) {
    const std::string stem = numbered("sig", ++n);
    const std::string xml = depot_xml(user_xml(numbered("u", n)), "identifiant=\"" + stem + "\"");
    const std::string p7s = signer.sign(c.valid ? xml : xml + " ");
    drop_file(signed_inbox, stem + ".xml.p7s", p7s);
    drop_file(signed_inbox, stem + ".xml", xml);
    kill_at_ = c.point;
    EXPECT_EQ(run({"process"}), -1) << c.point << " : le processus devait être tué à cet instant";
    kill_at_.clear();
    if (c.point == "between-signature-moves") {
      const fs::path note = work() / "signe" / ("." + stem + ".xml.destination");
      ASSERT_EQ(fs::symlink_status(note).type(), fs::file_type::symlink) << stem;
      const fs::path destination = fs::read_symlink(note);
      EXPECT_EQ(read_file(root() / destination), xml) << destination;  // the dépôt is there already
      std::vector<std::string> left = names_in(work() / "signe");
      std::sort(left.begin(), left.end());
      EXPECT_EQ(left, (std::vector<std::string>{"." + stem + ".xml.destination", stem + ".xml.p7s"})) << c.point;
      if (c.old_note) {
        fs::remove(note);
        std::ofstream(note) << destination.string() << "\n";
      }
    }
    ASSERT_EQ(run({"process"}), 0) << c.point;
    std::vector<std::string> acks;
    for (const auto& f : names_in(outbox() / "signe")) {
      if (f.starts_with("ACK_" + stem + "_")) acks.push_back(f);
    }
    ASSERT_EQ(acks.size(), 1u) << c.point << " " << stem;
    const std::string ack = read_file(outbox() / "signe" / acks.front());
    EXPECT_EQ(attribute(ack, "statut"), c.valid ? "INTEGRE" : "REJETE") << c.point << "\n" << ack;
    std::vector<fs::path> kept;
    for (const auto& e : fs::recursive_directory_iterator(root())) {
      const std::string name = e.path().filename().string();
      if (e.is_regular_file() && name.starts_with(stem + ".xml") && !name.ends_with(".reason.txt"))
        kept.push_back(e.path());
    }
    std::sort(kept.begin(), kept.end());
    ASSERT_EQ(kept.size(), 2u) << c.point << " " << stem;
    const fs::path where =
        c.valid ? kept[0].parent_path().parent_path().parent_path().parent_path() : kept[0].parent_path();
    EXPECT_EQ(where.filename(), c.valid ? "archive" : "error") << kept[0];
    EXPECT_EQ(kept[0].filename(), stem + ".xml") << c.point;
    EXPECT_EQ(kept[1], kept[0].string() + ".p7s") << c.point;
    EXPECT_EQ(read_file(kept[0]), xml);
    EXPECT_EQ(read_file(kept[1]), p7s);
    EXPECT_EQ(names_in(signed_inbox), std::vector<std::string>{}) << c.point;
    EXPECT_EQ(names_in(work() / "signe"), std::vector<std::string>{}) << c.point;
  }
}

TEST_F(CrashTest, DaemonKilledAtRandomInstantsAnswersEveryDepositExactlyOnce) {
  // The daemon (inotify + start-up pass + periodic rescan) is started on the store, the dépôts are
  // dropped into inbox/ in batches of random size while it runs, and it is SIGKILLed at a random
  // instant of each run (start-up, claim, commit, accusé, archive or idle), then restarted. A final
  // daemon drains what is left and stops on SIGTERM (exit 0). Same invariants as `process`.
  drop("a0000.xml", referential_depot());
  ASSERT_EQ(timed_run({"process"}), 0);
  const Workload workload = make_workload(deposits_wanted());
  ASSERT_GT(workload.drafts, 0);
  ASSERT_GT(workload.duplicates, 0);
  const int wanted = daemon_kills_wanted();
  const int window = startup_ms_ + 250;
  const std::size_t average = workload.files.size() / static_cast<std::size_t>(std::max(wanted, 1)) + 1;
  std::uniform_int_distribution<std::size_t> batch_size(0, 2 * average);
  std::uniform_int_distribution<int> delay(0, window);
  std::size_t next = 0;
  int kills = 0, runs = 0;
  while (kills < wanted && runs < 2 * wanted) {
    ++runs;
    const pid_t pid = spawn({"daemon"});
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng_) / 2));
    for (std::size_t end = std::min(workload.files.size(), next + batch_size(rng_)); next < end; ++next) {
      drop(workload.files[next].first, workload.files[next].second);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng_)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++kills;
    } else {
      ADD_FAILURE() << "le démon s'est arrêté de lui-même, statut " << status << "\n" << read_file(dir_ / "engine.log");
    }
  }
  const std::size_t dropped_while_killing = next;
  for (; next < workload.files.size(); ++next) drop(workload.files[next].first, workload.files[next].second);
  const std::size_t left = names_in(inbox()).size() - 1 + names_in(work()).size();

  // The last daemon drains everything (a generous deadline, never a timing assertion), then stops.
  // Ready = its start-up pass is over and its nightly timer armed (the log line below); a SIGTERM
  // before the daemon has installed its handlers would kill it like any process.
  constexpr const char* kReady = "prochaine exécution nocturne";
  const int ready_before = occurrences(read_file(dir_ / "engine.log"), kReady);
  const pid_t last = spawn({"daemon"});
  ASSERT_GT(last, 0);
  const bool done =
      eventually([&] { return occurrences(read_file(dir_ / "engine.log"), kReady) > ready_before && drained(); },
                 std::chrono::seconds{240});
  ::kill(last, SIGTERM);
  int status = 0;
  const bool exited = eventually([&] { return ::waitpid(last, &status, WNOHANG) == last; }, std::chrono::seconds{60});
  if (!exited) {
    ::kill(last, SIGKILL);
    ::waitpid(last, &status, 0);
  }
  ASSERT_TRUE(done) << "le dernier démon n'a pas démarré ou pas vidé inbox/ : "
                    << ::testing::PrintToString(names_in(inbox()))
                    << " .work/ : " << ::testing::PrintToString(names_in(work()));
  ASSERT_TRUE(exited) << "le démon ne s'est pas arrêté sur SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "statut " << status;

  const std::string log = read_file(dir_ / "engine.log");
  std::cout << "raccord daemon : " << kills << " SIGKILL survécus en " << runs << " lancements (graine " << seed()
            << ", fenêtre 0.." << window << " ms, " << workload.expected_status.size() << " dépôts dont "
            << dropped_while_killing << " déposés pendant les arrêts brutaux, " << left
            << " encore en attente avant le dernier démon ; " << occurrences(log, "reprise après interruption")
            << " reprises depuis .work/, " << occurrences(log, "déjà traité avant une interruption")
            << " accusés repris du store)\n";
  check_deposit_invariants(workload);
}

TEST_F(CrashTest, NightlyKilledAtRandomInstantsMakesEachTransitionOnce) {
  // Sheets submitted with valid certificates (to activate on D), and a few ACTIVEE ones whose
  // period ended (to deactivate on D).
  drop("a0000.xml", referential_depot());
  ASSERT_EQ(timed_run({"process"}), 0);
  const int per_depot = 20, depots = 4;
  for (int d = 0; d < depots; ++d) {
    std::string operations;
    for (int k = 0; k < per_depot; ++k) {
      SheetSpec s = sftp_sheet();
      s.demandeur = kManager;
      s.reference = numbered("s", d * per_depot + k);
      operations += sheet_xml(s);
    }
    drop(numbered("b", d) + ".xml", depot_xml(operations, "identifiant=\"" + numbered("SOUM-", d) + "\""));
  }
  ASSERT_EQ(run({"process"}), 0);
  const int sheets = per_depot * depots;
  const int expiring = 10;
  {
    Database db(Backend::Sqlite, store_path().string());
    ASSERT_EQ(db.query_one("SELECT COUNT(*) FROM sheets WHERE state = 'ENVOYEE'")->integer(0), sheets)
        << read_file(dir_ / "engine.log");
    Transaction tx(db);
    db.execute(
        "UPDATE sheets SET state = 'ACTIVEE', active_version = pending_version, pending_version = NULL WHERE "
        "code_appli IN (SELECT code_appli FROM sheets ORDER BY code_appli LIMIT $1)",
        {static_cast<std::int64_t>(expiring)});
    db.execute(
        "UPDATE sheet_versions SET period_to = '2026-11-30' WHERE id IN (SELECT active_version FROM sheets "
        "WHERE state = 'ACTIVEE')");
    tx.commit();
  }
  const std::int64_t history_before = [&] {
    Database db(Backend::Sqlite, store_path().string());
    return db.query_one("SELECT COUNT(*) FROM history")->integer(0);
  }();

  const std::string now = "2026-12-02T12:00:00Z";
  const std::vector<std::string> args{"nightly", "--date", "2026-12-02"};
  const int wanted = kills_wanted();
  int kills = 0, runs = 0;
  while (kills < wanted && runs < 4 * wanted) {
    ++runs;
    if (run_and_kill(args, 150, now)) {
      ++kills;
    } else {
      break;  // it ran to the end by itself: nothing left to interrupt
    }
  }
  const bool committed_before = [&] {
    Database db(Backend::Sqlite, store_path().string());
    return db.query_one("SELECT COUNT(*) FROM nightly_runs")->integer(0) == 1;
  }();
  ASSERT_EQ(run(args, now), 0);
  std::cout << "raccord nightly : " << kills << " SIGKILL survécus en " << runs << " lancements (graine " << seed()
            << ", " << sheets << " fiches ; nuit " << (committed_before ? "déjà enregistrée" : "pas encore enregistrée")
            << " avant le dernier lancement)\n";

  Database db(Backend::Sqlite, store_path().string());
  EXPECT_EQ(db.query_one("PRAGMA integrity_check")->text(0), "ok");
  EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM nightly_runs")->integer(0), 1);
  EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM history")->integer(0) - history_before, sheets);
  EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM history WHERE actor = 'nightly'")->integer(0), sheets);
  EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM (SELECT code_appli FROM history WHERE actor = 'nightly' GROUP BY "
                         "code_appli HAVING COUNT(*) > 1) AS twice")
                ->integer(0),
            0);
  EXPECT_EQ(db.query_one("SELECT COUNT(*) FROM sheets WHERE state = 'ACTIVEE'")->integer(0), sheets - expiring);
  EXPECT_EQ(
      db.query_one("SELECT COUNT(*) FROM sheets WHERE state NOT IN ('ACTIVEE', 'ENVOYEE', 'ENVOYEE_MAJ')")->integer(0),
      expiring);
  const auto ledger = db.query_one("SELECT activations, deactivations FROM nightly_runs");
  ASSERT_TRUE(ledger.has_value());
  EXPECT_EQ(ledger->integer(0), sheets - expiring);
  EXPECT_EQ(ledger->integer(1), expiring);
  for (const char* ext : {"xml", "csv", "html"}) {
    EXPECT_TRUE(fs::is_regular_file(outbox() / (std::string("NIGHTLY_2026-12-02.") + ext))) << ext;
  }
  EXPECT_TRUE(fs::is_empty(work()));
  EXPECT_EQ(temporaries(), std::vector<std::string>{});
}

}  // namespace
}  // namespace raccord::testing
