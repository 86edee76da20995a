#include "engine/search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "domain/text_fold.hpp"
#include "engine/store.hpp"
#include "files/atomic_file.hpp"
#include "outbox/export_writer.hpp"

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
      "a.status = 'VALIDEE' AND (a.consultation = 1 OR a.modification = 1))",
      login);
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
  for (SheetState s : {SheetState::Brouillon, SheetState::Envoyee, SheetState::EnvoyeeMaj, SheetState::Activee,
                       SheetState::Desactivee}) {
    if (key == state_key(to_code(s)) || key == state_key(to_label(s))) return s;
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
  return stored_enum(parse_sheet_kind(row->text(0)), "sheets.kind", *c.code_appli, row->text(0));
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
    row.state = stored_enum(parse_sheet_state(r.text(7)), "sheets.state", row.code_appli, r.text(7));
    visit(row);
  });
}

namespace {

/// The first of "base.ext", "base_2.ext", ... not in `outbox_dir`, not recorded in the store and not
/// `also_taken`. `store_may_lack_exports`: a store opened for reading only (`raccord search --export`)
/// may predate the exports table (migration 4), which no engine then uses: nothing is recorded there.
std::string free_export_name(Database& db, const std::filesystem::path& outbox_dir, const std::string& base,
                             const std::string& extension, const std::function<bool(const std::string&)>& also_taken,
                             bool store_may_lack_exports) {
  Store store(db);
  return files::free_name(outbox_dir, base, extension, [&](const std::string& name) {
    if (also_taken && also_taken(name)) return true;
    if (!store_may_lack_exports) return store.export_name_taken(name);
    try {
      return store.export_name_taken(name);
    } catch (const StoreError&) {
      return false;
    }
  });
}

void write_rows(Database& db, const CivilZone& zone, const SearchCriteria& criteria, const std::string& requester,
                ExportFormat format, const std::string& reference, Instant at, std::ostream& out) {
  outbox::ExportWriter writer(out, criteria.kind, format, reference, at);
  search_sheets(db, zone, criteria, requester, [&writer](const SearchRow& row) { writer.row(row); });
  writer.finish();
}

}  // namespace

std::string write_export(Database& db, const CivilZone& zone, const SearchCriteria& criteria,
                         const std::string& requester, ExportFormat format, const std::string& reference, Instant at,
                         const std::filesystem::path& outbox_dir) {
  const std::string base = outbox::export_base_name(criteria.kind, reference, at);
  const std::string extension = format == ExportFormat::Csv ? "csv" : "xml";
  for (;;) {
    const std::string name = free_export_name(db, outbox_dir, base, extension, {}, true);
    files::AtomicFileStream file(outbox_dir, name);
    write_rows(db, zone, criteria, requester, format, reference, at, file.stream());
    if (file.commit()) return name;  // else another writer took the name meanwhile: next one
  }
}

StagedExports::StagedExports(std::filesystem::path outbox_dir) : outbox_dir_(std::move(outbox_dir)) {}

StagedExports::~StagedExports() {
  for (const auto& [name, temporary] : staged_) {
    std::error_code ignored;
    std::filesystem::remove(outbox_dir_ / temporary, ignored);
  }
}

std::string StagedExports::stage(Database& db, const CivilZone& zone, const SearchCriteria& criteria,
                                 const std::string& requester, ExportFormat format, const std::string& reference,
                                 Instant at) {
  const std::string base = outbox::export_base_name(criteria.kind, reference, at);
  const std::string extension = format == ExportFormat::Csv ? "csv" : "xml";
  const std::string name = free_export_name(
      db, outbox_dir_, base, extension,
      [this](const std::string& n) {
        return std::any_of(staged_.begin(), staged_.end(), [&n](const auto& s) { return s.first == n; });
      },
      false);
  files::AtomicFileStream file(outbox_dir_, name);
  write_rows(db, zone, criteria, requester, format, reference, at, file.stream());
  staged_.emplace_back(name, file.keep());
  return name;
}

const std::string& StagedExports::temporary_of(const std::string& name) const {
  for (const auto& [n, temporary] : staged_) {
    if (n == name) return temporary;
  }
  throw std::out_of_range("export non préparé : " + name);
}

std::optional<std::string> StagedExports::find_temporary(const std::string& name) const {
  for (const auto& [n, temporary] : staged_) {
    if (n == name) return temporary;
  }
  return std::nullopt;
}

void StagedExports::keep_committed(const std::vector<std::string>& committed) {
  std::erase_if(staged_, [&committed](const auto& s) {
    return std::find(committed.begin(), committed.end(), s.first) != committed.end();
  });
}

bool publish_export(const std::filesystem::path& outbox_dir, const std::string& name, const std::string& temporary) {
  const std::filesystem::path target = outbox_dir / name;
  const std::filesystem::path source = outbox_dir / temporary;
  std::error_code ec;
  if (std::filesystem::exists(source, ec)) {
    if (files::move_no_replace(source, target)) return true;
    std::filesystem::remove(source, ec);  // published before a crash: the name is there
    return true;
  }
  return std::filesystem::is_regular_file(target, ec);
}

}  // namespace raccord
