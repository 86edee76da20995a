// The certificate checks of the sheets of one or several dépôts, computed ahead on worker threads
// (issue 7; docs/design.md "Certificates checked ahead"): for apply_deposit (engine/processor.cpp) and
// the nightly run's re-checks (engine/nightly.cpp).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "domain/civil_date.hpp"
#include "domain/deposit.hpp"
#include "rules/certificates.hpp"

namespace raccord {

/// True for the actions that send a sheet's content (enregistrer, soumettre): the only ones whose
/// content, certificates included, is checked (docs/reference.md §3.3).
bool sends_content(const SheetOperation& sheet);

/// The certificate rules of one sheet at `now` (docs/reference.md §4 CERT_*; rules::CertificateChecker::check
/// with the sheet's protocol, none for an API sheet). An EDI sheet whose protocol is invalid
/// (PROTOCOLE_INVALIDE, reported by the content rules, whose message names the checks that wait)
/// still gets every rule that does not depend on the protocol: only CERT_USAGE and CERT_NOMBRE for
/// 2 certificates wait; more than 2 is wrong for every protocol and is reported at once, with a
/// message naming no protocol. Needs no store; raises what the checker raises (std::bad_alloc).
std::optional<rules::CertificateReport> check_certificates(const rules::CertificateChecker& checker,
                                                           const SheetOperation& sheet, Instant now);

/// The reports of one dépôt's sheets computed before its CertificatesAhead exists (while the dépôt was read
/// ahead, docs/design.md "Reading ahead"): (operation index in Deposit::operations, report), for every
/// operation CertificatesAhead would check, in order.
using Prechecked = std::vector<std::pair<std::size_t, std::optional<rules::CertificateReport>>>;

/// Every report of `deposit` that CertificatesAhead would compute (its sheets that send content and have no
/// schema errors), at `now`, on the caller. Raises what the checker raises (std::bad_alloc).
Prechecked precheck_certificates(const rules::CertificateChecker& checker, const Deposit& deposit, Instant now);

/// The number of sheets of `deposit` that CertificatesAhead would check.
std::size_t sheets_to_check(const Deposit& deposit);

/// The certificate reports of the sheets that send content (enregistrer, soumettre: the only ones
/// whose content is checked, docs/reference.md §3.3) of one or several dépôts, computed ahead by worker threads
/// while the caller applies the operations in order (issue 7: the certificate check, decoding and
/// signature verification, is most of a sheet's cost and needs no store, whereas the store is
/// written by one thread). At most 256 sheets ahead of the caller. A dépôt whose operations are
/// never taken (a DOUBLON, say) only costs the checks already made.
class CertificatesAhead {
 public:
  /// `deposits`: the dépôts in the order they are applied (kept by address: they must outlive this
  /// object). `now`: the instant (UTC) of every check, the ProcessingContext::now of these dépôts.
  /// `threads`: worker threads besides the caller (0: the caller checks each sheet when it takes it).
  /// `prechecked`: empty, or parallel to `deposits`: each non-null entry holds that dépôt's reports already
  /// computed at `now` (precheck_certificates), moved from there and never computed again.
  CertificatesAhead(const rules::CertificateChecker& checker, const std::vector<const Deposit*>& deposits, Instant now,
                    unsigned threads, const std::vector<Prechecked*>& prechecked = {});
  /// Stops the workers (a check under way is finished first) and joins them.
  ~CertificatesAhead();
  CertificatesAhead(const CertificatesAhead&) = delete;
  CertificatesAhead& operator=(const CertificatesAhead&) = delete;

  /// The report of operation `operation` (index in Deposit::operations) of deposits[`deposit`]:
  /// nullopt where the operation sends no content, has schema errors, or is an EDI sheet of unknown
  /// protocol. Computed by the caller when no worker has started it; while a worker checks it, the
  /// caller checks the next unstarted ones. Each report is taken once. Rethrows a worker's exception.
  std::optional<rules::CertificateReport> take(std::size_t deposit, std::size_t operation);

  /// Operation `operation` of deposits[`deposit`] is not checked after all (refused before its rules:
  /// DEMANDEUR_NON_AUTORISE, docs/reference.md §2.1): moves the caller past it like take(), without
  /// computing its report when no worker has started it, and frees it when one has finished it. A
  /// later take() of it gives nullopt. Throws only what a mutex throws (std::system_error).
  void discard(std::size_t deposit, std::size_t operation);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raccord
