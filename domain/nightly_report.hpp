// The nightly run's report (SPEC.md §5.3) as a plain value, rendered by outbox/nightly_report.
#pragma once

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

/// A sheet still not activated more than one day after submission.
struct LateSheet {
  std::string code_appli;
  std::string partner_siret;
  SheetState state = SheetState::Envoyee;
  Instant submitted_at{};
};

/// A leaf certificate of an ACTIVEE, ENVOYEE or ENVOYEE_MAJ sheet ending within the warning window.
struct ExpiringCertificate {
  std::string code_appli;
  std::string partner_siret;
  std::string subject;
  std::string serial;
  Instant not_after{};
};

/// A sheet deactivated, or whose activation is blocked, because a certificate of its chain is revoked
/// (SPEC.md §5.3 `Revocation`; docs/revocation.md).
struct RevokedSheet {
  std::string code_appli;
  std::string partner_siret;
  bool deactivated = false;  // true: ACTIVEE → DESACTIVEE by this run; false: its activation is blocked
  std::string message;       // the CERT_REVOQUE message(s): the certificate, the CRL, what to do
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
  std::map<SheetState, std::int64_t> sheets_by_state;  // after the run, deleted drafts excluded
};

}  // namespace raccord
