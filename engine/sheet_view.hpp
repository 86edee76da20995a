// One connection sheet as the support team sees it (docs/reference.md §7 `raccord show`): identity, current
// state, the activated and the pending versions with their content, and the whole history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/civil_date.hpp"
#include "domain/sheet_state.hpp"
#include "domain/vocabulary.hpp"
#include "engine/blocks.hpp"
#include "engine/database.hpp"

namespace raccord {

/// One interface code of a version, with its mode de traitement as stored ("aucun", "complete",
/// "partielle").
struct InterfaceView {
  std::string code;
  std::string mode;
};

/// One certificate of a version's bundles, as its facts were stored at submission.
struct CertificateView {
  int bundle_index = 0;     // rank of the <Certificat> bundle it came from, from 1 (Certificat[1])
  std::string bundle_name;  // the bundle's `nom` ("" when absent)
  std::string subject;
  std::string issuer;
  std::string serial;  // hex, as stored
  Instant not_before{};
  Instant not_after{};  // the end date shown to users
  bool is_leaf = false;
  bool is_ca = false;
};

/// One stored version of the sheet's content (docs/reference.md §3.3).
struct VersionView {
  std::int64_t id = 0;      // the store's own id (global sequence): never shown as the version's number
  std::int64_t number = 0;  // the version's number within its sheet: 1, 2, … in the order they were stored
  SheetAction action = SheetAction::Soumettre;  // the action that stored it: enregistrer or soumettre
  std::string protocol;                         // EDI: "PESIT", "SFTP", "AS2" ("" when absent); API: ""
  std::optional<CivilDate> period_from;
  std::optional<CivilDate> period_to;  // nullopt: open-ended (or absent)
  std::string contact_name, contact_phone, contact_email, contact_fax;
  std::string network_identifier, network_address, network_port, network_path;  // AS2
  std::string comments;
  Instant created_at{};
  std::string created_by;
  std::vector<InterfaceView> interfaces;      // in the dépôt's order
  std::vector<CertificateView> certificates;  // bundle order, then order in the bundle
};

/// One transition of the sheet's history (docs/reference.md §6 last paragraph).
struct HistoryEntryView {
  Instant instant{};
  std::string actor;               // login, or "nightly"
  std::optional<SheetState> from;  // nullopt at creation
  SheetState to = SheetState::Brouillon;
  std::string reason;
};

/// What a sheet waiting for activation (ENVOYEE, ENVOYEE_MAJ; not deleted) waits for (docs/reference.md §7
/// `show`; issue 18: "why is VFE2008 not activated?"): either the nightly run of its `du` (or the next
/// one: API sheets, a du already reached), or the end of its current block (engine/blocks.hpp).
struct WaitingView {
  std::optional<CivilDate> du;        // not blocked: the pending version's du (EDI); nullopt for API
  std::optional<CurrentBlock> block;  // blocked: since when, and its codes, fields and messages
};

/// A sheet with everything `raccord show` prints.
struct SheetView {
  std::string code_appli;
  SheetKind kind = SheetKind::Edi;
  std::string partner_siret;
  std::string raison_sociale;  // of the partner structure
  SheetState state = SheetState::Brouillon;
  bool deleted = false;  // a deleted draft (docs/reference.md §3.3 `supprimer`): still shown to support
  std::optional<Instant> submitted_at;
  Instant created_at{};
  Instant updated_at{};
  std::optional<VersionView> active;      // the version in force (ACTIVEE, ENVOYEE_MAJ, DESACTIVEE)
  std::optional<VersionView> pending;     // the draft or the submitted content awaiting activation
  std::vector<HistoryEntryView> history;  // in recording order (oldest first)
  std::optional<WaitingView> waiting;     // ENVOYEE / ENVOYEE_MAJ sheets, not deleted
};

/// Loads the sheet `code_appli` (exact, case-sensitive) with its versions and whole history, deleted
/// drafts included. Returns nullopt for an unknown code. Read-only; needs no transaction.
/// Throws StoreError on the store's own failures, and naming the row for a stored state, kind or
/// action that is not a known code (docs/design.md "Stored values are never defaulted").
std::optional<SheetView> load_sheet_view(Database& db, const std::string& code_appli);

}  // namespace raccord
