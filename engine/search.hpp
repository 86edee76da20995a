// The search of SPEC.md §3.4 / §5.2, limited to what the requester may consult.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "domain/search.hpp"
#include "engine/clock.hpp"
#include "engine/database.hpp"

namespace raccord {

/// The state a search criterion names (SPEC.md §7 `--etat`): a state code ("ACTIVEE",
/// "ENVOYEE_MAJ") or label ("Activée", "Envoyée MAJ"), accents and case ignored, '_' and ' ' alike
/// ("activee", "ACTIVÉE", "envoyee maj", "Envoyée_MAJ"). nullopt when it names no state.
std::optional<SheetState> parse_state_criterion(std::string_view text);

/// The type of a search whose request gave none (SPEC.md §3.4): when `criteria.code_appli` names a
/// sheet `requester` may consult (the rule of search_sheets; deleted drafts never), that sheet's type
/// (an API code finds its API sheet without `type="API"`); else EDI. Throws StoreError.
SheetKind search_kind_of_code(Database& db, const SearchCriteria& criteria, const std::string& requester);

/// Calls `visit` for every row matching `criteria` that `requester` may consult, in the order
/// partner, codeAppli, interface code. A support user consults everything; another user the
/// structures where they are gestionnaire of an active space or hold a validated subscription
/// (Consultation, or Modification which implies it); an unknown user nothing. Deleted drafts never
/// appear. The content shown is the sheet's latest version (the pending one when there is one).
/// `raison_sociale` keeps the rows whose partner's name contains it, accents and case ignored
/// (domain/text_fold.hpp contains_folded).
/// Submission dates are compared as civil dates in `zone`. Rows are streamed (Database::for_each_row):
/// `visit` is called as they are read, so memory does not grow with the result (issue 7); it must not
/// begin or end a transaction on `db`. Throws StoreError; an exception from `visit` propagates.
void search_sheets(Database& db, const CivilZone& zone, const SearchCriteria& criteria, const std::string& requester,
                   const std::function<void(const SearchRow&)>& visit);

/// Writes the export of a search to `outbox_dir` (name per SPEC.md §5.2, "_2", "_3"... when taken
/// in outbox/ or recorded in the store's exports), atomically, at once (`raccord search --export`).
/// Returns the file name. Throws StoreError / std::system_error.
std::string write_export(Database& db, const CivilZone& zone, const SearchCriteria& criteria,
                         const std::string& requester, ExportFormat format, const std::string& reference, Instant at,
                         const std::filesystem::path& outbox_dir);

/// The exports of the Recherche operations of one transaction attempt, and the one owner of their
/// temporaries (docs/design.md "Exports"): each is written to a temporary in outbox/ (fsynced) while
/// the transaction reads the store, recorded with its dépôt (Store::insert_export), and renamed to its
/// name only after the commit (publish_export). The temporaries not kept by keep_committed() are
/// removed when this object is destroyed: those of operations rolled back and of attempts that did
/// not commit.
class StagedExports {
 public:
  explicit StagedExports(std::filesystem::path outbox_dir);
  ~StagedExports();
  StagedExports(const StagedExports&) = delete;
  StagedExports& operator=(const StagedExports&) = delete;

  /// Writes the export of a search (as write_export) to a temporary and returns its final name,
  /// chosen free: not in outbox/, not recorded in the store, not staged here already. Throws
  /// StoreError / std::system_error (nothing left behind for this export).
  std::string stage(Database& db, const CivilZone& zone, const SearchCriteria& criteria, const std::string& requester,
                    ExportFormat format, const std::string& reference, Instant at);
  /// The temporary (file name in outbox/) of staged export `name`; throws std::out_of_range when
  /// `name` was not staged here.
  const std::string& temporary_of(const std::string& name) const;
  /// The temporary of staged export `name`, or nullopt when `name` was not staged here.
  std::optional<std::string> find_temporary(const std::string& name) const;
  /// After the commit: the temporaries of `committed` are recorded and no longer removed here.
  void keep_committed(const std::vector<std::string>& committed);

 private:
  std::filesystem::path outbox_dir_;
  std::vector<std::pair<std::string, std::string>> staged_;  // (name, temporary)
};

/// Publishes a recorded export after its dépôt's commit: renames its temporary to its name in
/// `outbox_dir` without replacing. Nothing to do when the name is already there (published before a
/// crash; a temporary left is then removed). Returns false when neither the export nor its temporary
/// is there (lost: the caller logs it). Throws std::system_error.
bool publish_export(const std::filesystem::path& outbox_dir, const std::string& name, const std::string& temporary);

}  // namespace raccord
