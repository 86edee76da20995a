// Tests of engine/metrics.cpp (docs/reference.md §5.4): metrics.prom rewritten after each dépôt and each
// nightly run, its running counters (migration 3) kept in the dépôt's transaction and equal to a
// recount from the recorded accusés, the seeding of those counters for an older store.
#include "engine/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "engine/identity_audit.hpp"
#include "engine/migrations.hpp"
#include "engine/nightly.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/files.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

/// metrics.prom's samples, "name{labels}" → value (the format itself is checked by
/// tests/outbox/metrics_writer_test.cpp).
std::map<std::string, std::int64_t> samples(const std::string& text) {
  std::map<std::string, std::int64_t> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stoll(line.substr(space + 1));
  }
  return out;
}

class MetricsTest : public EngineTest {
 protected:
  std::map<std::string, std::int64_t> metrics() { return samples(read_file(outbox() / "metrics.prom")); }

  std::map<std::string, std::int64_t> counters() {
    std::map<std::string, std::int64_t> out;
    for (const auto& r : sql("SELECT name, value FROM metric_counters WHERE name <> 'files_unopenable'")) {
      out[r.text(0)] = r.integer(1);
    }
    return out;
  }

  /// The counters recomputed from every recorded accusé, parsed.
  std::map<std::string, std::int64_t> recount() {
    std::map<std::string, std::int64_t> out{{"depots_INTEGRE", 0},      {"depots_INTEGRE_PARTIEL", 0},
                                            {"depots_REJETE", 0},       {"depots_DOUBLON", 0},
                                            {"operations_ACCEPTEE", 0}, {"operations_REJETEE", 0}};
    for (const auto& r : sql("SELECT ack_content FROM deposits")) {
      const ParsedAck ack = parse_ack(r.text(0));
      ++out["depots_" + ack.statut];
      for (const auto& op : ack.operations) ++out["operations_" + op.statut];
    }
    return out;
  }

  std::string sheet_depot(const std::string& id, const std::string& demandeur = kSubscriber) {
    SheetSpec spec = sftp_sheet();
    spec.demandeur = demandeur;
    spec.period_from = "2026-11-29";  // activable by the run of 2026-11-30
    return depot_xml(sheet_xml(spec), "identifiant=\"" + id + "\"");
  }
};

TEST_F(MetricsTest, RewrittenAfterEachDepositWithDepositsOperationsAndSheets) {
  start();
  setup_world();  // three INTEGRE dépôts: 5 + 2 + 1 accepted operations
  auto m = metrics();
  EXPECT_EQ(m[R"(raccord_depots_total{statut="INTEGRE"})"], 3);
  EXPECT_EQ(m[R"(raccord_depots_total{statut="REJETE"})"], 0);
  EXPECT_EQ(m[R"(raccord_operations_total{statut="ACCEPTEE"})"], 8);
  EXPECT_EQ(m[R"(raccord_operations_total{statut="REJETEE"})"], 0);
  EXPECT_EQ(m[R"(raccord_sheets{etat="ENVOYEE"})"], 0);
  EXPECT_EQ(m.count("raccord_nightly_last_run_timestamp_seconds"), 0u);  // no run yet

  const std::string sheet = sheet_depot("FICHE-1");
  ASSERT_EQ(process("fiche.xml", sheet).statut, "INTEGRE");
  m = metrics();
  EXPECT_EQ(m[R"(raccord_depots_total{statut="INTEGRE"})"], 4);
  EXPECT_EQ(m[R"(raccord_operations_total{statut="ACCEPTEE"})"], 9);
  EXPECT_EQ(m[R"(raccord_sheets{etat="ENVOYEE"})"], 1);

  // A sheet by a user without rights: the operation and the dépôt are rejected.
  ASSERT_EQ(process("intrus.xml", sheet_depot("FICHE-2", kOutsider)).statut, "REJETE");
  // The same bytes again: DOUBLON, no operation.
  ASSERT_EQ(process("fiche_bis.xml", sheet).statut, "DOUBLON");
  m = metrics();
  EXPECT_EQ(m[R"(raccord_depots_total{statut="REJETE"})"], 1);
  EXPECT_EQ(m[R"(raccord_depots_total{statut="DOUBLON"})"], 1);
  EXPECT_EQ(m[R"(raccord_operations_total{statut="REJETEE"})"], 1);
  EXPECT_EQ(m[R"(raccord_operations_total{statut="ACCEPTEE"})"], 9);
  EXPECT_EQ(m[R"(raccord_sheets{etat="ENVOYEE"})"], 1);
  EXPECT_EQ(counters(), recount());
  // Written atomically: no temporary left beside it.
  for (const auto& e : fs::directory_iterator(outbox())) {
    EXPECT_NE(e.path().filename().string().front(), '.') << e.path();
  }
}

