// The audit of sender-account identity refusals (docs/reference.md §2.1 "Every refusal for identity", §5.4):
// one warning log line per refusal and its count in metrics.prom (raccord_refus_identite_total{compte,code}).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/error_code.hpp"
#include "engine/database.hpp"

namespace raccord {

/// One identity refusal: `code` (COMPTE_NON_AUTORISE, SIGNATURE_ABSENTE, SIGNATURE_INVALIDE or
/// DEMANDEUR_NON_AUTORISE) of a dépôt of account `account`, file `file` (its name in the inbox).
/// `owner_uid`: the claimed file's owner when it was read (COMPTE_NON_AUTORISE); `demandeur`: the
/// login refused (DEMANDEUR_NON_AUTORISE); `count`: how many refusals this is (the operations of the
/// dépôt refused for this demandeur; 1 for a dépôt-level code).
struct IdentityRefusal {
  std::string_view account;
  std::string_view file;
  std::optional<std::uint32_t> owner_uid;
  std::optional<std::string_view> demandeur;
  ErrorCode code = ErrorCode::DemandeurNonAutorise;
  std::int64_t count = 1;
};

/// The warning log line of `refusal` (compte, fichier, uid, demandeur, code; "-" for what is not
/// known), as written by log_identity_refusal. A demandeur is quoted (it is the dépôt's own text).
std::string identity_refusal_line(const IdentityRefusal& refusal);

/// Logs `refusal` at warning level (engine/log.hpp). Never throws (a log line that cannot be written
/// is lost, like every other).
void log_identity_refusal(const IdentityRefusal& refusal) noexcept;

/// Logs `refusal` (log_identity_refusal) and adds refusal.count to the counter
/// raccord_refus_identite_total{compte,code} (record_identity_refusals, engine/metrics.hpp). Call
/// inside the dépôt's transaction (the count commits with its accusé, on every engine of the store;
/// a rolled-back attempt counts nothing, though its log line stays), never for a dry run (`check`).
/// Throws StoreError.
void audit_identity_refusal(Database& db, const IdentityRefusal& refusal);

}  // namespace raccord
