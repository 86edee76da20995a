#include "engine/search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "domain/text_fold.hpp"
#include "engine/store.hpp"

namespace raccord {

namespace {

/// The SQL condition on `s.partner_siret` limiting sheets to those `requester` may consult
/// (docs/design.md "Rights"): "" for a support user (everything), nullopt for an unknown user
/// (nothing). `param` binds a value and returns its placeholder.
std::optional<std::string> consultation_filter(Database& db, const std::string& requester,
                                               const std::function<std::string(SqlValue)>& param) {
  const auto user = db.query_one("SELECT support FROM users WHERE login = $1", {requester});
  if (!user) return std::nullopt;
  if (user->integer(0) != 0) return std::string();
  const std::string login = param(requester);
  return fmt::format(
      " AND s.partner_siret IN (SELECT m.siret FROM managers m JOIN structures ms ON ms.siret = m.siret WHERE "
      "m.login = {0} AND ms.space_active = 1 UNION SELECT a.siret FROM subscriptions a WHERE a.login = {0} AND "
      "a.status = '{1}' AND (a.consultation = 1 OR a.modification = 1))",
      login, to_code(SubscriptionStatus::Validee));
}

/// "ENVOYEE_MAJ", "Envoyée MAJ", "envoyee maj" → "envoyee maj".
std::string state_key(std::string_view text) {
  std::string key = fold_for_matching(text);
  for (char& ch : key) {
    if (ch == '_' || ch == '-') ch = ' ';
  }
  std::string out;
  for (char ch : key) {
    if (ch == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += ch;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::optional<SheetState> parse_state_criterion(std::string_view text) {
  const std::string key = state_key(text);
  if (key.empty()) return std::nullopt;
  for (const auto& row : enum_rows<SheetState>()) {  // the one table of states (domain/sheet_state.hpp)
    if (key == state_key(row.code) || key == state_key(to_label(row.value))) return row.value;
  }
  return std::nullopt;
}

SheetKind search_kind_of_code(Database& db, const SearchCriteria& c, const std::string& requester) {
  if (!c.code_appli) return SheetKind::Edi;
  std::vector<SqlValue> params;
  auto param = [&params](SqlValue v) {
    params.push_back(std::move(v));
    return fmt::format("${}", params.size());
  };
  std::string sql = "SELECT s.kind FROM sheets s WHERE s.code_appli = " + param(*c.code_appli) + " AND s.deleted = 0";
  const auto filter = consultation_filter(db, requester, param);
  if (!filter) return SheetKind::Edi;
  sql += *filter;
  const auto row = db.query_one(sql, params);
  if (!row) return SheetKind::Edi;
  return stored_enum(parse<SheetKind>(row->text(0)), "sheets.kind", *c.code_appli, row->text(0));
}

void search_sheets(Database& db, const CivilZone& zone, const SearchCriteria& c, const std::string& requester,
                   const std::function<void(const SearchRow&)>& visit) {
  std::vector<SqlValue> params;
  auto param = [&params](SqlValue v) {
    params.push_back(std::move(v));
    return fmt::format("${}", params.size());
  };
  const bool edi = c.kind == SheetKind::Edi;
  std::string sql = edi ? "SELECT s.partner_siret, st.raison_sociale, v.protocol, s.code_appli, i.code, v.period_from, "
                          "v.period_to, s.state FROM sheets s JOIN structures st ON st.siret = s.partner_siret "
                          "JOIN sheet_versions v ON v.id = COALESCE(s.pending_version, s.active_version) "
                          "JOIN sheet_interfaces i ON i.version_id = v.id AND i.mode <> 'aucun' "
                        : "SELECT s.partner_siret, st.raison_sociale, '', s.code_appli, '', NULL, NULL, s.state "
                          "FROM sheets s JOIN structures st ON st.siret = s.partner_siret ";
  sql += fmt::format("WHERE s.kind = {} AND s.deleted = 0", param(std::string(to_code(c.kind))));
  const auto filter = consultation_filter(db, requester, param);
  if (!filter) return;
  sql += *filter;
  if (c.partner) sql += " AND s.partner_siret = " + param(*c.partner);
  if (c.state) sql += " AND s.state = " + param(*c.state);
  if (c.code_appli) sql += " AND s.code_appli = " + param(*c.code_appli);
  if (edi && c.protocol) sql += " AND v.protocol = " + param(*c.protocol);
  if (edi && c.interface_code) sql += " AND i.code = " + param(*c.interface_code);
  if (c.submitted_from) {
    sql += " AND s.submitted_at >= " + param(format_iso_instant(zone.instant_of(*c.submitted_from, 0, 0)));
  }
  if (c.submitted_to) {
    const CivilDate next{std::chrono::sys_days{*c.submitted_to} + std::chrono::days{1}};
    sql += " AND s.submitted_at < " + param(format_iso_instant(zone.instant_of(next, 0, 0)));
  }
  sql += edi ? " ORDER BY s.partner_siret, s.code_appli, i.code" : " ORDER BY s.partner_siret, s.code_appli";
  // Streamed (issue 7, figure 4): an export of any size holds one chunk of rows, not the result.
  // The name is matched here, accents and case ignored (domain/text_fold.hpp): SQL has no portable
  // accent folding (SQLite has none; PostgreSQL's unaccent is an extension).
  const std::optional<std::string> name_part = c.raison_sociale;
  db.for_each_row(sql, params, [&visit, &name_part](const SqlRow& r) {
    if (name_part && !contains_folded(r.text(1), *name_part)) return;
    SearchRow row;
    row.partner_siret = r.text(0);
    row.raison_sociale = r.text(1);
    row.protocol = r.text(2);
    row.code_appli = r.text(3);
    row.interface_code = r.text(4);
    if (!r.is_null(5)) row.period_from = parse_iso_date(r.text(5));
    if (!r.is_null(6) && !r.text(6).empty()) row.period_to = parse_iso_date(r.text(6));
    row.state = stored_enum(parse<SheetState>(r.text(7)), "sheets.state", row.code_appli, r.text(7));
    visit(row);
  });
}

namespace {

outbox::RowSource rows_of(Database& db, const CivilZone& zone, const SearchCriteria& criteria,
                          const std::string& requester) {
  return [&db, &zone, &criteria, &requester](const std::function<void(const SearchRow&)>& row) {
    search_sheets(db, zone, criteria, requester, row);
  };
}

}  // namespace

std::string write_export(Database& db, const CivilZone& zone, const SearchCriteria& criteria,
                         const std::string& requester, ExportFormat format, const std::string& reference, Instant at,
                         const std::filesystem::path& outbox_dir) {
  Store store(db);
  // A store opened for reading only may predate the exports table (migration 4), which no engine
  // then uses: nothing is recorded there.
  const auto recorded = [&store](const std::string& name) {
    try {
      return store.export_name_taken(name);
    } catch (const StoreError&) {
      return false;
    }
  };
  return outbox::write_export(outbox_dir, outbox::ExportRequest{criteria.kind, format, reference, at}, recorded,
                              rows_of(db, zone, criteria, requester));
}

std::string stage_export(outbox::StagedExports& staged, Database& db, const CivilZone& zone,
                         const SearchCriteria& criteria, const std::string& requester, ExportFormat format,
                         const std::string& reference, Instant at) {
  Store store(db);
  return staged.stage(
      outbox::ExportRequest{criteria.kind, format, reference, at},
      [&store](const std::string& name) { return store.export_name_taken(name); },
      rows_of(db, zone, criteria, requester));
}

}  // namespace raccord
