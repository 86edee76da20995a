// Business dates and instants written in the tests (docs/reference.md §2: instants are UTC, second precision;
// civil dates are ISO 8601 "YYYY-MM-DD"). A bad text is a mistake in the test: a GoogleTest failure.
#pragma once

#include <string_view>

#include "domain/civil_date.hpp"

namespace raccord::testing {

/// The UTC instant Y-MO-D H:MI:S (no validation; e.g. utc(2026, 11, 29, 22, 10, 4)).
Instant utc(int y, unsigned mo, unsigned d, int h, int mi, int s);

/// The UTC instant of an ISO 8601 text ("2026-11-29T10:00:00Z"); ADD_FAILURE and the epoch on a bad text.
Instant instant(std::string_view iso);

/// The civil date of "YYYY-MM-DD"; ADD_FAILURE and a default CivilDate on a bad text.
CivilDate civil_date(std::string_view iso);

}  // namespace raccord::testing
