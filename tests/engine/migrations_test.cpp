#include "engine/migrations.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "engine/database.hpp"
#include "engine/dialect.hpp"

namespace raccord {
namespace {

namespace fs = std::filesystem;

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raccord-mig-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<Database>(Backend::Sqlite, path());
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  std::string path() const { return (dir_ / "raccord.db").string(); }
  bool has_object(const std::string& type, const std::string& name) {
    return db_->query_one("SELECT 1 FROM sqlite_master WHERE type = $1 AND name = $2", {type, name}).has_value();
  }
  void insert_deposit(std::int64_t id, const std::string& sha, const std::string& status) {
    db_->execute(
        "INSERT INTO deposits (id, sha256, file_name, file_identity, identifier, status, received_at, processed_at, "
        "ack_name, ack_content, destination, reason) VALUES ($1, $2, 'lot.xml', '1:2', NULL, $3, 't', 't', $4, "
        "'<Accuse/>', 'archive', '')",
        {id, sha, status, "ACK_lot_" + std::to_string(id) + ".xml"});
  }

  fs::path dir_;
  std::unique_ptr<Database> db_;
};

TEST(Migrations, VersionsAscendFromOneWithoutGaps) {
  const auto& all = migrations();
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(all[i].statements.empty());
  }
}

TEST_F(MigrationsTest, CreatesEveryTableAndIndex) {
  db_->migrate();
  for (const char* table : {"schema_migrations", "sequences", "users", "structures", "managers", "technical_users",
                            "subscriptions", "sheets", "sheet_versions", "sheet_interfaces", "sheet_bundles",
                            "sheet_certificates", "history", "deposits", "refused_signatures", "proved_authorities"}) {
    EXPECT_TRUE(has_object("table", table)) << table;
  }
  for (const char* index : {"deposits_applied_once", "deposits_by_sha", "deposits_by_identifier", "deposits_ack_name",
                            "sheets_by_partner", "sheets_by_state", "history_by_sheet"}) {
    EXPECT_TRUE(has_object("index", index)) << index;
  }
  for (const char* seq : {"code_appli", "abonnement", "history", "version", "deposit"}) {
    auto row = db_->query_one("SELECT value FROM sequences WHERE name = $1", {std::string(seq)});
    ASSERT_TRUE(row) << seq;
    EXPECT_EQ(row->integer(0), 0) << seq;
  }
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM schema_migrations")->integer(0),
            static_cast<std::int64_t>(migrations().size()));
  EXPECT_EQ(db_->query_one("SELECT MAX(version) FROM schema_migrations")->integer(0), migrations().back().version);
}

TEST_F(MigrationsTest, MigratingTwiceIsANoOp) {
  db_->migrate();
  {
    Transaction tx(*db_);
    db_->execute(
        "INSERT INTO users (login, email, support, created_at, updated_at) VALUES ('a', 'a@x.fr', 1, 't', 't')");
    (void)db_->next_sequence_value("code_appli");
    tx.commit();
  }
  const auto sequences = db_->query_one("SELECT COUNT(*) FROM sequences")->integer(0);
  db_->migrate();
  db_.reset();
  db_ = std::make_unique<Database>(Backend::Sqlite, path());
  db_->migrate();
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM schema_migrations")->integer(0),
            static_cast<std::int64_t>(migrations().size()));
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM users")->integer(0), 1);
  EXPECT_EQ(db_->query_one("SELECT value FROM sequences WHERE name = 'code_appli'")->integer(0), 1);
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM sequences")->integer(0), sequences);
  EXPECT_FALSE(db_->in_transaction());
}

