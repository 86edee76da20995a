#include "engine/store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/support/postgres.hpp"

namespace raccord {
namespace {

namespace fs = std::filesystem;

Instant at(const char* iso) {
  return parse_iso_instant(iso).value();
}

Field field(std::string value, int line = 1) {
  return Field{std::move(value), line, true};
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raccord-store-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<Database>(Backend::Sqlite, (dir_ / "raccord.db").string());
    db_->migrate();
    store_ = std::make_unique<Store>(*db_);
    tx_ = std::make_unique<Transaction>(*db_);
  }
  void TearDown() override {
    tx_.reset();
    store_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  /// The role of `login` among the gestionnaires of `siret` (Store::rights_facts), nullopt when not one.
  std::optional<ManagerRole> manager_role(const std::string& siret, const std::string& login) {
    return store_->rights_facts(siret, login).manager;
  }

  /// The applied record of bytes `sha256`, in any channel (Store::find_applied_before's `same_bytes`).
  std::optional<DepositRecord> find_applied_deposit(const std::string& sha256) {
    return store_->find_applied_before(sha256, kInboxChannel, std::nullopt, "").same_bytes;
  }

  /// The dépôt of `channel` holding `identifier` (Store::find_applied_before's `same_identifier`).
  std::optional<DepositRecord> find_applied_by_identifier(std::string_view channel, const std::string& identifier) {
    return store_->find_applied_before("", channel, identifier, "").same_identifier;
  }

  /// A validated subscription of `login` to `siret` granting Modification (Consultation when `modification` is false).
  bool has_validated_subscription(const std::string& siret, const std::string& login, bool modification) {
    const Store::RightsFacts facts = store_->rights_facts(siret, login);
    return modification ? facts.modification : facts.consultation;
  }

  // g.martin, a.leroy, j.dupont and ACME (12345678200010) with g.martin principal, a.leroy secondaire.
  void seed_directory() {
    for (const char* login : {"g.martin", "a.leroy", "j.dupont"}) {
      store_->upsert_user(UserRecord{login, std::string(login) + "@example.com", false}, now_);
    }
    store_->upsert_structure(acme(), {{"g.martin", ManagerRole::Principal}, {"a.leroy", ManagerRole::Secondaire}},
                             {"TECH_1_0001@example.fr"}, now_);
  }
  static StructureRecord acme() {
    StructureRecord s;
    s.siret = "12345678200010";
    s.raison_sociale = "ACME Logistique SAS";
    s.connected_in_qualification = true;
    s.editor_siret = "98765432400019";
    return s;
  }
  std::int64_t count(const std::string& sql, const std::vector<SqlValue>& params = {}) {
    return db_->query_one(sql, params)->integer(0);
  }

  fs::path dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Transaction> tx_;
  Instant now_ = at("2026-11-29T22:10:04Z");
};

TEST_F(StoreTest, UsersRoundTrip) {
  EXPECT_FALSE(store_->find_user("j.dupont"));
  store_->upsert_user(UserRecord{"j.dupont", "j.dupont@example.fr", false}, now_);
  auto u = store_->find_user("j.dupont");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->login, "j.dupont");
  EXPECT_EQ(u->email, "j.dupont@example.fr");
  EXPECT_FALSE(u->support);
  store_->upsert_user(UserRecord{"j.dupont", "jean.dupont@example.fr", true}, at("2026-11-30T08:00:00Z"));
  u = store_->find_user("j.dupont");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->email, "jean.dupont@example.fr");
  EXPECT_TRUE(u->support);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users"), 1);
  auto times = db_->query_one("SELECT created_at, updated_at FROM users WHERE login = 'j.dupont'");
  EXPECT_EQ(times->text(0), "2026-11-29T22:10:04Z");
  EXPECT_EQ(times->text(1), "2026-11-30T08:00:00Z");
  EXPECT_FALSE(store_->find_user("J.DUPONT"));  // logins are case-sensitive
}

TEST_F(StoreTest, StructuresRoundTrip) {
  seed_directory();
  auto s = store_->find_structure("12345678200010");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->raison_sociale, "ACME Logistique SAS");
  EXPECT_TRUE(s->active);
  EXPECT_FALSE(s->is_public);
  EXPECT_TRUE(s->connected_in_qualification);
  EXPECT_EQ(s->editor_siret, std::optional<std::string>("98765432400019"));
  EXPECT_FALSE(s->uses_tiers);
  EXPECT_FALSE(s->space_active);
  EXPECT_EQ(manager_role("12345678200010", "g.martin"), std::optional<ManagerRole>(ManagerRole::Principal));
  EXPECT_EQ(manager_role("12345678200010", "a.leroy"), std::optional<ManagerRole>(ManagerRole::Secondaire));
  EXPECT_FALSE(manager_role("12345678200010", "j.dupont"));
  EXPECT_EQ(store_->technical_user_count("12345678200010"), 1);
  EXPECT_FALSE(store_->find_structure("12345678200028"));
  EXPECT_EQ(store_->technical_user_count("12345678200028"), 0);
}

