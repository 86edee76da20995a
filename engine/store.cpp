#include "engine/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <string_view>

#include "engine/dialect.hpp"

namespace raccord {
namespace {

std::int64_t b(bool v) {
  return v ? 1 : 0;
}

/// An optional column's value: NULL when absent or empty, never '' (docs/design.md "Empty values":
/// an empty optional value is absent, in the store as in the dépôt).
SqlValue opt(const std::optional<std::string>& v) {
  if (v && !v->empty()) return *v;
  return nullptr;
}

SqlValue field_value(const Field& f) {
  if (!f.filled()) return nullptr;
  return f.value;
}

/// A dépôt's record; its status read as stored_enum, the row named by its accusé.
DepositRecord to_deposit(const SqlRow& r) {
  return DepositRecord{
      r.integer(0),       r.text(1),
      r.text(2),          r.text(3),
      r.optional_text(4), stored_enum(parse<DepositStatus>(r.text(5)), "deposits.status", r.text(6), r.text(5)),
      r.text(6),          r.text(7),
      r.text(8),          r.text(9),
      r.text(10)};
}

/// A status as a bound value.
SqlValue code(SubscriptionStatus status) {
  return std::string(to_code(status));
}

constexpr const char* kDepositColumns =
    "id, sha256, file_name, file_identity, identifier, status, ack_name, ack_content, destination, reason, channel";

/// Inserts into `table` one row whose column `id` is the next value of sequence `name`
/// (Database::next_sequence_value) and whose `columns` (", "-separated) take `params` in order;
/// returns the id. PostgreSQL: one statement, one round trip (`nextval` in its VALUES, `RETURNING id`;
/// issue 21); SQLite: the draw, then the INSERT. `params` is given back unchanged (the id is appended
/// for the statement and taken off again: an accusé in it is not copied). Throws StoreError.
/// `id_read` false: the id is not wanted (0 is returned on PostgreSQL) and the INSERT, without
/// `RETURNING`, goes with the next statement (Database::execute_deferred; issue 21).
std::int64_t insert_with_next_id(Database& db, const std::string& name, const std::string& table,
                                 const std::string& columns, std::vector<SqlValue>& params, bool id_read = true) {
  std::string values;
  for (std::size_t i = 1; i <= params.size(); ++i) values += fmt::format("${}, ", i);
  if (const std::string draw = dialect::next_sequence_expression(db.backend(), name); !draw.empty()) {
    // The draw as an expression of the INSERT itself.
    std::string sql = fmt::format("INSERT INTO {} ({}, id) VALUES ({}{})", table, columns, values, draw);
    if (!id_read) {
      db.execute_deferred(std::move(sql), params);
      return 0;
    }
    auto row = db.query_one(sql + " RETURNING id", params);
    if (!row) throw StoreError("aucun identifiant rendu par " + table, false);
    return row->integer(0);
  }
  const std::int64_t id = db.next_sequence_value(name);
  params.emplace_back(id);
  struct TakeBack {
    std::vector<SqlValue>& params;
    ~TakeBack() { params.pop_back(); }
  } take_back{params};
  db.execute(fmt::format("INSERT INTO {} ({}, id) VALUES ({}${})", table, columns, values, params.size()), params);
  return id;
}

/// Inserts `values` (the values of `columns`, `width` of them per row, row after row) into `table` by
/// one statement per kInsertRows rows: one round trip on PostgreSQL instead of one per row (issue 21).
/// A statement's text depends on its number of rows only (each prepared once). Nothing to insert: no
/// statement. The statements go with the next one on PostgreSQL (Database::execute_deferred). Throws
/// StoreError.
void insert_rows(Database& db, std::string_view table, std::string_view columns, std::vector<SqlValue> values,
                 std::size_t width) {
  constexpr std::size_t kInsertRows = 100;  // bounds the texts kept prepared and the parameters per statement
  for (std::size_t start = 0; start < values.size(); start += kInsertRows * width) {
    const std::size_t end = std::min(values.size(), start + kInsertRows * width);
    std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ", table, columns);
    for (std::size_t i = 0; i < end - start; ++i) {
      if (i % width == 0) sql += i == 0 ? "(" : "), (";
      sql += (i % width == 0 ? "$" : ", $") + std::to_string(i + 1);
    }
    sql += ")";
    if (start == 0 && end == values.size()) {
      db.execute_deferred(std::move(sql), std::move(values));
      return;  // all of them in one statement
    }
    db.execute_deferred(
        std::move(sql),
        std::vector<SqlValue>(std::make_move_iterator(values.begin() + static_cast<std::ptrdiff_t>(start)),
                              std::make_move_iterator(values.begin() + static_cast<std::ptrdiff_t>(end))));
  }
}

// The columns a UserRecord and a StructureRecord are read from, in the order user_at and structure_at
// take them; `alias` qualifies each ("u." in a join, "" alone).
std::string user_columns(std::string_view alias) {
  return fmt::format("{0}login, {0}email, {0}support", alias);
}
std::string structure_columns(std::string_view alias) {
  return fmt::format(
      "{0}siret, {0}raison_sociale, {0}active, {0}is_public, {0}connected_in_qualification, "
      "{0}editor_siret, {0}uses_tiers, {0}space_active",
      alias);
}
constexpr std::size_t kUserColumnCount = 3;
constexpr std::size_t kStructureColumnCount = 8;

/// The UserRecord of row `r` from column `first` on (user_columns).
UserRecord user_at(const SqlRow& r, std::size_t first) {
  return UserRecord{r.text(first), r.text(first + 1), r.integer(first + 2) != 0};
}

/// The StructureRecord of row `r` from column `first` on (structure_columns).
StructureRecord structure_at(const SqlRow& r, std::size_t first) {
  return StructureRecord{r.text(first),
                         r.text(first + 1),
                         r.integer(first + 2) != 0,
                         r.integer(first + 3) != 0,
                         r.integer(first + 4) != 0,
                         r.optional_text(first + 5),
                         r.integer(first + 6) != 0,
                         r.integer(first + 7) != 0};
}

/// The RightsFacts of row `r` from column `first` on: the gestionnaire's role (NULL when not one), then the
/// validated subscriptions' Modification and Consultation flags. `siret` and `login` name the row in the
/// StoreError thrown for a stored role that is not a known code.
Store::RightsFacts rights_at(const SqlRow& r, std::size_t first, const std::string& siret, const std::string& login) {
  Store::RightsFacts facts;
  if (const auto role = r.optional_text(first)) {
    facts.manager = stored_enum(parse<ManagerRole>(*role), "managers.role", siret + " " + login, *role);
  }
  facts.modification = r.integer(first + 1) != 0;
  facts.consultation = r.integer(first + 2) != 0;
  return facts;
}

}  // namespace

std::optional<UserRecord> Store::find_user(const std::string& login) {
  static const std::string sql = fmt::format("SELECT {} FROM users WHERE login = $1", user_columns(""));
  auto r = db_.query_one(sql, {login});
  if (!r) return std::nullopt;
  return user_at(*r, 0);
}

void Store::upsert_user(const UserRecord& user, Instant at) {
  const std::string now = format_iso_instant(at);
  if (find_user(user.login)) {
    db_.execute("UPDATE users SET email = $1, support = $2, updated_at = $3 WHERE login = $4",
                {user.email, b(user.support), now, user.login});
  } else {
    db_.execute("INSERT INTO users (login, email, support, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
                {user.login, user.email, b(user.support), now, now});
  }
}

std::optional<StructureRecord> Store::find_structure(const std::string& siret) {
  static const std::string sql = fmt::format("SELECT {} FROM structures WHERE siret = $1", structure_columns(""));
  auto r = db_.query_one(sql, {siret});
  if (!r) return std::nullopt;
  return structure_at(*r, 0);
}

void Store::upsert_structure(const StructureRecord& s, const std::vector<std::pair<std::string, ManagerRole>>& managers,
                             const std::vector<std::string>& technical_users, Instant at) {
  const std::string now = format_iso_instant(at);
  if (find_structure(s.siret)) {
    db_.execute(
        "UPDATE structures SET raison_sociale = $1, active = $2, is_public = $3, connected_in_qualification = $4, "
        "editor_siret = $5, uses_tiers = $6, updated_at = $7 WHERE siret = $8",
        {s.raison_sociale, b(s.active), b(s.is_public), b(s.connected_in_qualification), opt(s.editor_siret),
         b(s.uses_tiers), now, s.siret});
  } else {
    db_.execute(
        "INSERT INTO structures (siret, raison_sociale, active, is_public, connected_in_qualification, editor_siret, "
        "uses_tiers, space_active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
        {s.siret, s.raison_sociale, b(s.active), b(s.is_public), b(s.connected_in_qualification), opt(s.editor_siret),
         b(s.uses_tiers), now, now});
  }
  db_.execute("DELETE FROM managers WHERE siret = $1", {s.siret});
  for (const auto& [login, role] : managers) {
    db_.execute(
        "INSERT INTO managers (siret, login, role) VALUES ($1, $2, $3) ON CONFLICT (siret, login) DO UPDATE "
        "SET role = excluded.role",
        {s.siret, login, std::string(to_code(role))});
  }
  db_.execute("DELETE FROM technical_users WHERE siret = $1", {s.siret});
  for (const auto& login : technical_users) {
    db_.execute("INSERT INTO technical_users (siret, login) VALUES ($1, $2) ON CONFLICT DO NOTHING", {s.siret, login});
  }
}

std::int64_t Store::technical_user_count(const std::string& siret) {
  auto r = db_.query_one("SELECT COUNT(*) FROM technical_users WHERE siret = $1", {siret});
  return r ? r->integer(0) : 0;
}

void Store::activate_space(const std::string& siret, const std::string& by, Instant at) {
  db_.execute(
      "UPDATE structures SET space_active = 1, space_activated_at = $1, space_activated_by = $2 WHERE siret = $3",
      {format_iso_instant(at), by, siret});
}

std::string Store::create_subscription(const std::string& siret, const std::string& login, bool consultation,
                                       bool modification, const std::optional<std::string>& requested_on,
                                       const std::optional<std::string>& comment, Instant at) {
  std::string id = fmt::format("ABO-{:06}", db_.next_sequence_value("abonnement"));
  db_.execute(
      "INSERT INTO subscriptions (id, siret, login, consultation, modification, requested_on, comment, status, "
      "requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {id, siret, login, b(consultation), b(modification), opt(requested_on), opt(comment),
       code(SubscriptionStatus::EnAttente), format_iso_instant(at)});
  return id;
}

