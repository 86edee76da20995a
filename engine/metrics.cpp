#include "engine/metrics.hpp"

#include <exception>

#include "engine/log.hpp"
#include "outbox/outbox.hpp"

namespace raccord {

void record_deposit_metrics(Database& db, const Acknowledgement& ack) {
  std::int64_t accepted = 0;
  std::int64_t rejected = 0;
  for (const auto& op : ack.operations) (op.accepted ? accepted : rejected) += 1;
  db.execute("UPDATE metric_counters SET value = value + 1 WHERE name = $1",
             {"depots_" + std::string(to_code(ack.status))});
  if (accepted > 0)
    db.execute("UPDATE metric_counters SET value = value + $1 WHERE name = 'operations_ACCEPTEE'", {accepted});
  if (rejected > 0)
    db.execute("UPDATE metric_counters SET value = value + $1 WHERE name = 'operations_REJETEE'", {rejected});
}

outbox::MetricsSnapshot collect_metrics(Database& db) {
  outbox::MetricsSnapshot m;
  for (const auto& r : db.query("SELECT name, value FROM metric_counters")) {
    const std::string name = r.text(0);
    if (name.rfind("depots_", 0) == 0) {
      m.deposits_by_status[name.substr(7)] = r.integer(1);
    } else if (name == "operations_ACCEPTEE") {
      m.operations_accepted = r.integer(1);
    } else if (name == "operations_REJETEE") {
      m.operations_rejected = r.integer(1);
    }
  }
  for (const auto& r : db.query("SELECT state, COUNT(*) FROM sheets WHERE deleted = 0 GROUP BY state")) {
    if (auto s = parse_sheet_state(r.text(0))) m.sheets_by_state[*s] = r.integer(1);
  }
  if (auto r = db.query_one("SELECT started_at, finished_at FROM nightly_runs ORDER BY run_date DESC LIMIT 1")) {
    const auto started = parse_iso_instant(r->text(0));
    const auto finished = parse_iso_instant(r->text(1));
    if (finished) {
      m.last_run_finished = *finished;
      if (started) m.last_run_duration_seconds = std::max<std::int64_t>(0, (*finished - *started).count());
    }
  }
  return m;
}

bool refresh_metrics(Database& db, const std::filesystem::path& outbox_dir) noexcept {
  try {
    const std::string text = outbox::render_metrics(collect_metrics(db));
    outbox::Outbox(outbox_dir).write_metrics(text);
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