TEST_F(StoreTest, UpsertReplacesAttributesManagersAndTechnicalUsersButKeepsTheSpace) {
  seed_directory();
  store_->activate_space("12345678200010", "g.martin", now_);
  StructureRecord changed = acme();
  changed.raison_sociale = "ACME Logistique — Société Exemple Équipements";
  changed.active = false;
  changed.is_public = true;
  changed.connected_in_qualification = false;
  changed.editor_siret = std::nullopt;
  changed.uses_tiers = true;
  store_->upsert_structure(changed, {{"j.dupont", ManagerRole::Principal}}, {"API_A@example.fr", "API_B@example.fr"},
                           at("2026-11-30T08:00:00Z"));
  auto s = store_->find_structure("12345678200010");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->raison_sociale, "ACME Logistique — Société Exemple Équipements");
  EXPECT_FALSE(s->active);
  EXPECT_TRUE(s->is_public);
  EXPECT_FALSE(s->connected_in_qualification);
  EXPECT_FALSE(s->editor_siret.has_value());
  EXPECT_TRUE(s->uses_tiers);
  EXPECT_TRUE(s->space_active);  // the space state is not the directory's
  EXPECT_FALSE(manager_role("12345678200010", "g.martin"));
  EXPECT_FALSE(manager_role("12345678200010", "a.leroy"));
  EXPECT_EQ(manager_role("12345678200010", "j.dupont"), std::optional<ManagerRole>(ManagerRole::Principal));
  EXPECT_EQ(store_->technical_user_count("12345678200010"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM structures"), 1);
  // And with none sent, none are left.
  store_->upsert_structure(changed, {}, {}, now_);
  EXPECT_EQ(count("SELECT COUNT(*) FROM managers"), 0);
  EXPECT_EQ(store_->technical_user_count("12345678200010"), 0);
}

TEST_F(StoreTest, RepeatedManagerOrTechnicalUserIsStoredOnce) {
  seed_directory();
  store_->upsert_structure(acme(), {{"g.martin", ManagerRole::Principal}, {"g.martin", ManagerRole::Secondaire}},
                           {"T@example.fr", "T@example.fr"}, now_);
  EXPECT_EQ(count("SELECT COUNT(*) FROM managers WHERE siret = '12345678200010'"), 1);
  EXPECT_EQ(manager_role("12345678200010", "g.martin"), std::optional<ManagerRole>(ManagerRole::Secondaire));
  EXPECT_EQ(store_->technical_user_count("12345678200010"), 1);
}

TEST_F(StoreTest, ManagerMustBeAKnownUser) {
  seed_directory();
  EXPECT_THROW(store_->upsert_structure(acme(), {{"inconnu", ManagerRole::Principal}}, {}, now_), StoreError);
}

TEST_F(StoreTest, ActivateSpaceRecordsWhoAndWhen) {
  seed_directory();
  store_->activate_space("12345678200010", "g.martin", now_);
  EXPECT_TRUE(store_->find_structure("12345678200010")->space_active);
  auto r = db_->query_one("SELECT space_activated_at, space_activated_by FROM structures");
  EXPECT_EQ(r->text(0), "2026-11-29T22:10:04Z");
  EXPECT_EQ(r->text(1), "g.martin");
}

TEST_F(StoreTest, SubscriptionsRoundTrip) {
  seed_directory();
  const std::string id = store_->create_subscription(
      "12345678200010", "j.dupont", true, true, std::string("2026-04-04"), std::string("Équipe intégration"), now_);
  EXPECT_EQ(id, "ABO-000001");
  EXPECT_EQ(store_->create_subscription("12345678200010", "a.leroy", true, false, std::nullopt, std::nullopt, now_),
            "ABO-000002");
  auto s = store_->find_subscription("ABO-000001");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, "ABO-000001");
  EXPECT_EQ(s->siret, "12345678200010");
  EXPECT_EQ(s->login, "j.dupont");
  EXPECT_TRUE(s->consultation);
  EXPECT_TRUE(s->modification);
  EXPECT_EQ(s->status, SubscriptionStatus::EnAttente);
  auto stored = db_->query_one("SELECT requested_on, comment FROM subscriptions WHERE id = 'ABO-000001'");
  EXPECT_EQ(stored->text(0), "2026-04-04");
  EXPECT_EQ(stored->text(1), "Équipe intégration");
  EXPECT_TRUE(db_->query_one("SELECT requested_on FROM subscriptions WHERE id = 'ABO-000002'")->is_null(0));
  // Not granted until validated.
  EXPECT_FALSE(has_validated_subscription("12345678200010", "j.dupont", true));
  EXPECT_FALSE(has_validated_subscription("12345678200010", "j.dupont", false));
  EXPECT_TRUE(store_->decide_subscription("ABO-000001", SubscriptionStatus::Validee, "g.martin", now_));
  EXPECT_EQ(store_->find_subscription("ABO-000001")->status, SubscriptionStatus::Validee);
  // One decision per request: a later one changes nothing (ABONNEMENT_INCONNU for the caller).
  EXPECT_FALSE(store_->decide_subscription("ABO-000001", SubscriptionStatus::Refusee, "a.leroy", now_));
  EXPECT_EQ(store_->lock_subscription("ABO-000001")->status, SubscriptionStatus::Validee);
  EXPECT_EQ(db_->query_one("SELECT decided_by FROM subscriptions WHERE id = 'ABO-000001'")->text(0), "g.martin");
  EXPECT_FALSE(store_->decide_subscription("ABO-999999", SubscriptionStatus::Validee, "g.martin", now_));
  EXPECT_FALSE(store_->lock_subscription("ABO-999999"));
  EXPECT_TRUE(has_validated_subscription("12345678200010", "j.dupont", true));
  EXPECT_TRUE(has_validated_subscription("12345678200010", "j.dupont", false));
  EXPECT_FALSE(has_validated_subscription("12345678200028", "j.dupont", false));
  // Consultation only: no Modification.
  EXPECT_TRUE(store_->decide_subscription("ABO-000002", SubscriptionStatus::Validee, "g.martin", now_));
  EXPECT_TRUE(has_validated_subscription("12345678200010", "a.leroy", false));
  EXPECT_FALSE(has_validated_subscription("12345678200010", "a.leroy", true));
  // Refused grants nothing.
  const std::string third =
      store_->create_subscription("12345678200010", "g.martin", true, true, std::nullopt, std::nullopt, now_);
  EXPECT_EQ(third, "ABO-000003");
  EXPECT_TRUE(store_->decide_subscription(third, SubscriptionStatus::Refusee, "a.leroy", now_));
  EXPECT_EQ(store_->find_subscription(third)->status, SubscriptionStatus::Refusee);
  EXPECT_FALSE(has_validated_subscription("12345678200010", "g.martin", false));
  EXPECT_FALSE(store_->find_subscription("ABO-999999"));
  EXPECT_EQ(to_code(SubscriptionStatus::EnAttente), "EN_ATTENTE");
  EXPECT_EQ(to_code(SubscriptionStatus::Validee), "VALIDEE");
  EXPECT_EQ(to_code(SubscriptionStatus::Refusee), "REFUSEE");
}

TEST_F(StoreTest, SubscriptionIdsHaveSixDigits) {
  seed_directory();
  db_->execute("UPDATE sequences SET value = 41 WHERE name = 'abonnement'");
  EXPECT_EQ(store_->create_subscription("12345678200010", "j.dupont", true, false, std::nullopt, std::nullopt, now_),
            "ABO-000042");
}

TEST_F(StoreTest, CodeAppliIsPrefixPlusAtLeastThreeDigits) {
  auto code = [&](const std::string& prefix) { return store_->draw_ids(prefix, true, false).code_appli; };
  EXPECT_EQ(code("VFE"), "VFE001");
  EXPECT_EQ(code("VFE"), "VFE002");
  EXPECT_EQ(code("ABC"), "ABC003");  // one sequence: never reused across prefixes
  db_->execute("UPDATE sequences SET value = 998 WHERE name = 'code_appli'");
  EXPECT_EQ(code("VFE"), "VFE999");
  EXPECT_EQ(code("VFE"), "VFE1000");
}

TEST_F(StoreTest, IdsAreDrawnOnlyWhereTheOperationNeedsThem) {
  const Store::DrawnIds both = store_->draw_ids("VFE", true, true);
  EXPECT_EQ(both.code_appli, "VFE001");
  EXPECT_EQ(both.version_id, 1);
  const Store::DrawnIds version = store_->draw_ids("VFE", false, true);
  EXPECT_EQ(version.code_appli, "");
  EXPECT_EQ(version.version_id, 2);
  const Store::DrawnIds none = store_->draw_ids("VFE", false, false);
  EXPECT_EQ(none.code_appli, "");
  EXPECT_EQ(none.version_id, 0);
  EXPECT_EQ(store_->draw_ids("VFE", true, false).code_appli, "VFE002");  // the sequences apart
}

