#include "engine/nightly.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <system_error>

#include "engine/blocks.hpp"
#include "engine/certificates_ahead.hpp"
#include "engine/dialect.hpp"
#include "engine/housekeeping.hpp"
#include "engine/lifecycle.hpp"
#include "engine/log.hpp"
#include "engine/prerequisites.hpp"
#include "engine/store.hpp"
#include "files/atomic_file.hpp"
#include "outbox/nightly_report_html.hpp"
#include "outbox/nightly_report_writer.hpp"

namespace raccord {
namespace {

constexpr std::string_view kActor = "nightly";
constexpr std::chrono::hours kForeignLockTimeout{6};

std::string lock_holder() {
  return fmt::format("{}:{}", files::host_name(), ::getpid());
}

Instant real_now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

/// A holder "host:pid" that can no longer hold the lock.
bool is_stale(const std::string& holder, const std::optional<std::string>& heartbeat) {
  const auto colon = holder.rfind(':');
  if (colon != std::string::npos && holder.substr(0, colon) == files::host_name()) {
    const char* const last = holder.data() + holder.size();
    int pid = 0;
    const auto [end, error] = std::from_chars(holder.data() + colon + 1, last, pid);
    if (error != std::errc{} || end != last) pid = 0;  // not a process id: no process of ours holds it
    return pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH);
  }
  const auto beat = heartbeat ? parse_iso_instant(*heartbeat) : std::nullopt;
  return !beat || real_now() - *beat > kForeignLockTimeout;
}

bool acquire_lock(Database& db, const std::string& me) {
  if (const auto sql = dialect::try_nightly_lock(db.backend()); !sql.empty()) {
    const auto row = db.query_one(std::string(sql));
    return row && (row->text(0) == "t" || row->text(0) == "true" || row->integer(0) == 1);
  }
  Transaction tx(db);
  auto row = db.query_one("SELECT holder, heartbeat FROM locks WHERE name = 'nightly'");
  if (row && !row->is_null(0) && row->text(0) != me && !is_stale(row->text(0), row->optional_text(1))) {
    return false;
  }
  if (row && !row->is_null(0) && row->text(0) != me)
    log::warning("verrou nocturne repris à {} (disparu)", row->text(0));
  const std::string now = format_iso_instant(real_now());
  db.execute("UPDATE locks SET holder = $1, acquired_at = $2, heartbeat = $3 WHERE name = 'nightly'", {me, now, now});
  tx.commit();
  return true;
}

void release_lock(Database& db, const std::string& me) {
  try {
    if (const auto sql = dialect::release_nightly_lock(db.backend()); !sql.empty()) {
      db.query(std::string(sql));
      return;
    }
    db.execute("UPDATE locks SET holder = NULL, heartbeat = NULL WHERE name = 'nightly' AND holder = $1", {me});
  } catch (const StoreError& e) {
    log::warning("libération du verrou nocturne impossible : {}", e.what());
  }
}

CivilDate next_day(CivilDate d) {
  return CivilDate{std::chrono::sys_days{d} + std::chrono::days{1}};
}

/// The nightly events as the lifecycle table gives them (engine/lifecycle.hpp): the states each
/// starts from, the state it leads to and its version effect. The run writes no state of its own.
const EventStep& activation() {
  static const EventStep step = event_step(SheetEvent::Activer);
  return step;
}
const EventStep& expiry() {
  static const EventStep step = event_step(SheetEvent::Expirer);
  return step;
}

/// The states `step` starts from, as the SQL list of a `state IN` (sql_list): the only states
/// written into the run's SQL text; every other state is bound.
std::string source_states(const EventStep& step) {
  return sql_list<SheetState>(step.from);
}

/// A code as a bound value.
template <TabledEnum E>
SqlValue code(E value) {
  return std::string(to_code(value));
}

/// The assignments that apply `effect` to the version columns of a `sheets` row, each
/// ", column = source" (version_move; an UPDATE reads every source before it writes), "" when
/// the effect leaves both. Throws std::logic_error for an effect that stores a new version: the
/// run's statements store none.
std::string version_assignments(VersionEffect effect) {
  const VersionMove move = version_move(effect);
  const auto source = [](VersionSource from) -> std::string_view {
    switch (from) {
      case VersionSource::Active:
        return "active_version";
      case VersionSource::Pending:
        return "pending_version";
      case VersionSource::Nothing:
        return "NULL";
      case VersionSource::Created:
        break;
    }
    throw std::logic_error("the nightly run stores no new version");
  };
  std::string out;
  if (move.active != VersionSource::Active) out += fmt::format(", active_version = {}", source(move.active));
  if (move.pending != VersionSource::Pending) out += fmt::format(", pending_version = {}", source(move.pending));
  return out;
}

/// A sheet to activate, with its pending content as stored.
struct Candidate {
  std::string code_appli;
  SheetKind kind;
  std::string partner;
  SheetState state;
  std::int64_t pending_version;
  // Stored values read back as the dépôt's were (Field::of: blank is absent), so that the nightly
  // re-check gives a value the meaning the submission check gave it.
  Field protocol;
  Field period_to;  // absent: open-ended
};

std::vector<Candidate> activation_candidates(Database& db, CivilDate date, Instant run_instant) {
  std::vector<Candidate> out;
  for (const auto& r :
       db.query(fmt::format("SELECT s.code_appli, s.kind, s.partner_siret, s.state, s.pending_version, v.protocol, "
                            "v.period_to FROM sheets s JOIN sheet_versions v ON v.id = s.pending_version "
                            "WHERE s.state IN {} AND s.deleted = 0 AND s.submitted_at < $1 "
                            "AND (s.kind = $2 OR v.period_from <= $3) ORDER BY s.code_appli",
                            source_states(activation())),
                {format_iso_instant(run_instant), code(SheetKind::Api), format_iso_date(date)})) {
    const std::string code_appli = r.text(0);
    out.push_back(Candidate{
        .code_appli = code_appli,
        .kind = stored_enum(parse<SheetKind>(r.text(1)), "sheets.kind", code_appli, r.text(1)),
        .partner = r.text(2),
        .state = stored_enum(parse<SheetState>(r.text(3)), "sheets.state", code_appli, r.text(3)),
        .pending_version = r.integer(4),
        .protocol = Field::of(r.text(5), 0),
        .period_to = Field::of(r.text(6), 0),
    });
  }
  return out;
}

/// Re-checks a candidate's partner at the run instant (docs/reference.md §6): structure known and active,
/// prerequisites (the same as at submission, engine/prerequisites.hpp). Returns the blocking errors,
/// STRUCTURE_INCONNUE alone when the structure is not in the directory any more.
Diagnostics recheck_partner(Engine& engine, Store& store, const Candidate& c) {
  Diagnostics reasons;
  const auto structure = store.find_structure(c.partner);
  if (!structure) {
    reasons.push_back(Diagnostic::error(ErrorCode::StructureInconnue, "Partenaire", 0,
                                        fmt::format("La structure {} n'est plus dans l'annuaire.", c.partner)));
    return reasons;
  }
  if (!structure->active) {
    reasons.push_back(Diagnostic::error(
        ErrorCode::StructureInactive, "Partenaire", 0,
        fmt::format("La structure {} - {} est inactive.", structure->siret, structure->raison_sociale)));
  }
  for (auto& d : check_partner_prerequisites(store, engine.config().environment, *structure, c.kind, 0)) {
    reasons.push_back(std::move(d));
  }
  return reasons;
}

/// The period of a candidate at date D (docs/reference.md §6): blocking when it ended before D.
Diagnostics recheck_period(const Candidate& c, CivilDate date) {
  Diagnostics reasons;
  if (c.period_to.filled() && c.period_to.value < format_iso_date(date)) {
    reasons.push_back(
        Diagnostic::error(ErrorCode::PeriodeInvalide, "Periode/@au", 0,
                          fmt::format("La période de raccordement s'est terminée le {}.", c.period_to.value)));
  }
  return reasons;
}

/// Version `version_id` of a sheet of kind `kind` as a sheet whose certificates are to be checked again:
/// its bundles as stored, its kind and protocol (action soumettre: what CertificatesAhead checks).
SheetOperation stored_sheet(Store& store, SheetKind kind, const Field& protocol, std::int64_t version_id) {
  SheetOperation sheet;
  sheet.action = SheetAction::Soumettre;
  sheet.kind = kind;
  sheet.has_certificates = true;
  sheet.protocol = protocol;
  for (const auto& b : store.database().query(
           "SELECT bundle_index, name, content FROM sheet_bundles WHERE version_id = $1 ORDER BY bundle_index",
           {version_id})) {
    CertificateField f;
    f.index = static_cast<int>(b.integer(0));
    f.name = Field::of(b.text(1), 0);
    f.content = b.text(2);
    sheet.certificates.push_back(std::move(f));
  }
  return sheet;
}

/// The candidate's pending content (stored_sheet of its pending version).
SheetOperation pending_sheet(Store& store, const Candidate& c) {
  return stored_sheet(store, c.kind, c.protocol, c.pending_version);
}

/// The CERT_REVOQUE messages of `diagnostics`, one per line; empty when there is none.
Diagnostics revocation_findings(const Diagnostics& diagnostics) {
  Diagnostics out;
  for (const Diagnostic& d : diagnostics) {
    if (d.code == ErrorCode::CertRevoque && d.is_error()) out.push_back(d);
  }
  return out;
}

/// The messages of `findings`, joined for a history reason.
std::string joined_messages(const Diagnostics& findings) {
  std::string out;
  for (const Diagnostic& d : findings) out += (out.empty() ? "" : " ; ") + d.message;
  return out;
}

/// An ACTIVEE sheet whose activated version holds a revoked certificate at the run instant (docs/reference.md §6).
struct RevokedActive {
  std::string code_appli;
  std::string partner;
  std::int64_t active_version = 0;
  Diagnostics findings;  // revocation_findings
};

/// The ACTIVEE sheets revoked at `run_instant` (docs/revocation.md "Le passage de nuit"). Set-based first:
/// the stored facts (issuer, serial) of the activated versions' certificates are matched against the
/// entries of the CRLs in use (CrlStore::listed, a hash lookup; no bundle is read when no CRL lists
/// anything); only the sheets matched are checked again whole (CertificateChecker::check at the run instant),
/// which proves the CRL's signature with the issuer of the chain, and are kept when CERT_REVOQUE comes out.
/// Nothing when certificates.revocation is aucune.
std::vector<RevokedActive> revoked_active_sheets(Engine& engine, Store& store, Instant run_instant) {
  std::vector<RevokedActive> out;
  const rules::CertificateChecker& checker = engine.certificates();
  if (checker.policy().revocation == rules::RevocationMode::Aucune) return out;
  const std::shared_ptr<const rules::CrlStore> crls = checker.crls();
  bool any_entry = false;
  crls->for_each_entry([&any_entry](std::string_view, std::string_view) { any_entry = true; });
  if (!any_entry) return out;
  struct Listed {
    std::string partner;
    SheetKind kind = SheetKind::Edi;
    Field protocol;
    std::int64_t version = 0;
  };
  std::map<std::string, Listed> listed;
  // Streamed (Database::for_each_row): every certificate of every active sheet passes by, only the listed
  // ones are kept (peak memory independent of the store's size: bench figure 3, 1,000,000 sheets).
  store.database().for_each_row(
      "SELECT s.code_appli, s.partner_siret, s.kind, v.protocol, s.active_version, c.issuer, c.serial FROM sheets s "
      "JOIN sheet_versions v ON v.id = s.active_version JOIN sheet_certificates c ON c.version_id = "
      "s.active_version WHERE s.state = $1 AND s.deleted = 0",
      {code(SheetState::Activee)}, [&crls, &listed](const SqlRow& x) {
        if (!crls->listed(x.text(5), x.text(6))) return;
        const std::string code_appli = x.text(0);
        listed[code_appli] =
            Listed{x.text(1), stored_enum(parse<SheetKind>(x.text(2)), "sheets.kind", code_appli, x.text(2)),
                   Field::of(x.text(3), 0), x.integer(4)};
      });
  for (const auto& [code, l] : listed) {
    const SheetOperation sheet = stored_sheet(store, l.kind, l.protocol, l.version);
    const std::optional<rules::CertificateReport> report = check_certificates(checker, sheet, run_instant);
    if (!report) continue;
    Diagnostics findings = revocation_findings(report->diagnostics);
    if (!findings.empty()) out.push_back(RevokedActive{code, l.partner, l.version, std::move(findings)});
  }
  return out;
}

/// Deactivates the sheets of `revoked` still ACTIVEE with the same activated version (an activation of
/// this run, or a dépôt, that replaced it wins), with the reason, history and report rows (docs/reference.md §6, §5.3).
void deactivate_revoked(Store& store, NightlyReport& report, const std::vector<RevokedActive>& revoked) {
  const auto row = find_transition(SheetState::Activee, SheetEvent::Expirer);
  if (!row) return;
  const std::string r = format_iso_instant(report.run_instant);
  for (const RevokedActive& s : revoked) {
    const auto changed = store.database().execute(
        "UPDATE sheets SET state = $1, updated_at = $2 WHERE code_appli = $3 AND state = $4 AND active_version = $5 "
        "AND deleted = 0",
        {code(row->to), r, s.code_appli, code(SheetState::Activee), s.active_version});
    if (changed == 0) continue;
    const std::string reason = "certificat révoqué : " + joined_messages(s.findings);
    store.add_history(s.code_appli, report.run_instant, std::string(kActor), SheetState::Activee, row->to, reason, "");
    report.transitions.push_back(NightlyTransition{s.code_appli, s.partner, SheetState::Activee, row->to, reason});
    report.revocations.push_back(RevokedSheet{s.code_appli, s.partner, row->to, s.findings});
  }
}

/// The blocking errors of every candidate at the run instant (docs/reference.md §6), in order (issue 7: the
/// certificate checks are most of a nightly run). A partner's verdict is read from the store once
/// (nothing is written before the activations). The candidates go by chunks: while worker threads
/// check the certificates of one chunk, this thread reads the bundles of the next one, so that
/// only two chunks' bundles are in memory.
std::vector<Diagnostics> recheck_all(Engine& engine, Store& store, const std::vector<Candidate>& candidates,
                                     CivilDate date, Instant run_instant, const std::function<void()>& progress) {
  // Candidates: CertificatesAhead's look-ahead window, so that the workers may check a whole chunk
  // before its first report is taken.
  constexpr std::size_t kChunk = 256;
  std::map<std::pair<std::string, SheetKind>, Diagnostics> partners;
  std::vector<Diagnostics> verdicts;
  verdicts.reserve(candidates.size());
  struct Chunk {
    std::size_t start = 0;
    Deposit sheets;                   // one operation per candidate of the chunk
    std::vector<bool> partner_known;  // else the structure's absence is the only reason given
    std::unique_ptr<CertificatesAhead> ahead;
  };
  auto open_chunk = [&](std::size_t start) {
    auto chunk = std::make_unique<Chunk>();
    chunk->start = start;
    const std::size_t end = std::min(candidates.size(), start + kChunk);
    chunk->sheets.operations.resize(end - start);
    for (std::size_t k = start; k < end; ++k) {
      const Candidate& c = candidates[k];
      auto known = partners.find({c.partner, c.kind});
      if (known == partners.end()) {
        known = partners.emplace(std::pair{c.partner, c.kind}, recheck_partner(engine, store, c)).first;
      }
      Diagnostics reasons = known->second;
      const bool partner_known = reasons.empty() || reasons.front().code != ErrorCode::StructureInconnue;
      chunk->partner_known.push_back(partner_known);
      if (partner_known) {
        for (auto& d : recheck_period(c, date)) reasons.push_back(std::move(d));
        chunk->sheets.operations[k - start].body = pending_sheet(store, c);
      }
      verdicts.push_back(std::move(reasons));
    }
    chunk->ahead = std::make_unique<CertificatesAhead>(
        engine.certificates(), std::vector<const Deposit*>{&chunk->sheets}, run_instant, Engine::validation_threads());
    return chunk;
  };
  std::unique_ptr<Chunk> current = candidates.empty() ? nullptr : open_chunk(0);
  while (current) {
    const std::size_t next_start = current->start + current->sheets.operations.size();
    std::unique_ptr<Chunk> next = next_start < candidates.size() ? open_chunk(next_start) : nullptr;
    for (std::size_t i = 0; i < current->sheets.operations.size(); ++i) {
      std::optional<rules::CertificateReport> report = current->ahead->take(0, i);
      if (!current->partner_known[i]) continue;
      if (!report) {  // an EDI sheet whose protocol is not known any more: checked as the API one is
        report = engine.certificates().check(body_as<SheetOperation>(current->sheets.operations[i]), std::nullopt,
                                             run_instant);
      }
      for (auto& d : report->diagnostics) {
        if (d.is_error()) verdicts[current->start + i].push_back(std::move(d));
      }
    }
    current = std::move(next);
    if (progress) progress();
  }
  return verdicts;
}

/// The sheets to deactivate at D (docs/reference.md §6: activated, past their end date or with an expired
/// leaf), with parameters $<d> (date D) and $<r> (run instant). SQLite numbers `$N` parameters by
/// first appearance: callers keep them ascending.
std::string deactivation_from(int d, int r) {
  return fmt::format(
      "FROM sheets s JOIN sheet_versions v ON v.id = s.active_version WHERE s.state IN {0} AND s.deleted = 0 "
      "AND ((v.period_to IS NOT NULL AND v.period_to < ${1}) OR EXISTS (SELECT 1 FROM sheet_certificates c WHERE "
      "c.version_id = s.active_version AND c.is_leaf = 1 AND c.not_after < ${2}))",
      source_states(expiry()), d, r);
}

std::string deactivation_reason(int d) {
  return fmt::format(
      "CASE WHEN v.period_to IS NOT NULL AND v.period_to < ${} THEN 'fin de période' "
      "ELSE 'certificat expiré' END",
      d);
}

/// The expirer step (lifecycle table), set-based: one INSERT for the history, one UPDATE for the
/// states and versions, whatever the number of sheets.
void deactivate(Database& db, NightlyReport& report, CivilDate date, Instant run_instant) {
  const EventStep& step = expiry();
  const std::string d = format_iso_date(date);
  const std::string r = format_iso_instant(run_instant);
  const auto rows = db.query(fmt::format("SELECT s.code_appli, s.partner_siret, s.state, {} {} ORDER BY s.code_appli",
                                         deactivation_reason(1), deactivation_from(1, 2)),
                             {d, r});
  if (rows.empty()) return;
  for (const auto& x : rows) {
    report.transitions.push_back(NightlyTransition{
        x.text(0), x.text(1), stored_enum(parse<SheetState>(x.text(2)), "sheets.state", x.text(0), x.text(2)), step.to,
        x.text(3)});
  }
  // Set-based: one INSERT for the history, one UPDATE for the states (no per-sheet round trip).
  const bool table_ids = dialect::sequences_in_table(db.backend());
  const std::int64_t base =
      table_ids ? db.query_one("SELECT value FROM sequences WHERE name = 'history'")->integer(0) : 0;
  const int first = table_ids ? 2 : 1;  // keeps $N ascending in the text (SQLite numbers them by appearance)
  const std::string sql = fmt::format(
      "INSERT INTO history (id, code_appli, instant, actor, from_state, to_state, reason) SELECT {}, s.code_appli, "
      "${}, '{}', s.state, ${}, {} {}",
      dialect::set_based_id(db.backend(), "history", 1, "s.code_appli"), first, kActor, first + 1,
      deactivation_reason(first + 2), deactivation_from(first + 2, first + 3));
  if (table_ids) {
    db.execute(sql, {base, r, code(step.to), d, r});
    db.execute("UPDATE sequences SET value = value + $1 WHERE name = 'history'",
               {static_cast<std::int64_t>(rows.size())});
  } else {
    db.execute(sql, {r, code(step.to), d, r});
  }
  db.execute(fmt::format("UPDATE sheets SET state = $1{}, updated_at = $2 WHERE code_appli IN (SELECT s.code_appli {})",
                         version_assignments(step.effect), deactivation_from(3, 4)),
             {code(step.to), r, d, r});
}

/// The leaves of ACTIVEE, ENVOYEE and ENVOYEE_MAJ sheets (the activated version of ACTIVEE and
/// ENVOYEE_MAJ, the pending one of ENVOYEE and ENVOYEE_MAJ) still valid at $1 and ending before $2
/// (docs/reference.md §5.3): code, partner, subject, serial, notAfter; a leaf in both versions once.
std::string expiring_leaves_sql() {
  // The states that have an activated version: those expirer starts from, and ENVOYEE_MAJ.
  std::vector<SheetState> activated = expiry().from;
  activated.push_back(SheetState::EnvoyeeMaj);
  return fmt::format(
      "SELECT s.code_appli, s.partner_siret, c.subject, c.serial, c.not_after FROM sheets s JOIN sheet_certificates c "
      "ON c.version_id = s.active_version WHERE s.state IN {} AND s.deleted = 0 AND c.is_leaf = 1 AND "
      "c.not_after >= $1 AND c.not_after < $2 UNION SELECT s.code_appli, s.partner_siret, c.subject, c.serial, "
      "c.not_after FROM sheets s JOIN sheet_certificates c ON c.version_id = s.pending_version WHERE s.state IN {} "
      "AND s.deleted = 0 AND c.is_leaf = 1 AND c.not_after >= $1 AND c.not_after < $2",
      sql_list<SheetState>(activated), source_states(activation()));
}

/// The raison sociale of every partner of the report's rows (report.partner_names).
void fill_partner_names(Database& db, NightlyReport& report) {
  std::set<std::string> sirets;
  for (const auto& t : report.transitions) sirets.insert(t.partner_siret);
  for (const auto& b : report.blocked) sirets.insert(b.partner_siret);
  for (const auto& l : report.late) sirets.insert(l.partner_siret);
  for (const auto& e : report.expiring) sirets.insert(e.partner_siret);
  for (const auto& v : report.revocations) sirets.insert(v.partner_siret);
  std::vector<SqlValue> chunk;
  std::string list;
  auto flush = [&] {
    if (chunk.empty()) return;
    for (const auto& x :
         db.query("SELECT siret, raison_sociale FROM structures WHERE siret IN (" + list + ")", chunk)) {
      report.partner_names[x.text(0)] = x.text(1);
    }
    chunk.clear();
    list.clear();
  };
  for (const auto& siret : sirets) {
    chunk.emplace_back(siret);
    list += fmt::format("{}${}", list.empty() ? "" : ", ", chunk.size());
    if (chunk.size() == 500) flush();
  }
  flush();
}

void fill_report_tail(Store& store, const Config& config, const CivilZone& zone, NightlyReport& report) {
  Database& db = store.database();
  const std::string r = format_iso_instant(report.run_instant);
  // Late: not activated more than one day after it became due, its submission or the start of its du
  // when later (docs/reference.md §5.3). A du starts before the limit L when it is on or before the civil date
  // of L - 1 s (instants are whole seconds).
  const Instant limit = report.run_instant - std::chrono::hours{24};
  const CivilDate last_due_date = zone.date_of(limit - std::chrono::seconds{1});
  for (const auto& x :
       db.query(fmt::format("SELECT s.code_appli, s.partner_siret, s.state, s.submitted_at, s.kind, v.period_from FROM "
                            "sheets s LEFT JOIN sheet_versions v ON v.id = s.pending_version WHERE s.state IN {} AND "
                            "s.deleted = 0 AND s.submitted_at < $1 AND (s.kind = 'API' OR v.period_from IS NULL OR "
                            "v.period_from <= $2) ORDER BY s.code_appli",
                            source_states(activation())),
                {format_iso_instant(limit), format_iso_date(last_due_date)})) {
    LateSheet late{x.text(0),
                   x.text(1),
                   stored_enum(parse<SheetState>(x.text(2)), "sheets.state", x.text(0), x.text(2)),
                   parse_iso_instant(x.text(3)).value_or(Instant{}),
                   {}};
    late.due = zone.date_of(late.submitted_at);
    const Field du = Field::of(x.is_null(5) ? std::string() : x.text(5), 0);
    if (x.text(4) != "API" && du.filled()) {
      if (const auto d = parse_iso_date(du.value); d && late.due < *d) late.due = *d;
    }
    report.late.push_back(std::move(late));
  }
  const std::string horizon = format_iso_instant(report.run_instant + std::chrono::days{config.expiry_warning_days});
  for (const auto& x : db.query(expiring_leaves_sql() + " ORDER BY 5, 1", {r, horizon})) {
    report.expiring.push_back(ExpiringCertificate{x.text(0), x.text(1), x.text(2), x.text(3),
                                                  parse_iso_instant(x.text(4)).value_or(Instant{})});
  }
  const std::string within_30_days = format_iso_instant(report.run_instant + std::chrono::days{30});
  report.expiring_within_30_days =
      db.query_one("SELECT COUNT(*) FROM (" + expiring_leaves_sql() + ") t", {r, within_30_days})->integer(0);
  report.sheets_by_state = store.count_sheets_by_state();
  fill_partner_names(db, report);
}

/// `html` is absent for runs recorded before the HTML page existed (migration 3).
void write_report_files(Engine& engine, CivilDate date, const std::string& xml, const std::string& csv,
                        const std::optional<std::string>& html) {
  engine.outbox().write_report(date, "xml", xml);
  engine.outbox().write_report(date, "csv", csv);
  if (html) engine.outbox().write_report(date, "html", *html);
}

/// Writes the report files of `date` from its ledger row, one report at a time (a big run's reports are
/// never all in memory at once).
void write_report_files_from_ledger(Engine& engine, CivilDate date) {
  const std::string d = format_iso_date(date);
  for (const char* column : {"report_xml", "report_csv", "report_html"}) {
    auto row = engine.database().query_one(fmt::format("SELECT {} FROM nightly_runs WHERE run_date = $1", column), {d});
    if (!row || row->is_null(0)) continue;
    const std::string_view extension = std::string_view(column).substr(7);
    engine.outbox().write_report(date, extension, row->text(0));
  }
}

/// The HTML page (issue 5): the report, and the transitions of the last 30 runs (ledger + this one).
std::string render_report_html(Engine& engine, const NightlyReport& report, std::int64_t activations) {
  std::vector<outbox::NightlyRunPoint> points;
  for (const auto& x : engine.database().query("SELECT run_date, activations, deactivations FROM nightly_runs WHERE "
                                               "run_date < $1 ORDER BY run_date DESC LIMIT 29",
                                               {format_iso_date(report.date)})) {
    if (auto d = parse_iso_date(x.text(0))) points.push_back(outbox::NightlyRunPoint{*d, x.integer(1), x.integer(2)});
  }
  points.push_back(outbox::NightlyRunPoint{report.date, activations,
                                           static_cast<std::int64_t>(report.transitions.size()) - activations});
  outbox::NightlyHtmlOptions options;
  const CivilZone& zone = engine.zone();
  options.format_instant = [&zone](Instant i) { return zone.format_local(i); };
  options.zone_name = zone.name();
  return outbox::render_nightly_report_html(report, std::move(points), options);
}

/// docs/reference.md §5.3 `FichierIgnore` (docs/design.md "Taking a dépôt"): what sits in inbox/ and is never
/// taken — not a dépôt and more than a day old, or a dépôt the engine cannot open —, listed and
/// logged once per run. Ages are real time (files' times are). A folder that cannot be read is
/// logged and leaves the list empty: never a failure of the run.
void fill_ignored_files(Engine& engine, NightlyReport& report) {
  const auto now = std::chrono::system_clock::now();
  std::vector<inbox::IgnoredEntry> entries;
  try {
    std::vector<std::string> accounts;
    for (const auto& account : engine.config().accounts) accounts.push_back(account.name);
    entries = engine.inbox().ignored_entries(now, accounts);
  } catch (const std::system_error& e) {
    log::warning("liste des fichiers ignorés de la boîte de dépôt impossible : {}", e.what());
    return;
  }
  for (auto& e : entries) {
    IgnoredFile f;
    f.path = "inbox/" + e.name;
    f.size = e.size;
    f.age = std::chrono::duration_cast<std::chrono::seconds>(now - e.modified);
    f.modified = std::chrono::time_point_cast<Instant::duration>(e.modified);
    f.modified_on = engine.zone().date_of(f.modified);
    f.why = std::move(e.why);
    log::warning("fichier ignoré : {} ({} octet(s)) : {}", f.path, f.size, f.why);
    report.ignored_files.push_back(std::move(f));
  }
}

NightlyReport run_one(Engine& engine, CivilDate date, const std::function<void()>& progress) {
  Database& db = engine.database();
  Store store(db);
  NightlyReport report;
  report.date = date;
  report.started_at = real_now();
  report.run_instant = nightly_run_instant(engine, date, engine.clock().now());

  // Certificate re-checks are CPU work: done before the write transaction.
  std::int64_t activations = 0;
  {
    // Scoped: the candidates and verdicts (a tenth of a big store) are freed before the report is
    // rendered (issue 7, figure 3: peak RSS of a nightly run on 1,000,000 sheets).
    std::vector<Candidate> candidates;
    std::vector<Diagnostics> verdicts;
    candidates = activation_candidates(db, date, report.run_instant);
    verdicts = recheck_all(engine, store, candidates, date, report.run_instant, progress);
    const std::vector<RevokedActive> revoked = revoked_active_sheets(engine, store, report.run_instant);
    Transaction write(db);
    deactivate(db, report, date, report.run_instant);
    const std::string r = format_iso_instant(report.run_instant);
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      if (progress && k % 256 == 255) progress();
      const Candidate* c = &candidates[k];
      Diagnostics& reasons = verdicts[k];
      if (!reasons.empty()) {
        if (Diagnostics findings = revocation_findings(reasons); !findings.empty()) {
          report.revocations.push_back(RevokedSheet{c->code_appli, c->partner, c->state, std::move(findings)});
        }
        report.blocked.push_back(BlockedActivation{c->code_appli, c->partner, c->state, std::move(reasons)});
        continue;
      }
      const auto row = find_transition(c->state, SheetEvent::Activer);
      if (!row) continue;
      // Guarded by state and version: a dépôt that changed the sheet since the check wins.
      const auto changed =
          db.execute(fmt::format("UPDATE sheets SET state = $1{}, updated_at = $2 WHERE code_appli = $3 AND state = $4 "
                                 "AND pending_version = $5",
                                 version_assignments(row->effect)),
                     {code(row->to), r, c->code_appli, code(c->state), c->pending_version});
      if (changed == 0) continue;
      const std::string reason(row->reason);
      store.add_history(c->code_appli, report.run_instant, std::string(kActor), c->state, row->to, reason, "");
      report.transitions.push_back(NightlyTransition{c->code_appli, c->partner, c->state, row->to, reason});
      ++activations;
    }
    deactivate_revoked(store, report, revoked);  // after the activations (docs/reference.md §6)
    candidates = {};
    verdicts = {};
    record_blocks(db, report.blocked, report.run_instant);  // docs/reference.md §6: `show` says why
    fill_report_tail(store, engine.config(), engine.zone(), report);
    fill_ignored_files(engine, report);
    report.finished_at = real_now();
    // The ledger row, then its three reports one at a time, each rendered, moved into its statement and
    // dropped: a report of 150,000 transitions is tens of MiB per format, and Poco and SQLite each copy a
    // bound value (issue 7, figure 3). The files are written after the commit from the ledger.
    db.execute(
        "INSERT INTO nightly_runs (run_date, run_instant, started_at, finished_at, activations, deactivations, "
        "blocked, late, expiring_30d, report_xml, report_csv, report_html) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
        "$9, '', '', NULL)",
        {format_iso_date(date), r, format_iso_instant(report.started_at), format_iso_instant(report.finished_at),
         activations, static_cast<std::int64_t>(report.transitions.size()) - activations,
         static_cast<std::int64_t>(report.blocked.size()), static_cast<std::int64_t>(report.late.size()),
         report.expiring_within_30_days});
    auto store_report = [&db, &date](const char* column, std::string text) {
      std::vector<SqlValue> params;
      params.emplace_back(std::move(text));
      params.emplace_back(format_iso_date(date));
      db.execute(fmt::format("UPDATE nightly_runs SET {} = $1 WHERE run_date = $2", column), params);
    };
    store_report("report_xml", outbox::render_nightly_report_xml(report));
    store_report("report_csv", outbox::render_nightly_report_csv(report));
    store_report("report_html", render_report_html(engine, report, activations));
    write.commit();
  }
  write_report_files_from_ledger(engine, date);
  run_housekeeping(engine);
  engine.refresh_metrics_rescanned();
  log::info("nuit du {} : {} activation(s), {} désactivation(s), {} bloquée(s)", format_iso_date(date), activations,
            report.transitions.size() - static_cast<std::size_t>(activations), report.blocked.size());
  return report;
}

}  // namespace

