// Dépôt-driven engine tests (tests/engine/processor_test.cpp, engine_test.cpp): a throw-away root
// under /tmp, an Engine with a fixed business clock, builders for realistic dépôt XML (docs/reference.md §3)
// with certificates from the test PKI (tests/support/test_pki.hpp), and a reader for accusés
// (docs/reference.md §5.1).
//
// The builders and the accusé reader live in engine_fixture.cpp (no engine dependency, so the
// shared raccord_test_support library stays independent of raccord_engine); the fixture class
// that drives the Engine is inline here and only compiled by the engine tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/clock.hpp"
#include "engine/config.hpp"
#include "engine/database.hpp"
#include "engine/engine.hpp"
#include "engine/processor.hpp"
#include "engine/store.hpp"
#include "inbox/deposit_reader.hpp"
#include "inbox/sha256.hpp"
#include "outbox/export_files.hpp"
#include "tests/support/dates.hpp"  // instant()
#include "tests/support/files.hpp"  // read_file()
#include "tests/support/postgres.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::testing {

// The standard world built by EngineTest::setup_world() (docs/reference.md §3.1, §3.2).
inline constexpr const char* kSupport = "support.n1";   // support user (raccord init --support)
inline constexpr const char* kManager = "g.martin";     // gestionnaire principal of kAcme and kNoSpace
inline constexpr const char* kSubscriber = "j.dupont";  // validated subscription (Consultation+Modification) to kAcme
inline constexpr const char* kOutsider = "x.durand";    // a known user without any right
inline constexpr const char* kAcme = "12345678200010";  // ACME Logistique SAS: active, space active,
                                                        // raccordée en qualification, one technical user
inline constexpr const char* kNoSpace = "12345678200028";       // active, qualified, space NOT activated
inline constexpr const char* kUnknownSiret = "98765432400019";  // Luhn-valid, never in the directory

// ---------------------------------------------------------------------------------------------
// Dépôt builders (docs/reference.md §3). Every function returns XML text; attributes are written as given.

/// A whole dépôt: XML declaration, `<Depot xmlns="urn:raccord:depot:1" ATTRIBUTES>`, one operation
/// per line of `operations`, `</Depot>`. `attributes` e.g. `identifiant="LOT-1" mode="partielle"`.
std::string depot_xml(std::string_view operations, std::string_view attributes = "");

/// `<Utilisateur demandeur=".." login=".." email=".." support=".."/>` (demandeur omitted when empty).
std::string user_xml(const std::string& login, bool support = false, const std::string& demandeur = kSupport,
                     const std::string& email = "");

struct StructureSpec {
  std::string siret = kAcme;
  std::string raison_sociale = "ACME Logistique SAS";
  std::string statut = "ACTIF";
  bool qualification = true;                                                           // raccordeeQualification
  std::string editor;                                                                  // editeur (empty: absent)
  bool tiers = false;                                                                  // tiersTeletransmission
  std::vector<std::pair<std::string, std::string>> managers{{kManager, "principal"}};  // (login, role)
  std::vector<std::string> technical_users{"TECH_ACME_0001@example.com"};
  std::string demandeur = kSupport;
};
/// `<Structure ...>` with its Gestionnaire and UtilisateurTechnique children.
std::string structure_xml(const StructureSpec& spec);

/// `<ActivationEspace demandeur=".." structure=".."/>`.
std::string activation_xml(const std::string& demandeur, const std::string& siret);
/// `<DemandeAbonnement demandeur=".." structure=".." consultation="true" modification="..."/>`.
std::string subscription_request_xml(const std::string& demandeur, const std::string& siret, bool modification = true);
/// `<DecisionAbonnement demandeur=".." demande=".." decision=".."/>`.
std::string decision_xml(const std::string& demandeur, const std::string& request,
                         const std::string& decision = "valider");