TEST_F(StoreTest, SheetsRoundTrip) {
  seed_directory();
  EXPECT_FALSE(store_->find_sheet("VFE001"));
  SheetRecord sheet;
  sheet.code_appli = "VFE001";
  sheet.kind = SheetKind::Api;
  sheet.partner_siret = "12345678200010";
  sheet.state = SheetState::Envoyee;
  store_->insert_sheet(sheet, now_);
  auto s = store_->find_sheet("VFE001");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, SheetKind::Api);
  EXPECT_EQ(s->partner_siret, "12345678200010");
  EXPECT_EQ(s->state, SheetState::Envoyee);
  EXPECT_FALSE(s->deleted);
  EXPECT_FALSE(s->active_version);
  EXPECT_FALSE(s->pending_version);

  sheet.state = SheetState::EnvoyeeMaj;
  sheet.active_version = 1;
  sheet.pending_version = 2;
  store_->update_sheet(sheet, at("2026-11-30T09:00:00Z"), at("2026-11-30T09:00:00Z"));
  s = store_->find_sheet("VFE001");
  EXPECT_EQ(s->state, SheetState::EnvoyeeMaj);
  EXPECT_EQ(s->active_version, std::optional<std::int64_t>(1));
  EXPECT_EQ(s->pending_version, std::optional<std::int64_t>(2));
  EXPECT_EQ(db_->query_one("SELECT submitted_at FROM sheets")->text(0), "2026-11-30T09:00:00Z");

  // Without a submission instant, submitted_at is kept.
  sheet.state = SheetState::Desactivee;
  sheet.pending_version = std::nullopt;
  sheet.deleted = true;
  store_->update_sheet(sheet, std::nullopt, at("2026-12-01T01:00:00Z"));
  s = store_->find_sheet("VFE001");
  EXPECT_EQ(s->state, SheetState::Desactivee);
  EXPECT_TRUE(s->deleted);
  EXPECT_FALSE(s->pending_version);
  EXPECT_EQ(s->active_version, std::optional<std::int64_t>(1));
  auto r = db_->query_one("SELECT submitted_at, updated_at, state FROM sheets");
  EXPECT_EQ(r->text(0), "2026-11-30T09:00:00Z");
  EXPECT_EQ(r->text(1), "2026-12-01T01:00:00Z");
  EXPECT_EQ(r->text(2), "DESACTIVEE");
}

// A stored state, kind or status that no release writes is a StoreError naming the row, never a
// default (a corrupt sheet read as BROUILLON could be submitted again; issue 15).
TEST_F(StoreTest, AnUnknownStoredValueIsAStoreErrorNamingTheRow) {
  seed_directory();
  SheetRecord sheet;
  sheet.code_appli = "VFE001";
  sheet.kind = SheetKind::Edi;
  sheet.partner_siret = "12345678200010";
  sheet.state = SheetState::Envoyee;
  store_->insert_sheet(sheet, now_);
  const auto expect_naming = [this](const std::string& fragment) {
    try {
      (void)store_->find_sheet("VFE001");
      ADD_FAILURE() << "no StoreError";
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("VFE001"), std::string::npos) << e.what();
      EXPECT_FALSE(e.transient);
    }
  };
  db_->execute("UPDATE sheets SET state = 'ACTIVE'");
  expect_naming("ACTIVE");
  db_->execute("UPDATE sheets SET state = 'ENVOYEE', kind = 'SOAP'");
  expect_naming("SOAP");

  const std::string id =
      store_->create_subscription("12345678200010", "g.martin", true, false, std::nullopt, std::nullopt, now_);
  db_->execute("UPDATE subscriptions SET status = 'PEUT-ETRE'");
  EXPECT_THROW((void)store_->find_subscription(id), StoreError);
}

TEST_F(StoreTest, SheetOfAnUnknownPartnerIsRefused) {
  SheetRecord sheet;
  sheet.code_appli = "VFE001";
  sheet.partner_siret = "12345678200028";
  EXPECT_THROW(store_->insert_sheet(sheet, now_), StoreError);
}

