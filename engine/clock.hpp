// The business clock (docs/reference.md §7 --now) and civil time in engine.timezone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/civil_date.hpp"

namespace raccord {

/// The business instant: fixed by --now / RACCORD_NOW, else the system clock (UTC, seconds).
/// Real-time waits (settle, rescans, retries) never use this clock.
class BusinessClock {
 public:
  explicit BusinessClock(std::optional<Instant> fixed = std::nullopt) : fixed_(fixed) {}
  Instant now() const;
  bool is_fixed() const { return fixed_.has_value(); }

 private:
  std::optional<Instant> fixed_;
};

/// Civil time in an IANA zone (tzdata through date::date-tz).
class CivilZone {
 public:
  /// Throws std::runtime_error (French message) for an unknown zone name.
  explicit CivilZone(const std::string& name);
  const std::string& name() const { return name_; }
  /// The civil date of `instant` in this zone.
  CivilDate date_of(Instant instant) const;
  /// "dd/mm/yyyy HH:MM:SS" local time, for human output.
  std::string format_local(Instant instant) const;
  /// The first instant at which local wall time is `date` `hh:mm`; for a wall time in a DST gap,
  /// the first instant after the gap; for an ambiguous time, the earlier (docs/reference.md §6).
  Instant instant_of(CivilDate date, int hh, int mm) const;

 private:
  std::string name_;
  const void* zone_ = nullptr;  // const date::time_zone*
};

/// Parses the business instant of --now / RACCORD_NOW (docs/reference.md §7): parse_iso_instant (ISO 8601,
/// in the business range once its offset is applied), and its civil date in `zone` a business
/// date too (9999-12-31T23:30:00Z is already 10000-01-01 in Europe/Paris: the dépôts of that
/// instant would be archived under archive/10000/). nullopt otherwise: the commands answer it as
/// a usage error (exit 2). The one place where a business instant is accepted
/// (docs/design.md "Business dates and instants").
std::optional<Instant> parse_business_instant(std::string_view text, const CivilZone& zone);

}  // namespace raccord
