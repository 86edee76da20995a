// The outbox folder (docs/reference.md §2 outbox/, "Atomic outputs"): the one writer of what appears there —
// accusés (named free, written after their commit), exports published after it, nightly reports,
// metrics.prom — and the start-up recovery of its temporaries. Rendering is done beside it
// (acknowledgement_writer, export_writer, nightly_report_*, metrics_writer); the store's decisions
// (what is recorded, what committed) come from the caller as predicates (outbox/ never sees the store).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "domain/civil_date.hpp"

namespace raccord::outbox {

/// Tells whether a file name is taken elsewhere than in the folder (recorded in the store, reserved
/// by the same transaction...).
using NameTaken = std::function<bool(const std::string& name)>;

class Outbox {
 public:
  /// The folder `dir` (it may be a symbolic link to other storage; it is not created here).
  explicit Outbox(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }

  /// The accusé name of dépôt file `deposit_file_name` processed at `processed` (docs/reference.md §5.1):
  /// acknowledgement_base_name + ".xml", else "_2.xml", "_3.xml"... (files::free_name): the first
  /// that is neither in the folder nor `recorded` (the names of the accusés the store holds, some not
  /// written yet). Only chooses; write_acknowledgements creates without replacing. Throws
  /// std::system_error when the folder cannot be read, and whatever `recorded` throws.
  std::string acknowledgement_name(std::string_view deposit_file_name, Instant processed,
                                   const NameTaken& recorded) const;

  /// Writes accusés (name, XML) after their dépôts' commit (files::create_files_atomically: one
  /// filesystem sync for them all, each appearing whole, none replacing a file, the folder fsynced
  /// once). An accusé already there (written before a crash) stays: false at its place in the
  /// result. Throws std::system_error.
  std::vector<bool> write_acknowledgements(const std::vector<std::pair<std::string, std::string>>& accuses) const;

  /// Publishes an export after its dépôt's commit: renames its temporary `temporary` (a name in the
  /// folder, written by StagedExports) to `name` without replacing. Nothing to do when `name` is
  /// already there (published before a crash; a temporary left is then removed). Returns false when
  /// neither the export nor its temporary is there (lost: the caller reports it). Throws
  /// std::system_error.
  bool publish_export(const std::string& name, const std::string& temporary) const;

  /// The temporaries (files::detail::temporary_name) of dead processes of this host in the folder,
  /// regular files only, for the start-up recovery (docs/reference.md §2 "Atomic outputs"). Never those of live
  /// processes nor of other hosts (whose processes cannot be checked). `error` is set when the folder
  /// could not be read (the names read before are returned).
  std::vector<std::string> dead_temporaries(std::error_code& error) const;

  /// Removes temporary `temporary` from the folder (best effort: a temporary that cannot be removed
  /// is harmless, hidden and never read).
  void remove_temporary(const std::string& temporary) const;

  /// Writes the nightly report file of `date` with `extension` ("xml", "csv", "html";
  /// nightly_report_name) atomically, replacing the one there (docs/reference.md §5.3: a rerun rewrites it).
  /// Throws std::system_error.
  void write_report(CivilDate date, std::string_view extension, std::string_view content) const;

  /// True when the nightly report file of `date` with `extension` is in the folder.
  bool has_report(CivilDate date, std::string_view extension) const;

  /// Writes metrics.prom (kMetricsFileName, docs/reference.md §5.4) atomically, replacing the one there,
  /// not durably (files::replace_file: the next group rewrites it; docs/design.md "Group commit").
  /// Throws std::system_error.
  void write_metrics(std::string_view text) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace raccord::outbox