// A sheet whose stored state no release writes is never left out of the gauges: collecting the
// figures is a StoreError naming it (issue 15), and metrics.prom keeps its last good figures.
TEST_F(MetricsTest, AnUnknownStoredStateIsAStoreErrorNamingTheSheet) {
  start();
  setup_world();
  ASSERT_EQ(process("fiche.xml", sheet_depot("FICHE-1")).statut, "INTEGRE");
  {
    Transaction tx(db());
    db().execute("UPDATE sheets SET state = 'ENVOYE'");
    tx.commit();
  }
  try {
    (void)collect_metrics(db(), engine().inbox());
    ADD_FAILURE() << "no StoreError";
  } catch (const StoreError& e) {
    EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("sheets.state"));
    EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("VFE001"));
    EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("« ENVOYE »"));
  }
  EXPECT_FALSE(refresh_metrics(db(), engine().inbox()));
  EXPECT_EQ(metrics()[R"(raccord_sheets{etat="ENVOYEE"})"], 1);
  // Nor does the engine, which keeps a measure of these figures between full passes (hostile review of the
  // scanned figures): once a full pass failed to measure them (at its end), a group answered after that does
  // not rewrite metrics.prom with its fresh counters beside the sheets as last measured; the file stays as it
  // was, its age saying it is no longer refreshed.
  ASSERT_EQ(process("autre.xml", sheet_depot("FICHE-2")).statut, "INTEGRE");
  const std::string before = read_file(outbox() / "metrics.prom");
  drop_file(inbox(), "encore.xml", sheet_depot("FICHE-3"));
  ASSERT_EQ(engine().process_names({"encore.xml"}).processed, 1);
  EXPECT_EQ(read_file(outbox() / "metrics.prom"), before);
}

TEST_F(MetricsTest, CheckCountsNothing) {
  start();
  setup_world();
  const auto before = counters();
  const fs::path file = tmp_ / "essai.xml";
  std::ofstream(file) << sheet_depot("ESSAI-1");
  Engine checker(config_, BusinessClock(instant(kNow)));
  ASSERT_EQ(checker.check({file}).size(), 1u);
  EXPECT_EQ(counters(), before);
}

TEST_F(MetricsTest, MigrationSeedsTheCountersFromTheRecordedAccuses) {
  start();
  setup_world();
  ASSERT_EQ(process("intrus.xml", sheet_depot("FICHE-2", kOutsider)).statut, "REJETE");
  const auto expected = recount();
  ASSERT_EQ(counters(), expected);
  // An older store: the table's rows as migration 3 computes them from the deposits alone.
  const Migration* third = nullptr;
  for (const auto& m : migrations()) {
    if (m.version == 3) third = &m;
  }
  ASSERT_NE(third, nullptr);
  Transaction tx(db());
  db().execute("DELETE FROM metric_counters");
  db().execute(third->statements.at(1));
  tx.commit();
  EXPECT_EQ(counters(), expected);
}

