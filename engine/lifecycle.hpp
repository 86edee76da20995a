// The one transition table of a sheet's life (docs/design.md "Lifecycle as one table"; docs/reference.md §3.3,
// §6). Every state change, by a user or by the nightly run, goes through it: the processor asks
// find_transition, the nightly run asks event_step for the states its set-based statements start
// from and for what they write, and both apply a version effect as version_move defines it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/enum_table.hpp"
#include "domain/sheet_state.hpp"
#include "domain/vocabulary.hpp"

namespace raccord {

/// What happens to a sheet: the four user actions of docs/reference.md §3.3 and the two nightly events of §6.
enum class SheetEvent { Enregistrer, Soumettre, Supprimer, Desactiver, Activer, Expirer };

template <>
struct EnumTable<SheetEvent> {
  static constexpr std::array<EnumRow<SheetEvent>, 6> kRows{{
      {SheetEvent::Enregistrer, "enregistrer"},
      {SheetEvent::Soumettre, "soumettre"},
      {SheetEvent::Supprimer, "supprimer"},
      {SheetEvent::Desactiver, "desactiver"},
      {SheetEvent::Activer, "activer"},
      {SheetEvent::Expirer, "expirer"},
  }};
};

/// The event of a user action (the same code).
SheetEvent to_event(SheetAction action);

/// What a transition does to the sheet's versions (version_move says how).
enum class VersionEffect {
  NewPending,      // the content sent becomes the pending version (active one untouched)
  None,            // content untouched
  PromotePending,  // the pending version becomes the active one (nightly activation)
  DropPending,     // the pending version is discarded (deactivation of an ENVOYEE_MAJ)
};

/// Where one of a sheet's two version slots takes its value from in a transition.
enum class VersionSource {
  Active,   // the active version before the transition
  Pending,  // the pending version before the transition
  Created,  // the version the transition stores (the content sent)
  Nothing,  // no version
};

/// The one definition of a version effect: the source of each slot, all read before any is written
/// (as in one SQL UPDATE).
struct VersionMove {
  VersionSource active;
  VersionSource pending;
};

VersionMove version_move(VersionEffect effect);

/// True when `effect` stores the content sent as a new version (a source is Created).
bool creates_version(VersionEffect effect);

/// A sheet's version ids (nullopt: none).
struct SheetVersions {
  std::optional<std::int64_t> active;
  std::optional<std::int64_t> pending;
};

/// `before` after `effect` (version_move); `created` is the version the transition stored, read only
/// when creates_version(effect).
SheetVersions apply_version_effect(VersionEffect effect, const SheetVersions& before,
                                   std::optional<std::int64_t> created);

struct TransitionRow {
  std::optional<SheetState> from;  // nullopt: the sheet does not exist yet
  SheetEvent event;
  SheetState to;
  VersionEffect effect;
  bool marks_deleted;            // supprimer: removed from searches, history kept
  std::string_view reason;       // the history's reason; empty: the caller names the cause (expirer)
  std::string_view description;  // for people (docs/reference.md §3.3, generated): when it happens, in English
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

/// The French message of TRANSITION_INTERDITE (docs/reference.md §3.3) for `action` refused on sheet
/// `code_appli` in state `from`: what was refused, then what is possible from that state, derived
/// from the table — each allowed user action with the state it leads to ("Actions possibles à l'état
/// Brouillon : « enregistrer » (...), « soumettre » (...) ou « supprimer » (...)."); for a state that
/// allows none (ENVOYEE), that the sheet waits for the nightly run, the state it then reaches and
/// the actions possible there. `from` nullopt: a sheet that does not exist (code_appli ignored).
std::string forbidden_transition_message(SheetAction action, std::optional<SheetState> from,
                                         std::string_view code_appli);
/// An event applied to a set of existing sheets at once (the nightly run's activer and expirer): the
/// states its rows start from, in table order, and the state and version effect they all lead to.
struct EventStep {
  std::vector<SheetState> from;
  SheetState to;
  VersionEffect effect;
};

/// The rows of `event` as one step. Throws std::logic_error when `event` has no row from an
/// existing sheet, or when its rows lead to different states or effects or mark a sheet deleted (a
/// table one set-based statement could not follow).
EventStep event_step(SheetEvent event);

/// True when `state` awaits the nightly activation (a state activer starts from: ENVOYEE,
/// ENVOYEE_MAJ); entering it records the submission instant.
bool awaits_activation(SheetState state);

}  // namespace raccord
