// Memory running out while a dépôt is answered, through the real binary (issue 20; docs/reference.md §2
// "Exactly once", §5.1 "an accusé is always well-formed and always the one recorded"):
// - an allocation failure injected at the Nth allocation-heavy step (RACCORD_TEST_FAIL_ALLOC_AT,
//   domain/allocation_fault.hpp: reader, rules, accusé, export, record), N swept over every step
//   of a pass (a sample in CI; every one with RACCORD_TEST_ALLOC_SWEEP=full, which
//   `scripts/test.sh --full-alloc-sweep` sets), is never swallowed: `raccord
//   process` exits 1, nothing is committed (the store's counts), no accusé and no export is
//   written, the dépôt stays in inbox/.work/; the next pass answers it once, with a well-formed
//   accusé that is the recorded one. Before issue 20, a failure while the accusé was rendered was
//   swallowed by the stream it was written to: the transaction committed a cut accusé, exit 0.
// - under an address-space limit (RLIMIT_AS, as `ulimit -v`) lowered step by step, every pass either
//   answers the dépôt whole or fails with exit 1 leaving it for the next pass, which answers it once
//   (real allocation failures, anywhere: in expat and pugixml too, which report them as a status).
//   Not under AddressSanitizer, which reserves terabytes of address space.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/database.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/files.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProcessNow = "2026-11-29T10:00:00Z";

/// `count` user upserts then a Recherche with its CSV export, all by the support user.
std::string users_and_search(int count, const std::string& prefix) {
  std::string ops;
  for (int i = 0; i < count; ++i) ops += user_xml(prefix + std::to_string(i));
  ops += R"(  <Recherche demandeur="support.n1" type="EDI" format="csv" reference="r-)" + prefix + "\"/>\n";
  return depot_xml(ops, R"(mode="partielle")");
}

class AllocationFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (postgres_requested()) GTEST_SKIP() << "SQLite store only: the answer path is the same on PostgreSQL";
    std::string pattern = (fs::temp_directory_path() / "raccord-alloc-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    TestPki::instance().write_trust_dir(dir_ / "trust");
    std::ofstream ini(dir_ / "raccord.ini");
    ini << "[paths]\nroot = var\n[inbox]\nsettle_ms = 0\n[certificates]\ntrust_dir = trust\n"
        << "[engine]\nenvironment = qualification\n";
    ini.close();
    ASSERT_EQ(raccord({"init", "--support", kSupport}).exit_code, 0) << log();
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
    if (HasFailure()) std::cout << "répertoire conservé pour examen : " << dir_ << "\n";
  }

  ChildRun raccord(std::vector<std::string> args, const std::vector<std::string>& env = {},
                   std::optional<rlim_t> address_space = std::nullopt) {
    args.insert(args.end(), {"--config", (dir_ / "raccord.ini").string(), "--now", kProcessNow});
    return run_raccord(args, dir_, dir_ / "engine.log", env, address_space);
  }
  std::string log() const { return read_file(dir_ / "engine.log"); }

  fs::path root() const { return dir_ / "var"; }
  fs::path inbox() const { return root() / "inbox"; }
  fs::path work() const { return inbox() / ".work"; }
  fs::path outbox() const { return root() / "outbox"; }

  std::int64_t count(const std::string& sql) {
    Database db(Backend::Sqlite, (root() / "raccord.db").string());
    const auto row = db.query_one(sql);
    return row ? row->integer(0) : -1;
  }
  /// Names in outbox/ starting with `prefix` (hidden temporaries included when prefix is ".").
  std::vector<std::string> outbox_files(const std::string& prefix) const { return entry_names(outbox(), prefix); }

  /// Nothing of a failed pass is visible: no accusé, no export, no temporary in outbox/, no
  /// dépôt recorded, the users not created, every dropped file still in .work/.
  void expect_nothing_committed(const std::vector<std::string>& names, const std::string& what) {
    EXPECT_EQ(count("SELECT COUNT(*) FROM deposits"), 0) << what;
    EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login <> 'support.n1'"), 0) << what;
    EXPECT_EQ(count("SELECT COUNT(*) FROM exports"), 0) << what;
    EXPECT_TRUE(outbox_files("ACK_").empty()) << what;
    EXPECT_TRUE(outbox_files("EXPORT_").empty()) << what;
    EXPECT_TRUE(outbox_files(".").empty()) << what << ": temporaries left";
    for (const auto& name : names) EXPECT_TRUE(fs::exists(work() / name)) << what << ": " << name;
  }

  /// After a clean pass: each dropped file answered once, by a well-formed accusé equal to the
  /// recorded one, its effects applied once, its original archived, nothing left in .work/.
  void expect_answered_once(const std::vector<std::string>& names, int users_each, const std::string& what) {
    const auto accuses = outbox_files("ACK_");
    EXPECT_EQ(accuses.size(), names.size()) << what;
    Database db(Backend::Sqlite, (root() / "raccord.db").string());
    for (const auto& ack : accuses) {
      const std::string xml = read_file(outbox() / ack);
      EXPECT_EQ(xmllint_text(xml, xsd_path("accuse.xsd")).status, 0) << what << ": " << ack;
      const auto stored = db.query_one("SELECT ack_content, status FROM deposits WHERE ack_name = $1", {ack});
      ASSERT_TRUE(stored.has_value()) << what << ": " << ack;
      EXPECT_TRUE(stored->text(0) == xml) << what << ": the accusé written is not the one recorded";
      EXPECT_EQ(parse_ack(xml, ack).statut, stored->text(1)) << what;
    }
    EXPECT_EQ(count("SELECT COUNT(*) FROM deposits"), static_cast<std::int64_t>(names.size())) << what;
    EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login <> 'support.n1'"),
              static_cast<std::int64_t>(users_each * names.size()))
        << what;
    EXPECT_TRUE(entry_names(work()).empty()) << what;
    EXPECT_TRUE(outbox_files(".").empty()) << what << ": temporaries left";
  }

  fs::path dir_;
};