TEST_F(MetricsTest, NightlyRunRefreshesSheetsAndLastRunFigures) {
  start();
  setup_world();
  ASSERT_EQ(process("fiche.xml", sheet_depot("FICHE-1")).statut, "INTEGRE");
  engine_.reset();
  engine_ = std::make_unique<Engine>(config_, BusinessClock(instant("2026-11-30T07:00:00Z")));
  engine_->open();
  ASSERT_EQ(run_nightly(engine(), *parse_iso_date("2026-11-30")).status, NightlyStatus::Ran);
  auto m = metrics();
  EXPECT_EQ(m[R"(raccord_sheets{etat="ENVOYEE"})"], 0);
  EXPECT_EQ(m[R"(raccord_sheets{etat="ACTIVEE"})"], 1);
  const auto row = db().query_one("SELECT started_at, finished_at FROM nightly_runs WHERE run_date = '2026-11-30'");
  ASSERT_TRUE(row);
  const Instant finished = instant(row->text(1));
  EXPECT_EQ(m["raccord_nightly_last_run_timestamp_seconds"], finished.time_since_epoch().count());
  EXPECT_EQ(m["raccord_nightly_last_run_duration_seconds"], (finished - instant(row->text(0))).count());
  const std::string text = read_file(outbox() / "metrics.prom");
  EXPECT_THAT(text, HasSubstr("# TYPE raccord_nightly_last_run_timestamp_seconds gauge\n"));
}

// Issue 18 item 8 (docs/reference.md §5.4): metrics.prom lacked the gauges an operator alerts on. After a nightly
// run that leaves an activation blocked (late too) and a leaf expiring within 30 days, with a dépôt
// waiting in inbox/ and in an account's folder, a quarantined original in error/ and files a pass
// could not open: every gauge, and the existing metrics kept.
TEST_F(MetricsTest, GaugesOfBlockedLateExpiringWaitingQuarantinedAndUnopenableFiles) {
  start();
  setup_world();
  auto m = metrics();
  for (const char* gauge : {"raccord_blocked_activations", "raccord_late_sheets", "raccord_leaves_expiring_30d",
                            "raccord_inbox_waiting_files", "raccord_error_files", "raccord_unopenable_files"}) {
    ASSERT_EQ(m.count(gauge), 1u) << gauge;
    EXPECT_EQ(m[gauge], 0) << gauge;
  }
  // A sheet whose leaf expires before the run of 30/11 (blocked, late on 01/12) and one whose leaf
  // ends on 20/12 (activated on 30/11, expiring within 30 days).
  SheetSpec blocked = sftp_sheet();
  blocked.period_from = "2026-11-29";
  LeafOptions leaf;
  leaf.common_name = "bloquee.exemple.fr";
  leaf.not_after = "2026-11-30T00:30:00Z";
  blocked.certificates = {TestPki::instance().bundle_base64(leaf)};
  ASSERT_EQ(process("bloquee.xml", depot_xml(sheet_xml(blocked), "identifiant=\"G-1\"")).statut, "INTEGRE");
  SheetSpec soon = blocked;
  leaf.common_name = "bientot.exemple.fr";
  leaf.not_after = "2026-12-20T00:00:00Z";
  soon.certificates = {TestPki::instance().bundle_base64(leaf)};
  ASSERT_EQ(process("bientot.xml", depot_xml(sheet_xml(soon), "identifiant=\"G-2\"")).statut, "INTEGRE");
  ASSERT_EQ(process("casse.xml", "<Depot").statut, "REJETE");  // XML_MALFORME: original to error/
  ASSERT_EQ(run_nightly(start("2026-11-30T07:00:00Z"), *parse_iso_date("2026-11-30")).status, NightlyStatus::Ran);
  ASSERT_EQ(run_nightly(start("2026-12-01T07:00:00Z"), *parse_iso_date("2026-12-01")).status, NightlyStatus::Ran);
  m = metrics();
  EXPECT_EQ(m["raccord_blocked_activations"], 1);
  EXPECT_EQ(m["raccord_late_sheets"], 1);
  EXPECT_EQ(m["raccord_leaves_expiring_30d"], 1);
  EXPECT_EQ(m["raccord_error_files"], 1);  // casse.xml; its .reason.txt is not counted
  EXPECT_EQ(m["raccord_inbox_waiting_files"], 0);
  EXPECT_EQ(m[R"(raccord_sheets{etat="ACTIVEE"})"], 1);  // the existing metrics are kept
  EXPECT_EQ(m[R"(raccord_depots_total{statut="REJETE"})"], 1);
  EXPECT_EQ(m.count("raccord_nightly_last_run_timestamp_seconds"), 1u);

  // Dépôts waiting in inbox/ and in a folder of it (an account's), not in .work/ nor other names.
  write_file(inbox() / "attente.xml", "<Depot/>");
  fs::create_directories(inbox() / "compta");
  write_file(inbox() / "compta" / "lot.XML", "<Depot/>");
  write_file(inbox() / "notes.txt", "pas un dépôt");
  write_file(inbox() / ".cache.xml", "caché");
  write_file(work() / "en-cours.xml", "<Depot/>");
  record_unopenable_files(db(), 2);
  ASSERT_TRUE(refresh_metrics(db(), engine().inbox()));
  m = metrics();
  EXPECT_EQ(m["raccord_inbox_waiting_files"], 2);
  EXPECT_EQ(m["raccord_unopenable_files"], 2);
  EXPECT_EQ(m["raccord_blocked_activations"], 1);  // from the last run, whatever happens since
  record_unopenable_files(db(), 0);
  ASSERT_TRUE(refresh_metrics(db(), engine().inbox()));
  EXPECT_EQ(metrics()["raccord_unopenable_files"], 0);
}

