// Hostile tests of the issue 7 changes at engine level (to be merged by the integrator into
// tests/engine/database_test.cpp and tests/engine/engine_test.cpp):
// - engine/database.cpp: SQLite statements prepared once and stepped through the raw handle. The
//   oracle is Poco's own path, still taken by an SQL text holding more than one statement: the same
//   statement followed by "; -- poco" must give the same rows, counts, errors and `transient` flag.
// - engine/engine.cpp, engine/processor.cpp: a group's dépôts read first, the certificates of all
//   their sheets checked ahead over several dépôts, one instant per group.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/database.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/postgres.hpp"

namespace raccord {
namespace {

namespace fs = std::filesystem;

class HostileDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::postgres_requested()) GTEST_SKIP() << "SQLite statement cache only";
    dir_ = fs::temp_directory_path() / ("raccord-hostile7-db-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<Database>(Backend::Sqlite, path());
    db_->execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, u TEXT UNIQUE, nn TEXT NOT NULL DEFAULT 'x', "
        "p INTEGER REFERENCES t(id), c INTEGER CHECK (c IS NULL OR c >= 0), v)");
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  std::string path() const { return (dir_ / "s.db").string(); }

  static std::string rows_text(const std::vector<SqlRow>& rows) {
    std::string out;
    for (const auto& r : rows) {
      for (std::size_t i = 0; i < r.size(); ++i) out += r.is_null(i) ? "NULL|" : "<" + r.text(i) + ">|";
      out += "\n";
    }
    return out;
  }
  static std::string error_text(const StoreError& e) {
    std::string what = e.what();
    // The SQL echoed at the end ([...]) differs by the suffix only.
    if (auto at = what.rfind(" ["); at != std::string::npos) what.resize(at);
    return "StoreError(" + std::string(e.transient ? "transient" : "définitive") + ") " + what;
  }
  std::string query_outcome(const std::string& sql, const std::vector<SqlValue>& params = {}) {
    try {
      return rows_text(db_->query(sql, params));
    } catch (const StoreError& e) {
      return error_text(e);
    }
  }
  std::string execute_outcome(const std::string& sql, const std::vector<SqlValue>& params = {}) {
    try {
      return "changes " + std::to_string(db_->execute(sql, params));
    } catch (const StoreError& e) {
      return error_text(e);
    }
  }

  fs::path dir_;
  std::unique_ptr<Database> db_;
};

/// `sql` as Poco's path takes it: followed by a second (empty) statement.
std::string poco(const std::string& sql) {
  std::string out = sql;
  out.append("; -- poco");
  return out;
}

// (Poco's path cannot serve as the oracle for rows: a query followed by a second statement trips an
// assertion in Poco's SQLiteStatementImpl; the expected rows are written out.)
TEST_F(HostileDatabaseTest, ValuesRoundTrip) {
  db_->execute("INSERT INTO t (id, u, v) VALUES (1, 'a', NULL), (2, '', 'texte é'), (3, 'c', 42)");
  EXPECT_EQ(query_outcome("SELECT id, u, nn, p, c, v FROM t ORDER BY id"),
            "<1>|<a>|<x>|NULL|NULL|NULL|\n<2>|<>|<x>|NULL|NULL|<texte é>|\n<3>|<c>|<x>|NULL|NULL|<42>|\n");
  EXPECT_EQ(query_outcome("SELECT 9223372036854775807, -9223372036854775808, 0, -1"),
            "<9223372036854775807>|<-9223372036854775808>|<0>|<-1>|\n");
  EXPECT_EQ(query_outcome("SELECT NULL, '', 'a''b', 'ligne\nsuivante'"), "NULL|<>|<a'b>|<ligne\nsuivante>|\n");
  EXPECT_EQ(query_outcome("SELECT count(*), max(id), min(u) FROM t WHERE id > 99"), "<0>|NULL|NULL|\n");
  const std::vector<SqlValue> params{std::int64_t{7}, std::string("sept"), nullptr};
  EXPECT_EQ(query_outcome("SELECT $1, $2, $3", params), "<7>|<sept>|NULL|\n");
  EXPECT_EQ(query_outcome("SELECT $1, $2, $3", {std::int64_t{8}, nullptr, std::string("huit")}), "<8>|NULL|<huit>|\n");
  // A text holding NUL bytes and invalid UTF-8 comes back whole.
  const std::string odd("a\0b\xff", 4);
  db_->execute("INSERT INTO t (id, u) VALUES (4, $1)", {odd});
  EXPECT_EQ(db_->query_one("SELECT u, length(u) FROM t WHERE id = 4")->text(0), odd);
}

