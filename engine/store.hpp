// Typed access to the store's tables (docs/design.md "The store"). All methods run inside the caller's
// transaction and throw StoreError on the store's own failures.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/certificate.hpp"
#include "domain/civil_date.hpp"
#include "domain/deposit.hpp"
#include "domain/sheet_state.hpp"
#include "domain/vocabulary.hpp"
#include "engine/database.hpp"

namespace raccord {

/// The channel of dépôts dropped into inbox/ (the only one until sender accounts add theirs): an
/// identifiant is held once per channel.
inline constexpr std::string_view kInboxChannel = "";

struct UserRecord {
  std::string login;
  std::string email;
  bool support = false;
};

struct StructureRecord {
  std::string siret;
  std::string raison_sociale;
  bool active = true;
  bool is_public = false;
  bool connected_in_qualification = false;
  std::optional<std::string> editor_siret;
  bool uses_tiers = false;
  bool space_active = false;
};

struct SubscriptionRecord {
  std::string id;  // "ABO-NNNNNN"
  std::string siret;
  std::string login;
  bool consultation = false;
  bool modification = false;
  SubscriptionStatus status = SubscriptionStatus::EnAttente;
};

struct SheetRecord {
  std::string code_appli;
  SheetKind kind = SheetKind::Edi;
  std::string partner_siret;
  SheetState state = SheetState::Brouillon;
  bool deleted = false;
  std::optional<std::int64_t> active_version;
  std::optional<std::int64_t> pending_version;
};

/// A dépôt already recorded.
struct DepositRecord {
  std::int64_t id = 0;
  std::string sha256;
  std::string file_name;
  std::string file_identity;
  std::optional<std::string> identifier;
  DepositStatus status = DepositStatus::Rejete;
  std::string ack_name;
  std::string ack_content;
  std::string destination;  // where the original goes: "archive" or "error"
  std::string reason;       // error/: the text of NAME.reason.txt
  std::string channel;      // the channel it came through: an account's NAME, kInboxChannel for inbox/
};

/// An export of a Recherche (docs/reference.md §5.2): written to `temporary` (a file name in outbox/) before
/// its dépôt's commit, renamed to `name` after it; recorded with its dépôt so that a crash in
/// between is repaired at start-up (docs/design.md "Exports").
struct ExportRecord {
  std::string name;
  std::string temporary;
  std::string ack_name;  // the accusé of the dépôt whose Recherche wrote it
};

/// One certificate bundle as sent, with the facts of its certificates.
struct StoredBundle {
  int bundle_index = 0;
  std::string name;
  std::string content;
};

class Store {
 public:
  explicit Store(Database& db) : db_(db) {}
  Database& database() { return db_; }

  // Directory (docs/reference.md §3.1).
  std::optional<UserRecord> find_user(const std::string& login);
  void upsert_user(const UserRecord& user, Instant at);
  std::optional<StructureRecord> find_structure(const std::string& siret);
  /// Replaces the structure's attributes, gestionnaires and technical users (space state kept).
  void upsert_structure(const StructureRecord& s, const std::vector<std::pair<std::string, ManagerRole>>& managers,
                        const std::vector<std::string>& technical_users, Instant at);
  std::int64_t technical_user_count(const std::string& siret);
  void activate_space(const std::string& siret, const std::string& by, Instant at);