/// The fixed inbox of the sweep: one dépôt of each kind of answer, processed as one group.
std::vector<std::pair<std::string, std::string>> sweep_inbox() {
  std::string many_attributes = R"(<Utilisateur demandeur="support.n1" login="attrs" email="a@exemple.fr")";
  for (int i = 0; i < 1100; ++i) many_attributes += " x" + std::to_string(i) + "=\"1\"";
  many_attributes += "/>\n";
  const std::string partial = users_and_search(3, "a");
  return {
      {"a.xml", partial},  // INTEGRE: three users and a Recherche with its export
      {"b.xml", depot_xml(user_xml("b0") + user_xml("b1") + "<Inconnue/>\n", R"(mode="complete")")},  // rolled back
      {"c.xml", "<Depot xmlns=\"urn:raccord:depot:1\"><Utilisateur></Depot>"},  // XML_MALFORME, to error/
      {"d.xml", depot_xml(many_attributes, R"(mode="partielle")")},             // 1,100 findings: 100 omitted
      {"e.xml", partial},                                                       // DOUBLON of a.xml
  };
}

/// What a pass left: each accusé's text by name, the originals in archive/ and error/ (relative
/// paths), the store's counts.
struct Outcome {
  std::map<std::string, std::string> accuses;
  std::vector<std::string> filed;
  std::int64_t deposits = 0;
  std::int64_t users = 0;
  std::int64_t exports = 0;
  bool operator==(const Outcome&) const = default;
};

/// Whether the sweep runs every occurrence (RACCORD_TEST_ALLOC_SWEEP=full, set by
/// `scripts/test.sh --full-alloc-sweep`) or a sample (the first three of each step, then one in three).
bool full_sweep() {
  const char* v = std::getenv("RACCORD_TEST_ALLOC_SWEEP");
  return v != nullptr && std::string(v) == "full";
}

class AllocationSweepTest : public AllocationFailureTest {
 protected:
  void drop_inbox() {
    for (const auto& [name, xml] : sweep_inbox()) drop_file(inbox(), name, xml);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, xml] : sweep_inbox()) out.push_back(name);
    return out;
  }
  void restore(const fs::path& pristine) {
    fs::remove_all(root());
    fs::copy(pristine, root(), fs::copy_options::recursive);
  }
  Outcome outcome() {
    Outcome o;
    for (const auto& name : outbox_files("ACK_")) o.accuses[name] = read_file(outbox() / name);
    for (const char* dir : {"archive", "error"}) {
      if (!fs::exists(root() / dir)) continue;
      for (const auto& e : fs::recursive_directory_iterator(root() / dir)) {
        if (e.is_regular_file()) o.filed.push_back(fs::relative(e.path(), root()).string());
      }
    }
    std::sort(o.filed.begin(), o.filed.end());
    o.deposits = count("SELECT COUNT(*) FROM deposits");
    o.users = count("SELECT COUNT(*) FROM users WHERE login <> 'support.n1'");
    o.exports = count("SELECT COUNT(*) FROM exports");
    return o;
  }
  /// Every accusé is valid against accuse.xsd and is the one recorded.
  void expect_recorded_and_valid(const Outcome& o, const std::string& what) {
    Database db(Backend::Sqlite, (root() / "raccord.db").string());
    for (const auto& [name, xml] : o.accuses) {
      EXPECT_EQ(xmllint_text(xml, xsd_path("accuse.xsd")).status, 0) << what << ": " << name;
      const auto stored = db.query_one("SELECT ack_content FROM deposits WHERE ack_name = $1", {name});
      ASSERT_TRUE(stored.has_value()) << what << ": " << name;
      EXPECT_TRUE(stored->text(0) == xml) << what << ": the accusé written is not the one recorded";
    }
  }
};