/// metrics.prom's raccord_crl_age_seconds samples, "name{emetteur=...}" → seconds.
std::map<std::string, std::int64_t> crl_ages(const std::map<std::string, std::int64_t>& m) {
  std::map<std::string, std::int64_t> out;
  for (const auto& [key, value] : m) {
    if (key.rfind("raccord_crl_age_seconds{", 0) == 0) out.emplace(key, value);
  }
  return out;
}

// docs/reference.md §5.4: per issuer, the age in seconds of its newest verified CRL at the business instant — a
// trust anchor's from the first write, an intermediate authority's once a check proved it or once its certificate
// is in trust_dir. A newer but badly signed CRL is not it, a CRL of an authority nothing verifies has no line, a
// stale one shows its age. Without CRLs there is no sample, and a pass that answers nothing writes nothing; with
// them, such a pass rewrites the ages (they grow with the clock).
TEST_F(MetricsTest, PerIssuerTheAgeOfItsNewestVerifiedCrl) {
  const auto& pki = TestPki::instance();
  start();
  setup_world();
  EXPECT_TRUE(crl_ages(metrics()).empty());
  EXPECT_THAT(read_file(outbox() / "metrics.prom"), HasSubstr("# TYPE raccord_crl_age_seconds gauge\n"));
  fs::remove(outbox() / "metrics.prom");
  engine().process_pass();
  EXPECT_FALSE(fs::exists(outbox() / "metrics.prom")) << "a pass that answered nothing wrote metrics.prom";

  CrlOptions stale;
  stale.this_update = "2026-11-01T10:00:00Z";
  stale.next_update = "2026-11-08T10:00:00Z";
  CrlOptions older;
  older.this_update = "2026-11-20T10:00:00Z";
  older.next_update = "2026-11-27T10:00:00Z";
  CrlOptions newer;
  newer.this_update = "2026-11-28T10:00:00Z";
  newer.next_update = "2026-12-05T10:00:00Z";
  newer.crl_number = 2;
  CrlOptions forged = newer;
  forged.this_update = "2026-11-29T09:00:00Z";
  forged.crl_number = 3;
  forged.stranger_key = true;
  fs::create_directories(root() / "crl");
  write_file(root() / "crl" / "root.crl", TestPki::crl_pem({pki.root().crl_der(stale)}));
  write_file(root() / "crl" / "intermediate.crl",
             TestPki::crl_pem({pki.intermediate().crl_der(older), pki.intermediate().crl_der(newer),
                               pki.intermediate().crl_der(forged)}));
  write_file(root() / "crl" / "other.crl", TestPki::crl_pem({pki.other_intermediate().crl_der(newer)}));
  start();  // reads them
  ASSERT_EQ(process("fiche.xml", sheet_depot("CRL-1")).statut, "INTEGRE");
  const std::string root_age = R"(raccord_crl_age_seconds{emetteur="CN=Raccord Test Root CA"})";
  const std::string intermediate_age = R"(raccord_crl_age_seconds{emetteur="CN=Raccord Test Intermediate CA"})";
  using Ages = std::map<std::string, std::int64_t>;
  EXPECT_EQ(crl_ages(metrics()), (Ages{{intermediate_age, 86400}, {root_age, 28 * 86400}}));
  fs::remove(outbox() / "metrics.prom");
  engine().process_pass();  // answers nothing, rewrites the ages
  EXPECT_EQ(crl_ages(metrics()), (Ages{{intermediate_age, 86400}, {root_age, 28 * 86400}}));

  // A new engine a day later (a `raccord process` of an empty inbox): the ages have grown, and every figure is
  // measured again, not taken from an older measure; the intermediate, proved by the first engine's check and
  // recorded in the store, is named though this engine checked nothing.
  sql("UPDATE sheets SET state = 'ACTIVEE'");  // as another engine or a nightly run would have done meanwhile
  const std::int64_t sheets = sql("SELECT COUNT(*) FROM sheets WHERE deleted = 0").at(0).integer(0);
  ASSERT_GE(sheets, 1);
  start("2026-11-30T10:00:00Z");
  fs::remove(outbox() / "metrics.prom");
  engine().process_pass();
  auto m = metrics();
  EXPECT_EQ(crl_ages(m), (Ages{{intermediate_age, 2 * 86400}, {root_age, 29 * 86400}}));
  EXPECT_EQ(m[R"(raccord_sheets{etat="ENVOYEE"})"], 0);
  EXPECT_EQ(m[R"(raccord_sheets{etat="ACTIVEE"})"], sheets);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM proved_authorities").at(0).integer(0), 1);  // the intermediate, once
  // Every CRL gone: a pass that answers nothing drops the ages the file showed (none frozen in it).
  fs::rename(root() / "crl", root() / "crl.old");
  start("2026-11-30T11:00:00Z");
  engine().process_pass();
  EXPECT_TRUE(crl_ages(metrics()).empty()) << read_file(outbox() / "metrics.prom");
  EXPECT_EQ(metrics()[R"(raccord_sheets{etat="ACTIVEE"})"], sheets);
  fs::rename(root() / "crl.old", root() / "crl");
  // A recorded authority counts only while the anchor its chain ended at is trusted.
  write_file(tmp_ / "trust" / "root.pem", pki.other_root().pem());
  start("2026-11-30T10:00:00Z");
  engine().refresh_metrics_rescanned();
  EXPECT_TRUE(crl_ages(metrics()).empty()) << read_file(outbox() / "metrics.prom");
}