TEST_F(StoreTest, VersionsKeepInterfacesBundlesAndCertificateFacts) {
  seed_directory();
  SheetRecord sheet;
  sheet.code_appli = "VFE001";
  sheet.partner_siret = "12345678200010";
  store_->insert_sheet(sheet, now_);

  SheetOperation op;
  op.action = SheetAction::Soumettre;
  op.partner = field("12345678200010");
  op.protocol = field("AS2");
  op.has_period = true;
  op.period_from = field("2026-12-01");  // period_to absent: open-ended
  op.contact_name = field("John Doe");
  op.contact_phone = field("01 23 45 67 89");
  op.contact_email = field("johndoe@exemple.com");
  op.network_identifier = field("PARTAS2");
  op.network_address = field("203.0.113.10");
  op.network_port = field("4080");
  op.network_path = field("/as2/in");
  op.comments = field("Première fiche");
  op.has_interfaces = true;
  op.interfaces = {InterfaceField{field("FSO1100A"), field("complete"), 20},
                   InterfaceField{field("FSO1101A"), field("partielle"), 21},
                   InterfaceField{field("FSO1102A"), field("aucun"), 22}};
  op.has_certificates = true;
  op.certificates = {CertificateField{field("client.p7b"), "MIIB...", 9, 1},
                     CertificateField{field("server.p7b"), "-----BEGIN PKCS7-----", 10, 2}};

  CertificateFacts ca;
  ca.subject = "CN=Raccord Exemple Intermediaire";
  ca.issuer = "CN=Raccord Exemple Racine";
  ca.serial = "01";
  ca.not_before = at("2025-01-01T00:00:00Z");
  ca.not_after = at("2045-12-31T23:59:59Z");
  ca.fingerprint_sha256 = std::string(64, 'A');
  ca.is_ca = true;
  ca.key_type = "EC";
  ca.key_bits = 256;
  ca.signature_algorithm = "ecdsa-with-SHA256";
  ca.bundle_index = 1;
  CertificateFacts leaf = ca;
  leaf.subject = "CN=as2.acme-logistique.example.com";
  leaf.subject_cn = "as2.acme-logistique.example.com";
  leaf.issuer = ca.subject;
  leaf.serial = "0A1B";
  leaf.not_before = at("2025-06-01T00:00:00Z");
  leaf.not_after = at("2035-12-31T23:59:59Z");
  leaf.fingerprint_sha256 = std::string(64, 'B');
  leaf.is_ca = false;
  leaf.has_eku = true;
  leaf.server_auth = true;
  leaf.key_type = "RSA";
  leaf.key_bits = 2048;
  leaf.bundle_index = 2;

  const std::string sha(64, 'f');
  const auto id1 = store_->draw_ids("VFE", false, true).version_id;
  store_->insert_version(id1, "VFE001", op, {ca, leaf}, "g.martin", sha, now_);
  const auto id2 = store_->draw_ids("VFE", false, true).version_id;
  store_->insert_version(id2, "VFE001", op, {}, "g.martin", sha, now_);
  EXPECT_GT(id2, id1);

  auto v = db_->query_one(
      "SELECT code_appli, action, protocol, period_from, period_to, contact_name, contact_phone, contact_email, "
      "contact_fax, network_identifier, network_address, network_port, network_path, comments, created_by, "
      "deposit_sha256, created_at FROM sheet_versions WHERE id = $1",
      {id1});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->text(0), "VFE001");
  EXPECT_EQ(v->text(1), "soumettre");
  EXPECT_EQ(v->text(2), "AS2");
  EXPECT_EQ(v->text(3), "2026-12-01");
  EXPECT_TRUE(v->is_null(4));  // absent, not ""
  EXPECT_EQ(v->text(5), "John Doe");
  EXPECT_EQ(v->text(6), "01 23 45 67 89");
  EXPECT_EQ(v->text(7), "johndoe@exemple.com");
  EXPECT_TRUE(v->is_null(8));
  EXPECT_EQ(v->text(9), "PARTAS2");
  EXPECT_EQ(v->text(10), "203.0.113.10");
  EXPECT_EQ(v->text(11), "4080");
  EXPECT_EQ(v->text(12), "/as2/in");
  EXPECT_EQ(v->text(13), "Première fiche");
  EXPECT_EQ(v->text(14), "g.martin");
  EXPECT_EQ(v->text(15), sha);
  EXPECT_EQ(v->text(16), "2026-11-29T22:10:04Z");

  auto interfaces =
      db_->query("SELECT position, code, mode FROM sheet_interfaces WHERE version_id = $1 ORDER BY position", {id1});
  ASSERT_EQ(interfaces.size(), 3u);
  EXPECT_EQ(interfaces[0].integer(0), 1);
  EXPECT_EQ(interfaces[0].text(1), "FSO1100A");
  EXPECT_EQ(interfaces[0].text(2), "complete");
  EXPECT_EQ(interfaces[2].text(1), "FSO1102A");
  EXPECT_EQ(interfaces[2].text(2), "aucun");

  auto bundles = db_->query(
      "SELECT bundle_index, name, content FROM sheet_bundles WHERE version_id = $1 "
      "ORDER BY bundle_index",
      {id1});
  ASSERT_EQ(bundles.size(), 2u);
  EXPECT_EQ(bundles[0].integer(0), 1);
  EXPECT_EQ(bundles[0].text(1), "client.p7b");
  EXPECT_EQ(bundles[0].text(2), "MIIB...");
  EXPECT_EQ(bundles[1].text(2), "-----BEGIN PKCS7-----");

  auto certs = db_->query(
      "SELECT position, bundle_index, subject, subject_cn, issuer, serial, not_before, not_after, fingerprint, is_ca, "
      "is_leaf, client_auth, server_auth, has_eku, key_type, key_bits, signature_algorithm FROM sheet_certificates "
      "WHERE version_id = $1 ORDER BY position",
      {id1});
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[0].integer(9), 1);   // is_ca
  EXPECT_EQ(certs[0].integer(10), 0);  // not a leaf
  EXPECT_EQ(certs[1].integer(1), 2);
  EXPECT_EQ(certs[1].text(2), "CN=as2.acme-logistique.example.com");
  EXPECT_EQ(certs[1].text(3), "as2.acme-logistique.example.com");
  EXPECT_EQ(certs[1].text(4), "CN=Raccord Exemple Intermediaire");
  EXPECT_EQ(certs[1].text(5), "0A1B");
  EXPECT_EQ(certs[1].text(6), "2025-06-01T00:00:00Z");
  EXPECT_EQ(certs[1].text(7), "2035-12-31T23:59:59Z");
  EXPECT_EQ(certs[1].text(8), std::string(64, 'B'));
  EXPECT_EQ(certs[1].integer(9), 0);
  EXPECT_EQ(certs[1].integer(10), 1);  // leaf
  EXPECT_EQ(certs[1].integer(11), 0);
  EXPECT_EQ(certs[1].integer(12), 1);
  EXPECT_EQ(certs[1].integer(13), 1);
  EXPECT_EQ(certs[1].text(14), "RSA");
  EXPECT_EQ(certs[1].integer(15), 2048);
  EXPECT_EQ(certs[1].text(16), "ecdsa-with-SHA256");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_certificates WHERE version_id = $1", {id2}), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_interfaces WHERE version_id = $1", {id2}), 3);
}

