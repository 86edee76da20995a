#include "engine/metrics.hpp"

#include <fmt/format.h>

#include <exception>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/log.hpp"
#include "engine/store.hpp"
#include "files/atomic_file.hpp"
#include "outbox/outbox.hpp"

namespace raccord {

void DepositCounters::add(DepositStatus status, std::int64_t accepted, std::int64_t rejected) {
  ++increments_["depots_" + std::string(to_code(status))];
  if (accepted > 0) increments_["operations_ACCEPTEE"] += accepted;
  if (rejected > 0) increments_["operations_REJETEE"] += rejected;
}

void DepositCounters::write(Database& db) {
  if (increments_.empty()) return;
  std::string sql = "INSERT INTO metric_counters (name, value) VALUES ";
  std::vector<SqlValue> params;
  params.reserve(increments_.size() * 2);
  for (const auto& [name, increment] : increments_) {
    if (!params.empty()) sql += ", ";
    sql += fmt::format("(${}, ${})", params.size() + 1, params.size() + 2);
    params.emplace_back(name);
    params.emplace_back(increment);
  }
  sql += " ON CONFLICT (name) DO UPDATE SET value = metric_counters.value + excluded.value";
  db.execute(sql, params);
  increments_.clear();
}

namespace {

constexpr std::string_view kIdentityPrefix = "refus_identite:";

}  // namespace

void record_identity_refusals(Database& db, std::string_view account, ErrorCode code, std::int64_t count) {
  if (count <= 0) return;
  db.execute(
      "INSERT INTO metric_counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = "
      "metric_counters.value + excluded.value",
      {fmt::format("{}{}:{}", kIdentityPrefix, account, to_code(code)), count});
}

namespace {

namespace fs = std::filesystem;

bool is_hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.empty() || name.front() == '.';
}

/// Dépôts waiting in `dir` (regular files by lstat with a dépôt name); with `folders`, those of its
/// non-hidden folders too (accounts' drop folders; .work/ is hidden), found in the same listing: one
/// listing of inbox/ per refresh, not two (it holds every dépôt not yet claimed; issue 21, figure 2).
std::int64_t count_deposits(const fs::path& dir, bool folders) {
  std::int64_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code sec;
    if (it->is_symlink(sec)) continue;
    if (it->is_regular_file(sec)) {
      if (inbox::InboxDirectory::is_deposit_name(it->path().filename().string())) ++n;
    } else if (folders && !is_hidden(it->path()) && it->is_directory(sec)) {
      n += count_deposits(it->path(), false);
    }
  }
  return n;
}

/// Originals in error/: regular, non-hidden files other than their NAME.reason.txt.
std::int64_t count_quarantined(const fs::path& error_dir) {
  constexpr std::string_view kReason = ".reason.txt";
  std::int64_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(error_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code sec;
    if (is_hidden(it->path()) || !it->is_regular_file(sec)) continue;
    if (name.size() > kReason.size() && name.compare(name.size() - kReason.size(), kReason.size(), kReason) == 0)
      continue;
    ++n;
  }
  return n;
}

}  // namespace

std::int64_t count_waiting_deposits(const fs::path& inbox_dir) {
  return count_deposits(inbox_dir, true);
}

bool record_unopenable_files(Database& db, std::int64_t count) {
  const auto row = db.query_one("SELECT value FROM metric_counters WHERE name = 'files_unopenable'");
  if ((row ? row->integer(0) : 0) == count) return false;
  db.execute(
      "INSERT INTO metric_counters (name, value) VALUES ('files_unopenable', $1) ON CONFLICT (name) DO UPDATE SET "
      "value = excluded.value",
      {count});
  return true;
}

ScannedFigures scan_figures(Database& db, const inbox::InboxDirectory& dirs) {
  ScannedFigures scanned;
  scanned.sheets_by_state = Store(db).count_sheets_by_state();
  scanned.error_files = count_quarantined(dirs.error_dir());
  return scanned;
}

outbox::MetricsSnapshot collect_metrics(Database& db, const inbox::InboxDirectory& dirs,
                                        std::optional<std::int64_t> waiting, const ScannedFigures* scanned) {
  const ScannedFigures measured = scanned != nullptr ? ScannedFigures{} : scan_figures(db, dirs);
  if (scanned == nullptr) scanned = &measured;
  outbox::MetricsSnapshot m;
  for (const auto& r : db.query("SELECT name, value FROM metric_counters")) {
    const std::string name = r.text(0);
    if (name.rfind("depots_", 0) == 0) {
      m.deposits_by_status[name.substr(7)] = r.integer(1);
    } else if (name == "operations_ACCEPTEE") {
      m.operations_accepted = r.integer(1);
    } else if (name == "operations_REJETEE") {
      m.operations_rejected = r.integer(1);
    } else if (name == "files_unopenable") {
      m.unopenable_files = r.integer(1);
    } else if (name.rfind(kIdentityPrefix, 0) == 0) {  // refus_identite:ACCOUNT:CODE
      const std::string rest = name.substr(kIdentityPrefix.size());
      const auto colon = rest.find(':');
      if (colon != std::string::npos)
        m.identity_refusals[{rest.substr(0, colon), rest.substr(colon + 1)}] = r.integer(1);
    }
  }
  m.sheets_by_state = scanned->sheets_by_state;
  if (auto r = db.query_one("SELECT started_at, finished_at, blocked, late, expiring_30d FROM nightly_runs ORDER BY "
                            "run_date DESC LIMIT 1")) {
    const auto started = parse_iso_instant(r->text(0));
    const auto finished = parse_iso_instant(r->text(1));
    if (finished) {
      m.last_run_finished = *finished;
      if (started) m.last_run_duration_seconds = std::max<std::int64_t>(0, (*finished - *started).count());
    }
    m.blocked_activations = r->integer(2);
    if (!r->is_null(3)) m.late_sheets = r->integer(3);  // NULL: a run recorded before migration 8
    if (!r->is_null(4)) m.leaves_expiring_30d = r->integer(4);
  }
  m.inbox_waiting_files = waiting ? *waiting : count_waiting_deposits(dirs.inbox_dir());
  m.error_files = scanned->error_files;
  return m;
}

bool metrics_show_crl_ages(const outbox::Outbox& outbox) {
  std::ifstream in(outbox.dir() / outbox::kMetricsFileName, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("raccord_crl_age_seconds{", 0) == 0) return true;
  }
  return false;
}

bool refresh_metrics(Database& db, const inbox::InboxDirectory& dirs, std::optional<std::int64_t> waiting,
                     const ScannedFigures* scanned, std::vector<outbox::CrlAge> crl_ages) noexcept {
  try {
    outbox::MetricsSnapshot snapshot = collect_metrics(db, dirs, waiting, scanned);
    snapshot.crl_ages = std::move(crl_ages);
    const std::string text = outbox::render_metrics(snapshot);
    outbox::Outbox(dirs.outbox_dir()).write_metrics(text);
    return true;
  } catch (const std::exception& e) {
    try {
      log::warning("metrics.prom non mis à jour : {}", e.what());
    } catch (...) {  // NOLINT(bugprone-empty-catch): logging must not throw out of a noexcept function
    }
  }
  return false;
}

}  // namespace raccord