TEST_F(HostileDatabaseTest, ConstraintErrorsAndTheirTransientFlagAreThoseOfPoco) {
  db_->execute("INSERT INTO t (id, u) VALUES (1, 'a')");
  const std::vector<std::pair<std::string, std::vector<SqlValue>>> statements{
      {"INSERT INTO t (id, u) VALUES (2, $1)", {std::string("a")}},          // UNIQUE
      {"INSERT INTO t (id, u) VALUES (1, $1)", {std::string("z")}},          // PRIMARY KEY
      {"INSERT INTO t (id, u, nn) VALUES (3, 'n', $1)", {nullptr}},          // NOT NULL
      {"INSERT INTO t (id, u, p) VALUES (4, 'f', $1)", {std::int64_t{99}}},  // FOREIGN KEY
      {"INSERT INTO t (id, u, c) VALUES (5, 'k', $1)", {std::int64_t{-1}}},  // CHECK
      {"SELECT * FROM absente WHERE x = $1", {std::int64_t{1}}},             // prepare error
  };
  for (const auto& [sql, params] : statements) {
    const std::string cached = execute_outcome(sql, params);
    const std::string via_poco = execute_outcome(poco(sql), params);
    EXPECT_EQ(cached, via_poco) << sql;
    // The statement kept after an error runs again cleanly.
    EXPECT_EQ(execute_outcome(sql, params), cached) << sql;
  }
  // Nothing half-done is left behind by the failed statements.
  EXPECT_EQ(db_->query_one("SELECT count(*) FROM t WHERE id <> 1")->integer(0), 0);
}

// Two connections on one store: a write transaction held by the first makes the second's BEGIN
// IMMEDIATE fail busy (busy timeout 0 here), a transient StoreError as through Poco; the kept
// statement works again once the first commits, and after a ROLLBACK.
TEST_F(HostileDatabaseTest, BusyStoreIsTransientAndTheKeptStatementsRecover) {
  Database other(Backend::Sqlite, path());
  other.execute("PRAGMA busy_timeout=0");
  db_->begin();
  db_->execute("INSERT INTO t (id, u) VALUES (1, 'a')");
  std::string cached;
  std::string via_poco;
  try {
    other.begin();
    cached = "no error";
  } catch (const StoreError& e) {
    cached = error_text(e);
  }
  try {
    other.execute("BEGIN IMMEDIATE; -- poco");
    via_poco = "no error";
  } catch (const StoreError& e) {
    via_poco = error_text(e);
  }
  EXPECT_EQ(cached, via_poco);
  EXPECT_THAT(cached, ::testing::HasSubstr("StoreError(transient)"));
  // A reader is not blocked (WAL) and does not see the uncommitted row.
  EXPECT_EQ(other.query_one("SELECT count(*) FROM t")->integer(0), 0);
  db_->commit();
  other.begin();
  other.execute("INSERT INTO t (id, u) VALUES (2, 'b')");
  other.rollback();
  other.begin();
  other.execute("INSERT INTO t (id, u) VALUES (2, 'b')");
  other.commit();
  EXPECT_EQ(db_->query_one("SELECT count(*) FROM t")->integer(0), 2);
}

// A busy store met by a write inside the transaction (not at BEGIN): a deferred transaction
// upgraded while another connection writes.
TEST_F(HostileDatabaseTest, BusyWriteInsideADeferredTransactionIsTransient) {
  Database other(Backend::Sqlite, path());
  other.execute("PRAGMA busy_timeout=0");
  db_->begin();
  db_->execute("INSERT INTO t (id, u) VALUES (1, 'a')");
  other.execute("BEGIN DEFERRED");
  try {
    other.execute("INSERT INTO t (id, u) VALUES (3, 'c')");
    ADD_FAILURE() << "write accepted while another connection holds the write lock";
  } catch (const StoreError& e) {
    EXPECT_TRUE(e.transient) << e.what();
  }
  other.execute("ROLLBACK");
  db_->commit();
  // The statement that failed busy is kept, and runs now.
  other.execute("INSERT INTO t (id, u) VALUES (3, 'c')");
  EXPECT_EQ(db_->query_one("SELECT count(*) FROM t")->integer(0), 2);
}

