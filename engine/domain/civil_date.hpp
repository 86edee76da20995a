// Civil dates (YYYY-MM-DD in dépôts, dd/mm/yyyy for French display) and UTC instants.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace raccord {

using CivilDate = std::chrono::year_month_day;
using Instant = std::chrono::sys_seconds;  // a UTC instant, second precision

/// Parses exactly "YYYY-MM-DD" (SPEC.md §3) into a valid civil date; nullopt for anything else
/// (wrong shape, 2026-02-30, signs, spaces).
std::optional<CivilDate> parse_iso_date(std::string_view text);

/// "YYYY-MM-DD".
std::string format_iso_date(CivilDate date);

/// "dd/mm/yyyy" (SPEC.md §5.2, French display).
std::string format_french_date(CivilDate date);

/// Parses an ISO 8601 UTC instant: "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DDTHH:MM:SS+HH:MM",
/// "YYYY-MM-DDTHH:MM:SS" (taken as UTC) or "YYYY-MM-DD" (midnight UTC). nullopt when invalid.
std::optional<Instant> parse_iso_instant(std::string_view text);

/// "YYYY-MM-DDTHH:MM:SSZ".
std::string format_iso_instant(Instant instant);

/// "YYYYMMDDTHHMMSSZ", as in accusé and export file names (SPEC.md §5.1).
std::string format_compact_instant(Instant instant);

}  // namespace raccord
