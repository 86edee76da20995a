#include "engine/search.hpp"

#include <fmt/format.h>

#include "engine/store.hpp"

namespace raccord {

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
  const auto user = db.query_one("SELECT support FROM users WHERE login = $1", {requester});
  if (!user) return;
  if (user->integer(0) == 0) {
    const std::string login = param(requester);
    sql += fmt::format(
        " AND s.partner_siret IN (SELECT m.siret FROM managers m JOIN structures ms ON ms.siret = m.siret WHERE "
        "m.login = {0} AND ms.space_active = 1 UNION SELECT a.siret FROM subscriptions a WHERE a.login = {0} AND "
        "a.status = 'VALIDEE' AND (a.consultation = 1 OR a.modification = 1))",
        login);
  }
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
  db.for_each_row(sql, params, [&visit](const SqlRow& r) {
    SearchRow row;
    row.partner_siret = r.text(0);
    row.raison_sociale = r.text(1);
    row.protocol = r.text(2);
    row.code_appli = r.text(3);
    row.interface_code = r.text(4);
    if (!r.is_null(5)) row.period_from = parse_iso_date(r.text(5));
    if (!r.is_null(6) && !r.text(6).empty()) row.period_to = parse_iso_date(r.text(6));
    row.state = stored_enum(parse_sheet_state(r.text(7)), "sheets.state", row.code_appli, r.text(7));
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