TEST_F(StoreTest, HistoryKeepsEveryTransitionInOrder) {
  seed_directory();
  SheetRecord sheet;
  sheet.code_appli = "VFE001";
  sheet.partner_siret = "12345678200010";
  store_->insert_sheet(sheet, now_);
  const std::string sha(64, 'e');
  store_->add_history("VFE001", now_, "j.dupont", std::nullopt, SheetState::Envoyee, "soumettre", sha);
  store_->add_history("VFE001", at("2026-12-01T01:00:00Z"), "nightly", SheetState::Envoyee, SheetState::Activee,
                      "contrôles passés", "");
  auto rows = db_->query(
      "SELECT instant, actor, from_state, to_state, reason, deposit_sha256 FROM history WHERE code_appli = 'VFE001' "
      "ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text(0), "2026-11-29T22:10:04Z");
  EXPECT_EQ(rows[0].text(1), "j.dupont");
  EXPECT_TRUE(rows[0].is_null(2));
  EXPECT_EQ(rows[0].text(3), "ENVOYEE");
  EXPECT_EQ(rows[0].text(4), "soumettre");
  EXPECT_EQ(rows[0].text(5), sha);
  EXPECT_EQ(rows[1].text(1), "nightly");
  EXPECT_EQ(rows[1].text(2), "ENVOYEE");
  EXPECT_EQ(rows[1].text(3), "ACTIVEE");
  EXPECT_EQ(rows[1].text(4), "contrôles passés");
  EXPECT_TRUE(rows[1].is_null(5));
}

DepositRecord deposit(const std::string& sha, const std::string& status, const std::string& ack,
                      std::optional<std::string> identifier = std::nullopt, const std::string& name = "lot.xml",
                      const std::string& identity = "2049:1234") {
  DepositRecord r;
  r.sha256 = sha;
  r.file_name = name;
  r.file_identity = identity;
  r.identifier = std::move(identifier);
  r.status = parse<DepositStatus>(status).value();
  r.ack_name = ack;
  r.ack_content = "<Accuse statut=\"" + status + "\"/>";
  r.destination = "archive";
  return r;
}

/// The StoreError of `read`, which must throw one (empty when it does not).
template <class Read>
std::string store_error_of(Read read) {
  try {
    read();
  } catch (const StoreError& e) {
    EXPECT_FALSE(e.transient) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no StoreError";
  return {};
}

// The siblings of the row above: every read of a stored state, status or role names the table, the
// row and the value (issue 15), as find_sheet does.
TEST_F(StoreTest, EveryStoredStateStatusAndRoleReadNamesTheRowWhenUnknown) {
  seed_directory();
  for (const char* code : {"VFE001", "VFE002"}) {
    SheetRecord sheet;
    sheet.code_appli = code;
    sheet.partner_siret = "12345678200010";
    sheet.state = SheetState::Envoyee;
    store_->insert_sheet(sheet, now_);
  }
  // Totals by state (the nightly report and metrics.prom).
  EXPECT_EQ(store_->count_sheets_by_state(), (std::map<SheetState, std::int64_t>{{SheetState::Envoyee, 2}}));
  db_->execute("UPDATE sheets SET state = 'ACTIVE' WHERE code_appli = 'VFE002'");
  std::string what = store_error_of([this] { (void)store_->count_sheets_by_state(); });
  EXPECT_NE(what.find("sheets.state"), std::string::npos) << what;
  EXPECT_NE(what.find("VFE002"), std::string::npos) << what;
  EXPECT_NE(what.find("« ACTIVE »"), std::string::npos) << what;
  db_->execute("UPDATE sheets SET state = 'ACTIVEE' WHERE code_appli = 'VFE002'");
  EXPECT_EQ(store_->count_sheets_by_state(),
            (std::map<SheetState, std::int64_t>{{SheetState::Envoyee, 1}, {SheetState::Activee, 1}}));

  // A subscription's status names its request.
  const std::string id =
      store_->create_subscription("12345678200010", "j.dupont", true, false, std::nullopt, std::nullopt, now_);
  db_->execute("UPDATE subscriptions SET status = 'valide' WHERE id = $1", {id});
  what = store_error_of([&] { (void)store_->lock_subscription(id); });
  EXPECT_NE(what.find("subscriptions.status"), std::string::npos) << what;
  EXPECT_NE(what.find(id), std::string::npos) << what;

  // A gestionnaire's role names the structure and the login.
  EXPECT_EQ(manager_role("12345678200010", "a.leroy"), ManagerRole::Secondaire);
  db_->execute("UPDATE managers SET role = 'adjoint' WHERE login = 'a.leroy'");
  what = store_error_of([this] { (void)manager_role("12345678200010", "a.leroy"); });
  EXPECT_NE(what.find("managers.role"), std::string::npos) << what;
  EXPECT_NE(what.find("12345678200010 a.leroy"), std::string::npos) << what;
  EXPECT_NE(what.find("« adjoint »"), std::string::npos) << what;
  EXPECT_FALSE(manager_role("12345678200010", "j.dupont"));  // not a gestionnaire: no role

  // A dépôt's status names its accusé, by every way a dépôt is found.
  const std::string sha(64, '9');
  store_->insert_deposit(deposit(sha, "INTEGRE", "ACK_lot_1.xml", "LOT-9"), now_, now_);
  db_->execute("UPDATE deposits SET status = 'INTEGRE_OK' WHERE ack_name = 'ACK_lot_1.xml'");
  for (const auto& read :
       std::vector<std::function<void()>>{[&] { (void)find_applied_by_identifier(kInboxChannel, "LOT-9"); },
                                          [&] { (void)store_->find_processed_file("lot.xml", sha, "2049:1234"); }}) {
    what = store_error_of(read);
    EXPECT_NE(what.find("deposits.status"), std::string::npos) << what;
    EXPECT_NE(what.find("ACK_lot_1.xml"), std::string::npos) << what;
    EXPECT_NE(what.find("« INTEGRE_OK »"), std::string::npos) << what;
  }
}

TEST_F(StoreTest, DepositsAreFoundBySha) {
  const std::string sha(64, '1');
  EXPECT_FALSE(find_applied_deposit(sha));
  store_->insert_deposit(deposit(sha, "REJETE", "ACK_lot_20261129T221004Z.xml"), now_, now_);
  EXPECT_FALSE(find_applied_deposit(sha));  // REJETE bytes are processed anew
  store_->insert_deposit(deposit(sha, "INTEGRE", "ACK_lot_20261129T221005Z.xml", "LOT-1"), now_, now_);
  auto r = find_applied_deposit(sha);
  ASSERT_TRUE(r);
  EXPECT_GT(r->id, 0);
  EXPECT_EQ(r->sha256, sha);
  EXPECT_EQ(r->file_name, "lot.xml");
  EXPECT_EQ(r->file_identity, "2049:1234");
  EXPECT_EQ(r->identifier, std::optional<std::string>("LOT-1"));
  EXPECT_EQ(to_code(r->status), "INTEGRE");
  EXPECT_EQ(r->ack_name, "ACK_lot_20261129T221005Z.xml");
  EXPECT_EQ(r->ack_content, "<Accuse statut=\"INTEGRE\"/>");
  EXPECT_EQ(r->destination, "archive");
  store_->insert_deposit(deposit(sha, "DOUBLON", "ACK_lot_20261129T221006Z.xml"), now_, now_);
  EXPECT_EQ(to_code(find_applied_deposit(sha)->status), "INTEGRE");
  const std::string partial(64, '2');
  store_->insert_deposit(deposit(partial, "INTEGRE_PARTIEL", "ACK_p.xml"), now_, now_);
  EXPECT_EQ(to_code(find_applied_deposit(partial)->status), "INTEGRE_PARTIEL");
  // The partial unique index refuses a second application of the same bytes.
  EXPECT_THROW(store_->insert_deposit(deposit(sha, "INTEGRE", "ACK_other.xml"), now_, now_), StoreError);
}

TEST_F(StoreTest, DepositsAreFoundByIdentifierOnlyWhenApplied) {
  store_->insert_deposit(deposit(std::string(64, '1'), "REJETE", "ACK_a.xml", "LOT-2026-0042"), now_, now_);
  EXPECT_FALSE(find_applied_by_identifier(kInboxChannel, "LOT-2026-0042"));
  store_->insert_deposit(deposit(std::string(64, '2'), "INTEGRE_PARTIEL", "ACK_b.xml", "LOT-2026-0042"), now_, now_);
  // The store itself refuses a second holder (two engines checking at once: the loser's retry
  // then finds the holder and answers DEPOT_IDENTIFIANT_REUTILISE).
  EXPECT_THROW(
      store_->insert_deposit(deposit(std::string(64, '3'), "INTEGRE", "ACK_c.xml", "LOT-2026-0042"), now_, now_),
      StoreError);
  EXPECT_THROW(store_->insert_deposit(deposit(std::string(64, '4'), "INTEGRE_PARTIEL", "ACK_d.xml", "LOT-2026-0042"),
                                      now_, now_),
               StoreError);
  // Dépôts that do not hold it may share it: REJETE, DOUBLON.
  store_->insert_deposit(deposit(std::string(64, '5'), "REJETE", "ACK_e.xml", "LOT-2026-0042"), now_, now_);
  store_->insert_deposit(deposit(std::string(64, '2'), "DOUBLON", "ACK_f.xml", "LOT-2026-0042"), now_, now_);
  auto r = find_applied_by_identifier(kInboxChannel, "LOT-2026-0042");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ack_name, "ACK_b.xml");
  EXPECT_FALSE(find_applied_by_identifier(kInboxChannel, "LOT-2026-0043"));
  // Other identifiants, and dépôts without one, are independent.
  store_->insert_deposit(deposit(std::string(64, '6'), "INTEGRE", "ACK_g.xml", "LOT-2026-0043"), now_, now_);
  store_->insert_deposit(deposit(std::string(64, '7'), "INTEGRE", "ACK_h.xml"), now_, now_);
  store_->insert_deposit(deposit(std::string(64, '8'), "INTEGRE", "ACK_i.xml"), now_, now_);
  EXPECT_EQ(find_applied_by_identifier(kInboxChannel, "LOT-2026-0043")->ack_name, "ACK_g.xml");
}

TEST_F(StoreTest, ProcessedFileIsFoundByNameBytesAndIdentity) {
  const std::string sha(64, '4');
  DepositRecord rejected = deposit(sha, "REJETE", "ACK_x_1.xml", std::nullopt, "x.xml", "2049:77");
  rejected.destination = "error";
  rejected.reason = "XML_MALFORME ligne 3";
  store_->insert_deposit(rejected, now_, now_);
  auto r = store_->find_processed_file("x.xml", sha, "2049:77");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->destination, "error");
  EXPECT_EQ(r->reason, "XML_MALFORME ligne 3");
  EXPECT_FALSE(store_->find_processed_file("y.xml", sha, "2049:77"));
  EXPECT_FALSE(store_->find_processed_file("x.xml", std::string(64, '5'), "2049:77"));
  EXPECT_FALSE(store_->find_processed_file("x.xml", sha, "2049:78"));
  // The latest processing of that file wins.
  store_->insert_deposit(deposit(sha, "INTEGRE", "ACK_x_2.xml", std::nullopt, "x.xml", "2049:77"), now_, now_);
  EXPECT_EQ(store_->find_processed_file("x.xml", sha, "2049:77")->ack_name, "ACK_x_2.xml");
}

