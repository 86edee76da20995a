// SIRET rule (docs/reference.md §4 SIRET_INVALIDE; docs/field-cases.md F38).
#pragma once

#include <optional>
#include <string_view>

#include "domain/deposit.hpp"

namespace raccord::rules {

/// Why a SIRET is refused; Ok when it is accepted.
enum class SiretCheck { Ok, Format, SirenChecksum, SiretChecksum };

/// Checks a SIRET text as sent (already trimmed).
/// Production: exactly 14 ASCII digits; the SIREN (first 9 digits) passes Luhn; the 14 digits pass
/// Luhn, or the SIREN is 356000000 (La Poste) and the digit sum is a multiple of 5.
/// Qualification: exactly 14 ASCII digits only.
SiretCheck check_siret(std::string_view siret, Environment environment);

/// The SIRET_INVALIDE diagnostic for `siret` at `field_path` (message in French saying which check
/// failed), or nullopt when valid. A missing/empty field is SIRET_INVALIDE too (format).
std::optional<Diagnostic> validate_siret(const Field& siret, std::string_view field_path, Environment environment);

}  // namespace raccord::rules
