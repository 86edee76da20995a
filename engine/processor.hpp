// Applies a readable dépôt's operations to the store (DESIGN.md data flow step 2; SPEC.md §3, §4).
#pragma once

#include <vector>

#include "engine/clock.hpp"
#include "engine/config.hpp"
#include "engine/domain/acknowledgement.hpp"
#include "engine/domain/deposit.hpp"
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
  std::vector<std::string>* exports_written = nullptr;  // when set, each export written (name in outbox_dir)
  unsigned validation_threads = 0;  // worker threads checking the sheets' certificates ahead (issue 7)
};

struct DepositOutcome {
  std::vector<OperationOutcome> operations;
  DepositStatus status = DepositStatus::Rejete;
};

/// Applies every operation of `deposit` in document order inside the caller's open transaction:
/// one savepoint per operation (rolled back alone when it is rejected) and, in `complete` mode, one
/// around them all, rolled back when any operation is rejected (every operation then REJETEE, each
/// still listing its own errors). Each operation sees the effects of the earlier accepted ones.
/// A Recherche writes its export to the outbox at once (it reads what the earlier operations
/// did); when the dépôt is then rolled back as a whole, the exports it wrote are removed.
/// Throws StoreError on the store's own failures (the caller rolls the transaction back).
DepositOutcome apply_deposit(Store& store, const ProcessingContext& context, const Deposit& deposit);

/// The AIFE-side network parameters of `protocol` from the config (SPEC.md §5.1).
AifeParameters aife_parameters(const AifeConfig& aife, Protocol protocol);

}  // namespace raccord