// More distinct SQL texts than the cache keeps (256) while a for_each_row statement streams: every
// text still runs, and the streaming is not disturbed by the cache being emptied.
TEST_F(HostileDatabaseTest, CacheOverflowDuringAStreamingQuery) {
  for (int i = 1; i <= 5; ++i)
    db_->execute("INSERT INTO t (id, u) VALUES ($1, $2)", {std::int64_t{i}, std::to_string(i)});
  int seen = 0;
  int next = 1000;
  db_->for_each_row(
      "SELECT id FROM t ORDER BY id", {},
      [&](const SqlRow& row) {
        ++seen;
        EXPECT_EQ(row.integer(0), seen);
        for (int k = 0; k < 120; ++k, ++next) {
          EXPECT_EQ(db_->query_one("SELECT " + std::to_string(next) + " + $1", {std::int64_t{1}})->integer(0),
                    next + 1);
        }
      },
      2);
  EXPECT_EQ(seen, 5);
}

// ---------------------------------------------------------------------------------------------
// One group of dépôts (issue 7): read first, certificates of all their sheets checked ahead.

class HostileGroupTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped()) return;
    config_.max_bytes = 1 << 20;
    start();
    setup_world();
  }
};

std::string sheet_with_leaf(const std::string& reference, bool expired) {
  testing::LeafOptions leaf;
  leaf.common_name = reference + ".exemple.fr";
  if (expired) leaf.not_after = "2026-06-30T00:00:00Z";
  testing::SheetSpec spec = testing::sftp_sheet();
  spec.reference = reference;
  spec.certificates = {testing::TestPki::instance().bundle_base64(leaf)};
  return testing::sheet_xml(spec);
}

// One pass, one group: a partial dépôt, its byte copy (DOUBLON), a broken one, a "complete" dépôt
// rolled back by one bad certificate, a dépôt of 300 sheets (more than the look-ahead window of
// 256) with a bad certificate at rank 281, and a too-large one. Every accusé is right, each dépôt
// has exactly one, and the certificate verdicts land on their own sheets.
TEST_F(HostileGroupTest, MixedGroupAnswersEachDepotOnceWithItsOwnCertificateVerdicts) {
  using ::testing::ElementsAre;
  using ::testing::IsEmpty;
  const std::string partial =
      testing::depot_xml(sheet_with_leaf("a-0", false) + sheet_with_leaf("a-1", true) + sheet_with_leaf("a-2", false),
                         R"(identifiant="G-A" mode="partielle")");
  testing::drop_file(inbox(), "g1_a.xml", partial);
  testing::drop_file(inbox(), "g2_a_copie.xml", partial);
  testing::drop_file(inbox(), "g3_casse.xml", "<Depot xmlns=\"urn:raccord:depot:1\">\n<FicheEDI");
  testing::drop_file(
      inbox(), "g4_complete.xml",
      testing::depot_xml(sheet_with_leaf("d-0", false) + sheet_with_leaf("d-1", true) + sheet_with_leaf("d-2", false),
                         R"(identifiant="G-D" mode="complete")"));
  std::string many;
  for (int i = 0; i < 300; ++i) many += sheet_with_leaf("e-" + std::to_string(i), i == 280);
  testing::drop_file(inbox(), "g5_nombreuses.xml", testing::depot_xml(many, R"(identifiant="G-E" mode="partielle")"));
  testing::drop_file(inbox(), "g5b_copie.xml", testing::depot_xml(many, R"(identifiant="G-E" mode="partielle")"));
  testing::drop_file(inbox(), "g6_trop_gros.xml",
                     testing::depot_xml("<!--" + std::string(std::size_t{1} << 20, 'x') + "-->\n"));
  testing::drop_file(inbox(), "g7_apres.xml",
                     testing::depot_xml(sheet_with_leaf("f-0", true) + sheet_with_leaf("f-1", false),
                                        R"(identifiant="G-F" mode="partielle")"));

  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 8);
  ASSERT_EQ(summary.acknowledgements.size(), 8u);
  std::vector<testing::ParsedAck> acks;
  for (const auto& name : summary.acknowledgements) acks.push_back(read_ack(name));
  EXPECT_EQ(acks[0].fichier, "g1_a.xml");
  EXPECT_EQ(acks[0].statut, "INTEGRE_PARTIEL") << acks[0].xml;
  ASSERT_EQ(acks[0].operations.size(), 3u);
  EXPECT_THAT(acks[0].operations[0].error_codes(), IsEmpty());
  EXPECT_THAT(acks[0].operations[1].error_codes(), ElementsAre("CERT_EXPIRE"));
  EXPECT_THAT(acks[0].operations[2].error_codes(), IsEmpty());
  EXPECT_EQ(acks[1].statut, "DOUBLON");
  EXPECT_EQ(acks[1].original, acks[0].name);
  EXPECT_EQ(acks[2].statut, "REJETE");
  EXPECT_THAT(acks[2].error_codes(), ElementsAre("XML_MALFORME"));
  EXPECT_EQ(acks[3].statut, "REJETE") << acks[3].xml;
  ASSERT_EQ(acks[3].operations.size(), 3u);
  EXPECT_THAT(acks[3].operations[1].error_codes(), ElementsAre("CERT_EXPIRE"));
  EXPECT_THAT(acks[3].operations[0].error_codes(), IsEmpty());
  EXPECT_THAT(acks[3].operations[2].error_codes(), IsEmpty());
  EXPECT_EQ(acks[4].statut, "INTEGRE_PARTIEL");
  ASSERT_EQ(acks[4].operations.size(), 300u);
  for (std::size_t i = 0; i < 300; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(acks[4].operations[i].reference, "e-" + std::to_string(i));
    if (i == 280) {
      EXPECT_THAT(acks[4].operations[i].error_codes(), ElementsAre("CERT_EXPIRE"));
    } else {
      EXPECT_THAT(acks[4].operations[i].error_codes(), IsEmpty());
    }
  }
  EXPECT_EQ(acks[5].statut, "DOUBLON");  // 300 sheets checked ahead, never taken
  EXPECT_EQ(acks[6].statut, "REJETE");
  EXPECT_THAT(acks[6].error_codes(), ElementsAre("FICHIER_TROP_VOLUMINEUX"));
  EXPECT_EQ(acks[7].statut, "INTEGRE_PARTIEL");
  ASSERT_EQ(acks[7].operations.size(), 2u);
  EXPECT_THAT(acks[7].operations[0].error_codes(), ElementsAre("CERT_EXPIRE"));
  EXPECT_THAT(acks[7].operations[1].error_codes(), IsEmpty());
  // One instant for the group.
  for (const auto& a : acks) EXPECT_EQ(a.traite, acks[0].traite) << a.name;
  // Effects applied once: 2 (g1) + 0 (g4 rolled back) + 299 (g5) + 1 (g7) sheets, 7 dépôts recorded.
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 2 + 299 + 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE file_name LIKE 'g%'"), 8);
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_THAT(files_in(inbox()), IsEmpty());
  EXPECT_EQ(files_in(outbox()).size(), 3u + 8u);  // setup_world's three accusés and the group's eight
}

