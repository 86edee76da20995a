#include "domain/error_code.hpp"

#include <algorithm>
#include <array>

namespace raccord {

bool is_warning_only(ErrorCode code) {
  // A list, not a switch with default: (one truth per enum): the codes that never block.
  static constexpr std::array kWarningOnly{ErrorCode::CertExpireBientot, ErrorCode::CertSansEku,
                                           ErrorCode::ReseauIgnore};
  return std::find(kWarningOnly.begin(), kWarningOnly.end(), code) != kWarningOnly.end();
}

}  // namespace raccord
