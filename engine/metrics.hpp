// metrics.prom (SPEC.md §5.4): the figures collected from the store, the running counters kept in
// the dépôt's transaction, and the atomic rewrite of outbox/metrics.prom.
#pragma once

#include <filesystem>

#include "domain/acknowledgement.hpp"
#include "engine/database.hpp"
#include "outbox/metrics_writer.hpp"

namespace raccord {

/// Adds one dépôt to the running counters (table metric_counters, migration 3): depots_<STATUS>
/// +1, operations_ACCEPTEE / operations_REJETEE + the accusé's accepted / rejected operations.
/// Call inside the dépôt's transaction, once per recorded accusé (never for `check`).
/// Throws StoreError.
void record_deposit_metrics(Database& db, const Acknowledgement& ack);

/// Reads the figures: counters (one small table), sheets by state (one GROUP BY, deleted drafts
/// excluded) and the ledger's latest run (finished_at, finished_at - started_at in seconds).
/// Cheap enough to run after every dépôt. Throws StoreError.
outbox::MetricsSnapshot collect_metrics(Database& db);

/// Collects and writes `outbox_dir`/metrics.prom atomically (outbox::Outbox::write_metrics). Never
/// throws: a failure is logged as a warning (the dépôt or the run it follows is already committed
/// and answered). Returns false on failure.
bool refresh_metrics(Database& db, const std::filesystem::path& outbox_dir) noexcept;

}  // namespace raccord