/// A FicheEDI / FicheAPI (docs/reference.md §3.3). Optional parts are omitted when unset. Fields in the sheet's order.
struct SheetSpec {   // NOLINT(clang-analyzer-optin.performance.Padding): designated initializers follow this order
  bool api = false;  // FicheAPI instead of FicheEDI
  std::string demandeur = kSubscriber;
  std::string action = "soumettre";
  std::string code_appli;  // codeAppli (empty: absent)
  std::string reference;   // reference (empty: absent)
  std::string partner = kAcme;
  std::optional<std::string> protocol = std::string("SFTP");  // EDI only
  bool period = true;                                         // EDI only
  std::string period_from = "2026-12-01";
  std::string period_to = "2099-06-30";   // empty: no "au"
  bool certificates_element = true;       // <Certificats> present
  std::vector<std::string> certificates;  // each <Certificat> text; see with_default_certificate()
  bool contact = true;
  std::string contact_name = "Julien Dupont";
  std::string contact_phone = "01 23 45 67 89";  // empty: attribute absent
  std::string contact_email = "j.dupont@exemple.fr";
  bool network = false;  // <Reseau>
  std::string network_identifier = "PARTAS2";
  std::string network_address = "203.0.113.10";
  std::string network_port = "4080";
  std::string network_path = "/as2/in";
  std::vector<std::pair<std::string, std::string>> interfaces{{"FSO1100A", "complete"}};  // EDI only
  std::string extra;  // raw XML appended inside the sheet element (e.g. an unknown element)
};

/// Certificate content of a valid bundle for `protocol` ("SFTP", "API": clientAuth; "AS2", "PESIT":
/// clientAuth + serverAuth), leaf valid 2025-01-01..2030-12-31, signed by the test intermediate.
std::string valid_bundle(std::string_view protocol);

/// A valid SFTP sheet (one valid bundle), AS2 (Reseau, client+server bundle), PESIT, API.
SheetSpec sftp_sheet();
SheetSpec as2_sheet();
SheetSpec pesit_sheet();
SheetSpec api_sheet();

std::string sheet_xml(const SheetSpec& spec);

// ---------------------------------------------------------------------------------------------
// Accusé reader (docs/reference.md §5.1).

struct AckDiagnostic {
  bool error = true;  // Erreur (true) or Avertissement (false)
  std::string code;
  std::string champ;
  int ligne = 0;
  int colonne = 0;
  std::string message;
};

struct AckOperation {
  int rang = 0;
  std::string type;
  std::string reference;
  std::string statut;
  std::string code_appli;
  std::string etat;
  std::string supprimee;
  std::string demande;
  std::string aife_protocole;  // ParametresAIFE/@protocole ("" when absent)
  std::vector<AckDiagnostic> diagnostics;

  /// The first diagnostic with `code`, or nullptr.
  const AckDiagnostic* find(std::string_view code) const;
  std::vector<std::string> error_codes() const;
  std::vector<std::string> warning_codes() const;
};

struct ParsedAck {
  std::string name;  // file name in outbox/
  std::string xml;   // raw text
  std::string fichier, sha256, identifiant, mode, statut, original, recu, traite;
  std::string compte;                 // "" when absent (inbox/ itself)
  std::string erreurs_omises;         // "" when absent
  std::vector<AckDiagnostic> errors;  // dépôt-level Erreur
  std::vector<AckOperation> operations;

  std::vector<std::string> error_codes() const;
};

/// Parses an accusé; ADD_FAILURE() (and an empty result) when it is not one.
ParsedAck parse_ack(const std::string& xml, const std::string& name = "");

/// 1-based line of the `occurrence`-th occurrence of `needle` in `text`; 0 when absent.
int line_of(std::string_view text, std::string_view needle, int occurrence = 1);

/// Writes `bytes` to `dir/.name.part` then renames it to `dir/name` (a dépôt arriving by rename).
void drop_file(const std::filesystem::path& dir, const std::string& name, std::string_view bytes);

// ---------------------------------------------------------------------------------------------
// The fixture.

