#include "engine/database.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "tests/support/postgres.hpp"

namespace raccord {
namespace {

namespace fs = std::filesystem;

// A migrated SQLite store in a fresh temporary directory.
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raccord-db-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<Database>(Backend::Sqlite, (dir_ / "raccord.db").string());
    db_->migrate();
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  std::int64_t count_users() { return db_->query_one("SELECT COUNT(*) FROM users")->integer(0); }
  void add_user(const std::string& login) {
    db_->execute("INSERT INTO users (login, email, support, created_at, updated_at) VALUES ($1, $2, 0, $3, $3)",
                 {login, login + "@example.com", std::string("2026-11-29T22:10:04Z")});
  }
  bool has_user(const std::string& login) {
    return db_->query_one("SELECT 1 FROM users WHERE login = $1", {login}).has_value();
  }

  fs::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DatabaseTest, OpensInWalModeWithForeignKeys) {
  EXPECT_EQ(db_->backend(), Backend::Sqlite);
  EXPECT_EQ(db_->query_one("PRAGMA journal_mode")->text(0), "wal");
  EXPECT_EQ(db_->query_one("PRAGMA foreign_keys")->integer(0), 1);
  EXPECT_EQ(db_->query_one("PRAGMA synchronous")->integer(0), 2);  // FULL
  EXPECT_TRUE(fs::exists(dir_ / "raccord.db"));
}

TEST_F(DatabaseTest, MissingDirectoryIsAStoreError) {
  // At once, not after Poco's 30-second login timeout.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(Database(Backend::Sqlite, (dir_ / "absent" / "sub" / "raccord.db").string()), StoreError);
  EXPECT_THROW((void)open_database("sqlite", (dir_ / "absent" / "raccord.db").string()), StoreError);
  EXPECT_FALSE(fs::exists(dir_ / "absent"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(DatabaseTest, OpenDatabaseSelectsTheBackend) {
  auto db = open_database("sqlite", (dir_ / "other.db").string());
  EXPECT_EQ(db->backend(), Backend::Sqlite);
  EXPECT_TRUE(fs::exists(dir_ / "other.db"));
}

TEST_F(DatabaseTest, ParametersAndRowValues) {
  EXPECT_EQ(
      db_->execute("INSERT INTO users (login, email, support, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
                   {std::string("é.dupont"), std::string("e@example.com"), std::int64_t{1},
                    std::string("2026-11-29T22:10:04Z"), std::string("2026-11-29T22:10:04Z")}),
      1u);
  auto row =
      db_->query_one("SELECT login, support, NULL, email FROM users WHERE login = $1", {std::string("é.dupont")});
  ASSERT_TRUE(row);
  ASSERT_EQ(row->size(), 4u);
  EXPECT_EQ(row->text(0), "é.dupont");  // UTF-8 kept
  EXPECT_EQ(row->integer(1), 1);
  EXPECT_EQ(row->text(1), "1");
  EXPECT_TRUE(row->is_null(2));
  EXPECT_EQ(row->text(2), "");
  EXPECT_EQ(row->integer(2), 0);
  EXPECT_FALSE(row->optional_text(2).has_value());
  EXPECT_EQ(row->optional_text(3), std::optional<std::string>("e@example.com"));
  EXPECT_FALSE(db_->query_one("SELECT login FROM users WHERE login = $1", {std::string("x")}).has_value());
  EXPECT_TRUE(db_->query("SELECT login FROM users WHERE login = $1", {std::string("x")}).empty());
}

TEST_F(DatabaseTest, NullParameterIsStoredAsNull) {
  db_->execute("INSERT INTO users (login, email, support, created_at, updated_at) VALUES ('a', 'a@x.fr', 0, 't', 't')");
  db_->execute(
      "INSERT INTO structures (siret, raison_sociale, active, is_public, connected_in_qualification, editor_siret, "
      "uses_tiers, created_at, updated_at) VALUES ($1, $2, 1, 0, 0, $3, 0, 't', 't')",
      {std::string("12345678200010"), std::string("ACME"), nullptr});
  auto row = db_->query_one("SELECT editor_siret FROM structures WHERE siret = '12345678200010'");
  ASSERT_TRUE(row);
  EXPECT_TRUE(row->is_null(0));
}

TEST_F(DatabaseTest, AffectedRowCount) {
  add_user("a");
  add_user("b");
  EXPECT_EQ(db_->execute("UPDATE users SET support = 1"), 2u);
  EXPECT_EQ(db_->execute("UPDATE users SET support = 1 WHERE login = $1", {std::string("zz")}), 0u);
}

TEST_F(DatabaseTest, BadSqlAndConstraintsAreStoreErrors) {
  EXPECT_THROW(db_->execute("SELECT * FROM no_such_table"), StoreError);
  add_user("a");
  try {
    add_user("a");
    FAIL() << "duplicate primary key accepted";
  } catch (const StoreError& e) {
    // Retried: with several engines, another one may have inserted the same key first, and the
    // retried transaction then sees its row (engine/dialect.cpp is_transient).
    EXPECT_TRUE(e.transient) << e.what();
  }
  try {
    db_->execute("SELECT * FROM no_such_table");
  } catch (const StoreError& e) {
    EXPECT_FALSE(e.transient) << e.what();
  }
  // Foreign keys are enforced: a manager must be a known user of a known structure.
  EXPECT_THROW(db_->execute("INSERT INTO managers (siret, login, role) VALUES ('1', 'nobody', 'principal')"),
               StoreError);
}

TEST_F(DatabaseTest, CommitKeepsRollbackDiscards) {
  db_->begin();
  EXPECT_TRUE(db_->in_transaction());
  add_user("kept");
  db_->commit();
  EXPECT_FALSE(db_->in_transaction());
  db_->begin();
  add_user("dropped");
  EXPECT_TRUE(has_user("dropped"));
  db_->rollback();
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_TRUE(has_user("kept"));
  EXPECT_FALSE(has_user("dropped"));
}

TEST_F(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  {
    Transaction tx(*db_);
    add_user("lost");
  }
  EXPECT_FALSE(has_user("lost"));
  EXPECT_FALSE(db_->in_transaction());
  {
    Transaction tx(*db_);
    add_user("saved");
    tx.commit();
  }
  EXPECT_TRUE(has_user("saved"));
  // Another connection sees the committed row.
  Database other(Backend::Sqlite, (dir_ / "raccord.db").string());
  EXPECT_TRUE(other.query_one("SELECT 1 FROM users WHERE login = 'saved'").has_value());
}

TEST_F(DatabaseTest, SavepointRollbackUndoesOnlyWhatFollowsIt) {
  Transaction tx(*db_);
  add_user("before");
  db_->savepoint("op1");
  add_user("inside");
  db_->rollback_to("op1");
  db_->release("op1");
  EXPECT_TRUE(has_user("before"));
  EXPECT_FALSE(has_user("inside"));
  db_->savepoint("op2");
  add_user("kept");
  db_->release("op2");
  tx.commit();
  EXPECT_TRUE(has_user("before"));
  EXPECT_TRUE(has_user("kept"));
  EXPECT_FALSE(has_user("inside"));
  EXPECT_EQ(count_users(), 2);
}

TEST_F(DatabaseTest, NestedSavepoints) {
  Transaction tx(*db_);
  db_->savepoint("outer");
  add_user("a");
  db_->savepoint("inner");
  add_user("b");
  db_->release("inner");
  db_->rollback_to("outer");  // undoes a and b
  db_->release("outer");
  add_user("c");
  tx.commit();
  EXPECT_FALSE(has_user("a"));
  EXPECT_FALSE(has_user("b"));
  EXPECT_TRUE(has_user("c"));
}

TEST_F(DatabaseTest, RollbackToAnUnknownSavepointIsAStoreError) {
  Transaction tx(*db_);
  EXPECT_THROW(db_->rollback_to("nope"), StoreError);
}

TEST_F(DatabaseTest, SequencesAreMonotonicAndIndependent) {
  Transaction tx(*db_);
  EXPECT_EQ(db_->next_sequence_value("code_appli"), 1);
  EXPECT_EQ(db_->next_sequence_value("code_appli"), 2);
  EXPECT_EQ(db_->next_sequence_value("abonnement"), 1);
  EXPECT_EQ(db_->next_sequence_value("code_appli"), 3);
  tx.commit();
  Transaction tx2(*db_);
  EXPECT_EQ(db_->next_sequence_value("code_appli"), 4);
  EXPECT_THROW((void)db_->next_sequence_value("no_such_sequence"), StoreError);
}

TEST_F(DatabaseTest, SequenceValuesSurviveReopening) {
  {
    Transaction tx(*db_);
    for (int i = 0; i < 5; ++i) (void)db_->next_sequence_value("version");
    tx.commit();
  }
  db_.reset();
  db_ = std::make_unique<Database>(Backend::Sqlite, (dir_ / "raccord.db").string());
  db_->migrate();
  Transaction tx(*db_);
  EXPECT_EQ(db_->next_sequence_value("version"), 6);
}

// A committed value is never drawn again, whatever is rolled back later (SPEC.md §3.3: codeAppli never reused).
// Note: database.hpp also promises that a value drawn inside a savepoint that is then rolled back is not drawn
// again; the sequence row is updated inside the caller's transaction, so the rollback restores it and the same
// value comes back. Nothing observable depends on it (a rolled-back operation's codeAppli is never published);
// reported to the integrator rather than asserted here.
TEST_F(DatabaseTest, CommittedSequenceValuesAreNeverDrawnAgain) {
  std::int64_t committed = 0;
  {
    Transaction tx(*db_);
    committed = db_->next_sequence_value("code_appli");
    tx.commit();
  }
  {
    Transaction tx(*db_);
    db_->savepoint("op1");
    EXPECT_GT(db_->next_sequence_value("code_appli"), committed);
    db_->rollback_to("op1");
    db_->release("op1");
    EXPECT_GT(db_->next_sequence_value("code_appli"), committed);
  }  // rolled back
  Transaction tx(*db_);
  EXPECT_GT(db_->next_sequence_value("code_appli"), committed);
}

// ---- for_each_row: the streaming read (issue 7, figure 4), on SQLite and on PostgreSQL ----------------
// PostgreSQL runs when RACCORD_TEST_POSTGRES names a server (scripts/test.sh), in a schema of its own.

class StreamTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Postgresql) {
      const auto connection = testing::create_test_schema(schema_);
      if (!connection) GTEST_SKIP() << "RACCORD_TEST_POSTGRES unset: PostgreSQL not tested";
      db_ = std::make_unique<Database>(Backend::Postgresql, *connection);
    } else {
      dir_ = fs::temp_directory_path() / ("raccord-stream-" + std::to_string(::getpid()) + "-" +
                                          std::to_string(counter_++));
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      db_ = std::make_unique<Database>(Backend::Sqlite, (dir_ / "raccord.db").string());
    }
    db_->execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, note TEXT)");
  }
  void TearDown() override {
    db_.reset();
    if (!schema_.empty()) testing::drop_test_schema(schema_);
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  /// Rows 1..n: name "n<i>" ("é" in row 2), note NULL on even ids.
  void fill(std::int64_t n) {
    Transaction tx(*db_);
    for (std::int64_t i = 1; i <= n; ++i) {
      db_->execute("INSERT INTO t (id, name, note) VALUES ($1, $2, $3)",
                   {i, i == 2 ? std::string("é") : "n" + std::to_string(i),
                    i % 2 == 0 ? SqlValue(nullptr) : SqlValue("x" + std::to_string(i))});
    }
    tx.commit();
  }
  /// "id|name|note" of each streamed row ("~" for NULL).
  std::vector<std::string> stream(const std::string& sql, const std::vector<SqlValue>& params, std::size_t chunk) {
    std::vector<std::string> out;
    db_->for_each_row(
        sql, params,
        [&out](const SqlRow& r) {
          out.push_back(r.text(0) + "|" + r.text(1) + "|" + (r.is_null(2) ? "~" : r.text(2)));
        },
        chunk);
    return out;
  }
  std::vector<std::string> all(const std::string& sql, const std::vector<SqlValue>& params) {
    std::vector<std::string> out;
    for (const auto& r : db_->query(sql, params)) {
      out.push_back(r.text(0) + "|" + r.text(1) + "|" + (r.is_null(2) ? "~" : r.text(2)));
    }
    return out;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::string schema_;
  std::unique_ptr<Database> db_;
};

TEST_P(StreamTest, EveryRowInOrderWithTheValuesOfQueryWhateverTheChunk) {
  fill(10);
  const std::string sql = "SELECT id, name, note FROM t WHERE id >= $1 ORDER BY id DESC";
  const auto expected = all(sql, {std::int64_t{2}});
  ASSERT_EQ(expected.size(), 9u);
  EXPECT_EQ(expected.front(), "10|n10|~");
  EXPECT_EQ(expected.back(), "2|é|~");
  EXPECT_EQ(expected[1], "9|n9|x9");
  // 9 rows: chunks of 1, 2 (last one short), 3 (exact multiple), 9 (one full chunk), default.
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{9}, std::size_t{0},
                            Database::kStreamChunkRows}) {
    EXPECT_EQ(stream(sql, {std::int64_t{2}}, chunk), expected) << "chunk " << chunk;
  }
  EXPECT_FALSE(db_->in_transaction());
}

