// metrics.prom (docs/reference.md §5.4): the figures collected from the store, the running counters kept in
// the dépôt's transaction, and the atomic rewrite of outbox/metrics.prom.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/acknowledgement.hpp"
#include "domain/error_code.hpp"
#include "domain/sheet_state.hpp"
#include "engine/database.hpp"
#include "inbox/inbox_directory.hpp"
#include "outbox/metrics_writer.hpp"
#include "outbox/outbox.hpp"

namespace raccord {

/// The running counters' increments of a group of dépôts (table metric_counters, migration 3):
/// depots_<STATUS> +1 per dépôt, operations_ACCEPTEE / operations_REJETEE + its accusé's accepted /
/// rejected operations. Collected in memory while the group's dépôts are answered and written by
/// one statement just before the group's COMMIT (issue 21): an UPDATE of these few shared rows per
/// dépôt held their row locks across the whole group's work, so a second engine on the same
/// PostgreSQL store waited for the first one's COMMIT at its first dépôt (two engines ran one after
/// the other). Now a row lock is held only from that statement to the COMMIT.
class DepositCounters {
 public:
  /// Adds one recorded accusé (never for `check`).
  void add(DepositStatus status, std::int64_t accepted, std::int64_t rejected);
  /// Writes the increments (one INSERT ... ON CONFLICT DO UPDATE of the rows in name order, so two
  /// engines lock them in the same order) in the caller's transaction, and forgets them. Nothing to
  /// write: no statement. Throws StoreError.
  void write(Database& db);

 private:
  std::map<std::string, std::int64_t> increments_;
};

/// Adds `count` identity refusals of code `code` by account `account` to the running counter
/// raccord_refus_identite_total{compte,code} (docs/reference.md §2.1, §5.4): the row
/// 'refus_identite:ACCOUNT:CODE' of metric_counters (an account NAME holds no ':'), created at its
/// first refusal; no migration. Call inside the dépôt's transaction (engine/identity_audit.hpp
/// audit_identity_refusal), never for `check`. Throws StoreError.
void record_identity_refusals(Database& db, std::string_view account, ErrorCode code, std::int64_t count);

/// Records the number of files the current pass could not open (docs/reference.md §2 "A file the engine
/// cannot open"), the gauge raccord_unopenable_files of the next metrics.prom: call once per pass
/// (0 when it opened them all), in a transaction or not. Kept in metric_counters as the row
/// 'files_unopenable' (absent until a pass records it: 0). Returns whether the value changed (a pass
/// that changes nothing writes no metrics.prom: an empty inbox stays a quiet pass). Throws StoreError.
bool record_unopenable_files(Database& db, std::int64_t count);

/// The figures of metrics.prom whose reading grows with the store or a folder: the sheets by state
/// (Store::count_sheets_by_state: one GROUP BY over every sheet, deleted drafts excluded; 0.23 s on a store of
/// 1,000,000 sheets) and the originals in error/ (a listing of a folder no retention empties). An engine
/// measures them when the daemon builds it, at its first refresh without a measure, at the end of a full pass
/// when a group was committed since, and after a nightly run, and writes its last measure after each group in
/// between (Engine::refresh_metrics_rescanned; docs/design.md "Gauges of metrics.prom").
struct ScannedFigures {
  std::map<SheetState, std::int64_t> sheets_by_state;
  std::int64_t error_files = 0;  // regular, non-hidden files of error/ other than the NAME.reason.txt
};

/// Measures the scanned figures of `dirs` and the store. Throws StoreError (a stored state no release
/// writes, naming its sheet: Store::count_sheets_by_state).
ScannedFigures scan_figures(Database& db, const inbox::InboxDirectory& dirs);

/// Reads the figures: counters (one small table; identity refusals by account and code included), the ledger's
/// latest run (finished_at, finished_at - started_at in seconds, and its gauges: blocked, late, leaves expiring
/// within 30 days), the dépôts waiting (InboxDirectory::is_deposit_name, regular files) directly in inbox/ and in
/// its non-hidden folders (the accounts' folders; never .work/), and the scanned figures: `scanned` when given
/// (the caller's last measure), else measured now (scan_figures). `waiting`: the count of waiting dépôts when the
/// caller already knows it (a pass, see count_waiting_deposits), instead of listing the folders again. With both
/// given, its cost does not grow with the store nor error/: cheap enough after every group of dépôts.
/// Throws StoreError.
outbox::MetricsSnapshot collect_metrics(Database& db, const inbox::InboxDirectory& dirs,
                                        std::optional<std::int64_t> waiting = std::nullopt,
                                        const ScannedFigures* scanned = nullptr);

/// Collects and writes dirs.outbox_dir()/metrics.prom atomically (outbox::Outbox::write_metrics).
/// `waiting` and `scanned` as for collect_metrics; `crl_ages`: the CRL ages the caller measured
/// (Engine: rules::CertificateChecker::newest_verified_crls at the business instant), written as given.
/// Never throws: a failure is logged as a warning (the dépôt or the run it follows is already committed and
/// answered). Returns false on failure.
bool refresh_metrics(Database& db, const inbox::InboxDirectory& dirs,
                     std::optional<std::int64_t> waiting = std::nullopt, const ScannedFigures* scanned = nullptr,
                     std::vector<outbox::CrlAge> crl_ages = {}) noexcept;

/// True when outbox/metrics.prom holds a sample of raccord_crl_age_seconds (docs/reference.md §5.4): a pass
/// that answered nothing rewrites the file then, so that ages whose CRLs are all gone do not stay frozen in it.
/// Reads the file (a few KiB); false when it is absent or unreadable. Never throws but std::bad_alloc.
bool metrics_show_crl_ages(const outbox::Outbox& outbox);

/// Dépôts waiting in `inbox_dir` (`raccord_inbox_waiting_files`): regular files with a dépôt name
/// (InboxDirectory::is_deposit_name) directly in it and in its non-hidden folders (the accounts'; never
/// .work/), by one listing of each, without a stat of each entry where the filesystem gives its type.
/// An unreadable folder counts nothing. Never throws but std::bad_alloc.
std::int64_t count_waiting_deposits(const std::filesystem::path& inbox_dir);

}  // namespace raccord
