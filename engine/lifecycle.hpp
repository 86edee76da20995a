// The one transition table of a sheet's life (DESIGN.md "Lifecycle as one table"; SPEC.md §3.3, §6).
// Every state change, by a user or by the nightly run, goes through find_transition.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/sheet_state.hpp"
#include "domain/vocabulary.hpp"

namespace raccord {

/// What happens to a sheet: the four user actions of SPEC.md §3.3 and the two nightly events of §6.
enum class SheetEvent { Enregistrer, Soumettre, Supprimer, Desactiver, Activer, Expirer };

std::string_view to_code(SheetEvent event);
SheetEvent to_event(SheetAction action);

/// What a transition does to the sheet's versions.
enum class VersionEffect {
  NewPending,      // the content sent becomes the pending version (active one untouched)
  None,            // content untouched
  PromotePending,  // the pending version becomes the active one (nightly activation)
  DropPending,     // the pending version is discarded (deactivation of an ENVOYEE_MAJ)
};

struct TransitionRow {
  std::optional<SheetState> from;  // nullopt: the sheet does not exist yet
  SheetEvent event;
  SheetState to;
  VersionEffect effect;
  bool marks_deleted;  // supprimer: removed from searches, history kept
};

/// The whole table, row by row.
std::span<const TransitionRow> transition_table();

/// The row for (`from`, `event`), or nullopt when the pair is not allowed (TRANSITION_INTERDITE).
std::optional<TransitionRow> find_transition(std::optional<SheetState> from, SheetEvent event);

/// True for the four user actions (enregistrer, soumettre, supprimer, desactiver), false for the
/// nightly run's events (activer, expirer).
bool is_user_event(SheetEvent event);

/// The rows a user action may take from `from` (nullopt: no sheet yet), in table order.
std::vector<TransitionRow> user_transitions(std::optional<SheetState> from);

/// The French message of TRANSITION_INTERDITE (SPEC.md §3.3) for `action` refused on sheet
/// `code_appli` in state `from`: what was refused, then what is possible from that state, derived
/// from the table — each allowed user action with the state it leads to ("Actions possibles à l'état
/// Brouillon : « enregistrer » (...), « soumettre » (...) ou « supprimer » (...)."); for a state that
/// allows none (ENVOYEE), that the sheet waits for the nightly run, the state it then reaches and
/// the actions possible there. `from` nullopt: a sheet that does not exist (code_appli ignored).
std::string forbidden_transition_message(SheetAction action, std::optional<SheetState> from,
                                         std::string_view code_appli);

}  // namespace raccord