namespace {

std::optional<SubscriptionRecord> subscription_query(Database& db, const std::string& id, std::string_view suffix) {
  auto r = db.query_one("SELECT id, siret, login, consultation, modification, status FROM subscriptions WHERE id = $1" +
                            std::string(suffix),
                        {id});
  if (!r) return std::nullopt;
  return SubscriptionRecord{
      r->text(0),
      r->text(1),
      r->text(2),
      r->integer(3) != 0,
      r->integer(4) != 0,
      stored_enum(parse<SubscriptionStatus>(r->text(5)), "subscriptions.status", r->text(0), r->text(5))};
}

}  // namespace

std::optional<SubscriptionRecord> Store::find_subscription(const std::string& id) {
  return subscription_query(db_, id, "");
}

std::optional<SubscriptionRecord> Store::lock_subscription(const std::string& id) {
  return subscription_query(db_, id, dialect::for_update(db_.backend()));
}

bool Store::decide_subscription(const std::string& id, SubscriptionStatus status, const std::string& by, Instant at) {
  return db_.execute(
             "UPDATE subscriptions SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND status = $5",
             {code(status), by, format_iso_instant(at), id, code(SubscriptionStatus::EnAttente)}) == 1;
}

Store::RightsFacts Store::rights_facts(const std::string& siret, const std::string& login) {
  // An aggregate without GROUP BY: always one row, the subscriptions' flags 0 when there is none. $1 and $2
  // are used again after their first use (SQLite numbers a name at its first use; PostgreSQL by its number).
  auto r = db_.query_one(
      "SELECT (SELECT role FROM managers WHERE siret = $1 AND login = $2), COALESCE(MAX(modification), 0), "
      "COALESCE(MAX(consultation), 0) FROM subscriptions WHERE siret = $1 AND login = $2 AND status = $3",
      {siret, login, code(SubscriptionStatus::Validee)});
  if (!r) return {};
  return rights_at(*r, 0, siret, login);
}

