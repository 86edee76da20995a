// Memory running out while a dépôt is answered, through the real binary (issue 20; SPEC.md §2
// "Exactly once", §5.1 "an accusé is always well-formed and always the one recorded"):
// - an allocation failure injected at the Nth allocation-heavy step (RACCORD_TEST_FAIL_ALLOC_AT,
//   domain/allocation_fault.hpp: reader, rules, accusé, export) is never swallowed: `raccord
//   process` exits 1, nothing is committed (the store's counts), no accusé and no export is
//   written, the dépôt stays in inbox/.work/; the next pass answers it once, with a well-formed
//   accusé that is the recorded one. Before issue 20, a failure while the accusé was rendered was
//   swallowed by the stream it was written to: the transaction committed a cut accusé, exit 0.
// - under an address-space limit (RLIMIT_AS, as `ulimit -v`) lowered step by step, every pass either
//   answers the dépôt whole or fails with exit 1 leaving it for the next pass, which answers it once
//   (real allocation failures, anywhere: in expat and pugixml too, which report them as a status).
//   Not under AddressSanitizer, which reserves terabytes of address space.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
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

struct Fault {
  std::string at;  // RACCORD_TEST_FAIL_ALLOC_AT
};
void PrintTo(const Fault& f, std::ostream* os) {
  *os << f.at;
}

class AllocationFaultAtStepTest : public AllocationFailureTest, public ::testing::WithParamInterface<Fault> {};

// Two dépôts of three users and a Recherche each, processed in one group: the Nth step of each kind
// fails (the first, or one in the second dépôt); the whole group stays for the next pass.
TEST_P(AllocationFaultAtStepTest, FailsThePassCommitsNothingAndTheNextPassAnswersOnce) {
  const std::vector<std::string> names{"a.xml", "b.xml"};
  drop_file(inbox(), names[0], users_and_search(3, "a"));
  drop_file(inbox(), names[1], users_and_search(3, "b"));
  const ChildRun failed = raccord({"process"}, {"RACCORD_TEST_FAIL_ALLOC_AT=" + GetParam().at});
  EXPECT_EQ(failed.signal, 0) << log();
  EXPECT_EQ(failed.exit_code, 1) << log();
  expect_nothing_committed(names, GetParam().at);

  const ChildRun clean = raccord({"process"});
  EXPECT_EQ(clean.exit_code, 0) << log();
  expect_answered_once(names, 3, GetParam().at);
  EXPECT_EQ(outbox_files("EXPORT_").size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(EachStep, AllocationFaultAtStepTest,
                         ::testing::Values(Fault{"reader:1"}, Fault{"reader:6"}, Fault{"rules:1"}, Fault{"rules:7"},
                                           Fault{"accuse:1"}, Fault{"accuse:4"}, Fault{"accuse:5"},
                                           Fault{"accuse:9"}, Fault{"export:1"}, Fault{"export:2"}),
                         [](const auto& info) {
                           std::string name = info.param.at;
                           for (char& c : name) {
                             if (c == ':') c = '_';
                           }
                           return name;
                         });

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