TEST_F(StoreTest, AckNamesTaken) {
  EXPECT_FALSE(store_->ack_name_taken("ACK_lot_20261129T221004Z.xml"));
  store_->insert_deposit(deposit(std::string(64, '6'), "REJETE", "ACK_lot_20261129T221004Z.xml"), now_,
                         at("2026-11-29T22:10:05Z"));
  EXPECT_TRUE(store_->ack_name_taken("ACK_lot_20261129T221004Z.xml"));
  EXPECT_FALSE(store_->ack_name_taken("ACK_lot_20261129T221004Z_2.xml"));
  auto r = db_->query_one("SELECT received_at, processed_at FROM deposits");
  EXPECT_EQ(r->text(0), "2026-11-29T22:10:04Z");
  EXPECT_EQ(r->text(1), "2026-11-29T22:10:05Z");
}

TEST_F(StoreTest, RolledBackWorkLeavesNothing) {
  tx_.reset();  // roll back the fixture's transaction
  {
    Transaction tx(*db_);
    store_->upsert_user(UserRecord{"x", "x@example.com", false}, now_);
  }
  EXPECT_FALSE(store_->find_user("x"));
  tx_ = std::make_unique<Transaction>(*db_);
}

// The refused signatures on both backends: SQLite, and PostgreSQL when RACCORD_TEST_POSTGRES names a server
// (scripts/test.sh), in a schema of its own. Each test opens its own transactions.
class RefusedSignatureTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::Postgresql) {
      const auto connection = testing::create_test_schema(schema_);
      if (!connection) GTEST_SKIP() << "RACCORD_TEST_POSTGRES unset: PostgreSQL not tested";
      connection_ = *connection;
    } else {
      std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
      std::replace(name.begin(), name.end(), '/', '-');  // "Test/Sqlite"
      dir_ = fs::temp_directory_path() / ("raccord-refused-" + std::to_string(::getpid()) + "-" + name);
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      connection_ = (dir_ / "raccord.db").string();
    }
    db_ = std::make_unique<Database>(GetParam(), connection_);
    db_->migrate();
    store_ = std::make_unique<Store>(*db_);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    if (!schema_.empty()) testing::drop_test_schema(schema_);
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::int64_t count(const std::string& sql) { return db_->query_one(sql)->integer(0); }

  fs::path dir_;
  std::string schema_;
  std::string connection_;  // the SQLite file, or the PostgreSQL connection string of the test's schema
  std::unique_ptr<Database> db_;
  std::unique_ptr<Store> store_;
  Instant now_ = at("2026-11-29T22:10:04Z");
};

// A signature that came with a REJETE dépôt is never accepted again (docs/accounts.md "Replay").
const std::string kReplayKey = "sha256:" + std::string(64, 'A');

TEST_P(RefusedSignatureTest, RefusedSignatureIsFoundOnceRecordedAndKeepsItsFirstRecord) {
  Transaction tx(*db_);
  EXPECT_FALSE(store_->signature_refused(kReplayKey));
  store_->record_refused_signature(kReplayKey, "acme", "ACK_lot_1.xml", now_);
  EXPECT_TRUE(store_->signature_refused(kReplayKey));
  EXPECT_FALSE(store_->signature_refused("sha256:" + std::string(64, 'B')));
  EXPECT_FALSE(store_->signature_refused("sha256:" + std::string(64, 'a')));  // the key is compared exactly
  // Refused again (a replay, or another account): no error, the first record stays.
  EXPECT_NO_THROW(store_->record_refused_signature(kReplayKey, "globex", "ACK_lot_2.xml", at("2026-12-01T00:00:00Z")));
  auto r = db_->query_one("SELECT channel, ack_name, refused_at FROM refused_signatures WHERE replay_key = $1",
                          {kReplayKey});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text(0), "acme");
  EXPECT_EQ(r->text(1), "ACK_lot_1.xml");
  EXPECT_EQ(r->text(2), "2026-11-29T22:10:04Z");
  EXPECT_EQ(count("SELECT COUNT(*) FROM refused_signatures"), 1);
}