// docs/reference.md §8: migrations are numbered and the missing ones are applied at start, on an existing store too.
TEST_F(MigrationsTest, AnOlderStoreIsUpgradedInPlace) {
  db_->execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  for (const auto& statement : migrations().front().statements) {
    if (dialect::applies(Backend::Sqlite, statement)) db_->execute(dialect::strip_prefix(statement));
  }
  db_->execute("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 'x')");
  db_->execute("INSERT INTO users (login, email, support, created_at, updated_at) VALUES ('a', 'a@x.fr', 1, 't', 't')");
  db_->migrate();
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM schema_migrations")->integer(0),
            static_cast<std::int64_t>(migrations().size()));
  EXPECT_EQ(db_->query_one("SELECT applied_at FROM schema_migrations WHERE version = 1")->text(0), "x");
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM users")->integer(0), 1);
}

/// Builds the store as a release that knew migrations 1 to `version - 1` left it (SQLite).
void migrate_as_a_release_before(Database& db, int version) {
  db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  for (const auto& m : migrations()) {
    if (m.version >= version) break;
    for (const auto& statement : m.statements) {
      if (dialect::applies(Backend::Sqlite, statement)) db.execute(dialect::strip_prefix(statement));
    }
    db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 'x')",
               {static_cast<std::int64_t>(m.version)});
  }
}

