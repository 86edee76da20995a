// The nightly run's report (docs/reference.md §5.3) as a plain value, rendered by outbox/nightly_report.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/civil_date.hpp"
#include "domain/diagnostic.hpp"
#include "domain/sheet_state.hpp"

namespace raccord {

/// One state change made by the run.
struct NightlyTransition {
  std::string code_appli;
  std::string partner_siret;
  SheetState from = SheetState::Envoyee;
  SheetState to = SheetState::Activee;
  std::string reason;  // French, e.g. "activation", "fin de période (au 30/06/2026)"
};

/// A sheet left in ENVOYEE / ENVOYEE_MAJ, with why.
struct BlockedActivation {
  std::string code_appli;
  std::string partner_siret;
  SheetState state = SheetState::Envoyee;
  Diagnostics reasons;
};

/// A sheet still not activated more than one day after it became due: its submission, or the start
/// of its `du` (00:00 in engine.timezone) when later (docs/reference.md §5.3: a sheet whose period has not
/// started is never late).
struct LateSheet {
  std::string code_appli;
  std::string partner_siret;
  SheetState state = SheetState::Envoyee;
  Instant submitted_at{};
  CivilDate due{};  // the civil date (engine.timezone) it became due: its submission's, or its du
};

/// A leaf certificate of an ACTIVEE, ENVOYEE or ENVOYEE_MAJ sheet (its activated and pending
/// versions) ending within the warning window.
struct ExpiringCertificate {
  std::string code_appli;
  std::string partner_siret;
  std::string subject;
  std::string serial;
  Instant not_after{};
};

/// A sheet deactivated, or whose activation is blocked, because a certificate of its chain is revoked
/// (docs/reference.md §4.1, §5.3 `Revocation`; docs/revocation.md).
struct RevokedSheet {
  std::string code_appli;
  std::string partner_siret;
  SheetState state = SheetState::Desactivee;  // after the run: DESACTIVEE, or the blocked state
  Diagnostics reasons;                        // the CERT_REVOQUE findings: the certificate, the CRL, what to do
};

/// An entry of inbox/ (or of an account's folder) that is not a dépôt and is more than a day old, or
/// a file the engine could not open (docs/reference.md §2, §5.3). Whoever lists them fills these rows; the
/// report only renders them.
struct IgnoredFile {
  std::string path;            // as shown to the operator, e.g. "inbox/notes.txt"
  std::uintmax_t size = 0;     // bytes
  std::chrono::seconds age{};  // at the run
  Instant modified{};          // its mtime
  CivilDate modified_on{};     // the civil date of `modified` in engine.timezone (the CSV's Date)
  std::string why;             // French, e.g. "pas un dépôt (nom sans .xml)", "illisible : Permission denied"
};

struct NightlyReport {
  CivilDate date{};       // the business date D
  Instant run_instant{};  // D at nightly.time, or earlier "now"
  Instant started_at{};   // real instants, for the ledger and metrics
  Instant finished_at{};
  std::vector<NightlyTransition> transitions;
  std::vector<BlockedActivation> blocked;
  std::vector<LateSheet> late;
  std::vector<ExpiringCertificate> expiring;
  std::vector<RevokedSheet> revocations;
  std::vector<IgnoredFile> ignored_files;
  std::map<SheetState, std::int64_t> sheets_by_state;  // after the run, deleted drafts excluded
  /// The raison sociale of every partner SIRET of the rows above that is in the directory (the CSV's
  /// "SIRET - RAISON SOCIALE", the HTML page).
  std::map<std::string, std::string> partner_names;
  /// Gauges of metrics.prom decided at the run instant (docs/reference.md §5.4): leaves of ACTIVEE, ENVOYEE
  /// and ENVOYEE_MAJ sheets expiring within 30 days (whatever the report's warning window).
  std::int64_t expiring_within_30_days = 0;
};

}  // namespace raccord