// raccord_refus_identite_total{compte,code} (docs/reference.md §2.1, §5.4): counted from the store in the
// dépôt's transaction, per refused operation, by account and code; a `complete` dépôt rolled back still
// counts; a restarted engine (another engine of the store alike) reads the same count; nothing is
// written for an account that refused nothing.
TEST_F(MetricsTest, IdentityRefusalsByAccountAndCode) {
  config_.revocation = rules::RevocationMode::Aucune;
  start();
  setup_world();
  ASSERT_TRUE(refresh_metrics(db(), engine().inbox()));
  const std::string text = read_file(outbox() / "metrics.prom");
  EXPECT_THAT(text, HasSubstr("# TYPE raccord_refus_identite_total counter"));
  EXPECT_EQ(text.find("raccord_refus_identite_total{"), std::string::npos);

  const SenderAccount acme{"acme", {kSubscriber}, std::nullopt, SignatureRequirement::None, {}};
  const SenderAccount other{"autre", {kOutsider}, std::nullopt, SignatureRequirement::None, {}};
  // Two spoofed operations in a complete dépôt (rolled back whole), one in a partial one, one
  // allowed operation; another account refuses one.
  EXPECT_EQ(
      apply_through(&acme, depot_xml(user_xml("a.z") + sheet_xml(sftp_sheet()) + activation_xml(kManager, kNoSpace),
                                     R"(mode="complete")"))
          .outcome.rejected,
      3u);
  EXPECT_EQ(apply_through(&acme, depot_xml(user_xml("b.z"), R"(mode="partielle")")).outcome.rejected, 1u);
  EXPECT_EQ(apply_through(&other, depot_xml(sheet_xml(sftp_sheet()))).outcome.rejected, 1u);
  EXPECT_EQ(apply_through(nullptr, depot_xml(user_xml("c.z"))).outcome.accepted, 1u);  // inbox/: no account
  EXPECT_EQ(count("SELECT value FROM metric_counters WHERE name = 'refus_identite:acme:DEMANDEUR_NON_AUTORISE'"), 3);

  start();  // a restart (or another engine of the store): the count comes from the store
  ASSERT_TRUE(refresh_metrics(db(), engine().inbox()));
  auto m = metrics();
  EXPECT_EQ(m[R"(raccord_refus_identite_total{compte="acme",code="DEMANDEUR_NON_AUTORISE"})"], 3);
  EXPECT_EQ(m[R"(raccord_refus_identite_total{compte="autre",code="DEMANDEUR_NON_AUTORISE"})"], 1);
  std::size_t samples_of_metric = 0;
  for (const auto& [name, value] : m) samples_of_metric += name.rfind("raccord_refus_identite_total", 0) == 0 ? 1 : 0;
  EXPECT_EQ(samples_of_metric, 2u);

  // The dépôt-level identity codes go through the same audit and counter.
  {
    Transaction tx(db());
    audit_identity_refusal(db(),
                           IdentityRefusal{"autre", "lot.xml", 1234U, std::nullopt, ErrorCode::CompteNonAutorise, 1});
    tx.commit();
  }
  ASSERT_TRUE(refresh_metrics(db(), engine().inbox()));
  EXPECT_EQ(metrics()[R"(raccord_refus_identite_total{compte="autre",code="COMPTE_NON_AUTORISE"})"], 1);
}