Instant nightly_run_instant(const Engine& engine, CivilDate date, Instant now) {
  const NightlyTime& t = engine.config().nightly_time;
  const Instant scheduled = engine.zone().instant_of(date, t.hour, t.minute);
  return std::min(scheduled, now);
}

std::optional<CivilDate> last_nightly_date(Database& db) {
  auto row = db.query_one("SELECT MAX(run_date) FROM nightly_runs");
  if (!row || row->is_null(0)) return std::nullopt;
  return parse_iso_date(row->text(0));
}

Instant record_store_creation(Database& db, Instant now) {
  const auto recorded = [&db]() -> std::optional<Instant> {
    const auto row = db.query_one("SELECT value FROM store_info WHERE name = 'created_at'");
    return row ? parse_iso_instant(row->text(0)) : std::nullopt;
  };
  if (const auto at = recorded()) return *at;
  Transaction tx(db);
  Instant created = now;
  const auto earliest = db.query_one(
      "SELECT MIN(t.i) FROM (SELECT MIN(instant) AS i FROM history UNION ALL SELECT MIN(received_at) "
      "FROM deposits UNION ALL SELECT MIN(run_instant) FROM nightly_runs) t");
  if (earliest && !earliest->is_null(0)) {
    if (const auto i = parse_iso_instant(earliest->text(0)); i && *i < created) created = *i;
  }
  // Another engine on the same store may record it at the same time: the first one wins.
  db.execute("INSERT INTO store_info (name, value) VALUES ('created_at', $1) ON CONFLICT (name) DO NOTHING",
             {format_iso_instant(created)});
  tx.commit();
  return recorded().value_or(created);
}