class EngineTest : public ::testing::Test {
 protected:
  static constexpr const char* kNow = "2026-11-29T10:00:00Z";

  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "raccord-engine-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    tmp_ = pattern;
    TestPki::instance().write_trust_dir(tmp_ / "trust");
    config_.root = tmp_ / "var";
    config_.rules_dir = tmp_ / "rules";  // absent: the compiled-in seed catalogue
    config_.trust_dir = tmp_ / "trust";
    config_.settle_ms = 0;
    if (postgres_requested()) {  // the same tests on PostgreSQL (tests/support/postgres.hpp)
      auto connection = create_test_schema(schema_);
      if (!connection) GTEST_SKIP() << "RACCORD_TEST_POSTGRES n'est pas défini";
      config_.store_backend = Backend::Postgresql;
      config_.store_connection = *connection;
    }
  }

  void TearDown() override {
    engine_.reset();
    drop_test_schema(schema_);
    std::error_code ec;
    std::filesystem::remove_all(tmp_, ec);
  }

  /// (Re)creates the engine on the same root and store with the business instant `now`, runs
  /// `init --support support.n1`.
  Engine& start(std::string_view now = kNow) {
    engine_.reset();
    engine_ = std::make_unique<Engine>(config_, BusinessClock(instant(now)));
    engine_->init(std::string(kSupport), std::nullopt);
    return *engine_;
  }

  Engine& engine() { return *engine_; }
  Database& db() { return engine_->database(); }
  const std::filesystem::path& root() const { return config_.root; }
  std::filesystem::path inbox() const { return config_.root / "inbox"; }
  std::filesystem::path work() const { return config_.root / "inbox" / ".work"; }
  std::filesystem::path outbox() const { return config_.root / "outbox"; }
  std::filesystem::path error_dir() const { return config_.root / "error"; }
  std::filesystem::path archive_day(std::string_view yyyy_mm_dd_path = "2026/11/29") const {
    return config_.root / "archive" / std::filesystem::path(std::string(yyyy_mm_dd_path));
  }

  /// Drops `xml` as inbox/NAME, runs one pass (which must answer exactly this dépôt) and returns
  /// its accusé.
  ParsedAck process(const std::string& name, std::string_view xml) {
    drop_file(inbox(), name, xml);
    const PassSummary summary = engine_->process_pass();
    EXPECT_EQ(summary.processed, 1) << name;
    if (summary.acknowledgements.size() != 1) {
      ADD_FAILURE() << "expected one accusé for " << name;
      return {};
    }
    return read_ack(summary.acknowledgements.front());
  }

  /// The accusé outbox/NAME.
  ParsedAck read_ack(const std::string& name) const {
    const std::string xml = read_file(outbox() / name);
    EXPECT_FALSE(xml.empty()) << "missing accusé " << name;
    return parse_ack(xml, name);
  }

  /// The standard world (see the constants above), built by dépôts from the support user, the
  /// gestionnaire and the subscriber: every dépôt must be INTEGRE. Afterwards the subscription
  /// ABO-000001 of kSubscriber to kAcme is validated.
  void setup_world() {
    StructureSpec no_space;
    no_space.siret = kNoSpace;
    no_space.raison_sociale = "Société Exemple Équipements";
    const std::string referential = depot_xml(user_xml(kManager) + user_xml(kSubscriber) + user_xml(kOutsider) +
                                                  structure_xml(StructureSpec{}) + structure_xml(no_space),
                                              R"(identifiant="REF-0001")");
    const std::string space = depot_xml(activation_xml(kManager, kAcme) + subscription_request_xml(kSubscriber, kAcme),
                                        R"(identifiant="ESP-0001")");
    const std::string decision = depot_xml(decision_xml(kManager, "ABO-000001"), R"(identifiant="DEC-0001")");
    for (const auto& [name, xml] : std::vector<std::pair<std::string, std::string>>{
             {"00_referentiel.xml", referential}, {"00_espace.xml", space}, {"00_decision.xml", decision}}) {
      const ParsedAck ack = process(name, xml);
      ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
    }
  }

  std::vector<SqlRow> sql(const std::string& query, const std::vector<SqlValue>& params = {}) {
    return engine_->database().query(query, params);
  }
  std::int64_t count(const std::string& query, const std::vector<SqlValue>& params = {}) {
    auto row = engine_->database().query_one(query, params);
    return row ? row->integer(0) : -1;
  }
  /// The stored state of a sheet ("" when unknown).
  std::string state_of(const std::string& code_appli) {
    auto row = engine_->database().query_one("SELECT state FROM sheets WHERE code_appli = $1", {code_appli});
    return row ? row->text(0) : std::string();
  }
  /// History rows of a sheet as "actor:from>to" ("" for no from state), oldest first.
  std::vector<std::string> history(const std::string& code_appli) {
    std::vector<std::string> out;
    for (const auto& r :
         sql("SELECT actor, from_state, to_state FROM history WHERE code_appli = $1 ORDER BY id", {code_appli})) {
      out.push_back(r.text(0) + ":" + r.text(1) + ">" + r.text(2));
    }
    return out;
  }
  /// Puts a sheet in ACTIVEE as the nightly run would (docs/reference.md §6), by SQL: the nightly job is
  /// tested elsewhere; this only reaches the state for the user actions on ACTIVEE sheets.
  void activate_by_sql(const std::string& code_appli) {
    Transaction tx(db());
    db().execute(
        "UPDATE sheets SET state = 'ACTIVEE', active_version = pending_version, pending_version = NULL "
        "WHERE code_appli = $1",
        {code_appli});
    tx.commit();
  }
  /// What apply_through gives back.
  struct AppliedDeposit {
    DepositOutcome outcome;
    std::vector<OperationOutcome> operations;  // in document order
    std::vector<std::string> staged;           // every name in outbox/ (hidden ones too) before the commit
  };

  /// Applies dépôt `xml` (which must be readable) with apply_deposit as the engine does, as dropped
  /// through sender account `account` (null: inbox/ itself), file name `name`, at kNow, in one
  /// transaction committed afterwards (its Recherches' exports staged, then left to be removed).
  AppliedDeposit apply_through(const SenderAccount* account, const std::string& xml,
                               const std::string& name = "lot.xml") {
    AppliedDeposit result;
    DepositReadResult read = inbox::read_deposit(xml, 1U << 24);
    if (!read.deposit) {
      ADD_FAILURE() << "dépôt illisible : " << xml;
      return result;
    }
    Store store(db());
    outbox::StagedExports staged(outbox());
    Transaction tx(db());
    const Instant now = instant(kNow);
    ProcessingContext context{&engine_->config(),           &engine_->zone(),         outbox(),
                              &engine_->catalogue(),        &engine_->certificates(), now,
                              engine_->zone().date_of(now), inbox::sha256_hex(xml)};
    context.exports = &staged;
    context.account = account;
    context.deposit_name = name;
    result.outcome = apply_deposit(store, context, *read.deposit,
                                   [&result](const OperationOutcome& op) { result.operations.push_back(op); });
    for (const auto& e : std::filesystem::directory_iterator(outbox())) {
      result.staged.push_back(e.path().filename().string());
    }
    std::sort(result.staged.begin(), result.staged.end());
    tx.commit();
    return result;
  }

  /// Files (regular, non-hidden) directly in `dir`, sorted.
  static std::vector<std::string> files_in(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      const std::string n = e.path().filename().string();
      // metrics.prom is rewritten after every group of dépôts (docs/reference.md §5.4): not an answer to any dépôt.
      if (!n.empty() && n[0] != '.' && n != "metrics.prom" && e.is_regular_file()) out.push_back(n);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::filesystem::path tmp_;
  std::string schema_;  // PostgreSQL runs only
  Config config_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace raccord::testing