// The waiting count in a pass of several groups: listed once by the pass (its first group), then less
// each dépôt the pass claims, instead of every folder listed again after each group (bench/README.md
// "Figure 11, third pass"); after each group it is what a listing of the folders says.
TEST_F(MetricsTest, WaitingCountAfterEachGroupOfAPassIsWhatTheFoldersHold) {
  start();
  const int n = static_cast<int>(engine().group_deposits()) * 2 + 5;
  for (int i = 0; i < n; ++i) drop_file(inbox(), "d" + std::to_string(1000 + i) + ".xml", "<Depot");
  fs::create_directories(inbox() / "compta");
  drop_file(inbox() / "compta", "lot.xml", "<Depot/>");  // a folder of no account: waits, never taken
  drop_file(inbox(), "notes.txt", "pas un dépôt");
  std::vector<std::pair<std::int64_t, std::int64_t>> seen;  // (metrics.prom, a listing) between groups
  engine().set_interruption([&] {
    if (fs::exists(outbox() / "metrics.prom")) {
      seen.emplace_back(metrics()["raccord_inbox_waiting_files"], count_waiting_deposits(inbox()));
    }
    return false;
  });
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, n);
  std::set<std::int64_t> counts;
  for (std::size_t i = 1; i < seen.size(); ++i) {  // the first: before the pass's first group
    EXPECT_EQ(seen[i].first, seen[i].second) << i;
    counts.insert(seen[i].first);
  }
  // A group's metrics are written once the group after it is claimed (read ahead, docs/design.md "Reading
  // ahead"): after the first, 2 groups are out of the folders, after the second all three.
  const auto group = static_cast<std::int64_t>(engine().group_deposits());
  EXPECT_EQ(counts, (std::set<std::int64_t>{1, n - 2 * group + 1}));
  EXPECT_EQ(metrics()["raccord_inbox_waiting_files"], 1);
  EXPECT_EQ(count_waiting_deposits(inbox()), 1);
}

