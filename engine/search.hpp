// The search of docs/reference.md §3.4 / §5.2, limited to what the requester may consult.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "domain/search.hpp"
#include "engine/clock.hpp"
#include "engine/database.hpp"
#include "outbox/export_files.hpp"

namespace raccord {

/// The state a search criterion names (docs/reference.md §7 `--etat`): a state code ("ACTIVEE",
/// "ENVOYEE_MAJ") or label ("Activée", "Envoyée MAJ"), accents and case ignored, '_' and ' ' alike
/// ("activee", "ACTIVÉE", "envoyee maj", "Envoyée_MAJ"). nullopt when it names no state.
std::optional<SheetState> parse_state_criterion(std::string_view text);

/// The type of a search whose request gave none (docs/reference.md §3.4): when `criteria.code_appli` names a
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

/// Writes the export of a search to `outbox_dir` at once (`raccord search --export`;
/// outbox::write_export: name per docs/reference.md §5.2, "_2", "_3"... when taken in outbox/ or recorded in the
/// store's exports; a store that predates the exports table records none). Returns the file name.
/// Throws StoreError / std::system_error.
std::string write_export(Database& db, const CivilZone& zone, const SearchCriteria& criteria,
                         const std::string& requester, ExportFormat format, const std::string& reference, Instant at,
                         const std::filesystem::path& outbox_dir);

/// Stages the export of a Recherche in `staged` (outbox::StagedExports::stage, docs/design.md
/// "Exports") inside the caller's transaction: its rows are those `requester` may consult as the
/// transaction sees them, its name is free of the exports recorded in the store. Returns its name.
/// Throws StoreError / std::system_error (nothing left behind for this export).
std::string stage_export(outbox::StagedExports& staged, Database& db, const CivilZone& zone,
                         const SearchCriteria& criteria, const std::string& requester, ExportFormat format,
                         const std::string& reference, Instant at);

}  // namespace raccord