CivilDate first_nightly_date(Engine& engine) {
  return engine.zone().date_of(record_store_creation(engine.database(), engine.clock().now()));
}

namespace {
/// How far before the store's creation the business today may still be run (--now moved back).
constexpr int kTodayBeforeCreationDays = 366;
std::chrono::sys_days sys_days(CivilDate d) {
  return std::chrono::sys_days{d};
}
}  // namespace

std::optional<std::string> nightly_date_problem(Engine& engine, CivilDate date) {
  const CivilDate today = engine.zone().date_of(engine.clock().now());
  if (today < date) {
    return fmt::format(
        "La date {} est postérieure à la date du jour ({}, fuseau {}) : une nuit ne s'exécute qu'à sa date ou "
        "après. Vérifiez --date (ou --now).",
        format_iso_date(date), format_iso_date(today), engine.zone().name());
  }
  // --now may go back before the store's creation (a replayed day, a test): its today is still a
  // date to run, within a year of the creation; never a date before (docs/design.md "The nightly
  // run's date"): a first run decades back would make the next one catch up every date since.
  const CivilDate created = first_nightly_date(engine);
  const CivilDate floor =
      today < created && sys_days(today) >= sys_days(created) - std::chrono::days{kTodayBeforeCreationDays} ? today
                                                                                                            : created;
  if (date < floor) {
    return fmt::format(
        "La date {} est antérieure à la création du store ({}) : aucune nuit ne peut s'exécuter avant{}. Vérifiez "
        "--date (ou --now).",
        format_iso_date(date), format_iso_date(created),
        date == today
            ? fmt::format(" (la date du jour n'y est admise que jusqu'à {} jours avant)", kTodayBeforeCreationDays)
            : std::string());
  }
  return std::nullopt;
}