Store::RequesterOnStructure Store::requester_on(const std::string& login, const std::string& siret) {
  // The subscriptions' aggregate has no GROUP BY: always one row, to which the user, the structure
  // and the role are joined when they exist. $1, $2 and $3 first appear in that order (SQLite numbers
  // a name at its first use; PostgreSQL by its number).
  // Columns: the user's, the structure's (their first, login and siret, NULL when absent), then the rights'.
  constexpr std::size_t kStructureAt = kUserColumnCount;
  constexpr std::size_t kRightsAt = kStructureAt + kStructureColumnCount;
  static const std::string sql = fmt::format(
      "SELECT {}, {}, m.role, COALESCE(sub.modification, 0), COALESCE(sub.consultation, 0) "
      "FROM (SELECT MAX(modification) AS modification, MAX(consultation) AS consultation "
      "FROM subscriptions WHERE login = $1 AND siret = $2 AND status = $3) AS sub "
      "LEFT JOIN users AS u ON u.login = $1 LEFT JOIN structures AS s ON s.siret = $2 "
      "LEFT JOIN managers AS m ON m.siret = $2 AND m.login = $1",
      user_columns("u."), structure_columns("s."));
  auto r = db_.query_one(sql, {login, siret, code(SubscriptionStatus::Validee)});
  RequesterOnStructure out;
  if (!r) return out;
  if (!r->is_null(0)) out.user = user_at(*r, 0);
  if (!r->is_null(kStructureAt)) out.structure = structure_at(*r, kStructureAt);
  if (out.user && out.structure) out.rights = rights_at(*r, kRightsAt, siret, login);
  return out;
}

