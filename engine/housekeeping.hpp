// Outbox and archive housekeeping at the nightly run (docs/reference.md §7 outbox.retention_days,
// archive.retention_days; issue 5). Ages count from the run's business instant (--now, else the
// clock), never from the date D given to the run, by the date each name carries (docs/design.md
// "Retention").
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/civil_date.hpp"

namespace raccord {

class Engine;

struct HousekeepingResult {
  std::vector<std::filesystem::path> removed;  // files or archive day folders, in the order removed
  std::vector<std::string> failures;           // French, one per entry that could not be removed
};

/// What ages are measured against.
struct RetentionClock {
  Instant now;  // the business instant of the run (BusinessClock: --now / RACCORD_NOW, else the clock)
  std::function<CivilDate(Instant)> date_of;  // civil dates (engine.timezone)
};

/// True when an entry may go: its business date `named` (from its name: the accusé's instant, the
/// report's date, the archive day) is more than `retention_days` days before the business today
/// of the run (date_of(now)), never before a date given to the run (docs/design.md "Retention").
/// A negative retention counts as 0; today's entries, later ones and those without a date never go.
bool is_expired(std::optional<CivilDate> named, int retention_days, const RetentionClock& clock);

/// Removes from `outbox_dir` (not recursively; the folder itself may be a symbolic link) every
/// regular file (a symbolic link inside is never followed nor removed) of an outbox kind
/// (outbox::file_kind) that is_expired by the date in its name. A name with no readable date in the
/// business range (outbox::file_date) is kept. Failures are collected, never thrown.
HousekeepingResult clean_outbox(const std::filesystem::path& outbox_dir, int retention_days,
                                const RetentionClock& clock);

/// Removes from `archive_dir` (itself possibly a symbolic link to other storage: followed) every
/// day folder YYYY/MM/DD (digits, a valid business date, real directories: a link found inside
/// archive/ is never followed nor removed) that is_expired by its date, with its
/// content (links inside are removed, never followed), then the month and year folders left empty
/// and wholly before the limit. Anything else under archive/ is left alone; error/ is never touched.
HousekeepingResult clean_archive(const std::filesystem::path& archive_dir, int retention_days,
                                 const RetentionClock& clock);

/// The nightly run's housekeeping, at the engine's business instant:
/// clean_outbox (outbox.retention_days, dates in engine.timezone) of outbox/ and of each sender account's
/// outbox/NAME/ (docs/accounts.md), then clean_archive (archive.retention_days) under paths.root. Logs what was removed
/// and each failure (warnings); never throws for a file that cannot be removed.
HousekeepingResult run_housekeeping(Engine& engine);

}  // namespace raccord