  // Subscriptions (docs/reference.md §3.2).
  std::string create_subscription(const std::string& siret, const std::string& login, bool consultation,
                                  bool modification, const std::optional<std::string>& requested_on,
                                  const std::optional<std::string>& comment, Instant at);
  std::optional<SubscriptionRecord> find_subscription(const std::string& id);
  /// find_subscription, the row locked until the end of the transaction (PostgreSQL: FOR UPDATE;
  /// SQLite: the write transaction already excludes every other writer). A decision made by another
  /// engine in the meantime is waited for, then seen.
  std::optional<SubscriptionRecord> lock_subscription(const std::string& id);
  /// Records the decision on request `id` only while it is EN_ATTENTE. Returns false when it was not
  /// (unknown, or already decided by another transaction): nothing changed, the caller answers
  /// ABONNEMENT_INCONNU (guide: one decision per request).
  bool decide_subscription(const std::string& id, SubscriptionStatus status, const std::string& by, Instant at);
  /// What the directory gives `login` on structure `siret`, the facts the rights are decided from
  /// (engine/processor.cpp `rights_on`, docs/design.md "Rights").
  struct RightsFacts {
    std::optional<ManagerRole> manager;  // the role among its gestionnaires, nullopt when not one
    bool modification = false;           // a validated subscription granting Modification
    bool consultation = false;           // a validated subscription granting Consultation
  };
  /// The RightsFacts of `login` on `siret`, read by one query (one round trip on PostgreSQL; issue 21).
  /// Throws StoreError, naming the row for a stored role that is not a known code.
  RightsFacts rights_facts(const std::string& siret, const std::string& login);
  /// What an operation on a structure reads before it is judged: its demandeur, the structure, and
  /// the demandeur's RightsFacts on it (those of find_user, find_structure and rights_facts).
  struct RequesterOnStructure {
    std::optional<UserRecord> user;            // nullopt: no user of that login
    std::optional<StructureRecord> structure;  // nullopt: no structure of that SIRET
    RightsFacts rights;                        // all false when either is unknown
  };
  /// The RequesterOnStructure of `login` and `siret`, read by one query: one round trip on PostgreSQL
  /// instead of three (issue 21). Throws StoreError as rights_facts does.
  RequesterOnStructure requester_on(const std::string& login, const std::string& siret);

  // Sheets (docs/reference.md §3.3).
  /// The ids a sheet operation draws: the new sheet's code (`new_sheet`; `prefix` then the next value
  /// of the one code sequence, three digits at least: VFE001, ABC002, VFE1000) and the new version's
  /// id (`new_version`; 0 when not drawn), by one round trip on PostgreSQL
  /// (Database::next_sequence_values; issue 21), drawn as Database::next_sequence_value draws.
  /// Throws StoreError.
  struct DrawnIds {
    std::string code_appli;  // empty when not drawn
    std::int64_t version_id = 0;
  };
  DrawnIds draw_ids(const std::string& prefix, bool new_sheet, bool new_version);
  /// The sheet, locked for the rest of the transaction (dialect::for_update). Throws StoreError
  /// naming the row for a stored state or kind that is not a known code.
  std::optional<SheetRecord> find_sheet(const std::string& code_appli);
  /// Inserts the sheet / updates its row. On PostgreSQL the statement goes with the next one
  /// (Database::execute_deferred: a failure is that statement's StoreError); throws StoreError.
  void insert_sheet(const SheetRecord& sheet, Instant at);
  void update_sheet(const SheetRecord& sheet, std::optional<Instant> submitted_at, Instant at);
  /// Stores version `id` (drawn by draw_ids) of the sheet's content with its bundles and certificate
  /// facts. Its rows go with the next statement on PostgreSQL (Database::execute_deferred: a failure
  /// is that statement's StoreError); throws StoreError.
  void insert_version(std::int64_t id, const std::string& code_appli, const SheetOperation& content,
                      const std::vector<CertificateFacts>& certificates, const std::string& created_by,
                      const std::string& deposit_sha256, Instant at);
  /// Adds one event to the sheet's history (docs/reference.md §6) and returns its id.
  std::int64_t add_history(const std::string& code_appli, Instant at, const std::string& actor,
                           std::optional<SheetState> from, SheetState to, const std::string& reason,
                           const std::string& deposit_sha256);
  /// As add_history, for a caller that does not read the id: on PostgreSQL the row goes with the next
  /// statement (Database::execute_deferred; issue 21). Throws StoreError.
  void add_history_unread(const std::string& code_appli, Instant at, const std::string& actor,
                          std::optional<SheetState> from, SheetState to, const std::string& reason,
                          const std::string& deposit_sha256);
  /// The number of sheets in each state, deleted drafts excluded (states without a sheet absent).
  /// Throws StoreError naming a row whose state is not a known code.
  std::map<SheetState, std::int64_t> count_sheets_by_state();

