// Loading one sheet for `raccord show` (docs/reference.md §7): see sheet_view.hpp.
#include "engine/sheet_view.hpp"

#include <string>

namespace raccord {
namespace {

Instant instant_of(const SqlRow& r, std::size_t i) {
  return parse_iso_instant(r.text(i)).value_or(Instant{});
}

std::optional<CivilDate> date_of(const SqlRow& r, std::size_t i) {
  if (r.is_null(i) || r.text(i).empty()) return std::nullopt;
  return parse_iso_date(r.text(i));
}

std::optional<VersionView> load_version(Database& db, std::int64_t id) {
  const auto r = db.query_one(
      "SELECT id, action, protocol, period_from, period_to, contact_name, contact_phone, contact_email, contact_fax, "
      "network_identifier, network_address, network_port, network_path, comments, created_at, created_by "
      "FROM sheet_versions WHERE id = $1",
      {id});
  if (!r) return std::nullopt;
  VersionView v;
  v.id = r->integer(0);
  v.action = stored_enum(parse<SheetAction>(r->text(1)), "sheet_versions.action", std::to_string(v.id), r->text(1));
  v.protocol = r->text(2);
  v.period_from = date_of(*r, 3);
  v.period_to = date_of(*r, 4);
  v.contact_name = r->text(5);
  v.contact_phone = r->text(6);
  v.contact_email = r->text(7);
  v.contact_fax = r->text(8);
  v.network_identifier = r->text(9);
  v.network_address = r->text(10);
  v.network_port = r->text(11);
  v.network_path = r->text(12);
  v.comments = r->text(13);
  v.created_at = instant_of(*r, 14);
  v.created_by = r->text(15);
  // Numbered per sheet (issue 18: "version n° 2008" was the global sequence for a sheet's second).
  v.number = db.query_one(
                   "SELECT COUNT(*) FROM sheet_versions WHERE code_appli = (SELECT code_appli FROM "
                   "sheet_versions WHERE id = $1) AND id <= $1",
                   {id})
                 ->integer(0);
  for (const auto& i :
       db.query("SELECT code, mode FROM sheet_interfaces WHERE version_id = $1 ORDER BY position", {id})) {
    v.interfaces.push_back({i.text(0), i.text(1)});
  }
  for (const auto& c :
       db.query("SELECT c.bundle_index, b.name, c.subject, c.issuer, c.serial, c.not_before, c.not_after, c.is_leaf, "
                "c.is_ca FROM sheet_certificates c LEFT JOIN sheet_bundles b ON b.version_id = c.version_id AND "
                "b.bundle_index = c.bundle_index WHERE c.version_id = $1 ORDER BY c.position",
                {id})) {
    CertificateView cert;
    cert.bundle_index = static_cast<int>(c.integer(0));
    cert.bundle_name = c.text(1);
    cert.subject = c.text(2);
    cert.issuer = c.text(3);
    cert.serial = c.text(4);
    cert.not_before = instant_of(c, 5);
    cert.not_after = instant_of(c, 6);
    cert.is_leaf = c.integer(7) != 0;
    cert.is_ca = c.integer(8) != 0;
    v.certificates.push_back(std::move(cert));
  }
  return v;
}

}  // namespace

std::optional<SheetView> load_sheet_view(Database& db, const std::string& code_appli) {
  const auto r = db.query_one(
      "SELECT s.code_appli, s.kind, s.partner_siret, st.raison_sociale, s.state, s.deleted, s.submitted_at, "
      "s.created_at, s.updated_at, s.active_version, s.pending_version FROM sheets s "
      "LEFT JOIN structures st ON st.siret = s.partner_siret WHERE s.code_appli = $1",
      {code_appli});
  if (!r) return std::nullopt;
  SheetView s;
  s.code_appli = r->text(0);
  s.kind = stored_enum(parse<SheetKind>(r->text(1)), "sheets.kind", s.code_appli, r->text(1));
  s.partner_siret = r->text(2);
  s.raison_sociale = r->text(3);
  s.state = stored_enum(parse<SheetState>(r->text(4)), "sheets.state", s.code_appli, r->text(4));
  s.deleted = r->integer(5) != 0;
  if (!r->is_null(6) && !r->text(6).empty()) s.submitted_at = instant_of(*r, 6);
  s.created_at = instant_of(*r, 7);
  s.updated_at = instant_of(*r, 8);
  if (!r->is_null(9)) s.active = load_version(db, r->integer(9));
  if (!r->is_null(10)) s.pending = load_version(db, r->integer(10));
  // Recording order: the from/to chain stays coherent even when --now moved backwards between dépôts.
  for (const auto& h :
       db.query("SELECT instant, actor, from_state, to_state, reason FROM history WHERE code_appli = $1 ORDER BY id",
                {code_appli})) {
    HistoryEntryView e;
    e.instant = instant_of(h, 0);
    e.actor = h.text(1);
    if (!h.is_null(2) && !h.text(2).empty()) {
      e.from = stored_enum(parse<SheetState>(h.text(2)), "history.from_state", code_appli, h.text(2));
    }
    e.to = stored_enum(parse<SheetState>(h.text(3)), "history.to_state", code_appli, h.text(3));
    e.reason = h.text(4);
    s.history.push_back(std::move(e));
  }
  if (!s.deleted && (s.state == SheetState::Envoyee || s.state == SheetState::EnvoyeeMaj)) {
    WaitingView w;
    w.block = current_block(db, code_appli);
    if (!w.block && s.kind == SheetKind::Edi && s.pending) w.du = s.pending->period_from;
    s.waiting = std::move(w);
  }
  return s;
}

}  // namespace raccord
