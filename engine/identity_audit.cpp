#include "engine/identity_audit.hpp"

#include <fmt/format.h>

#include "engine/log.hpp"
#include "engine/metrics.hpp"

namespace raccord {

std::string identity_refusal_line(const IdentityRefusal& r) {
  return fmt::format("refus d'identité {} : compte {}, fichier {}, uid {}, demandeur {}{}", to_code(r.code), r.account,
                     r.file.empty() ? std::string_view("-") : r.file,
                     r.owner_uid ? std::to_string(*r.owner_uid) : std::string("-"),
                     r.demandeur                                 ? fmt::format("« {} »", *r.demandeur)
                     : r.code == ErrorCode::DemandeurNonAutorise ? std::string("(autres demandeurs)")
                                                                 : std::string("-"),
                     r.count > 1 ? fmt::format(" ({} opérations)", r.count) : std::string());
}

void log_identity_refusal(const IdentityRefusal& refusal) noexcept {
  try {
    log::write(log::Level::Warning, identity_refusal_line(refusal));
  } catch (...) {  // NOLINT(bugprone-empty-catch): a log line that cannot be formatted is lost
  }
}

void audit_identity_refusal(Database& db, const IdentityRefusal& refusal) {
  log_identity_refusal(refusal);
  record_identity_refusals(db, refusal.account, refusal.code, refusal.count);
}

}  // namespace raccord
