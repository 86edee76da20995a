// Outbox and archive housekeeping at the nightly run (SPEC.md §7 outbox.retention_days,
// archive.retention_days; issue 5). Dates are business dates: the run's date D, never the wall clock.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/civil_date.hpp"

namespace raccord {

class Engine;

/// The kinds of outbox files housekeeping may remove.
enum class OutboxFileKind { Accuse, Export, Report };

/// The kind of an outbox file name, or nullopt for any other name (metrics.prom, temporaries
/// ".…", files of another kind, which are never removed):
///   ACK_<stem>_<YYYYMMDDTHHMMSSZ>[_N].xml                    Accuse  (SPEC.md §5.1)
///   EXPORT_<EDI|API>_<reference>_<YYYYMMDDTHHMMSSZ>[_N].csv|.xml   Export  (§5.2)
///   NIGHTLY_<YYYY-MM-DD>.xml|.csv|.html                       Report  (§5.3, issue 5)
/// A name with the right prefix and extension but no readable date is still of its kind (its
/// date then comes from the file's mtime).
std::optional<OutboxFileKind> outbox_file_kind(std::string_view name);

/// The date in an outbox file name: NIGHTLY_ → its YYYY-MM-DD; ACK_/EXPORT_ → the civil date, by
/// `date_of`, of the UTC instant YYYYMMDDTHHMMSSZ (the last one in the name). nullopt when the
/// name holds none (or is not an outbox file).
std::optional<CivilDate> outbox_file_date(std::string_view name, const std::function<CivilDate(Instant)>& date_of);

struct HousekeepingResult {
  std::vector<std::filesystem::path> removed;  // files or archive day folders, in the order removed
  std::vector<std::string> failures;           // French, one per entry that could not be removed
};

/// Removes from `outbox_dir` (not recursively) every regular file (symlinks never followed) of an
/// outbox kind whose date (from its name, else its mtime by `date_of`) is more than
/// `retention_days` days before `today`: date < today - retention_days. The current day's files
/// and later ones are never removed (also with retention 0; a negative retention counts as 0).
/// Failures are collected, never thrown.
HousekeepingResult clean_outbox(const std::filesystem::path& outbox_dir, CivilDate today, int retention_days,
                                const std::function<CivilDate(Instant)>& date_of);

/// Removes from `archive_dir` every day folder YYYY/MM/DD (digits, a valid date, real directories)
/// whose date is more than `retention_days` before `today`, with its content, then the month and
/// year folders left empty. Anything else under archive/ is left alone; error/ is never touched.
HousekeepingResult clean_archive(const std::filesystem::path& archive_dir, CivilDate today, int retention_days);

/// The nightly run's housekeeping for business date `date`: clean_outbox (outbox.retention_days,
/// dates in engine.timezone) then clean_archive (archive.retention_days) under paths.root. Logs
/// what was removed and each failure (warnings); never throws for a file that cannot be removed.
HousekeepingResult run_housekeeping(Engine& engine, CivilDate date);

}  // namespace raccord