Store::DrawnIds Store::draw_ids(const std::string& prefix, bool new_sheet, bool new_version) {
  std::vector<std::string> names;
  if (new_sheet) names.emplace_back("code_appli");
  if (new_version) names.emplace_back("version");
  DrawnIds ids;
  if (names.empty()) return ids;
  const std::vector<std::int64_t> values = db_.next_sequence_values(names);
  if (new_sheet) ids.code_appli = fmt::format("{}{:03}", prefix, values.front());
  if (new_version) ids.version_id = values.back();
  return ids;
}

std::optional<SheetRecord> Store::find_sheet(const std::string& code_appli) {
  // Locked for the rest of the transaction: two dépôts changing one sheet never lose an update.
  auto r = db_.query_one(std::string("SELECT code_appli, kind, partner_siret, state, deleted, active_version, "
                                     "pending_version FROM sheets WHERE code_appli = $1") +
                             std::string(dialect::for_update(db_.backend())),
                         {code_appli});
  if (!r) return std::nullopt;
  SheetRecord s;
  s.code_appli = r->text(0);
  s.kind = stored_enum(parse<SheetKind>(r->text(1)), "sheets.kind", s.code_appli, r->text(1));
  s.partner_siret = r->text(2);
  s.state = stored_enum(parse<SheetState>(r->text(3)), "sheets.state", s.code_appli, r->text(3));
  s.deleted = r->integer(4) != 0;
  if (!r->is_null(5)) s.active_version = r->integer(5);
  if (!r->is_null(6)) s.pending_version = r->integer(6);
  return s;
}

void Store::insert_sheet(const SheetRecord& sheet, Instant at) {
  const std::string now = format_iso_instant(at);
  db_.execute_deferred(
      "INSERT INTO sheets (code_appli, kind, partner_siret, state, deleted, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {sheet.code_appli, std::string(to_code(sheet.kind)), sheet.partner_siret, std::string(to_code(sheet.state)),
       b(sheet.deleted), now, now});
}