TEST_P(RefusedSignatureTest, EmptyReplayKeyIsNeverRecordedNorRefused) {
  Transaction tx(*db_);
  store_->record_refused_signature("", "acme", "ACK_lot_1.xml", now_);
  EXPECT_EQ(count("SELECT COUNT(*) FROM refused_signatures"), 0);
  EXPECT_FALSE(store_->signature_refused(""));
}

TEST_P(RefusedSignatureTest, RefusedSignatureIsKeptOrLostWithItsDeposit) {
  {
    Transaction tx(*db_);  // a crash before the commit: neither the dépôt nor its signature
    store_->insert_deposit(deposit(std::string(64, '1'), "REJETE", "ACK_lot_1.xml"), now_, now_);
    store_->record_refused_signature(kReplayKey, "acme", "ACK_lot_1.xml", now_);
    EXPECT_TRUE(store_->signature_refused(kReplayKey));  // seen in its own transaction
  }
  EXPECT_FALSE(store_->signature_refused(kReplayKey));
  EXPECT_FALSE(store_->ack_name_taken("ACK_lot_1.xml"));
  {
    Transaction tx(*db_);
    store_->insert_deposit(deposit(std::string(64, '1'), "REJETE", "ACK_lot_1.xml"), now_, now_);
    store_->record_refused_signature(kReplayKey, "acme", "ACK_lot_1.xml", now_);
    tx.commit();
  }
  // Another engine sharing the store sees it, and its own record of the same key is no conflict.
  Database other(GetParam(), connection_);
  Store other_store(other);
  {
    Transaction tx(other);
    EXPECT_TRUE(other_store.signature_refused(kReplayKey));
    EXPECT_NO_THROW(other_store.record_refused_signature(kReplayKey, "acme", "ACK_lot_2.xml", now_));
    tx.commit();
  }
  EXPECT_TRUE(store_->signature_refused(kReplayKey));
}

INSTANTIATE_TEST_SUITE_P(Backends, RefusedSignatureTest, ::testing::Values(Backend::Sqlite, Backend::Postgresql),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param == Backend::Sqlite ? std::string("Sqlite")
                                                                      : std::string("Postgresql");
                         });

// The reads of a dépôt's claim and of the rights, one query each (issue 21: one round trip on PostgreSQL),
// on both backends; each answers what the separate reads answer.
class StoreReadsTest : public RefusedSignatureTest {
 protected:
  /// The round trips `read` took on PostgreSQL (0 on SQLite, which has none). A text's first run also prepares
  /// it (a round trip of its own, once per connection): the reads measured are run once before.
  std::uint64_t round_trips_of(const std::function<void()>& read) {
    const std::uint64_t before = db_->round_trips();
    read();
    return db_->round_trips() - before;
  }
  std::uint64_t one_on_postgresql() const { return GetParam() == Backend::Postgresql ? 1 : 0; }
};

TEST_P(StoreReadsTest, AppliedBeforeFindsTheSameBytesAndTheSameIdentifiantInOneRoundTrip) {
  Transaction tx(*db_);
  const std::string a(64, 'a');
  const std::string b(64, 'b');
  const std::string c(64, 'c');
  Store::AppliedBefore found;
  auto read = [&](const std::string& sha, std::string_view channel, const std::optional<std::string>& id) {
    found = store_->find_applied_before(sha, channel, id, "ACK_libre.xml");  // prepared
    EXPECT_EQ(round_trips_of([&] { found = store_->find_applied_before(sha, channel, id, "ACK_libre.xml"); }),
              one_on_postgresql());
  };
  // Nothing applied yet; a REJETE record neither (its bytes are processed anew, its identifiant is free).
  store_->insert_deposit(deposit(a, "REJETE", "ACK_a_rejete.xml", "LOT-1"), now_, now_);
  read(a, kInboxChannel, std::string("LOT-1"));
  EXPECT_FALSE(found.same_bytes);
  EXPECT_FALSE(found.same_identifier);
  EXPECT_FALSE(found.ack_name_taken);
  // The accusé's name is taken by any record, whatever its status, bytes or channel.
  found = store_->find_applied_before(c, "acme", std::nullopt, "ACK_a_rejete.xml");
  EXPECT_EQ(round_trips_of([&] { found = store_->find_applied_before(c, "acme", std::nullopt, "ACK_a_rejete.xml"); }),
            one_on_postgresql());
  EXPECT_FALSE(found.same_bytes);
  EXPECT_TRUE(found.ack_name_taken);
  // One record that is both: the same bytes holding the identifiant.
  store_->insert_deposit(deposit(a, "INTEGRE", "ACK_a.xml", "LOT-1"), now_, now_);
  read(a, kInboxChannel, std::string("LOT-1"));
  ASSERT_TRUE(found.same_bytes);
  ASSERT_TRUE(found.same_identifier);
  EXPECT_EQ(found.same_bytes->ack_name, "ACK_a.xml");
  EXPECT_EQ(found.same_identifier->ack_name, "ACK_a.xml");
  EXPECT_EQ(found.same_bytes->ack_content, "<Accuse statut=\"INTEGRE\"/>");
  EXPECT_FALSE(found.ack_name_taken);
  // Other bytes with that identifiant: only the holder; the same bytes with another identifiant: only them.
  read(b, kInboxChannel, std::string("LOT-1"));
  EXPECT_FALSE(found.same_bytes);
  ASSERT_TRUE(found.same_identifier);
  EXPECT_EQ(found.same_identifier->ack_name, "ACK_a.xml");
  read(a, kInboxChannel, std::string("LOT-2"));
  ASSERT_TRUE(found.same_bytes);
  EXPECT_EQ(found.same_bytes->ack_name, "ACK_a.xml");
  EXPECT_FALSE(found.same_identifier);
  // Two records: the bytes of one, the identifiant of another (a partial dépôt holds it too).
  store_->insert_deposit(deposit(b, "INTEGRE_PARTIEL", "ACK_b.xml", "LOT-2"), now_, now_);
  read(a, kInboxChannel, std::string("LOT-2"));
  ASSERT_TRUE(found.same_bytes);
  ASSERT_TRUE(found.same_identifier);
  EXPECT_EQ(found.same_bytes->ack_name, "ACK_a.xml");
  EXPECT_EQ(found.same_identifier->ack_name, "ACK_b.xml");
  EXPECT_EQ(found.same_identifier->status, DepositStatus::IntegrePartiel);
  // The identifiant is held per channel; the bytes are applied once whatever the channel.
  read(c, "acme", std::string("LOT-1"));
  EXPECT_FALSE(found.same_bytes);
  EXPECT_FALSE(found.same_identifier);
  read(b, "acme", std::string("LOT-2"));
  ASSERT_TRUE(found.same_bytes);
  EXPECT_EQ(found.same_bytes->channel, "");
  EXPECT_FALSE(found.same_identifier);
  DepositRecord other_channel = deposit(c, "INTEGRE", "ACK_c.xml", "LOT-1");
  other_channel.channel = "acme";
  store_->insert_deposit(other_channel, now_, now_);
  read(std::string(64, 'd'), "acme", std::string("LOT-1"));
  EXPECT_FALSE(found.same_bytes);
  ASSERT_TRUE(found.same_identifier);
  EXPECT_EQ(found.same_identifier->ack_name, "ACK_c.xml");
  // Without an identifiant: the bytes only.
  read(c, "acme", std::nullopt);
  ASSERT_TRUE(found.same_bytes);
  EXPECT_EQ(found.same_bytes->ack_name, "ACK_c.xml");
  EXPECT_FALSE(found.same_identifier);
}