TEST_P(StreamTest, IntegersAndNullsKeepTheirType) {
  fill(2);
  std::vector<SqlRow> rows;
  db_->for_each_row("SELECT id, note, name FROM t ORDER BY id", {}, [&rows](const SqlRow& r) { rows.push_back(r); });
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].integer(0), 1);
  EXPECT_EQ(rows[0].optional_text(1), std::optional<std::string>("x1"));
  EXPECT_TRUE(rows[1].is_null(1));
  EXPECT_EQ(rows[1].text(2), "é");
}

TEST_P(StreamTest, EmptyResultCallsNothing) {
  fill(3);
  int calls = 0;
  db_->for_each_row("SELECT id, name, note FROM t WHERE name = $1", {std::string("absent")},
                    [&calls](const SqlRow&) { ++calls; }, 2);
  EXPECT_EQ(calls, 0);
}

TEST_P(StreamTest, RowsAreHandedOverBeforeTheResultIsComplete) {
  // Ten million generated rows: a read that gathered them first would take minutes and gigabytes; a
  // streamed one stops after the third row, when the callback throws.
  const std::string sql =
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) "
      "SELECT i, 'x', NULL FROM n";
  int calls = 0;
  try {
    db_->for_each_row(sql, {}, [&calls](const SqlRow& r) {
      ++calls;
      if (r.integer(0) == 3) throw std::out_of_range("assez");
    }, 2);
    FAIL() << "the callback's exception was lost";
  } catch (const std::out_of_range& e) {  // propagated unchanged, not turned into a StoreError
    EXPECT_STREQ(e.what(), "assez");
  }
  EXPECT_EQ(calls, 3);
  // The store is still usable, and no transaction was left open.
  EXPECT_FALSE(db_->in_transaction());
  fill(1);
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM t")->integer(0), 1);
}

