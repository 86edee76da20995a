// Renders metrics.prom (docs/reference.md §5.4): the Prometheus text exposition format 0.0.4 read by
// node_exporter's textfile collector (https://prometheus.io/docs/instrumenting/exposition_formats/).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/civil_date.hpp"
#include "domain/sheet_state.hpp"

namespace raccord::outbox {

/// The newest verified CRL of one issuer, as metrics.prom shows it (docs/reference.md §5.4).
struct CrlAge {
  std::string issuer;            // the CRL's issuer, RFC 2253, UTF-8
  std::int64_t age_seconds = 0;  // the business instant of the write minus the CRL's thisUpdate; negative when
                                 // thisUpdate is later (an authority's clock ahead)
};

/// The figures of metrics.prom, collected from the store by engine/metrics.
struct MetricsSnapshot {
  /// Dépôts answered since the store was created, by accusé status code ("INTEGRE",
  /// "INTEGRE_PARTIEL", "REJETE", "DOUBLON"). The four codes are always written (0 when absent).
  std::map<std::string, std::int64_t> deposits_by_status;
  /// Operations of recorded accusés, by outcome.
  std::int64_t operations_accepted = 0;
  std::int64_t operations_rejected = 0;
  /// Current sheets by state, deleted drafts excluded; every state is written (0 when absent).
  std::map<SheetState, std::int64_t> sheets_by_state;
  /// The last nightly run of the ledger (latest business date): when it finished (real UTC instant)
  /// and how long it took (seconds). Absent before the first run: the two metrics are then omitted.
  std::optional<Instant> last_run_finished;
  std::optional<std::int64_t> last_run_duration_seconds;
  /// Gauges of docs/reference.md §5.4 (0 when unknown, e.g. before the first nightly run). Decided by the last
  /// nightly run (its ledger row): activations it left blocked, sheets it found late, leaves of
  /// ACTIVEE/ENVOYEE/ENVOYEE_MAJ sheets expiring within 30 days of its run instant.
  std::int64_t blocked_activations = 0;
  std::int64_t late_sheets = 0;
  std::int64_t leaves_expiring_30d = 0;
  /// Counted when written: dépôts waiting in inbox/ and its folders (not .work/), originals in error/,
  /// and the files the last pass could not open (docs/reference.md §2).
  std::int64_t inbox_waiting_files = 0;
  std::int64_t error_files = 0;
  std::int64_t unopenable_files = 0;
  /// Identity refusals of the sender accounts (docs/reference.md §2.1) since the store was created,
  /// by (account NAME, error code); only the pairs that happened.
  std::map<std::pair<std::string, std::string>, std::int64_t> identity_refusals;
  /// Per issuer, its newest verified CRL's age (rules::CertificateChecker::newest_verified_crls), in the order
  /// given (by issuer); empty when revocation is not checked or no CRL verified.
  std::vector<CrlAge> crl_ages;
};

/// metrics.prom's text (UTF-8, '\n' line ends, ending with '\n'). Every metric has its "# HELP"
/// and "# TYPE" lines before its samples; names are prefixed "raccord_", counters end in "_total":
///   raccord_depots_total{statut="..."}        counter, the 4 statuses in a fixed order
///   raccord_operations_total{statut="ACCEPTEE"|"REJETEE"}   counter
///   raccord_sheets{etat="BROUILLON"|...}      gauge, the 5 state codes in enum order
///   raccord_blocked_activations               gauge, at the last nightly run
///   raccord_late_sheets                       gauge, at the last nightly run
///   raccord_leaves_expiring_30d               gauge, at the last nightly run
///   raccord_inbox_waiting_files               gauge
///   raccord_error_files                       gauge
///   raccord_unopenable_files                  gauge
///   raccord_refus_identite_total{compte="...",code="..."}   counter, one sample per pair that happened
///                                             (by account, then code); HELP and TYPE always written
///   raccord_crl_age_seconds{emetteur="..."}   gauge, seconds, one sample per crl_ages entry; HELP and TYPE
///                                             always written
///   raccord_nightly_last_run_timestamp_seconds   gauge, Unix seconds (only after a first run)
///   raccord_nightly_last_run_duration_seconds    gauge, seconds (only after a first run)
/// Label values are escaped per the format (backslash, double quote, newline).
std::string render_metrics(const MetricsSnapshot& metrics);

/// "metrics.prom" (docs/reference.md §2 outbox/, §5.4).
inline constexpr std::string_view kMetricsFileName = "metrics.prom";

}  // namespace raccord::outbox
