// The export files of searches in outbox/ (docs/reference.md §5.2, docs/design.md "Exports"): their names,
// written at once (`raccord search --export`) or staged under a temporary name inside a dépôt's
// transaction and published after its commit (Outbox::publish_export). The rows come from the
// caller (engine/search.hpp reads the store); outbox/ names, writes and removes the files.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/civil_date.hpp"
#include "domain/search.hpp"
#include "domain/vocabulary.hpp"
#include "outbox/outbox.hpp"

namespace raccord::outbox {

/// What an export file is made of, besides its rows.
struct ExportRequest {
  SheetKind kind = SheetKind::Edi;
  ExportFormat format = ExportFormat::Csv;
  std::string reference;  // the Recherche's reference (export_base_name cleans it)
  Instant at{};           // the instant in its name and its XML "genere"
};

/// Streams the rows of an export: calls `row` once per row, in the file's order. May throw (the
/// file is then not created).
using RowSource = std::function<void(const std::function<void(const SearchRow&)>& row)>;

/// Writes the export of `request` with the rows of `rows` to `outbox_dir`, at once and atomically:
/// named export_base_name + ".csv"/".xml", else "_2", "_3"... when the name is in the folder or
/// `recorded` (the exports the store holds; may be empty). Returns the file name. Throws
/// std::system_error, and whatever `rows` or `recorded` throws (nothing is then left behind).
std::string write_export(const std::filesystem::path& outbox_dir, const ExportRequest& request,
                         const NameTaken& recorded, const RowSource& rows);

/// The exports of the Recherches of the dépôts of one group, the one owner of their temporaries
/// across the group's transaction attempts (docs/design.md "Exports"). Each is written to a temporary
/// in outbox/ (fsynced) while the transaction reads the store, recorded by the caller with its dépôt,
/// and renamed to its name only after the commit (Outbox::publish_export). The caller tells what
/// happens to the transaction; no export outlives an attempt that does not commit:
///   - stage()             during an attempt: a new temporary, "staged";
///   - discard_staged()    the attempt ended without its staged temporaries being committed (rolled
///                         back; operations rolled back inside a committed attempt): they are removed;
///   - committing(names)   just before COMMIT: those temporaries belong to the dépôts being
///                         committed and are no longer "staged" but "committing";
///   - settle(committed)   COMMIT's outcome is known (true: the store names them, the caller publishes
///                         them from its records; false: they are removed);
///   - settle(recorded)    COMMIT's outcome was lost and the store is asked per temporary.
/// On destruction the staged temporaries are removed; the committing ones stay (their COMMIT's
/// outcome is unknown: the start-up recovery publishes or removes them from the store's records).
class StagedExports {
 public:
  explicit StagedExports(std::filesystem::path outbox_dir);
  ~StagedExports();
  StagedExports(const StagedExports&) = delete;
  StagedExports& operator=(const StagedExports&) = delete;

  /// Writes the export of `request` with the rows of `rows` (as write_export) to a temporary and
  /// returns its final name, chosen free: not in outbox/, not `recorded`, not staged nor committing
  /// here. Throws std::system_error, and whatever `rows` or `recorded` throws (nothing left behind
  /// for this export).
  std::string stage(const ExportRequest& request, const NameTaken& recorded, const RowSource& rows);

  /// The temporary (file name in outbox/) of export `name` staged here; throws std::out_of_range
  /// when `name` is not staged here.
  const std::string& temporary_of(const std::string& name) const;

  /// Removes the staged temporaries (never the committing ones).
  void discard_staged();

  /// The staged exports among `names` become committing (names not staged here are ignored: the
  /// exports of dépôts answered from their records).
  void committing(const std::vector<std::string>& names);

  /// COMMIT's outcome is known: when `committed`, the committing temporaries are left to the caller
  /// (who publishes them); else they are removed.
  void settle(bool committed);

  /// COMMIT's outcome was lost: each committing temporary that `recorded` (the store's exports, by
  /// temporary) names is left to the caller, the others are removed.
  void settle(const std::function<bool(const std::string& temporary)>& recorded);

 private:
  enum class State { Staged, Committing };
  struct Entry {
    std::string name;
    std::string temporary;
    State state;
  };
  void remove_if(const std::function<bool(const Entry&)>& doomed);

  std::filesystem::path outbox_dir_;
  std::vector<Entry> entries_;
};

}  // namespace raccord::outbox
