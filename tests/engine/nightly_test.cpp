// Tests of engine/nightly.cpp (docs/reference.md §6 the nightly run, §5.3 its report, §7 `raccord nightly`):
// activation the day after submission, `du` in the future, API sheets, ENVOYEE_MAJ replacing the
// activated version (and a failed update keeping it), deactivation by end date and by certificate
// expiry, the ledger (a date runs once, missing report files rewritten), catch-up of missed dates
// (docs/field-cases.md F35), the store lock (runs never overlap) and the report files.
//
// The business clock is injected: each step builds a new Engine on the same Config and store with
// the instant of that step (the clock "moves" between engines). Only the lock's heartbeat is real
// time, as in the engine (a lock is about live processes, not business dates).
#include "engine/nightly.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/migrations.hpp"
#include "tests/support/command.hpp"
#include "tests/support/csv.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/test_pki.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<std::string> iso_dates(const std::vector<CivilDate>& dates) {
  std::vector<std::string> out;
  out.reserve(dates.size());
  for (const auto& d : dates) out.push_back(format_iso_date(d));
  return out;
}

std::string host_name() {
  std::array<char, 256> buffer{};
  if (::gethostname(buffer.data(), buffer.size() - 1) != 0) return "localhost";
  return buffer.data();
}

std::string real_now_iso() {
  return format_iso_instant(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

/// A child process that only sleeps: a live pid that is not ours. Killed and reaped by kill().
class SleepingChild {
 public:
  SleepingChild() : pid_(::fork()) {
    if (pid_ == 0) {
      for (;;) ::pause();
    }
  }
  ~SleepingChild() { kill(); }
  SleepingChild(const SleepingChild&) = delete;
  SleepingChild& operator=(const SleepingChild&) = delete;
  pid_t pid() const { return pid_; }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

class NightlyTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    start();  // 2026-11-29T10:00:00Z
    setup_world();
  }

  /// A new engine on the same config and store whose business clock reads `now`.
  Engine& at(std::string_view now) {
    engine_.reset();
    engine_ = std::make_unique<Engine>(config_, BusinessClock(instant(now)));
    engine_->open();
    return *engine_;
  }

  /// The nightly run for business date `d`, by an engine whose clock reads `now`.
  NightlyResult nightly(std::string_view now, std::string_view d) { return run_nightly(at(now), civil_date(d)); }

  /// Submits a sheet (one-operation dépôt) with the current engine; returns its codeAppli.
  std::string submit(SheetSpec spec, const std::string& code_appli = "") {
    ++n_;
    spec.action = "soumettre";
    spec.code_appli = code_appli;
    const ParsedAck ack = process("fiche_" + std::to_string(n_) + ".xml",
                                  depot_xml(sheet_xml(spec), "identifiant=\"NUIT-" + std::to_string(n_) + "\""));
    EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
    if (ack.operations.size() != 1) return {};
    return ack.operations[0].code_appli;
  }

  static SheetSpec sftp_from(std::string du, std::string au = "2099-06-30") {
    SheetSpec s = sftp_sheet();
    s.period_from = std::move(du);
    s.period_to = std::move(au);
    return s;
  }
  static SheetSpec sftp_with_leaf_until(std::string not_after, std::string du = "2026-11-29") {
    SheetSpec s = sftp_from(std::move(du));
    LeafOptions leaf;
    leaf.common_name = "bientot.exemple.fr";
    leaf.not_after = std::move(not_after);
    s.certificates = {TestPki::instance().bundle_base64(leaf)};
    return s;
  }

  std::int64_t version(const std::string& code_appli, const char* column) {
    auto row = db().query_one(std::string("SELECT ") + column + " FROM sheets WHERE code_appli = $1", {code_appli});
    return row && !row->is_null(0) ? row->integer(0) : -1;
  }
  /// The history rows of the nightly run for a sheet as "from>to|reason|instant".
  std::vector<std::string> nightly_history(const std::string& code_appli) {
    std::vector<std::string> out;
    for (const auto& r : sql("SELECT from_state, to_state, reason, instant FROM history WHERE code_appli = $1 AND "
                             "actor = 'nightly' ORDER BY id",
                             {code_appli})) {
      out.push_back(r.text(0) + ">" + r.text(1) + "|" + r.text(2) + "|" + r.text(3));
    }
    return out;
  }
  std::vector<std::string> ledger() {
    std::vector<std::string> out;
    for (const auto& r : sql("SELECT run_date, run_instant FROM nightly_runs ORDER BY run_date")) {
      out.push_back(r.text(0) + "@" + r.text(1));
    }
    return out;
  }
  void set_lock(const std::string& holder, const std::string& heartbeat) {
    Transaction tx(db());
    db().execute("UPDATE locks SET holder = $1, acquired_at = $2, heartbeat = $2 WHERE name = 'nightly'",
                 {holder, heartbeat});
    tx.commit();
  }
  std::string lock_holder() {
    auto row = db().query_one("SELECT holder FROM locks WHERE name = 'nightly'");
    return row && !row->is_null(0) ? row->text(0) : std::string("<libre>");
  }
  fs::path report(std::string_view d, std::string_view ext) const {
    return outbox() / fmt::format("NIGHTLY_{}.{}", d, ext);
  }

  int n_ = 0;
};

std::vector<std::string> transitions_of(const NightlyReport& r) {
  std::vector<std::string> out;
  for (const auto& t : r.transitions) {
    out.push_back(fmt::format("{}:{}>{}|{}", t.code_appli, to_code(t.from), to_code(t.to), t.reason));
  }
  return out;
}

std::vector<std::string> blocked_codes(const BlockedActivation& b) {
  std::vector<std::string> out;
  for (const auto& d : b.reasons) out.push_back(std::string(to_code(d.code)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Activation (docs/reference.md §6).

TEST_F(NightlyTest, ActivatesTheDayAfterSubmissionAtTheRunInstant) {
  const std::string code = submit(sftp_from("2026-11-29"));  // 2026-11-29T10:00:00Z
  ASSERT_EQ(code, "VFE001");
  const std::int64_t pending = version(code, "pending_version");
  ASSERT_GT(pending, 0);

  // Run for 2026-11-30, started late in the morning: the run instant is still 02:00 Paris (CET).
  const NightlyResult result = nightly("2026-11-30T07:30:00Z", "2026-11-30");
  ASSERT_EQ(result.status, NightlyStatus::Ran);
  EXPECT_THAT(iso_dates(result.dates_run), ElementsAre("2026-11-30"));
  ASSERT_EQ(result.reports.size(), 1u);
  EXPECT_EQ(format_iso_instant(result.reports[0].run_instant), "2026-11-30T01:00:00Z");
  EXPECT_THAT(transitions_of(result.reports[0]), ElementsAre("VFE001:ENVOYEE>ACTIVEE|activation"));
  EXPECT_THAT(result.reports[0].blocked, IsEmpty());

  EXPECT_EQ(state_of(code), "ACTIVEE");
  EXPECT_EQ(version(code, "active_version"), pending);
  EXPECT_EQ(version(code, "pending_version"), -1);
  EXPECT_THAT(history(code), ElementsAre("j.dupont:>ENVOYEE", "nightly:ENVOYEE>ACTIVEE"));
  EXPECT_THAT(nightly_history(code), ElementsAre("ENVOYEE>ACTIVEE|activation|2026-11-30T01:00:00Z"));
  EXPECT_THAT(ledger(), ElementsAre("2026-11-30@2026-11-30T01:00:00Z"));
  EXPECT_EQ(lock_holder(), "<libre>");  // released after the run
}

// Issue 18: a notes.txt left in inbox/ for days was never noticed. The run lists what is not a
// dépôt and older than a day (FichierIgnore, XML and CSV), and nothing younger.
TEST_F(NightlyTest, ListsFilesOfTheInboxThatAreNotDepositsAndOlderThanADay) {
  const std::filesystem::path inbox = engine().inbox().inbox_dir();
  std::ofstream(inbox / "notes.txt") << "a lire";
  std::ofstream(inbox / "recent.xml.part") << "<Dep";
  const auto old = std::chrono::duration_cast<std::chrono::seconds>(
                       (std::chrono::system_clock::now() - std::chrono::hours{72}).time_since_epoch())
                       .count();
  const struct timespec times[2] = {{old, 0}, {old, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (inbox / "notes.txt").c_str(), times, 0), 0);

  const NightlyResult result = nightly("2026-11-30T07:30:00Z", "2026-11-30");
  ASSERT_EQ(result.reports.size(), 1u);
  const auto& ignored = result.reports[0].ignored_files;
  ASSERT_EQ(ignored.size(), 1u);
  EXPECT_EQ(ignored[0].path, "inbox/notes.txt");
  EXPECT_EQ(ignored[0].size, 6u);
  EXPECT_GE(ignored[0].age, std::chrono::hours{71});
  EXPECT_NE(ignored[0].why.find("pas un dépôt"), std::string::npos);
  std::ifstream csv(engine().inbox().outbox_dir() / "NIGHTLY_2026-11-30.csv", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(csv)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("FichierIgnore;;;;;inbox/notes.txt, 6 octet(s)"), std::string::npos) << text;
  EXPECT_TRUE(std::filesystem::exists(inbox / "notes.txt"));  // listed, never touched
}

TEST_F(NightlyTest, RunInstantIsTheCurrentInstantWhenEarlierThanNightlyTime) {
  Engine& e = at("2026-11-30T00:20:00Z");
  EXPECT_EQ(format_iso_instant(nightly_run_instant(e, civil_date("2026-11-30"), instant("2026-11-30T00:20:00Z"))),
            "2026-11-30T00:20:00Z");
  EXPECT_EQ(format_iso_instant(nightly_run_instant(e, civil_date("2026-11-30"), instant("2026-11-30T09:00:00Z"))),
            "2026-11-30T01:00:00Z");  // 02:00 CET
  EXPECT_EQ(format_iso_instant(nightly_run_instant(e, civil_date("2026-07-14"), instant("2026-07-14T09:00:00Z"))),
            "2026-07-14T00:00:00Z");  // 02:00 CEST
}

TEST_F(NightlyTest, SheetSubmittedAfterTheRunInstantWaitsForTheNextRun) {
  const std::string code = submit(sftp_from("2026-11-29"));  // 10:00Z, after 02:00 Paris that day
  // The run for the submission date itself (started at noon): its run instant is 01:00Z.
  const NightlyResult same_day = nightly("2026-11-29T12:00:00Z", "2026-11-29");
  ASSERT_EQ(same_day.status, NightlyStatus::Ran);
  EXPECT_THAT(same_day.reports.at(0).transitions, IsEmpty());
  EXPECT_THAT(same_day.reports.at(0).blocked, IsEmpty());  // not a candidate, not a failure
  EXPECT_EQ(state_of(code), "ENVOYEE");

  const NightlyResult next = nightly("2026-11-30T01:00:00Z", "2026-11-30");
  ASSERT_EQ(next.status, NightlyStatus::Ran);
  EXPECT_EQ(state_of(code), "ACTIVEE");
}

TEST_F(NightlyTest, FutureDuWaitsForItsDateAndApiSheetsActivateRegardlessOfDu) {
  const std::string edi = submit(sftp_from("2026-12-02"));
  const std::string api = submit(api_sheet());
  ASSERT_EQ(edi, "VFE001");
  ASSERT_EQ(api, "VFE002");

  const NightlyResult first = nightly("2026-11-30T01:00:00Z", "2026-11-30");
  EXPECT_THAT(transitions_of(first.reports.at(0)), ElementsAre("VFE002:ENVOYEE>ACTIVEE|activation"));
  EXPECT_EQ(state_of(api), "ACTIVEE");
  EXPECT_EQ(state_of(edi), "ENVOYEE");

  const NightlyResult second = nightly("2026-12-01T01:00:00Z", "2026-12-01");
  EXPECT_THAT(second.reports.at(0).transitions, IsEmpty());
  EXPECT_THAT(second.reports.at(0).blocked, IsEmpty());
  EXPECT_EQ(state_of(edi), "ENVOYEE");
  // Sent more than one day before the run instant, but its period has not started: never late (docs/reference.md
  // §5.3, issue 18).
  EXPECT_THAT(second.reports.at(0).late, IsEmpty());

  const NightlyResult third = nightly("2026-12-02T01:00:00Z", "2026-12-02");
  EXPECT_THAT(transitions_of(third.reports.at(0)), ElementsAre("VFE001:ENVOYEE>ACTIVEE|activation"));
  EXPECT_THAT(nightly_history(edi), ElementsAre("ENVOYEE>ACTIVEE|activation|2026-12-02T01:00:00Z"));
  EXPECT_THAT(nightly_history(api), ElementsAre("ENVOYEE>ACTIVEE|activation|2026-11-30T01:00:00Z"));
}

TEST_F(NightlyTest, EnvoyeeMajReplacesTheActivatedVersion) {
  const std::string code = submit(sftp_from("2026-11-29"));
  ASSERT_EQ(nightly("2026-11-30T01:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  ASSERT_EQ(state_of(code), "ACTIVEE");
  const std::int64_t v1 = version(code, "active_version");

  at("2026-11-30T10:00:00Z");
  SheetSpec renewed = sftp_from("2026-11-29");
  renewed.contact_email = "renouvellement@exemple.fr";
  ASSERT_EQ(submit(renewed, code), code);
  ASSERT_EQ(state_of(code), "ENVOYEE_MAJ");
  const std::int64_t v2 = version(code, "pending_version");
  ASSERT_GT(v2, v1);
  EXPECT_EQ(version(code, "active_version"), v1);

  const NightlyResult result = nightly("2026-12-01T01:00:00Z", "2026-12-01");
  ASSERT_EQ(result.status, NightlyStatus::Ran);
  EXPECT_THAT(transitions_of(result.reports.at(0)),
              ElementsAre("VFE001:ENVOYEE_MAJ>ACTIVEE|activation de la mise à jour"));
  EXPECT_EQ(state_of(code), "ACTIVEE");
  EXPECT_EQ(version(code, "active_version"), v2);  // the old pending version is now in force
  EXPECT_EQ(version(code, "pending_version"), -1);
  EXPECT_THAT(history(code), ElementsAre("j.dupont:>ENVOYEE", "nightly:ENVOYEE>ACTIVEE", "j.dupont:ACTIVEE>ENVOYEE_MAJ",
                                         "nightly:ENVOYEE_MAJ>ACTIVEE"));
}

TEST_F(NightlyTest, FailedUpdateKeepsTheOldVersionInForceAndIsReportedWithItsReasons) {
  const std::string code = submit(sftp_from("2026-11-29"));
  ASSERT_EQ(nightly("2026-11-30T01:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  const std::int64_t v1 = version(code, "active_version");

  // An update whose leaf is valid when sent (10:00Z) and has expired at the next run (01:00Z).
  at("2026-11-30T10:00:00Z");
  ASSERT_EQ(submit(sftp_with_leaf_until("2026-12-01T00:30:00Z"), code), code);
  ASSERT_EQ(state_of(code), "ENVOYEE_MAJ");
  const std::int64_t v2 = version(code, "pending_version");

  const NightlyResult result = nightly("2026-12-01T01:00:00Z", "2026-12-01");
  ASSERT_EQ(result.status, NightlyStatus::Ran);
  const NightlyReport& r = result.reports.at(0);
  EXPECT_THAT(r.transitions, IsEmpty());
  ASSERT_EQ(r.blocked.size(), 1u);
  EXPECT_EQ(r.blocked[0].code_appli, code);
  EXPECT_EQ(r.blocked[0].state, SheetState::EnvoyeeMaj);
  EXPECT_THAT(blocked_codes(r.blocked[0]), ::testing::Contains("CERT_EXPIRE"));
  EXPECT_EQ(state_of(code), "ENVOYEE_MAJ");
  EXPECT_EQ(version(code, "active_version"), v1);  // still in force
  EXPECT_EQ(version(code, "pending_version"), v2);
  // The block is written in the history (docs/reference.md §6), from = to = ENVOYEE_MAJ.
  EXPECT_THAT(nightly_history(code),
              ElementsAre("ENVOYEE>ACTIVEE|activation|2026-11-30T01:00:00Z",
                          ::testing::AllOf(::testing::StartsWith("ENVOYEE_MAJ>ENVOYEE_MAJ|activation bloquée : "
                                                                 "CERT_EXPIRE (Certificats/Certificat[1]) : "),
                                           ::testing::EndsWith("|2026-12-01T01:00:00Z"))));

  const std::string xml = read_file(report("2026-12-01", "xml"));
  EXPECT_THAT(xml, HasSubstr("<ActivationBloquee codeAppli=\"VFE001\" partenaire=\"12345678200010\" "
                             "etat=\"ENVOYEE_MAJ\">"));
  EXPECT_THAT(xml, HasSubstr("<Motif code=\"CERT_EXPIRE\""));
}

TEST_F(NightlyTest, InactiveStructureBlocksTheActivation) {
  const std::string code = submit(sftp_from("2026-11-29"));
  StructureSpec inactive;
  inactive.statut = "INACTIF";
  const ParsedAck ack =
      process("structure_inactive.xml", depot_xml(structure_xml(inactive), R"(identifiant="REF-INACTIF")"));
  ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;

  const NightlyResult result = nightly("2026-11-30T01:00:00Z", "2026-11-30");
  ASSERT_EQ(result.reports.at(0).blocked.size(), 1u);
  EXPECT_THAT(blocked_codes(result.reports.at(0).blocked[0]), ElementsAre("STRUCTURE_INACTIVE"));
  EXPECT_THAT(result.reports.at(0).blocked[0].reasons.at(0).message, HasSubstr("12345678200010"));
  EXPECT_EQ(state_of(code), "ENVOYEE");
}

// Issue 7: the certificates of the candidates are checked on worker threads, 256 candidates at a
// time, while the next chunk's bundles are read; each verdict must still land on its own sheet,
// across chunk boundaries, and a partner's verdict read once must hold for all its sheets.
TEST_F(NightlyTest, VerdictsOfManyCandidatesLandOnTheirOwnSheetsAcrossChunks) {
  constexpr int kSheets = 600;
  const std::set<int> expiring{1, 255, 256, 257, 511, 599};  // 0-based ranks in the dépôt
  std::string operations;
  for (int i = 0; i < kSheets; ++i) {
    SheetSpec spec = expiring.count(i) != 0 ? sftp_with_leaf_until("2026-11-30T00:30:00Z") : sftp_from("2026-11-29");
    spec.action = "soumettre";
    spec.reference = "nuit-" + std::to_string(i);
    operations += sheet_xml(spec);
  }
  const ParsedAck ack = process("lot_nuit.xml", depot_xml(operations, R"(identifiant="NUIT-LOT")"));
  ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml.substr(0, 2000);
  ASSERT_EQ(ack.operations.size(), static_cast<std::size_t>(kSheets));

  const NightlyResult result = nightly("2026-11-30T01:00:00Z", "2026-11-30");
  ASSERT_EQ(result.status, NightlyStatus::Ran);
  const NightlyReport& r = result.reports.at(0);
  std::set<std::string> blocked;
  for (const auto& b : r.blocked) {
    EXPECT_THAT(blocked_codes(b), ElementsAre("CERT_EXPIRE")) << b.code_appli;
    blocked.insert(b.code_appli);
  }
  std::set<std::string> expected_blocked;
  for (int i : expiring) expected_blocked.insert(ack.operations[static_cast<std::size_t>(i)].code_appli);
  EXPECT_EQ(blocked, expected_blocked);
  EXPECT_EQ(r.transitions.size(), static_cast<std::size_t>(kSheets) - expiring.size());
  for (int i = 0; i < kSheets; ++i) {
    const std::string& code = ack.operations[static_cast<std::size_t>(i)].code_appli;
    EXPECT_EQ(state_of(code), expiring.count(i) != 0 ? "ENVOYEE" : "ACTIVEE") << "rang " << i;
  }
}

// ---------------------------------------------------------------------------------------------
// Deactivation (docs/reference.md §6).

TEST_F(NightlyTest, DeactivatesWhenTheEndDateIsBeforeTheRunDate) {
  const std::string code = submit(sftp_from("2026-11-29", "2026-11-30"));
  const NightlyResult on_last_day = nightly("2026-11-30T01:00:00Z", "2026-11-30");
  EXPECT_THAT(transitions_of(on_last_day.reports.at(0)), ElementsAre("VFE001:ENVOYEE>ACTIVEE|activation"));
  EXPECT_EQ(state_of(code), "ACTIVEE");  // au = D: still in its period

  const NightlyResult after = nightly("2026-12-01T01:00:00Z", "2026-12-01");
  EXPECT_THAT(transitions_of(after.reports.at(0)), ElementsAre("VFE001:ACTIVEE>DESACTIVEE|fin de période"));
  EXPECT_EQ(state_of(code), "DESACTIVEE");
  EXPECT_THAT(nightly_history(code), ElementsAre("ENVOYEE>ACTIVEE|activation|2026-11-30T01:00:00Z",
                                                 "ACTIVEE>DESACTIVEE|fin de période|2026-12-01T01:00:00Z"));
}

TEST_F(NightlyTest, DeactivatesWhenTheLeafHasExpiredAtTheRunInstant) {
  const std::string ending = submit(sftp_with_leaf_until("2026-12-03T00:30:00Z"));
  const std::string lasting = submit(sftp_from("2026-11-29"));
  const NightlyResult first = nightly("2026-11-30T01:00:00Z", "2026-11-30");
  EXPECT_EQ(state_of(ending), "ACTIVEE");
  // Within the 30-day warning window: ExpirationProche for the ending leaf only.
  ASSERT_EQ(first.reports.at(0).expiring.size(), 1u);
  EXPECT_EQ(first.reports.at(0).expiring[0].code_appli, ending);
  EXPECT_EQ(format_iso_instant(first.reports.at(0).expiring[0].not_after), "2026-12-03T00:30:00Z");
  EXPECT_THAT(first.reports.at(0).expiring[0].subject, HasSubstr("bientot.exemple.fr"));

  // 2026-12-02 at 01:00Z: the leaf (until 2026-12-03T00:30Z) is still valid.
  ASSERT_EQ(nightly("2026-12-02T01:00:00Z", "2026-12-02").status, NightlyStatus::Ran);
  EXPECT_EQ(state_of(ending), "ACTIVEE");

  const NightlyResult expired = nightly("2026-12-03T01:00:00Z", "2026-12-03");
  EXPECT_THAT(transitions_of(expired.reports.at(0)), ElementsAre("VFE001:ACTIVEE>DESACTIVEE|certificat expiré"));
  EXPECT_EQ(state_of(ending), "DESACTIVEE");
  EXPECT_EQ(state_of(lasting), "ACTIVEE");
  EXPECT_THAT(history(ending),
              ElementsAre("j.dupont:>ENVOYEE", "nightly:ENVOYEE>ACTIVEE", "nightly:ACTIVEE>DESACTIVEE"));
  EXPECT_EQ(nightly_history(ending).back(), "ACTIVEE>DESACTIVEE|certificat expiré|2026-12-03T01:00:00Z");
}

// ---------------------------------------------------------------------------------------------
// Revocation (docs/reference.md §6, §5.3; docs/revocation.md): an ACTIVEE sheet whose leaf a CRL lists becomes
// DESACTIVEE with the reason; a pending one listed is blocked; both are Revocation rows of the report.

class NightlyRevocationTest : public NightlyTest {
 protected:
  /// A sheet from 2026-11-29 whose bundle is {leaf, intermediate}.
  static SheetSpec sftp_with_leaf_der(const std::string& leaf_der) {
    SheetSpec s = sftp_from("2026-11-29");
    s.certificates = {TestPki::base64(TestPki::pkcs7_der({leaf_der, TestPki::instance().intermediate_der()}))};
    return s;
  }
  /// CRLs of the root and of the intermediate, current from 2026-11-30T12:00Z to 2026-12-07, the intermediate's
  /// listing `revoked` (keyCompromise), written into the default crl_dir (<root>/crl).
  void write_crls(const std::vector<std::string>& revoked) {
    const auto& pki = TestPki::instance();
    CrlOptions o;
    o.this_update = "2026-11-30T12:00:00Z";
    o.next_update = "2026-12-07T00:00:00Z";
    fs::create_directories(root() / "crl");
    std::ofstream(root() / "crl" / "root.crl", std::ios::binary) << TestPki::crl_pem({pki.root().crl_der(o)});
    for (const std::string& der : revoked)
      o.entries.push_back(CrlEntry{TestPki::serial_hex(der), "2026-11-30T11:00:00Z", 1});
    std::ofstream(root() / "crl" / "intermediate.crl", std::ios::binary)
        << TestPki::crl_pem({pki.intermediate().crl_der(o)});
  }
};

TEST_F(NightlyRevocationTest, RevokedActiveSheetIsDeactivatedAndARevokedPendingOneIsBlocked) {
  LeafOptions named;
  named.common_name = "revoque.exemple.fr";
  const std::string active_leaf = TestPki::instance().leaf_der(named);
  const std::string pending_leaf = TestPki::instance().leaf_der();
  const std::string active = submit(sftp_with_leaf_der(active_leaf));  // VFE001
  const std::string lasting = submit(sftp_from("2026-11-29"));         // VFE002
  ASSERT_EQ(nightly("2026-11-30T01:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  ASSERT_EQ(state_of(active), "ACTIVEE");  // no CRL yet: unknown is a warning under souple (the default)
  const std::string pending = submit(sftp_with_leaf_der(pending_leaf));  // VFE003, at 2026-11-30T01:00Z
  write_crls({active_leaf, pending_leaf});

  const NightlyResult result = nightly("2026-12-01T01:00:00Z", "2026-12-01");
  ASSERT_EQ(result.status, NightlyStatus::Ran);
  const NightlyReport& r = result.reports.at(0);
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].code_appli, active);
  EXPECT_EQ(r.transitions[0].to, SheetState::Desactivee);
  EXPECT_THAT(r.transitions[0].reason, HasSubstr("certificat révoqué : "));
  EXPECT_THAT(r.transitions[0].reason, HasSubstr("CN=revoque.exemple.fr"));
  EXPECT_THAT(r.transitions[0].reason, HasSubstr(TestPki::serial_hex(active_leaf)));
  EXPECT_THAT(r.transitions[0].reason, HasSubstr("CN=Raccord Test Intermediate CA"));
  EXPECT_EQ(state_of(active), "DESACTIVEE");
  EXPECT_EQ(state_of(lasting), "ACTIVEE");
  EXPECT_EQ(state_of(pending), "ENVOYEE");
  EXPECT_THAT(nightly_history(active).back(), HasSubstr("ACTIVEE>DESACTIVEE|certificat révoqué : "));
  ASSERT_EQ(r.blocked.size(), 1u);
  EXPECT_EQ(r.blocked[0].code_appli, pending);
  EXPECT_THAT(blocked_codes(r.blocked[0]), ElementsAre("CERT_REVOQUE"));
  ASSERT_EQ(r.revocations.size(), 2u);
  std::set<std::string> rows;
  for (const auto& x : r.revocations)
    rows.insert(x.code_appli + (x.state == SheetState::Desactivee ? ":desactivee" : ":bloquee"));
  EXPECT_THAT(rows, ElementsAre(active + ":desactivee", pending + ":bloquee"));

  const std::string xml = read_file(report("2026-12-01", "xml"));
  EXPECT_THAT(xml,
              HasSubstr("<Revocation codeAppli=\"" + active + "\" partenaire=\"12345678200010\" etat=\"DESACTIVEE\""));
  EXPECT_THAT(xml,
              HasSubstr("<Revocation codeAppli=\"" + pending + "\" partenaire=\"12345678200010\" etat=\"ENVOYEE\""));
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  EXPECT_EQ(xmllint_file(report("2026-12-01", "xml"), xsd_path("rapport.xsd")).status, 0) << xml;
}

TEST_F(NightlyRevocationTest, RevocationAucuneKeepsTheListedSheetActive) {
  const std::string leaf = TestPki::instance().leaf_der();
  const std::string active = submit(sftp_with_leaf_der(leaf));
  ASSERT_EQ(nightly("2026-11-30T01:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  write_crls({leaf});
  config_.revocation = rules::RevocationMode::Aucune;
  const NightlyResult result = nightly("2026-12-01T01:00:00Z", "2026-12-01");
  EXPECT_THAT(result.reports.at(0).transitions, IsEmpty());
  EXPECT_THAT(result.reports.at(0).revocations, IsEmpty());
  EXPECT_EQ(state_of(active), "ACTIVEE");
}

TEST_F(NightlyRevocationTest, ExpirationProcheListsTheLeavesOfPendingSheetsToo) {
  const std::string pending = submit(sftp_with_leaf_until("2026-12-20T00:00:00Z", "2026-12-10"));  // du later
  const NightlyResult result = nightly("2026-11-30T01:00:00Z", "2026-11-30");
  EXPECT_EQ(state_of(pending), "ENVOYEE");
  ASSERT_EQ(result.reports.at(0).expiring.size(), 1u);
  EXPECT_EQ(result.reports.at(0).expiring[0].code_appli, pending);
}

// ---------------------------------------------------------------------------------------------
// An end date written empty or blank is no end date (docs/design.md "Empty values").

// The issue's input `<Periode du=".." au=""/>` and its blank siblings: ENVOYEE at submission,
// activated by the nightly run (not blocked with "terminée le ."), never deactivated for its period.
TEST_F(NightlyTest, EndDateWrittenEmptyOrBlankIsOpenEndedActivatedAndNeverEnds) {
  std::vector<std::string> codes;
  for (const char* au : {"", " ", "  \t  "}) {
    SheetSpec spec = sftp_from("2026-11-29");
    spec.action = "soumettre";
    std::string sheet = sheet_xml(spec);
    const std::size_t at = sheet.find("au=\"2099-06-30\"");
    ASSERT_NE(at, std::string::npos);
    sheet.replace(at, std::string("au=\"2099-06-30\"").size(), std::string("au=\"") + au + "\"");
    ++n_;
    const ParsedAck ack = process("sans_fin_" + std::to_string(n_) + ".xml",
                                  depot_xml(sheet, "identifiant=\"SANS-FIN-" + std::to_string(n_) + "\""));
    ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
    EXPECT_EQ(ack.operations.at(0).etat, "ENVOYEE");
    codes.push_back(ack.operations.at(0).code_appli);
  }
  const NightlyResult first = nightly("2026-11-30T01:00:00Z", "2026-11-30");
  EXPECT_THAT(first.reports.at(0).blocked, IsEmpty());
  EXPECT_THAT(transitions_of(first.reports.at(0)),
              ElementsAre("VFE001:ENVOYEE>ACTIVEE|activation", "VFE002:ENVOYEE>ACTIVEE|activation",
                          "VFE003:ENVOYEE>ACTIVEE|activation"));
  // The next run: still in force (an end date of '' read as a date ended it "before" any D).
  const NightlyResult next = nightly("2026-12-01T01:00:00Z", "2026-12-01");
  EXPECT_THAT(transitions_of(next.reports.at(0)), IsEmpty());
  for (const std::string& code : codes) {
    EXPECT_EQ(state_of(code), "ACTIVEE") << code;
    EXPECT_EQ(count("SELECT COUNT(*) FROM sheets s JOIN sheet_versions v ON v.id = s.active_version WHERE "
                    "s.code_appli = $1 AND v.period_to IS NULL",
                    {code}),
              1)
        << code;
  }
}

/// The version of the migration holding `needle` (engine/migrations.cpp), -1 if none.
int migration_holding(std::string_view needle) {
  for (const auto& m : migrations()) {
    for (const auto& statement : m.statements) {
      if (statement.find(needle) != std::string::npos) return m.version;
    }
  }
  return -1;
}

// A store written by an earlier version holds '' for an end date written empty. Once the engine
// starts (and migrates it), the nightly run agrees with the submission check: the ENVOYEE sheet is
// activated and the ACTIVEE one is not deactivated "for the end of its period".
TEST_F(NightlyTest, EndDatesStoredEmptyByEarlierVersionsAreOpenEndedOnceMigrated) {
  const std::string activee = submit(sftp_from("2026-11-20"));
  const std::string envoyee = submit(sftp_from("2026-11-29"));
  activate_by_sql(activee);
  const int version = migration_holding("period_to = NULLIF(period_to, '')");
  ASSERT_GT(version, 0);
  {  // as an earlier version left the store: '' in period_to, the migration not yet applied
    Transaction tx(db());
    db().execute("UPDATE sheet_versions SET period_to = ''");
    db().execute("DELETE FROM schema_migrations WHERE version = $1", {static_cast<std::int64_t>(version)});
    tx.commit();
  }
  const NightlyResult result = nightly("2026-11-30T01:00:00Z", "2026-11-30");  // a new engine: migrates
  EXPECT_THAT(result.reports.at(0).blocked, IsEmpty());
  EXPECT_THAT(transitions_of(result.reports.at(0)), ElementsAre(envoyee + ":ENVOYEE>ACTIVEE|activation"));
  EXPECT_EQ(state_of(activee), "ACTIVEE");
  EXPECT_EQ(state_of(envoyee), "ACTIVEE");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_versions WHERE period_to IS NULL"),
            count("SELECT COUNT(*) FROM sheet_versions"));
}

// ---------------------------------------------------------------------------------------------
// The ledger and catch-up (docs/reference.md §6; docs/field-cases.md F35).

TEST_F(NightlyTest, SecondRunForTheSameDateIsANoOpAndRewritesMissingReportFiles) {
  const std::string code = submit(sftp_from("2026-11-29"));
  ASSERT_EQ(nightly("2026-11-30T01:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  const std::string xml = read_file(report("2026-11-30", "xml"));
  const std::string csv = read_file(report("2026-11-30", "csv"));
  ASSERT_FALSE(xml.empty());
  ASSERT_FALSE(csv.empty());
  const auto history_rows = count("SELECT COUNT(*) FROM history");

  const NightlyResult again = nightly("2026-11-30T09:00:00Z", "2026-11-30");
  EXPECT_EQ(again.status, NightlyStatus::AlreadyRun);
  EXPECT_THAT(again.dates_run, IsEmpty());
  EXPECT_THAT(again.reports, IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM history"), history_rows);
  EXPECT_THAT(ledger(), ElementsAre("2026-11-30@2026-11-30T01:00:00Z"));
  EXPECT_EQ(lock_holder(), "<libre>");

  // Both files lost (e.g. a crash between the commit and the files): rewritten from the ledger.
  fs::remove(report("2026-11-30", "xml"));
  fs::remove(report("2026-11-30", "csv"));
  EXPECT_EQ(nightly("2026-11-30T09:05:00Z", "2026-11-30").status, NightlyStatus::AlreadyRun);
  EXPECT_EQ(read_file(report("2026-11-30", "xml")), xml);
  EXPECT_EQ(read_file(report("2026-11-30", "csv")), csv);

  // Only the CSV lost.
  fs::remove(report("2026-11-30", "csv"));
  EXPECT_EQ(nightly("2026-11-30T09:10:00Z", "2026-11-30").status, NightlyStatus::AlreadyRun);
  EXPECT_EQ(read_file(report("2026-11-30", "csv")), csv);
  EXPECT_EQ(state_of(code), "ACTIVEE");
}

TEST_F(NightlyTest, CatchUpOverThreeMissedDaysRunsThemInOrderEachAtItsOwnInstant) {
  ASSERT_EQ(nightly("2026-11-30T01:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  at("2026-11-30T10:00:00Z");
  const std::string sat = submit(sftp_from("2026-12-01"));
  const std::string sun = submit(sftp_from("2026-12-02"));
  const std::string mon = submit(sftp_from("2026-12-03"));
  const std::string tue = submit(sftp_from("2026-12-04"));

  // The machine was off; the run for 2026-12-04 is asked at 08:00 Paris.
  const NightlyResult result = nightly("2026-12-04T07:00:00Z", "2026-12-04");
  ASSERT_EQ(result.status, NightlyStatus::Ran);
  EXPECT_THAT(iso_dates(result.dates_run), ElementsAre("2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"));
  ASSERT_EQ(result.reports.size(), 4u);
  EXPECT_THAT(transitions_of(result.reports[0]), ElementsAre(sat + ":ENVOYEE>ACTIVEE|activation"));
  EXPECT_THAT(transitions_of(result.reports[1]), ElementsAre(sun + ":ENVOYEE>ACTIVEE|activation"));
  EXPECT_THAT(transitions_of(result.reports[2]), ElementsAre(mon + ":ENVOYEE>ACTIVEE|activation"));
  EXPECT_THAT(transitions_of(result.reports[3]), ElementsAre(tue + ":ENVOYEE>ACTIVEE|activation"));
  EXPECT_THAT(ledger(), ElementsAre("2026-11-30@2026-11-30T01:00:00Z", "2026-12-01@2026-12-01T01:00:00Z",
                                    "2026-12-02@2026-12-02T01:00:00Z", "2026-12-03@2026-12-03T01:00:00Z",
                                    "2026-12-04@2026-12-04T01:00:00Z"));
  EXPECT_THAT(nightly_history(sat), ElementsAre("ENVOYEE>ACTIVEE|activation|2026-12-01T01:00:00Z"));
  EXPECT_THAT(nightly_history(sun), ElementsAre("ENVOYEE>ACTIVEE|activation|2026-12-02T01:00:00Z"));
  EXPECT_THAT(nightly_history(mon), ElementsAre("ENVOYEE>ACTIVEE|activation|2026-12-03T01:00:00Z"));
  EXPECT_THAT(nightly_history(tue), ElementsAre("ENVOYEE>ACTIVEE|activation|2026-12-04T01:00:00Z"));
  for (const char* d : {"2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"}) {
    EXPECT_TRUE(fs::exists(report(d, "xml"))) << d;
    EXPECT_TRUE(fs::exists(report(d, "csv"))) << d;
  }
}

TEST_F(NightlyTest, NoRecordedRunMeansNothingToCatchUp) {
  const std::string code = submit(sftp_from("2026-11-29"));
  const NightlyResult result = nightly("2026-12-04T01:00:00Z", "2026-12-04");
  ASSERT_EQ(result.status, NightlyStatus::Ran);
  EXPECT_THAT(iso_dates(result.dates_run), ElementsAre("2026-12-04"));
  EXPECT_THAT(ledger(), ElementsAre("2026-12-04@2026-12-04T01:00:00Z"));
  EXPECT_EQ(state_of(code), "ACTIVEE");
  EXPECT_FALSE(fs::exists(report("2026-12-03", "xml")));
}

// ---------------------------------------------------------------------------------------------
// The store lock: runs never overlap, also across engines (docs/reference.md §6).

TEST_F(NightlyTest, LockHeldByALiveProcessOfThisHostMeansLockedThenAStolenLockFromADeadOne) {
  if (postgres_requested()) GTEST_SKIP() << "SQLite: the lock row of table locks (PostgreSQL uses an advisory lock)";
  const std::string code = submit(sftp_from("2026-11-29"));
  SleepingChild other;
  ASSERT_GT(other.pid(), 0);
  const std::string holder = fmt::format("{}:{}", host_name(), other.pid());
  at("2026-11-30T01:00:00Z");
  set_lock(holder, real_now_iso());

  const NightlyResult locked = run_nightly(engine(), civil_date("2026-11-30"));
  EXPECT_EQ(locked.status, NightlyStatus::Locked);
  EXPECT_THAT(locked.dates_run, IsEmpty());
  EXPECT_THAT(ledger(), IsEmpty());
  EXPECT_EQ(state_of(code), "ENVOYEE");
  EXPECT_EQ(lock_holder(), holder);  // untouched
  EXPECT_FALSE(fs::exists(report("2026-11-30", "xml")));

  other.kill();  // the holder died without releasing the lock
  const NightlyResult stolen = run_nightly(engine(), civil_date("2026-11-30"));
  EXPECT_EQ(stolen.status, NightlyStatus::Ran);
  EXPECT_EQ(state_of(code), "ACTIVEE");
  EXPECT_EQ(lock_holder(), "<libre>");
}

// A holder of this host whose process id is not a whole number (a corrupt or hand-edited row) holds
// nothing: the lock is taken over. "host:<live pid>x" and "host: <live pid>" used to be read as the
// live pid (atoi stops at the first non-digit and skips leading blanks), so the lock stayed held for
// good.
TEST_F(NightlyTest, LockHolderOfThisHostWithoutAWholeProcessIdIsTakenOver) {
  if (postgres_requested()) GTEST_SKIP() << "SQLite: the lock row of table locks (PostgreSQL uses an advisory lock)";
  const std::string live = std::to_string(::getpid());  // alive, and not the engine's own holder text
  const std::vector<std::pair<std::string, std::string>> cases = {
      {live + "x", "2026-11-30"}, {" " + live, "2026-12-01"}, {live + " ", "2026-12-02"},
      {"", "2026-12-03"},         {"abc", "2026-12-04"},      {"-1", "2026-12-05"}};
  for (const auto& [pid, date] : cases) {
    at(date + "T01:00:00Z");
    set_lock(host_name() + ":" + pid, real_now_iso());
    EXPECT_EQ(run_nightly(engine(), civil_date(date)).status, NightlyStatus::Ran) << "pid « " << pid << " »";
    EXPECT_EQ(lock_holder(), "<libre>") << "pid « " << pid << " »";
  }
}

// PostgreSQL (issue 6): the nightly lock is a session advisory lock of the store's schema, so a run
// held by another engine (another connection) means Locked, and a dead engine's lock goes with its
// connection.
TEST_F(NightlyTest, PostgresqlAdvisoryLockHeldByAnotherEngineMeansLocked) {
  if (!postgres_requested()) GTEST_SKIP() << "PostgreSQL only";
  start();
  at("2026-11-30T01:00:00Z");  // a run happens on or after its date
  Database other(Backend::Postgresql, config_.store_connection);
  other.query("SELECT pg_advisory_lock(7263723, hashtext(current_schema()))");
  EXPECT_EQ(run_nightly(engine(), civil_date("2026-11-30")).status, NightlyStatus::Locked);
  other.query("SELECT pg_advisory_unlock(7263723, hashtext(current_schema()))");
  EXPECT_EQ(run_nightly(engine(), civil_date("2026-11-30")).status, NightlyStatus::Ran);
}

TEST_F(NightlyTest, LockHeldByAnotherHostWithAFreshHeartbeatMeansLockedAndAnOldOneIsStolen) {
  if (postgres_requested()) GTEST_SKIP() << "SQLite: the lock row of table locks (PostgreSQL uses an advisory lock)";
  at("2026-11-30T01:00:00Z");
  set_lock("autre-serveur.exemple.fr:4242", real_now_iso());
  EXPECT_EQ(run_nightly(engine(), civil_date("2026-11-30")).status, NightlyStatus::Locked);
  EXPECT_THAT(ledger(), IsEmpty());

  const auto old = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - std::chrono::hours{7};
  set_lock("autre-serveur.exemple.fr:4242", format_iso_instant(old));
  EXPECT_EQ(run_nightly(engine(), civil_date("2026-11-30")).status, NightlyStatus::Ran);
  EXPECT_THAT(ledger(), ElementsAre("2026-11-30@2026-11-30T01:00:00Z"));
}

// ---------------------------------------------------------------------------------------------
// The report (docs/reference.md §5.3).

TEST_F(NightlyTest, ReportFilesHoldTransitionsBlockedLateExpiringAndTotalsAndValidate) {
  const std::string activated = submit(sftp_from("2026-11-29"));                      // VFE001
  const std::string expiring = submit(sftp_with_leaf_until("2026-12-20T00:00:00Z"));  // VFE002
  const std::string waiting = submit(sftp_from("2026-12-10"));                        // VFE003, du in the future
  const std::string failing = submit(sftp_with_leaf_until("2026-11-30T12:00:00Z"));   // VFE004
  ASSERT_EQ(nightly("2026-11-30T01:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  ASSERT_EQ(state_of(failing), "ACTIVEE");  // valid at 2026-11-30T01:00Z, expired at the next run
  at("2026-11-29T10:00:00Z");

  const std::string blocked = submit(sftp_with_leaf_until("2026-11-30T12:00:00Z"));  // VFE005, at 10:00Z
  ASSERT_EQ(state_of(failing), "ACTIVEE");

  const NightlyResult result = nightly("2026-12-01T01:00:00Z", "2026-12-01");
  ASSERT_EQ(result.status, NightlyStatus::Ran);
  const NightlyReport& r = result.reports.at(0);
  EXPECT_THAT(transitions_of(r), ElementsAre("VFE004:ACTIVEE>DESACTIVEE|certificat expiré"));
  ASSERT_EQ(r.blocked.size(), 1u);
  EXPECT_EQ(r.blocked[0].code_appli, blocked);
  // VFE003 waits for its du (10/12): not late; VFE005 was submitted on 29/11: late from 29/11.
  ASSERT_EQ(r.late.size(), 1u);
  EXPECT_EQ(r.late[0].code_appli, blocked);
  EXPECT_EQ(format_iso_date(r.late[0].due), "2026-11-29");
  ASSERT_EQ(r.expiring.size(), 1u);
  EXPECT_EQ(r.expiring[0].code_appli, expiring);
  EXPECT_EQ(r.sheets_by_state.at(SheetState::Activee), 2);
  EXPECT_EQ(r.sheets_by_state.at(SheetState::Envoyee), 2);
  EXPECT_EQ(r.sheets_by_state.at(SheetState::Desactivee), 1);

  const fs::path xml_path = report("2026-12-01", "xml");
  const fs::path csv_path = report("2026-12-01", "csv");
  ASSERT_TRUE(fs::exists(xml_path));
  ASSERT_TRUE(fs::exists(csv_path));
  const std::string xml = read_file(xml_path);
  EXPECT_THAT(xml, HasSubstr("<RapportNocturne xmlns=\"urn:raccord:rapport:1\" date=\"2026-12-01\""));
  EXPECT_THAT(xml, HasSubstr("instant=\"2026-12-01T01:00:00Z\""));
  EXPECT_THAT(xml, HasSubstr("<Transition codeAppli=\"VFE004\" partenaire=\"12345678200010\" de=\"ACTIVEE\" "
                             "vers=\"DESACTIVEE\" motif=\"certificat expiré\" />"));
  EXPECT_THAT(xml, HasSubstr("<Retard codeAppli=\"VFE005\" partenaire=\"12345678200010\" etat=\"ENVOYEE\" "
                             "soumis=\"2026-11-29T10:00:00Z\" echeance=\"2026-11-29\" />"));
  EXPECT_THAT(xml, Not(HasSubstr("<Retard codeAppli=\"VFE003\"")));
  EXPECT_THAT(xml, HasSubstr("<ExpirationProche codeAppli=\"VFE002\""));
  EXPECT_THAT(xml, HasSubstr("finValidite=\"2026-12-20\""));
  EXPECT_THAT(xml, HasSubstr("<Totaux"));
  EXPECT_THAT(xml, HasSubstr("<Etat code=\"ACTIVEE\" nombre=\"2\" />"));
  EXPECT_THAT(xml, HasSubstr("<Etat code=\"DESACTIVEE\" nombre=\"1\" />"));
  EXPECT_THAT(xml, Not(HasSubstr("BEGIN CERTIFICATE")));

  // Issue 18 item 3: the CSV support opens in Excel had only a header; it holds every row type now.
  const std::string csv = read_file(csv_path);
  ASSERT_EQ(csv.rfind("\xEF\xBB\xBF", 0), 0u);
  const std::vector<std::vector<std::string>> rows = parse_csv(std::string_view(csv).substr(3));
  ASSERT_EQ(rows.size(), 5u) << csv;
  EXPECT_EQ(rows[0],
            (std::vector<std::string>{"Type", "Code Appli partenaire", "Partenaire", "De", "Vers", "Motif", "Date"}));
  const std::string acme = "12345678200010 - ACME Logistique SAS";
  EXPECT_EQ(rows[1], (std::vector<std::string>{"Transition", "VFE004", acme, "Activée", "Désactivée",
                                               "certificat expiré", "01/12/2026"}));
  ASSERT_EQ(rows[2].size(), 7u);
  EXPECT_EQ(rows[2][0], "Blocage");
  EXPECT_EQ(rows[2][1], "VFE005");
  EXPECT_EQ(rows[2][2], acme);
  EXPECT_EQ(rows[2][3], "");
  EXPECT_EQ(rows[2][4], "");
  EXPECT_THAT(rows[2][5], HasSubstr("CERT_EXPIRE (Certificats/Certificat[1]) : "));
  EXPECT_EQ(rows[2][6], "01/12/2026");
  EXPECT_EQ(rows[3][0], "Retard");
  EXPECT_EQ(rows[3][1], "VFE005");
  EXPECT_THAT(rows[3][5], HasSubstr("29/11/2026"));
  EXPECT_EQ(rows[3][6], "29/11/2026");  // the date it became due
  EXPECT_EQ(rows[4][0], "Expiration");
  EXPECT_EQ(rows[4][1], "VFE002");
  EXPECT_EQ(rows[4][2], acme);
  EXPECT_THAT(rows[4][5], HasSubstr("bientot.exemple.fr"));
  EXPECT_EQ(rows[4][6], "20/12/2026");  // the leaf's end

  const fs::path xsd = xsd_path("rapport.xsd");
  if (!xmllint_available()) GTEST_SKIP() << "xmllint absent";
  for (const char* d : {"2026-11-30", "2026-12-01"}) {
    EXPECT_EQ(xmllint_file(report(d, "xml"), xsd).status, 0) << read_file(report(d, "xml"));
  }
}

// Issue 18 item 3 (docs/reference.md §5.3): "en retard" counts from the later of the submission and the start of
// `du` (00:00 Paris): a sheet whose period has not started is never late, and one whose period starts
// after its submission is late one day after that start.
TEST_F(NightlyTest, LatenessCountsFromTheLaterOfSubmissionAndDu) {
  // Both submitted 2026-11-29T10:00:00Z and blocked by their expired leaf once they are candidates
  // (the second leaf ends after its du starts at 00:00 UTC, else CERT_EXPIRE_AVANT_PERIODE refuses it).
  const std::string from_submission = submit(sftp_with_leaf_until("2026-11-30T00:30:00Z", "2026-11-29"));
  const std::string from_du = submit(sftp_with_leaf_until("2026-12-02T00:30:00Z", "2026-12-02"));
  auto late_of = [](const NightlyReport& r) {
    std::vector<std::string> out;
    for (const auto& l : r.late) out.push_back(l.code_appli + "@" + format_iso_date(l.due));
    return out;
  };
  EXPECT_THAT(late_of(nightly("2026-11-30T07:00:00Z", "2026-11-30").reports.at(0)), IsEmpty());  // 15 h after
  EXPECT_THAT(late_of(nightly("2026-12-01T07:00:00Z", "2026-12-01").reports.at(0)),
              ElementsAre(from_submission + "@2026-11-29"));
  // The run of 02/12 (01:00Z): du 02/12 started at 00:00 Paris (01/12 23:00Z), two hours before.
  const NightlyReport second = nightly("2026-12-02T07:00:00Z", "2026-12-02").reports.at(0);
  EXPECT_THAT(late_of(second), ElementsAre(from_submission + "@2026-11-29"));
  ASSERT_EQ(second.blocked.size(), 2u);  // both candidates now, both blocked
  EXPECT_THAT(late_of(nightly("2026-12-03T07:00:00Z", "2026-12-03").reports.at(0)),
              ElementsAre(from_submission + "@2026-11-29", from_du + "@2026-12-02"));
  EXPECT_EQ(state_of(from_du), "ENVOYEE");
  EXPECT_EQ(count("SELECT late FROM nightly_runs WHERE run_date = '2026-12-03'"), 2);
}

// Issue 18 item 3 (docs/reference.md §5.3): ExpirationProche for the leaves of ACTIVEE, ENVOYEE and ENVOYEE_MAJ
// sheets (the version in force and the pending one), not of ACTIVEE sheets only.
TEST_F(NightlyTest, ExpiringLeavesOfSentAndUpdatedSheetsAreReportedToo) {
  const std::string sent = submit(sftp_with_leaf_until("2026-12-15T00:00:00Z", "2026-12-10"));  // waits for du
  const std::string updated = submit(sftp_with_leaf_until("2026-12-18T00:00:00Z", "2026-11-29"));
  ASSERT_EQ(nightly("2026-11-30T07:00:00Z", "2026-11-30").status, NightlyStatus::Ran);
  ASSERT_EQ(state_of(updated), "ACTIVEE");
  at("2026-11-30T10:00:00Z");
  SheetSpec update = sftp_with_leaf_until("2026-12-20T00:00:00Z", "2026-12-10");
  ASSERT_EQ(submit(update, updated), updated);
  ASSERT_EQ(state_of(updated), "ENVOYEE_MAJ");
  const std::string far = submit(sftp_with_leaf_until("2027-06-30T00:00:00Z", "2026-12-10"));  // beyond 30 days

  const NightlyReport r = nightly("2026-12-01T07:00:00Z", "2026-12-01").reports.at(0);
  std::vector<std::string> expiring;
  for (const auto& e : r.expiring) expiring.push_back(e.code_appli + "@" + format_iso_instant(e.not_after));
  EXPECT_THAT(expiring, ElementsAre(sent + "@2026-12-15T00:00:00Z", updated + "@2026-12-18T00:00:00Z",
                                    updated + "@2026-12-20T00:00:00Z"));
  EXPECT_EQ(r.expiring_within_30_days, 3);
  EXPECT_EQ(count("SELECT expiring_30d FROM nightly_runs WHERE run_date = '2026-12-01'"), 3);
  EXPECT_EQ(state_of(far), "ENVOYEE");
  const std::string xml = read_file(report("2026-12-01", "xml"));
  EXPECT_THAT(xml, HasSubstr("<ExpirationProche codeAppli=\"" + sent + "\""));
}

// ---------------------------------------------------------------------------------------------
// A stored value no release writes (issue 15): the run stops with a StoreError naming the table,
// the row and the value, records nothing and writes no report, rather than leaving the sheet out
// of its totals or re-checking it as another kind.

TEST_F(NightlyTest, AnUnknownStoredStateOrKindStopsTheRunWithAStoreErrorNamingTheRow) {
  const std::string activable = submit(sftp_from("2026-11-29"));  // VFE001, a candidate
  const std::string other = submit(sftp_from("2026-11-29"));      // VFE002
  struct Case {
    std::string corrupt;  // of VFE002
    std::string table;
    std::string value;
  };
  for (const Case& c : {Case{"state = 'ACTIVE'", "sheets.state", "ACTIVE"},  // read by the totals by state
                        Case{"state = 'envoyee'", "sheets.state", "envoyee"},
                        Case{"kind = 'SOAP'", "sheets.kind", "SOAP"}}) {  // read as a candidate
    SCOPED_TRACE(c.corrupt);
    {
      Transaction tx(db());
      db().execute("UPDATE sheets SET " + c.corrupt + " WHERE code_appli = $1", {other});
      tx.commit();
    }
    try {
      (void)nightly("2026-11-30T07:30:00Z", "2026-11-30");
      ADD_FAILURE() << "no StoreError";
    } catch (const StoreError& e) {
      const std::string what = e.what();
      EXPECT_THAT(what, HasSubstr(c.table));
      EXPECT_THAT(what, HasSubstr(other));
      EXPECT_THAT(what, HasSubstr("« " + c.value + " »"));
      EXPECT_FALSE(e.transient);
    }
    EXPECT_THAT(ledger(), IsEmpty());
    EXPECT_FALSE(fs::exists(report("2026-11-30", "xml")));
    EXPECT_EQ(state_of(activable), "ENVOYEE");  // rolled back with the run
    EXPECT_EQ(lock_holder(), "<libre>");
    Transaction tx(db());
    db().execute("UPDATE sheets SET state = 'ENVOYEE', kind = 'EDI' WHERE code_appli = $1", {other});
    tx.commit();
  }
  // Repaired, the run goes.
  const NightlyResult result = nightly("2026-11-30T07:30:00Z", "2026-11-30");
  ASSERT_EQ(result.status, NightlyStatus::Ran);
  EXPECT_THAT(transitions_of(result.reports.at(0)),
              ElementsAre("VFE001:ENVOYEE>ACTIVEE|activation", "VFE002:ENVOYEE>ACTIVEE|activation"));
}

// ---------------------------------------------------------------------------------------------
// The dates a run may be asked for (issue "defects found in operation" 2): not after the business
// today, not before the store's creation (recorded once, at the first open).

TEST_F(NightlyTest, TheStoreCreationIsRecordedOnceAndBoundsTheDates) {
  auto created = [this] {
    const auto rows = sql("SELECT value FROM store_info WHERE name = 'created_at'");
    return rows.empty() ? std::string() : rows[0].text(0);
  };
  EXPECT_EQ(created(), "2026-11-29T10:00:00Z");  // start(): the business instant of the first open
  at("2026-12-05T10:00:00Z");
  EXPECT_EQ(created(), "2026-11-29T10:00:00Z");
  EXPECT_EQ(first_nightly_date(engine()), civil_date("2026-11-29"));
  EXPECT_FALSE(nightly_date_problem(engine(), civil_date("2026-11-29")));
  EXPECT_FALSE(nightly_date_problem(engine(), civil_date("2026-12-05")));
  for (const char* d : {"2026-11-28", "1970-01-01", "2026-12-06", "9999-12-31"}) {
    const auto problem = nightly_date_problem(engine(), civil_date(d));
    ASSERT_TRUE(problem) << d;
    EXPECT_THAT(*problem, HasSubstr(d));
    EXPECT_THROW(run_nightly(engine(), civil_date(d)), NightlyDateError) << d;
  }
  EXPECT_THAT(ledger(), IsEmpty());

  // A store created before the instant was recorded: the earliest instant it holds (the dépôts of
  // setup_world at 10:00Z), not the instant it is first opened again.
  db().execute("DELETE FROM store_info");
  at("2026-12-05T10:00:00Z");
  EXPECT_EQ(created(), "2026-11-29T10:00:00Z");
  EXPECT_EQ(record_store_creation(db(), instant("2020-01-01T00:00:00Z")), instant("2026-11-29T10:00:00Z"));

  // A --now back before the creation: its today may run (docs/reference.md §7: --now moves freely), no earlier date.
  at("2026-11-20T10:00:00Z");
  EXPECT_TRUE(nightly_date_problem(engine(), civil_date("2026-11-19")));
  EXPECT_EQ(run_nightly(engine(), civil_date("2026-11-20")).status, NightlyStatus::Ran);
  // Then a run of today catches up from there as before.
  const NightlyResult caught_up = nightly("2026-11-23T07:00:00Z", "2026-11-23");
  EXPECT_THAT(caught_up.dates_run,
              ElementsAre(civil_date("2026-11-21"), civil_date("2026-11-22"), civil_date("2026-11-23")));

  // A --now decades back (hostile finding: 1970 on a store of 2026) is refused, even as its today:
  // its run would make the next one catch up every date since. A year back is still a today.
  for (const char* now : {"1970-01-01T00:30:00Z", "2025-11-27T10:00:00Z"}) {
    at(now);
    const CivilDate today = engine().zone().date_of(instant(now));
    const auto problem = nightly_date_problem(engine(), today);
    ASSERT_TRUE(problem) << now;
    EXPECT_THAT(*problem, HasSubstr("366 jours"));
  }
  at("2025-11-29T10:00:00Z");
  EXPECT_FALSE(nightly_date_problem(engine(), civil_date("2025-11-29")));
}

// ---------------------------------------------------------------------------------------------
// `raccord nightly` through the binary (docs/reference.md §7): exit 0, 0 when already run (and says so),
// 3 when another run holds the lock; two concurrent runs on one store, exactly one proceeds.

class NightlyCommandTest : public NightlyTest {
 protected:
  void SetUp() override {
    NightlyTest::SetUp();
    ASSERT_TRUE(fs::exists(RACCORD_BINARY)) << "build the raccord target first: " << RACCORD_BINARY;
    ini_ = tmp_ / "raccord.ini";
    std::ofstream(ini_) << "[paths]\nroot = " << config_.root.string() << "\nrules = " << config_.rules_dir.string()
                        << "\n[certificates]\ntrust_dir = " << config_.trust_dir.string() << "\n";
  }

  /// `raccord nightly --config INI --now NOW --date D`, without redirections.
  std::string nightly_line(const std::string& now, const std::string& d) const {
    return raccord_command_line("nightly --config " + shell_quote(ini_.string()) + " --now " + now + " --date " + d);
  }

  /// The same with stdout and stderr in tmp_/TAG.out and tmp_/TAG.err (for runs in parallel).
  std::string command(const std::string& now, const std::string& d, const std::string& tag) const {
    return nightly_line(now, d) + " >" + shell_quote((tmp_ / (tag + ".out")).string()) + " 2>" +
           shell_quote((tmp_ / (tag + ".err")).string()) + " </dev/null";
  }

  CommandRun raccord_nightly(const std::string& now, const std::string& d) {
    return run_command(nightly_line(now, d), tmp_);
  }

  fs::path ini_;
};

TEST_F(NightlyCommandTest, ExitCodesRanAlreadyRunAndLocked) {
  if (postgres_requested()) GTEST_SKIP() << "runs the binary on a SQLite store";
  const std::string code = submit(sftp_from("2026-11-29"));
  engine_.reset();  // the binary opens the store itself

  const CommandRun ran = raccord_nightly("2026-11-30T01:00:00Z", "2026-11-30");
  EXPECT_EQ(ran.code, 0) << ran.out << ran.err;
  EXPECT_THAT(ran.out, HasSubstr("Nuit du 2026-11-30 : 1 activation(s)"));
  EXPECT_TRUE(fs::exists(report("2026-11-30", "xml")));

  const CommandRun again = raccord_nightly("2026-11-30T06:00:00Z", "2026-11-30");
  EXPECT_EQ(again.code, 0);
  EXPECT_THAT(again.out, HasSubstr("déjà été exécutée"));

  // This test process is alive and is not the binary: its lock makes the binary answer 3.
  at("2026-12-01T01:00:00Z");
  set_lock(fmt::format("{}:{}", host_name(), ::getpid()), real_now_iso());
  engine_.reset();
  const CommandRun locked = raccord_nightly("2026-12-01T01:00:00Z", "2026-12-01");
  EXPECT_EQ(locked.code, 3) << locked.out << locked.err;
  EXPECT_THAT(locked.out, HasSubstr("déjà en cours"));
  at("2026-12-01T01:00:00Z");
  EXPECT_THAT(ledger(), ElementsAre("2026-11-30@2026-11-30T01:00:00Z"));
  EXPECT_EQ(state_of(code), "ACTIVEE");
}

TEST_F(NightlyCommandTest, TwoConcurrentRunsOnOneStoreExactlyOneProceeds) {
  if (postgres_requested()) GTEST_SKIP() << "runs the binary on a SQLite store";
  for (int i = 0; i < 6; ++i) submit(sftp_from("2026-11-29"));
  engine_.reset();
  const std::string both = "{ " + command("2026-11-30T01:00:00Z", "2026-11-30", "a") + "; echo $? >" +
                           shell_quote((tmp_ / "a.code").string()) + "; } & { " +
                           command("2026-11-30T01:00:00Z", "2026-11-30", "b") + "; echo $? >" +
                           shell_quote((tmp_ / "b.code").string()) + "; } & wait";
  ASSERT_EQ(std::system(("sh -c " + shell_quote(both)).c_str()), 0);

  int proceeded = 0;
  for (const char* tag : {"a", "b"}) {
    const int code = std::stoi(read_file(tmp_ / (std::string(tag) + ".code")));  // throws on an empty file
    const std::string out = read_file(tmp_ / (std::string(tag) + ".out"));
    if (out.find("Nuit du 2026-11-30") != std::string::npos) {
      ++proceeded;
      EXPECT_EQ(code, 0) << out;
    } else {
      // The other one either found the lock held (3) or the date already run (0).
      EXPECT_TRUE(code == 3 || (code == 0 && out.find("déjà été exécutée") != std::string::npos))
          << code << " " << out << read_file(tmp_ / (std::string(tag) + ".err"));
    }
  }
  EXPECT_EQ(proceeded, 1);
  at("2026-11-30T02:00:00Z");
  EXPECT_THAT(ledger(), ElementsAre("2026-11-30@2026-11-30T01:00:00Z"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM history WHERE actor = 'nightly'"), 6);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets WHERE state = 'ACTIVEE'"), 6);
}

}  // namespace
}  // namespace raccord::testing