// Earlier versions stored an optional value written empty (au="", fax="", <Commentaires/>,
// identifiant="") as ''. The migration turns every such '' into NULL, the only "absent" the engine
// writes now (docs/design.md "Empty values"), and leaves the values that were given.
TEST_F(MigrationsTest, EmptyOptionalValuesOfAnOlderStoreBecomeNull) {
  migrate_as_a_release_before(*db_, 6);
  db_->execute("INSERT INTO users (login, email, support, created_at, updated_at) VALUES ('u', 'u@x.fr', 0, 't', 't')");
  for (const char* siret : {"12345678200010", "12345678200028"}) {
    db_->execute(
        "INSERT INTO structures (siret, raison_sociale, active, is_public, connected_in_qualification, editor_siret, "
        "uses_tiers, created_at, updated_at) VALUES ($1, 'S', 1, 0, 1, $2, 0, 't', 't')",
        {std::string(siret), std::string(siret) == "12345678200010" ? std::string() : std::string("38214190100159")});
  }
  db_->execute(
      "INSERT INTO subscriptions (id, siret, login, consultation, modification, requested_on, comment, status, "
      "requested_at) VALUES ('ABO-000001', '12345678200010', 'u', 1, 0, '', '', 'EN_ATTENTE', 't'), "
      "('ABO-000002', '12345678200010', 'u', 1, 0, '2026-04-04', 'c', 'EN_ATTENTE', 't')");
  db_->execute(
      "INSERT INTO sheets (code_appli, kind, partner_siret, state, created_at, updated_at) VALUES "
      "('VFE001', 'EDI', '12345678200010', 'ACTIVEE', 't', 't')");
  const std::string columns =
      "protocol, period_from, period_to, contact_name, contact_phone, contact_email, contact_fax, network_identifier, "
      "network_address, network_port, network_path, comments";
  db_->execute("INSERT INTO sheet_versions (id, code_appli, action, " + columns +
               ", created_at, created_by) VALUES (1, 'VFE001', 'soumettre', '', '', '', '', '', '', '', '', '', '', "
               "'', '', 't', 'u'), (2, 'VFE001', 'soumettre', 'AS2', '2026-12-01', '', 'N', '0123456789', 'a@b.fr', "
               "'', 'P', '203.0.113.10', '4080', '/in', 'c', 't', 'u')");
  db_->execute(
      "INSERT INTO sheet_bundles (version_id, bundle_index, name, content) VALUES (1, 1, '', 'x'), (2, 1, 'n.p7b', "
      "'y')");
  db_->execute(
      "INSERT INTO deposits (id, sha256, file_name, identifier, status, received_at, processed_at, ack_name, "
      "ack_content, destination) VALUES (1, 'a', 'a.xml', '', 'INTEGRE', 't', 't', 'A1', '', 'archive'), "
      "(2, 'b', 'b.xml', 'LOT-1', 'INTEGRE', 't', 't', 'A2', '', 'archive')");

  db_->migrate();

  auto count = [&](const std::string& sql) { return db_->query_one(sql)->integer(0); };
  EXPECT_EQ(count("SELECT COUNT(*) FROM structures WHERE editor_siret = ''"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM structures WHERE editor_siret = '38214190100159'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM subscriptions WHERE requested_on IS NULL AND comment IS NULL"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM subscriptions WHERE requested_on = '2026-04-04' AND comment = 'c'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_versions WHERE id = 1 AND COALESCE(" + columns + ") IS NULL"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_versions WHERE id = 2 AND protocol = 'AS2' AND period_from = "
                  "'2026-12-01' AND period_to IS NULL AND contact_fax IS NULL AND network_path = '/in' AND "
                  "comments = 'c'"),
            1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_bundles WHERE name IS NULL"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_bundles WHERE name = 'n.p7b'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE identifier IS NULL"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE identifier = 'LOT-1'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM schema_migrations"), static_cast<std::int64_t>(migrations().size()));
}

// docs/reference.md §2 "Exactly once": the same bytes are applied at most once; REJETE ones may come back.
TEST_F(MigrationsTest, AppliedOnceIndexRefusesASecondIntegreWithTheSameSha) {
  db_->migrate();
  const std::string sha(64, 'a');
  insert_deposit(1, sha, "INTEGRE");
  EXPECT_THROW(insert_deposit(2, sha, "INTEGRE"), StoreError);
  EXPECT_THROW(insert_deposit(3, sha, "INTEGRE_PARTIEL"), StoreError);
  EXPECT_NO_THROW(insert_deposit(4, sha, "REJETE"));
  EXPECT_NO_THROW(insert_deposit(5, sha, "REJETE"));
  EXPECT_NO_THROW(insert_deposit(6, sha, "DOUBLON"));
  EXPECT_NO_THROW(insert_deposit(7, sha, "DOUBLON"));
  EXPECT_NO_THROW(insert_deposit(8, std::string(64, 'b'), "INTEGRE_PARTIEL"));
  EXPECT_THROW(insert_deposit(9, std::string(64, 'b'), "INTEGRE"), StoreError);
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM deposits")->integer(0), 6);
}

// An identifiant is held by one applied dépôt per channel (migration 7). A store written before it
// may hold one identifiant twice (the defect it closes): the first applied dépôt keeps it.
TEST_F(MigrationsTest, IdentifiantHeldOnceAndOlderDuplicatesKeepTheFirstHolder) {
  migrate_as_a_release_before(*db_, 7);
  auto insert_old = [&](std::int64_t id, const std::string& identifier, const std::string& status) {
    db_->execute(
        "INSERT INTO deposits (id, sha256, file_name, file_identity, identifier, status, received_at, processed_at, "
        "ack_name, ack_content, destination, reason) VALUES ($1, $2, 'lot.xml', '1:2', $3, $4, 't', 't', $5, "
        "'<Accuse/>', 'archive', '')",
        {id, std::string(64, static_cast<char>('a' + id)), identifier, status,
         "ACK_lot_" + std::to_string(id) + ".xml"});
  };
  insert_old(1, "LOT-1", "REJETE");
  insert_old(2, "LOT-1", "INTEGRE");
  insert_old(3, "LOT-1", "INTEGRE_PARTIEL");  // the historical duplicate
  insert_old(4, "LOT-2", "INTEGRE");
  db_->migrate();
  auto held = [&](std::int64_t id) {
    auto r = db_->query_one("SELECT held_identifier, channel FROM deposits WHERE id = $1", {id});
    EXPECT_EQ(r->text(1), "");
    return r->is_null(0) ? std::string("NULL") : r->text(0);
  };
  EXPECT_EQ(held(1), "NULL");
  EXPECT_EQ(held(2), "LOT-1");
  EXPECT_EQ(held(3), "NULL");
  EXPECT_EQ(held(4), "LOT-2");
  auto insert_new = [&](std::int64_t id, const std::string& channel, const std::string& identifier) {
    db_->execute(
        "INSERT INTO deposits (id, sha256, file_name, file_identity, identifier, status, received_at, processed_at, "
        "ack_name, ack_content, destination, reason, channel, held_identifier) VALUES ($1, $2, 'lot.xml', '1:2', $3, "
        "'INTEGRE', 't', 't', $4, '<Accuse/>', 'archive', '', $5, $6)",
        {id, std::string(64, static_cast<char>('a' + id)), identifier, "ACK_lot_" + std::to_string(id) + ".xml",
         channel, identifier});
  };
  EXPECT_THROW(insert_new(5, "", "LOT-1"), StoreError);
  EXPECT_THROW(insert_new(6, "", "LOT-2"), StoreError);
  EXPECT_NO_THROW(insert_new(7, "compte-a", "LOT-1"));  // another channel
  EXPECT_THROW(insert_new(8, "compte-a", "LOT-1"), StoreError);
  EXPECT_NO_THROW(insert_new(9, "", "LOT-3"));
  EXPECT_TRUE(has_object("index", "deposits_identifier_held_once"));
}

// Migration 9: a store of an earlier release gains the refused signatures (docs/accounts.md "Replay"), empty; its
// dépôts are kept. A signature is recorded once.
TEST_F(MigrationsTest, RefusedSignaturesAreAddedToAnOlderStore) {
  migrate_as_a_release_before(*db_, 9);
  EXPECT_FALSE(has_object("table", "refused_signatures"));
  insert_deposit(1, std::string(64, 'a'), "REJETE");
  db_->migrate();
  EXPECT_TRUE(has_object("table", "refused_signatures"));
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM refused_signatures")->integer(0), 0);
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM deposits")->integer(0), 1);
  const std::string insert =
      "INSERT INTO refused_signatures (replay_key, channel, ack_name, refused_at) VALUES ('sha256:AB', 'acme', "
      "'ACK_lot_1.xml', 't')";
  db_->execute(insert);
  EXPECT_THROW(db_->execute(insert), StoreError);
}

// Migration 10: the structures a user manages are read by login (a Recherche of a user who is not support), through
// an index instead of a scan of every manager.
TEST_F(MigrationsTest, ManagersAreReadByLoginThroughAnIndex) {
  migrate_as_a_release_before(*db_, 10);
  EXPECT_FALSE(has_object("index", "managers_by_login"));
  db_->migrate();
  EXPECT_TRUE(has_object("index", "managers_by_login"));
  std::string plan;
  for (const auto& r : db_->query("EXPLAIN QUERY PLAN SELECT m.siret FROM managers m WHERE m.login = $1", {"u"})) {
    plan += r.text(3) + "\n";
  }
  EXPECT_NE(plan.find("USING COVERING INDEX managers_by_login"), std::string::npos) << plan;
}

TEST_F(MigrationsTest, RejectedBytesMayBeAppliedLater) {
  db_->migrate();
  const std::string sha(64, 'c');
  insert_deposit(1, sha, "REJETE");
  insert_deposit(2, sha, "REJETE");
  EXPECT_NO_THROW(insert_deposit(3, sha, "INTEGRE"));
}

TEST_F(MigrationsTest, AckNamesAreUnique) {
  db_->migrate();
  insert_deposit(1, std::string(64, 'd'), "REJETE");
  EXPECT_THROW(db_->execute("INSERT INTO deposits (id, sha256, file_name, status, received_at, processed_at, ack_name, "
                            "ack_content, destination) VALUES (2, 'e', 'x.xml', 'REJETE', 't', 't', 'ACK_lot_1.xml', "
                            "'', 'archive')"),
               StoreError);
}

}  // namespace
}  // namespace raccord