TEST_P(StreamTest, InsideATransactionSeesItsRowsAndLeavesItUsable) {
  fill(4);
  Transaction tx(*db_);
  db_->execute("INSERT INTO t (id, name, note) VALUES (5, 'n5', NULL)");
  // The callback may run other statements on the same store between rows.
  std::vector<std::string> seen;
  db_->for_each_row("SELECT id, name FROM t ORDER BY id", {}, [&](const SqlRow& r) {
    const auto other = db_->query_one("SELECT COUNT(*) FROM t WHERE id <= $1", {r.integer(0)});
    seen.push_back(r.text(1) + "/" + other->text(0));
  }, 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"n1/1", "é/2", "n3/3", "n4/4", "n5/5"}));
  EXPECT_TRUE(db_->in_transaction());
  // A callback failure inside the caller's transaction leaves it open and usable.
  EXPECT_THROW(db_->for_each_row("SELECT id FROM t", {}, [](const SqlRow&) { throw std::runtime_error("stop"); }),
               std::runtime_error);
  db_->execute("INSERT INTO t (id, name, note) VALUES (6, 'n6', NULL)");
  tx.commit();
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM t")->integer(0), 6);
}

TEST_P(StreamTest, NestedStreamsOnOneStore) {
  fill(3);
  std::vector<std::string> pairs;
  db_->for_each_row("SELECT id FROM t ORDER BY id", {}, [&](const SqlRow& a) {
    db_->for_each_row("SELECT id FROM t WHERE id > $1 ORDER BY id", {a.integer(0)},
                      [&](const SqlRow& b) { pairs.push_back(a.text(0) + b.text(0)); }, 1);
  }, 1);
  EXPECT_EQ(pairs, (std::vector<std::string>{"12", "13", "23"}));
}

TEST_P(StreamTest, BadSqlIsAStoreErrorAndLeavesNoTransaction) {
  int calls = 0;
  EXPECT_THROW(db_->for_each_row("SELECT nothing FROM absent_table", {}, [&calls](const SqlRow&) { ++calls; }),
               StoreError);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(db_->in_transaction());
  fill(1);  // usable afterwards (PostgreSQL: the transaction of its own was rolled back)
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM t")->integer(0), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, StreamTest, ::testing::Values(Backend::Sqlite, Backend::Postgresql),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param == Backend::Sqlite ? std::string("Sqlite") : std::string("Postgresql");
                         });

}  // namespace
}  // namespace raccord