void Store::update_sheet(const SheetRecord& sheet, std::optional<Instant> submitted_at, Instant at) {
  auto version = [](const std::optional<std::int64_t>& v) -> SqlValue {
    if (v) return *v;
    return nullptr;
  };
  if (submitted_at) {
    db_.execute_deferred(
        "UPDATE sheets SET state = $1, deleted = $2, active_version = $3, pending_version = $4, submitted_at = $5, "
        "updated_at = $6 WHERE code_appli = $7",
        {std::string(to_code(sheet.state)), b(sheet.deleted), version(sheet.active_version),
         version(sheet.pending_version), format_iso_instant(*submitted_at), format_iso_instant(at), sheet.code_appli});
  } else {
    db_.execute_deferred(
        "UPDATE sheets SET state = $1, deleted = $2, active_version = $3, pending_version = $4, updated_at = $5 "
        "WHERE code_appli = $6",
        {std::string(to_code(sheet.state)), b(sheet.deleted), version(sheet.active_version),
         version(sheet.pending_version), format_iso_instant(at), sheet.code_appli});
  }
}

void Store::insert_version(std::int64_t id, const std::string& code_appli, const SheetOperation& c,
                           const std::vector<CertificateFacts>& certificates, const std::string& created_by,
                           const std::string& deposit_sha256, Instant at) {
  std::vector<SqlValue> version_row{id,
                                    code_appli,
                                    std::string(to_code(c.action)),
                                    field_value(c.protocol),
                                    field_value(c.period_from),
                                    field_value(c.period_to),
                                    field_value(c.contact_name),
                                    field_value(c.contact_phone),
                                    field_value(c.contact_email),
                                    field_value(c.contact_fax),
                                    field_value(c.network_identifier),
                                    field_value(c.network_address),
                                    field_value(c.network_port),
                                    field_value(c.network_path),
                                    field_value(c.comments),
                                    format_iso_instant(at),
                                    created_by,
                                    deposit_sha256};
  db_.execute_deferred(
      "INSERT INTO sheet_versions (id, code_appli, action, protocol, period_from, period_to, contact_name, "
      "contact_phone, contact_email, contact_fax, network_identifier, network_address, network_port, network_path, "
      "comments, created_at, created_by, deposit_sha256) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
      std::move(version_row));
  // One statement per table for the whole version (issue 21).
  std::vector<SqlValue> interfaces;
  interfaces.reserve(c.interfaces.size() * 4);
  std::int64_t position = 0;
  for (const auto& i : c.interfaces) {
    for (SqlValue v : {SqlValue{id}, SqlValue{++position}, SqlValue{i.code.value}, SqlValue{i.mode.value}}) {
      interfaces.push_back(std::move(v));
    }
  }
  insert_rows(db_, "sheet_interfaces", "version_id, position, code, mode", std::move(interfaces), 4);
  std::vector<SqlValue> bundles;
  bundles.reserve(c.certificates.size() * 4);
  for (const auto& bundle : c.certificates) {
    for (SqlValue v : {SqlValue{id}, SqlValue{static_cast<std::int64_t>(bundle.index)}, field_value(bundle.name),
                       SqlValue{bundle.content}}) {
      bundles.push_back(std::move(v));
    }
  }
  insert_rows(db_, "sheet_bundles", "version_id, bundle_index, name, content", std::move(bundles), 4);
  // A leaf is a non-CA certificate (docs/reference.md §4).
  std::vector<SqlValue> rows;
  rows.reserve(certificates.size() * 18);
  position = 0;
  for (const auto& f : certificates) {
    for (SqlValue v :
         {SqlValue{id}, SqlValue{++position}, SqlValue{static_cast<std::int64_t>(f.bundle_index)}, SqlValue{f.subject},
          SqlValue{f.subject_cn}, SqlValue{f.issuer}, SqlValue{f.serial}, SqlValue{format_iso_instant(f.not_before)},
          SqlValue{format_iso_instant(f.not_after)}, SqlValue{f.fingerprint_sha256}, SqlValue{b(f.is_ca)},
          SqlValue{b(!f.is_ca)}, SqlValue{b(f.client_auth)}, SqlValue{b(f.server_auth)}, SqlValue{b(f.has_eku)},
          SqlValue{f.key_type}, SqlValue{static_cast<std::int64_t>(f.key_bits)}, SqlValue{f.signature_algorithm}}) {
      rows.push_back(std::move(v));
    }
  }
  insert_rows(db_, "sheet_certificates",
              "version_id, position, bundle_index, subject, subject_cn, issuer, serial, not_before, not_after, "
              "fingerprint, is_ca, is_leaf, client_auth, server_auth, has_eku, key_type, key_bits, "
              "signature_algorithm",
              std::move(rows), 18);
}