TEST_P(StoreReadsTest, RightsFactsAreTheRoleAndTheValidatedSubscriptionsInOneRoundTrip) {
  Transaction tx(*db_);
  for (const char* login : {"g.martin", "a.leroy", "j.dupont", "m.petit"}) {
    store_->upsert_user(UserRecord{login, std::string(login) + "@example.com", false}, now_);
  }
  StructureRecord acme;
  acme.siret = "12345678200010";
  acme.raison_sociale = "ACME Logistique SAS";
  StructureRecord globex = acme;
  globex.siret = "12345678200028";
  store_->upsert_structure(acme, {{"g.martin", ManagerRole::Principal}, {"a.leroy", ManagerRole::Secondaire}}, {},
                           now_);
  store_->upsert_structure(globex, {}, {}, now_);
  Store::RightsFacts facts;
  auto read = [&](const std::string& siret, const std::string& login) {
    facts = store_->rights_facts(siret, login);  // prepared
    EXPECT_EQ(round_trips_of([&] { facts = store_->rights_facts(siret, login); }), one_on_postgresql());
    // The requester, the structure and the same facts, read together by one round trip too.
    Store::RequesterOnStructure together = store_->requester_on(login, siret);  // prepared
    EXPECT_EQ(round_trips_of([&] { together = store_->requester_on(login, siret); }), one_on_postgresql());
    ASSERT_TRUE(together.user);
    EXPECT_EQ(together.user->email, store_->find_user(login)->email);
    ASSERT_TRUE(together.structure);
    EXPECT_EQ(together.structure->raison_sociale, store_->find_structure(siret)->raison_sociale);
    EXPECT_EQ(together.rights.manager, facts.manager);
    EXPECT_EQ(together.rights.modification, facts.modification);
    EXPECT_EQ(together.rights.consultation, facts.consultation);
  };
  read(acme.siret, "g.martin");
  EXPECT_EQ(facts.manager, std::optional<ManagerRole>(ManagerRole::Principal));
  EXPECT_FALSE(facts.modification);
  EXPECT_FALSE(facts.consultation);
  read(acme.siret, "a.leroy");
  EXPECT_EQ(facts.manager, std::optional<ManagerRole>(ManagerRole::Secondaire));
  read(globex.siret, "g.martin");  // a gestionnaire of another structure only
  EXPECT_FALSE(facts.manager);
  // Subscriptions grant nothing until validated; each grants what it asked, several add up.
  const std::string both =
      store_->create_subscription(acme.siret, "j.dupont", true, true, std::nullopt, std::nullopt, now_);
  const std::string consult =
      store_->create_subscription(acme.siret, "m.petit", true, false, std::nullopt, std::nullopt, now_);
  const std::string modify =
      store_->create_subscription(acme.siret, "m.petit", false, true, std::nullopt, std::nullopt, now_);
  const std::string refused =
      store_->create_subscription(globex.siret, "j.dupont", true, true, std::nullopt, std::nullopt, now_);
  read(acme.siret, "j.dupont");
  EXPECT_FALSE(facts.manager);
  EXPECT_FALSE(facts.modification);
  EXPECT_FALSE(facts.consultation);
  ASSERT_TRUE(store_->decide_subscription(both, SubscriptionStatus::Validee, "g.martin", now_));
  ASSERT_TRUE(store_->decide_subscription(consult, SubscriptionStatus::Validee, "g.martin", now_));
  ASSERT_TRUE(store_->decide_subscription(refused, SubscriptionStatus::Refusee, "g.martin", now_));
  read(acme.siret, "j.dupont");
  EXPECT_FALSE(facts.manager);
  EXPECT_TRUE(facts.modification);
  EXPECT_TRUE(facts.consultation);
  read(globex.siret, "j.dupont");
  EXPECT_FALSE(facts.modification);
  EXPECT_FALSE(facts.consultation);
  read(acme.siret, "m.petit");
  EXPECT_FALSE(facts.modification);  // its Modification request is still EN_ATTENTE
  EXPECT_TRUE(facts.consultation);
  ASSERT_TRUE(store_->decide_subscription(modify, SubscriptionStatus::Validee, "g.martin", now_));
  read(acme.siret, "m.petit");
  EXPECT_TRUE(facts.modification);
  EXPECT_TRUE(facts.consultation);
  // An unknown login or SIRET: nullopt, and no rights even where the other rows exist.
  Store::RequesterOnStructure unknown = store_->requester_on("inconnu", acme.siret);
  EXPECT_FALSE(unknown.user);
  EXPECT_TRUE(unknown.structure);
  unknown = store_->requester_on("g.martin", "12345678200036");
  EXPECT_TRUE(unknown.user);
  EXPECT_FALSE(unknown.structure);
  EXPECT_FALSE(unknown.rights.manager);
  // A stored role that is not a known code names the structure and the login.
  db_->execute("UPDATE managers SET role = 'adjoint' WHERE login = 'a.leroy'");
  for (const std::string& what : {store_error_of([&] { (void)store_->rights_facts(acme.siret, "a.leroy"); }),
                                  store_error_of([&] { (void)store_->requester_on("a.leroy", acme.siret); })}) {
    EXPECT_NE(what.find("managers.role"), std::string::npos) << what;
    EXPECT_NE(what.find("12345678200010 a.leroy"), std::string::npos) << what;
  }
}

TEST_P(StoreReadsTest, ANewSheetsCodeAndVersionIdAreDrawnInOneRoundTrip) {
  Transaction tx(*db_);
  const Store::DrawnIds first = store_->draw_ids("VFE", true, true);  // prepared
  Store::DrawnIds ids;
  EXPECT_EQ(round_trips_of([&] { ids = store_->draw_ids("VFE", true, true); }), one_on_postgresql());
  EXPECT_EQ(ids.code_appli, fmt::format("VFE{:03}", std::stoi(first.code_appli.substr(3)) + 1));
  EXPECT_EQ(ids.version_id, first.version_id + 1);
  EXPECT_EQ(round_trips_of([&] { ids = store_->draw_ids("VFE", false, false); }), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreReadsTest, ::testing::Values(Backend::Sqlite, Backend::Postgresql),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param == Backend::Sqlite ? std::string("Sqlite")
                                                                      : std::string("Postgresql");
                         });

}  // namespace
}  // namespace raccord