// Leftovers in .work/ after a crash: one already committed (answered from its record, its sheets
// checked ahead but never taken) between two never processed: each new one gets the verdicts of
// its own sheets, the committed one its recorded accusé, and nothing is applied twice.
TEST_F(HostileGroupTest, LeftoverGroupMixingRecordedAndNewDepotsKeepsEachSheetsVerdict) {
  using ::testing::ElementsAre;
  using ::testing::IsEmpty;
  const testing::ParsedAck first =
      process("l1_fait.xml", testing::depot_xml(sheet_with_leaf("l1-0", false) + sheet_with_leaf("l1-1", true) +
                                                    sheet_with_leaf("l1-2", false),
                                                R"(identifiant="L-1" mode="partielle")"));
  ASSERT_EQ(first.statut, "INTEGRE_PARTIEL");
  fs::rename(archive_day() / "l1_fait.xml", work() / "l1_fait.xml");
  fs::remove(outbox() / first.name);
  testing::drop_file(work(), "l0_neuf.xml",
                     testing::depot_xml(sheet_with_leaf("l0-0", false) + sheet_with_leaf("l0-1", false),
                                        R"(identifiant="L-0" mode="partielle")"));
  testing::drop_file(work(), "l2_neuf.xml",
                     testing::depot_xml(sheet_with_leaf("l2-0", true) + sheet_with_leaf("l2-1", false),
                                        R"(identifiant="L-2" mode="partielle")"));
  const std::int64_t sheets = count("SELECT COUNT(*) FROM sheets");
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 3);
  std::vector<testing::ParsedAck> acks;
  for (const auto& name : summary.acknowledgements) acks.push_back(read_ack(name));
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[0].fichier, "l0_neuf.xml");
  EXPECT_EQ(acks[0].statut, "INTEGRE") << acks[0].xml;
  EXPECT_EQ(acks[1].xml, first.xml);
  EXPECT_EQ(acks[2].fichier, "l2_neuf.xml");
  EXPECT_EQ(acks[2].statut, "INTEGRE_PARTIEL") << acks[2].xml;
  ASSERT_EQ(acks[2].operations.size(), 2u);
  EXPECT_THAT(acks[2].operations[0].error_codes(), ElementsAre("CERT_EXPIRE"));
  EXPECT_THAT(acks[2].operations[1].error_codes(), IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), sheets + 3);
  EXPECT_THAT(files_in(work()), IsEmpty());
}

}  // namespace
}  // namespace raccord