std::int64_t Store::add_history(const std::string& code_appli, Instant at, const std::string& actor,
                                std::optional<SheetState> from, SheetState to, const std::string& reason,
                                const std::string& deposit_sha256) {
  return add_history(code_appli, at, actor, from, to, reason, deposit_sha256, true);
}

void Store::add_history_unread(const std::string& code_appli, Instant at, const std::string& actor,
                               std::optional<SheetState> from, SheetState to, const std::string& reason,
                               const std::string& deposit_sha256) {
  add_history(code_appli, at, actor, from, to, reason, deposit_sha256, false);
}

std::int64_t Store::add_history(const std::string& code_appli, Instant at, const std::string& actor,
                                std::optional<SheetState> from, SheetState to, const std::string& reason,
                                const std::string& deposit_sha256, bool id_read) {
  std::vector<SqlValue> row{code_appli,
                            format_iso_instant(at),
                            actor,
                            from ? SqlValue{std::string(to_code(*from))} : SqlValue{nullptr},
                            std::string(to_code(to)),
                            reason,
                            deposit_sha256.empty() ? SqlValue{nullptr} : SqlValue{deposit_sha256}};
  return insert_with_next_id(db_, "history", "history",
                             "code_appli, instant, actor, from_state, to_state, reason, deposit_sha256", row, id_read);
}

std::map<SheetState, std::int64_t> Store::count_sheets_by_state() {
  std::map<SheetState, std::int64_t> out;
  // MIN(code_appli): a row to name when the state is not a known code.
  for (const auto& r :
       db_.query("SELECT state, COUNT(*), MIN(code_appli) FROM sheets WHERE deleted = 0 GROUP BY state")) {
    out[stored_enum(parse<SheetState>(r.text(0)), "sheets.state", r.text(2), r.text(0))] = r.integer(1);
  }
  return out;
}

Store::AppliedBefore Store::find_applied_before(const std::string& sha256, std::string_view channel,
                                                const std::optional<std::string>& identifier,
                                                const std::string& ack_name) {
  // The three reads in one: a branch each, its rows flagged by it (a record meeting two comes twice), each
  // branch on its own index. Not one WHERE of the three conditions ORed: on PostgreSQL that took ten times the
  // three reads' server time in figure 9 (bench/README.md "Figure 9, third pass"). Without an
  // identifiant $3 is NULL, which no held_identifier equals.
  const std::string sql = fmt::format(
      "SELECT {0}, 1, 0, 0 FROM deposits WHERE sha256 = $1 AND status IN {1} UNION ALL SELECT {0}, 0, 1, 0 FROM "
      "deposits WHERE channel = $2 AND held_identifier = $3 UNION ALL SELECT {0}, 0, 0, 1 FROM deposits WHERE "
      "ack_name = $4",
      kDepositColumns, sql_list<DepositStatus>(kAppliedDepositStatuses));
  AppliedBefore out;
  for (const auto& r : db_.query(
           sql, {sha256, std::string(channel), identifier ? SqlValue{*identifier} : SqlValue{nullptr}, ack_name})) {
    if (r.integer(11) != 0 && !out.same_bytes) out.same_bytes = to_deposit(r);
    if (r.integer(12) != 0 && !out.same_identifier) out.same_identifier = to_deposit(r);
    if (r.integer(13) != 0) out.ack_name_taken = true;
  }
  return out;
}

