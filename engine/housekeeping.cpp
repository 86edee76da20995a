#include "engine/housekeeping.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <system_error>

#include "engine/engine.hpp"
#include "engine/log.hpp"
#include "outbox/file_names.hpp"

namespace raccord {
namespace {

namespace fs = std::filesystem;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

CivilDate days_before(CivilDate today, int days) {
  return CivilDate{std::chrono::sys_days{today} - std::chrono::days{std::max(days, 0)}};
}

}  // namespace

bool is_expired(std::optional<CivilDate> named, int retention_days, const RetentionClock& clock) {
  return named && *named < days_before(clock.date_of(clock.now), retention_days);
}

HousekeepingResult clean_outbox(const fs::path& outbox_dir, int retention_days, const RetentionClock& clock) {
  HousekeepingResult result;
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (fs::directory_iterator it(outbox_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (!outbox::file_kind(name)) continue;
    std::error_code sec;
    if (!fs::is_regular_file(fs::symlink_status(p, sec))) continue;
    if (is_expired(outbox::file_date(name, clock.date_of), retention_days, clock)) doomed.push_back(p);
  }
  if (ec) result.failures.push_back(fmt::format("Lecture de {} impossible : {}", outbox_dir.string(), ec.message()));
  std::sort(doomed.begin(), doomed.end());
  for (const auto& p : doomed) {
    std::error_code rec;
    if (fs::remove(p, rec)) {
      result.removed.push_back(p);
    } else if (rec) {
      result.failures.push_back(fmt::format("Suppression de {} impossible : {}", p.string(), rec.message()));
    }
  }
  return result;
}

HousekeepingResult clean_archive(const fs::path& archive_dir, int retention_days, const RetentionClock& clock) {
  HousekeepingResult result;
  const CivilDate limit = days_before(clock.date_of(clock.now), retention_days);
  const auto real_dir = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(fs::symlink_status(p, ec));
  };
  const auto sorted_children = [&](const fs::path& dir, std::size_t digits) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      if (n.size() == digits && all_digits(n) && real_dir(it->path())) out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  // The configured folder is followed when it is a link (to other storage); links inside it never are.
  if (std::error_code ec; !fs::is_directory(archive_dir, ec)) return result;
  for (const auto& year : sorted_children(archive_dir, 4)) {
    for (const auto& month : sorted_children(year, 2)) {
      for (const auto& day : sorted_children(month, 2)) {
        const auto date = parse_iso_date(
            fmt::format("{}-{}-{}", year.filename().string(), month.filename().string(), day.filename().string()));
        if (!is_expired(date, retention_days, clock)) continue;
        std::error_code ec;
        fs::remove_all(day, ec);
        if (ec) {
          result.failures.push_back(fmt::format("Suppression de {} impossible : {}", day.string(), ec.message()));
        } else {
          result.removed.push_back(day);
        }
      }
      // A month (year) folder goes only when empty and wholly before the limit: an engine may be
      // creating the current day's folder right now.
      const auto last_day =
          parse_iso_date(fmt::format("{}-{}-01", year.filename().string(), month.filename().string()));
      std::error_code ec;
      if (last_day && CivilDate{last_day->year() / last_day->month() / std::chrono::last} < limit &&
          fs::is_empty(month, ec) && !ec) {
        fs::remove(month, ec);
      }
    }
    const auto first = parse_iso_date(year.filename().string() + "-12-31");
    std::error_code ec;
    if (first && *first < limit && fs::is_empty(year, ec) && !ec) fs::remove(year, ec);
  }
  return result;
}

HousekeepingResult run_housekeeping(Engine& engine) {
  const CivilZone& zone = engine.zone();
  const RetentionClock clock{engine.clock().now(), [&zone](Instant i) { return zone.date_of(i); }};
  // outbox/ and each sender account's outbox/NAME/ (its accusés and exports: docs/accounts.md); archive/ is
  // shared by every channel.
  HousekeepingResult result;
  const auto add = [&result](const HousekeepingResult& part) {
    result.removed.insert(result.removed.end(), part.removed.begin(), part.removed.end());
    result.failures.insert(result.failures.end(), part.failures.begin(), part.failures.end());
  };
  for (const Channel& channel : engine.channels()) {
    add(clean_outbox(channel.outbox.dir(), engine.config().outbox_retention_days, clock));
  }
  const std::size_t outbox_removed = result.removed.size();
  add(clean_archive(engine.inbox().archive_dir(), engine.config().archive_retention_days, clock));
  if (!result.removed.empty()) {
    log::info("ménage au {} : {} fichier(s) de la boîte de sortie, {} dossier(s) d'archive supprimés",
              format_iso_instant(clock.now), outbox_removed, result.removed.size() - outbox_removed);
  }
  for (const auto& f : result.failures) log::warning("ménage : {}", f);
  return result;
}

}  // namespace raccord
