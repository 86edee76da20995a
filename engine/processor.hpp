// Applies a readable dépôt's operations to the store (docs/design.md "One dépôt, one transaction", step 3;
// docs/reference.md §3, §4).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "domain/acknowledgement.hpp"
#include "domain/deposit.hpp"
#include "domain/sender_account.hpp"
#include "engine/certificates_ahead.hpp"
#include "engine/clock.hpp"
#include "engine/config.hpp"
#include "engine/search.hpp"
#include "engine/store.hpp"
#include "rules/catalogue.hpp"
#include "rules/certificates.hpp"

namespace raccord {

struct ProcessingContext {
  const Config* config = nullptr;
  const CivilZone* zone = nullptr;   // engine.timezone
  std::filesystem::path outbox_dir;  // where a Recherche writes its export; empty: dry run
  const rules::Catalogue* catalogue = nullptr;
  const rules::CertificateChecker* certificates = nullptr;
  Instant now{};      // business instant of processing (UTC)
  CivilDate today{};  // its civil date in engine.timezone
  std::string deposit_sha256;
  /// Where a Recherche stages its export (outbox/export_files.hpp; the owner of its temporary until it
  /// is published); null in a dry run (outbox_dir empty).
  outbox::StagedExports* exports = nullptr;
  unsigned validation_threads = 0;  // worker threads checking the sheets' certificates ahead (issue 7)
  /// When set, the certificate reports come from there (deposit_index: this dépôt's index in it),
  /// checked ahead for a group of dépôts at `now`; else apply_deposit checks this dépôt's ahead.
  CertificatesAhead* certificates_ahead = nullptr;
  std::size_t deposit_index = 0;
  /// The sender account of the channel the dépôt came through (docs/reference.md §2.1); null for
  /// inbox/ itself (no identity restriction). When set, an operation whose actor is not one of its
  /// `logins` is refused DEMANDEUR_NON_AUTORISE before any other rule.
  const SenderAccount* account = nullptr;
  /// The dépôt's file name, for the audit line of an identity refusal (engine/identity_audit.hpp).
  std::string deposit_name{};
};

/// What a dépôt's operations came to, once all are applied.
struct DepositOutcome {
  DepositStatus status = DepositStatus::Rejete;
  std::size_t accepted = 0;  // ACCEPTEE in the end (0 when rolled back)
  std::size_t rejected = 0;  // REJETEE in the end
  /// `complete` mode with a rejected operation: the operations given ACCEPTEE to `each` were rolled
  /// back with the dépôt, and are REJETEE (no codeAppli, etat, supprimee, demande, export nor
  /// ParametresAIFE; each keeps its own diagnostics).
  bool rolled_back = false;
};

/// Applies every operation of `deposit` in document order inside the caller's open transaction:
/// one savepoint per operation (rolled back alone when it is rejected) and, in `complete` mode, one
/// around them all, rolled back when any operation is rejected (every operation then REJETEE, each
/// still listing its own errors: DepositOutcome::rolled_back). Each operation sees the effects of
/// the earlier accepted ones. `each` receives every operation's outcome as soon as it is applied, in
/// document order, and keeps what it needs (nothing is kept here: an outcome per operation of a
/// dépôt of 250,000 operations would be most of its memory). The findings of the dépôt's first
/// kMaxListedDiagnostics are given with their details, the others only counted
/// (OperationOutcome::omitted; an omitted error still rejects its operation).
/// A Recherche stages its export at once in `context.exports` (it reads what the earlier operations
/// did); an operation rolled back (alone, or with the whole dépôt) names no export, and its
/// temporary is left to the StagedExports, which removes it (only committed exports are published).
/// With `context.account` set, each operation whose actor (its demandeur, else the Depot's) is not
/// one of the account's logins is REJETEE with DEMANDEUR_NON_AUTORISE (@demandeur, the operation's
/// line) as its only error, before any other rule (schema errors included) and without reading
/// the store nor taking its certificate report: nothing about that login's sheets is revealed, and
/// a Recherche so refused stages no export (docs/reference.md §2.1, §3.4). Unless a dry run, each
/// refused demandeur is audited once per dépôt (engine/identity_audit.hpp: a warning line and
/// raccord_refus_identite_total, counted per operation, outside the dépôt's savepoint so that a
/// `complete` dépôt rolled back still counts).
/// Throws StoreError on the store's own failures, std::bad_alloc when memory runs out, and what
/// `each` throws (the caller rolls the transaction back).
DepositOutcome apply_deposit(Store& store, const ProcessingContext& context, const Deposit& deposit,
                             const std::function<void(const OperationOutcome&)>& each);

/// The AIFE-side network parameters of `protocol` from the config (docs/reference.md §5.1).
AifeParameters aife_parameters(const AifeConfig& aife, Protocol protocol);

}  // namespace raccord