NightlyResult run_nightly(Engine& engine, CivilDate date, const std::function<void()>& progress) {
  if (auto problem = nightly_date_problem(engine, date)) throw NightlyDateError(*problem);
  Database& db = engine.database();
  NightlyResult result;
  const std::string me = lock_holder();
  if (!acquire_lock(db, me)) {
    result.status = NightlyStatus::Locked;
    return result;
  }
  try {
    std::vector<CivilDate> dates;
    const auto last = last_nightly_date(db);
    if (last && *last < date) {
      for (CivilDate d = next_day(*last); d < date; d = next_day(d)) dates.push_back(d);
    }
    dates.push_back(date);
    bool ran = false;
    for (const auto& d : dates) {
      if (progress) progress();
      auto done = db.query_one("SELECT report_xml, report_csv, report_html FROM nightly_runs WHERE run_date = $1",
                               {format_iso_date(d)});
      if (done) {
        const outbox::Outbox& box = engine.outbox();
        // Any file may be missing (a crash between the writes, an operator's cleanup).
        if (!box.has_report(d, "xml") || !box.has_report(d, "csv") ||
            (!done->is_null(2) && !box.has_report(d, "html"))) {
          write_report_files(engine, d, done->text(0), done->text(1), done->optional_text(2));
        }
        continue;
      }
      result.reports.push_back(run_one(engine, d, progress));
      result.dates_run.push_back(d);
      ran = true;
    }
    result.status = ran ? NightlyStatus::Ran : NightlyStatus::AlreadyRun;
  } catch (...) {
    release_lock(db, me);
    throw;
  }
  release_lock(db, me);
  return result;
}

}  // namespace raccord