// Regression (bench/README.md "Figure 2 on a grown store"): the refresh after each group counted every sheet by
// state and listed error/, a cost that grows with the store and with a folder no retention empties (0.23 s a
// group on a store of 1,000,000 sheets: figure 2 3.5 times slower there). Between the groups of a pass
// metrics.prom now keeps the figures measured before them, while its counters follow each group; the end of a
// full pass measures again. The daemon's batches (process_names) keep them too: its rescans are full passes.
TEST_F(MetricsTest, SheetsByStateAndErrorFilesAreMeasuredByAFullPassNotAfterEachGroup) {
  start();
  setup_world();
  ASSERT_EQ(process("fiche.xml", sheet_depot("FICHE-0")).statut, "INTEGRE");
  ASSERT_EQ(metrics()[R"(raccord_sheets{etat="ENVOYEE"})"], 1);
  ASSERT_EQ(metrics()["raccord_error_files"], 0);
  const int n = static_cast<int>(engine().group_deposits()) * 2 + 1;
  for (int i = 1; i <= n; ++i) {
    drop_file(inbox(), "f" + std::to_string(1000 + i) + ".xml", sheet_depot("FICHE-" + std::to_string(i)));
  }
  drop_file(inbox(), "zz-casse.xml", "<Depot");  // XML_MALFORME: its original goes to error/ in the last group
  std::set<std::int64_t> sheets_seen;            // metrics.prom's ENVOYEE sheets, each time the hook is asked
  std::int64_t most_integre_seen = 0;            // and its INTEGRE dépôts
  engine().set_interruption([&] {
    auto between = metrics();
    sheets_seen.insert(between[R"(raccord_sheets{etat="ENVOYEE"})"]);
    most_integre_seen = std::max(most_integre_seen, between[R"(raccord_depots_total{statut="INTEGRE"})"]);
    return false;
  });
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, n + 1);
  // Between groups: the counters followed the groups written, the sheets stayed as measured before the pass.
  EXPECT_GE(most_integre_seen, 4 + static_cast<std::int64_t>(engine().group_deposits()));
  EXPECT_EQ(sheets_seen, (std::set<std::int64_t>{1}));
  auto m = metrics();
  EXPECT_EQ(m[R"(raccord_depots_total{statut="INTEGRE"})"], 4 + n);
  EXPECT_EQ(m[R"(raccord_sheets{etat="ENVOYEE"})"], 1 + n);  // measured again at the pass's end
  EXPECT_EQ(m["raccord_error_files"], 1);

  // A daemon's batch (process_names) keeps them; its next full pass measures them, even with nothing to take.
  drop_file(inbox(), "g.xml", sheet_depot("FICHE-G"));
  drop_file(inbox(), "casse2.xml", "<Depot");
  engine().set_interruption({});
  ASSERT_EQ(engine().process_names({"casse2.xml", "g.xml"}).processed, 2);
  m = metrics();
  EXPECT_EQ(m[R"(raccord_depots_total{statut="INTEGRE"})"], 5 + n);
  EXPECT_EQ(m[R"(raccord_sheets{etat="ENVOYEE"})"], 1 + n);
  EXPECT_EQ(m["raccord_error_files"], 1);
  ASSERT_EQ(engine().process_pass().processed, 0);
  m = metrics();
  EXPECT_EQ(m[R"(raccord_sheets{etat="ENVOYEE"})"], 2 + n);
  EXPECT_EQ(m["raccord_error_files"], 2);
  // An idle full pass after that measures nothing more: no group was committed since.
  fs::remove(outbox() / "metrics.prom");
  ASSERT_EQ(engine().process_pass().processed, 0);
  EXPECT_FALSE(fs::exists(outbox() / "metrics.prom"));
}

}  // namespace
}  // namespace raccord::testing
