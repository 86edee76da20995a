// Civil dates (YYYY-MM-DD in dépôts, dd/mm/yyyy for French display) and UTC instants.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace raccord {

using CivilDate = std::chrono::year_month_day;
using Instant = std::chrono::sys_seconds;  // a UTC instant, second precision

/// The business range (docs/design.md "Business dates and instants"): civil dates and UTC
/// instants of the years 1970 to 9999. Every date or instant the engine reads (command options,
/// RACCORD_NOW, dates inside dépôts) is in it, so that every name, folder and text it writes has
/// a four-digit year that reads back as the same instant (YYYYMMDDTHHMMSSZ, archive/YYYY/MM/DD).
inline constexpr CivilDate kFirstBusinessDate{std::chrono::year{1970}, std::chrono::January, std::chrono::day{1}};
inline constexpr CivilDate kLastBusinessDate{std::chrono::year{9999}, std::chrono::December, std::chrono::day{31}};

/// True when `date` is a valid date of the years 1970 to 9999.
bool is_business_date(CivilDate date);

/// True when `instant`, in UTC, is in the years 1970 to 9999 (1970-01-01T00:00:00Z to
/// 9999-12-31T23:59:59Z).
bool is_business_instant(Instant instant);

/// Parses exactly "YYYY-MM-DD" (docs/reference.md §3) into a valid civil date of the business range;
/// nullopt for anything else (wrong shape, 2026-02-30, signs, spaces, a year before 1970).
std::optional<CivilDate> parse_iso_date(std::string_view text);

/// "YYYY-MM-DD".
std::string format_iso_date(CivilDate date);

/// "dd/mm/yyyy" (docs/reference.md §5.2, French display).
std::string format_french_date(CivilDate date);

/// Parses an ISO 8601 UTC instant: "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DDTHH:MM:SS+HH:MM",
/// "YYYY-MM-DDTHH:MM:SS" (taken as UTC) or "YYYY-MM-DD" (midnight UTC). nullopt when invalid,
/// and when the instant, once its offset is applied, is outside the business range (as
/// 9999-12-31T23:59:59-01:00, which is 10000-01-01T00:59:59Z).
std::optional<Instant> parse_iso_instant(std::string_view text);

/// "YYYY-MM-DDTHH:MM:SSZ".
std::string format_iso_instant(Instant instant);

/// "YYYYMMDDTHHMMSSZ", as in accusé and export file names (docs/reference.md §5.1).
std::string format_compact_instant(Instant instant);

}  // namespace raccord
