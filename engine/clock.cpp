#include "engine/clock.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <stdexcept>

namespace raccord {
namespace {
const date::time_zone* as_zone(const void* p) {
  return static_cast<const date::time_zone*>(p);
}
}  // namespace

Instant BusinessClock::now() const {
  if (fixed_) return *fixed_;
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

CivilZone::CivilZone(const std::string& name) : name_(name) {
  try {
    zone_ = date::locate_zone(name);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("Fuseau horaire inconnu : « {} » ({}).", name, e.what()));
  }
}

CivilDate CivilZone::date_of(Instant instant) const {
  const auto local = as_zone(zone_)->to_local(instant);
  return CivilDate{std::chrono::floor<std::chrono::days>(
      std::chrono::sys_days{} + (std::chrono::floor<std::chrono::days>(local).time_since_epoch()))};
}

std::string CivilZone::format_local(Instant instant) const {
  const auto local = as_zone(zone_)->to_local(instant);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const CivilDate date{std::chrono::sys_days{day.time_since_epoch()}};
  const std::chrono::hh_mm_ss t{local - day};
  return fmt::format("{} {:02}:{:02}:{:02}", format_french_date(date), t.hours().count(), t.minutes().count(),
                     t.seconds().count());
}

Instant CivilZone::instant_of(CivilDate date, int hh, int mm) const {
  const auto local =
      date::local_days{date::year{static_cast<int>(date.year())} / date::month{static_cast<unsigned>(date.month())} /
                       date::day{static_cast<unsigned>(date.day())}} +
      std::chrono::hours{hh} + std::chrono::minutes{mm};
  const auto info = as_zone(zone_)->get_info(date::local_seconds{local});
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:  // the earlier of the two instants (info.first)
      return Instant{(local - info.first.offset).time_since_epoch()};
    case date::local_info::nonexistent:
      return Instant{info.second.begin.time_since_epoch()};
  }
  return Instant{(local - info.first.offset).time_since_epoch()};
}

std::optional<Instant> parse_business_instant(std::string_view text, const CivilZone& zone) {
  const auto instant = parse_iso_instant(text);
  if (!instant || !is_business_date(zone.date_of(*instant))) return std::nullopt;
  return instant;
}

}  // namespace raccord