// An allocation failure at the Nth allocation-heavy step of each kind (reader, rules, accusé
// rendering, export, recording; domain/allocation_fault.hpp), N swept from 1 until a pass no longer
// reaches it, on a group of five dépôts (integrated with an export, complete mode rolled back,
// malformed, 1,100 findings of which 100 omitted, DOUBLON): the failed pass exits 1 and leaves
// nothing (no accusé, no export, no temporary, nothing recorded, every file still in .work/); the
// next pass answers each dépôt once, with exactly the accusés, store and files of a pass that never
// failed. Before issue 20, a failure while an accusé was rendered committed it cut short (exit 0).
// CI runs a sample; `scripts/test.sh --full-alloc-sweep` every occurrence.
TEST_F(AllocationSweepTest, AFailureAtAnyStepFailsThePassAndTheNextPassAnswersAsIfNoneHad) {
  const fs::path pristine = dir_ / "pristine";
  fs::copy(root(), pristine, fs::copy_options::recursive);
  drop_inbox();
  ASSERT_EQ(raccord({"process"}).exit_code, 0) << log();
  const Outcome reference = outcome();
  ASSERT_EQ(reference.accuses.size(), 5u);
  ASSERT_EQ(reference.users, 3);
  ASSERT_EQ(reference.exports, 1);
  expect_recorded_and_valid(reference, "pass without failure");
  std::map<std::string, std::string> statuts;
  for (const auto& [name, xml] : reference.accuses) {
    const ParsedAck ack = parse_ack(xml, name);
    statuts[ack.fichier] = ack.statut;
    if (ack.fichier == "d.xml") {
      EXPECT_EQ(ack.erreurs_omises, "100");
    }
  }
  EXPECT_EQ(
      statuts,
      (std::map<std::string, std::string>{
          {"a.xml", "INTEGRE"}, {"b.xml", "REJETE"}, {"c.xml", "REJETE"}, {"d.xml", "REJETE"}, {"e.xml", "DOUBLON"}}));

  const bool full = full_sweep();
  int injected = 0;
  std::string per_step;
  for (const char* step : {"reader", "rules", "accuse", "export", "record"}) {
    const int before = injected;
    bool reached_end = false;
    for (int n = 1; n <= 400 && !reached_end; ++n) {
      if (!full && n > 3 && n % 3 != 0) continue;
      const std::string at = std::string(step) + ":" + std::to_string(n);
      restore(pristine);
      drop_inbox();
      const ChildRun failed = raccord({"process"}, {"RACCORD_TEST_FAIL_ALLOC_AT=" + at});
      ASSERT_EQ(failed.signal, 0) << at << "\n" << log();
      if (failed.exit_code == 0) {
        // Fewer than n such steps in a pass: nothing was injected; the pass is the reference.
        reached_end = true;
        EXPECT_GT(n, 1) << at << ": exit 0 at the first step: the failure was swallowed (or the step is never reached)";
      } else {
        ++injected;
        ASSERT_EQ(failed.exit_code, 1) << at << "\n" << log();
        expect_nothing_committed(names(), at);
        const ChildRun clean = raccord({"process"});
        ASSERT_EQ(clean.exit_code, 0) << at << "\n" << log();
      }
      const Outcome after = outcome();
      EXPECT_TRUE(after == reference) << at << ": not the answer of a pass without failure";
      expect_recorded_and_valid(after, at);
      EXPECT_TRUE(entry_names(work()).empty()) << at;
      EXPECT_TRUE(outbox_files(".").empty()) << at << ": temporaries left";
      if (HasFailure()) return;
    }
    EXPECT_TRUE(reached_end) << step << ": more than 400 steps";
    per_step += " " + std::string(step) + "=" + std::to_string(injected - before);
  }
  std::cout << "[ balayage ] " << injected << " défaillances injectées" << (full ? " (toutes)" : " (échantillon)")
            << " :" << per_step << "\n";
  EXPECT_GE(injected, 15);
}