std::optional<DepositRecord> Store::find_processed_file(const std::string& file_name, const std::string& sha256,
                                                        const std::string& file_identity) {
  auto r = db_.query_one(fmt::format("SELECT {} FROM deposits WHERE sha256 = $1 AND file_name = $2 AND "
                                     "file_identity = $3 ORDER BY id DESC LIMIT 1",
                                     kDepositColumns),
                         {sha256, file_name, file_identity});
  if (!r) return std::nullopt;
  return to_deposit(*r);
}

bool Store::ack_name_taken(const std::string& ack_name) {
  return db_.query_one("SELECT 1 FROM deposits WHERE ack_name = $1", {ack_name}).has_value();
}

void Store::insert_deposit(DepositRecord& record, Instant received, Instant processed) {
  // Only an applied dépôt holds its identifiant (unique index deposits_identifier_held_once).
  const bool applied = is_applied(record.status);
  // Built value by value: an initializer list would copy the accusé.
  std::vector<SqlValue> params;
  params.reserve(14);
  for (SqlValue v :
       {SqlValue{record.sha256}, SqlValue{record.file_name}, SqlValue{record.file_identity}, opt(record.identifier),
        SqlValue{std::string(to_code(record.status))}, SqlValue{format_iso_instant(received)},
        SqlValue{format_iso_instant(processed)}, SqlValue{record.ack_name}}) {
    params.push_back(std::move(v));
  }
  constexpr std::size_t kAckContent = 8;
  params.emplace_back(std::move(record.ack_content));
  struct GiveBack {
    std::vector<SqlValue>& params;
    std::string& content;
    ~GiveBack() { content = std::move(std::get<std::string>(params[kAckContent])); }
  } give_back{params, record.ack_content};
  params.emplace_back(record.destination);
  params.emplace_back(record.reason);
  params.emplace_back(record.channel);
  params.push_back(applied ? opt(record.identifier) : SqlValue{nullptr});
  insert_with_next_id(db_, "deposit", "deposits",
                      "sha256, file_name, file_identity, identifier, status, received_at, processed_at, ack_name, "
                      "ack_content, destination, reason, channel, held_identifier",
                      params);
}

void Store::record_refused_signature(const std::string& replay_key, std::string_view channel,
                                     const std::string& ack_name, Instant at) {
  if (replay_key.empty()) return;
  db_.execute(
      "INSERT INTO refused_signatures (replay_key, channel, ack_name, refused_at) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (replay_key) DO NOTHING",
      {replay_key, std::string(channel), ack_name, format_iso_instant(at)});
}

bool Store::signature_refused(const std::string& replay_key) {
  if (replay_key.empty()) return false;
  return db_.query_one("SELECT 1 FROM refused_signatures WHERE replay_key = $1", {replay_key}).has_value();
}

bool Store::export_name_taken(const std::string& name) {
  return db_.query_one("SELECT 1 FROM exports WHERE name = $1", {name}).has_value();
}

void Store::insert_export(const ExportRecord& record) {
  db_.execute("INSERT INTO exports (name, temporary, ack_name) VALUES ($1, $2, $3)",
              {record.name, record.temporary, record.ack_name});
}

std::vector<ExportRecord> Store::exports_of(const std::string& ack_name) {
  std::vector<ExportRecord> out;
  for (const auto& r :
       db_.query("SELECT name, temporary, ack_name FROM exports WHERE ack_name = $1 ORDER BY name", {ack_name})) {
    out.push_back(ExportRecord{r.text(0), r.text(1), r.text(2)});
  }
  return out;
}

std::optional<ExportRecord> Store::export_by_temporary(const std::string& temporary) {
  auto r = db_.query_one("SELECT name, temporary, ack_name FROM exports WHERE temporary = $1", {temporary});
  if (!r) return std::nullopt;
  return ExportRecord{r->text(0), r->text(1), r->text(2)};
}

}  // namespace raccord