  // Dépôts (docs/reference.md §2 "Exactly once"). A record read back whose status is not a known code is a
  // StoreError naming the row.
  /// What a dépôt arriving now meets of the dépôts recorded before it, read by one query (one round trip on
  /// PostgreSQL; issue 21: the claim's reads):
  /// - `same_bytes`: the record of the same bytes `sha256` applied (INTEGRE or INTEGRE_PARTIEL: REJETE bytes are
  ///   processed anew), in any channel;
  /// - `same_identifier`, when `identifier` is given: the dépôt of `channel` (an account's NAME, or kInboxChannel)
  ///   that holds it (INTEGRE or INTEGRE_PARTIEL with it; docs/design.md "Identifiant held once"). At most one
  ///   exists: insert_deposit of a second holder throws StoreError (unique index deposits_identifier_held_once,
  ///   transient: the caller's retry then finds this holder). It may be the same record as `same_bytes`;
  /// - `ack_name_taken`: whether `ack_name`, the first name its accusé would take, is taken (ack_name_taken).
  /// Throws StoreError (also, naming the row, for a stored status that is not a known code).
  struct AppliedBefore {
    std::optional<DepositRecord> same_bytes;
    std::optional<DepositRecord> same_identifier;
    bool ack_name_taken = false;
  };
  AppliedBefore find_applied_before(const std::string& sha256, std::string_view channel,
                                    const std::optional<std::string>& identifier, const std::string& ack_name);
  /// The record of the processing of exactly this claimed file (name, bytes and file identity).
  std::optional<DepositRecord> find_processed_file(const std::string& file_name, const std::string& sha256,
                                                   const std::string& file_identity);
  bool ack_name_taken(const std::string& ack_name);
  /// Records a processed dépôt. `record.ack_content` is moved into the statement and given back
  /// afterwards (also when it throws): an accusé may be megabytes, and the store makes its own copy
  /// already (docs/design.md "Memory bound"). Throws StoreError.
  void insert_deposit(DepositRecord& record, Instant received, Instant processed);
  void insert_deposit(DepositRecord&& record, Instant received, Instant processed) {
    insert_deposit(record, received, processed);
  }

  // Signatures of sender accounts' dépôts (docs/accounts.md "Replay"): a signature that came with a REJETE dépôt
  // is never accepted again.
  /// Records that the signature of replay key `replay_key` (rules::SignatureCheck::replay_key: "sha256:" and 64
  /// hex digits) came with the REJETE dépôt of `channel` answered by accusé `ack_name`, refused at `at`. Call
  /// it in the transaction that records that dépôt (insert_deposit), so that both are kept or neither. A key
  /// already recorded keeps its first record (no error: a replay refused again, or two engines refusing the
  /// same signature at the same instant). An empty key (the bytes held no single signature: nothing to
  /// replay) records nothing. Throws StoreError.
  void record_refused_signature(const std::string& replay_key, std::string_view channel, const std::string& ack_name,
                                Instant at);
  /// True when `replay_key` was recorded by record_refused_signature in a committed transaction (of any
  /// engine sharing the store) or earlier in the caller's. False for an empty key. Throws StoreError.
  bool signature_refused(const std::string& replay_key);

  // Exports of Recherche operations (docs/reference.md §5.2), published after their dépôt's commit.
  /// True when an export of that name in outbox/ was recorded (published or still to publish).
  bool export_name_taken(const std::string& name);
  /// Records export `record` of the dépôt answered by accusé `record.ack_name`, in the caller's
  /// transaction. Throws StoreError (a unique-key conflict when another engine recorded that name).
  void insert_export(const ExportRecord& record);
  /// The exports recorded for accusé `ack_name`, in the order recorded.
  std::vector<ExportRecord> exports_of(const std::string& ack_name);
  /// The export whose temporary (a file name in outbox/) is `temporary`, if any.
  std::optional<ExportRecord> export_by_temporary(const std::string& temporary);

 private:
  std::int64_t add_history(const std::string& code_appli, Instant at, const std::string& actor,
                           std::optional<SheetState> from, SheetState to, const std::string& reason,
                           const std::string& deposit_sha256, bool id_read);

  Database& db_;
};

}  // namespace raccord