// A file refused before any operation (XML_MALFORME) is answered at the accusé step only: a
// failure there leaves it in .work/, never in error/ without its accusé.
TEST_F(AllocationFailureTest, FailureWhileAnsweringAMalformedFileLeavesItForTheNextPass) {
  drop_file(inbox(), "casse.xml", "<Depot xmlns=\"urn:raccord:depot:1\"><Utilisateur></Depot>");
  const ChildRun failed = raccord({"process"}, {"RACCORD_TEST_FAIL_ALLOC_AT=accuse:1"});
  EXPECT_EQ(failed.exit_code, 1) << log();
  expect_nothing_committed({"casse.xml"}, "accuse:1");
  EXPECT_FALSE(fs::exists(root() / "error" / "casse.xml"));

  EXPECT_EQ(raccord({"process"}).exit_code, 0) << log();
  const auto accuses = outbox_files("ACK_");
  ASSERT_EQ(accuses.size(), 1u);
  EXPECT_EQ(parse_ack(read_file(outbox() / accuses[0])).error_codes(), std::vector<std::string>{"XML_MALFORME"});
  EXPECT_TRUE(fs::exists(root() / "error" / "casse.xml"));
  EXPECT_TRUE(entry_names(work()).empty());
}

// Real allocation failures: the address space of `raccord process` lowered step by step (from
// where a pass succeeds down to where it cannot even start). Each pass either answers the dépôt
// whole (exit 0) or fails (exit 1, never a signal) without an accusé, leaving the file for the next
// pass; a failure after the commit leaves the recorded accusé to be written by the next pass.
TEST_F(AllocationFailureTest, UnderAShrinkingAddressSpaceEachPassAnswersWholeOrLeavesTheDepot) {
  if (built_with_address_sanitizer()) GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space";
  // 4,000 users (about 300 KB): its accusé and its tree are the largest allocations of the pass.
  const std::string depot = users_and_search(4000, "u");
  const fs::path pristine = dir_ / "pristine";
  fs::copy(root(), pristine, fs::copy_options::recursive);
  int failures = 0;
  int successes = 0;
  for (rlim_t mib = 1024; mib >= 64; mib -= 16) {
    const std::string what = "RLIMIT_AS " + std::to_string(mib) + " MiB";
    fs::remove_all(root());
    fs::copy(pristine, root(), fs::copy_options::recursive);
    drop_file(inbox(), "lot.xml", depot);
    const ChildRun limited = raccord({"process"}, {}, mib << 20);
    if (fs::exists(inbox() / "lot.xml") && count("SELECT COUNT(*) FROM deposits") == 0) {
      // Too little to start (libraries, threads): nothing was claimed, nothing more to learn below.
      EXPECT_NE(limited.exit_code, 0) << what;
      break;
    }
    ASSERT_EQ(limited.signal, 0) << what << "\n" << log();
    ASSERT_TRUE(limited.exit_code == 0 || limited.exit_code == 1) << what << "\n" << log();
    if (limited.exit_code == 0) {
      ++successes;
      expect_answered_once({"lot.xml"}, 4000, what);
      continue;
    }
    ++failures;
    const std::int64_t recorded = count("SELECT COUNT(*) FROM deposits");
    if (recorded == 0) {
      EXPECT_TRUE(outbox_files("ACK_").empty()) << what << ": an accusé without its record";
    }
    if (fs::exists(work() / "lot.xml") || recorded > 0) {
      EXPECT_FALSE(fs::exists(inbox() / "lot.xml")) << what;
    }
    EXPECT_EQ(raccord({"process"}).exit_code, 0) << what << "\n" << log();
    expect_answered_once({"lot.xml"}, 4000, what + ", then a pass without limit");
    if (HasFailure()) return;
  }
  EXPECT_GT(successes, 0) << "no limit was high enough";
  EXPECT_GT(failures, 0) << "no limit was low enough";
}

}  // namespace
}  // namespace raccord::testing
