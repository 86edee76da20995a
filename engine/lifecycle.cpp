#include "engine/lifecycle.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

namespace raccord {
namespace {

using S = SheetState;
using E = SheetEvent;
using V = VersionEffect;

constexpr std::array<TransitionRow, 12> kTable{{
    // User actions (SPEC.md §3.3); the history's reason is the action's code.
    {std::nullopt, E::Enregistrer, S::Brouillon, V::NewPending, false, "enregistrer"},
    {S::Brouillon, E::Enregistrer, S::Brouillon, V::NewPending, false, "enregistrer"},
    {std::nullopt, E::Soumettre, S::Envoyee, V::NewPending, false, "soumettre"},
    {S::Brouillon, E::Soumettre, S::Envoyee, V::NewPending, false, "soumettre"},
    {S::Desactivee, E::Soumettre, S::Envoyee, V::NewPending, false, "soumettre"},
    {S::Activee, E::Soumettre, S::EnvoyeeMaj, V::NewPending, false, "soumettre"},
    {S::Brouillon, E::Supprimer, S::Brouillon, V::None, true, "supprimer : brouillon supprimé"},
    {S::Activee, E::Desactiver, S::Desactivee, V::None, false, "desactiver"},
    {S::EnvoyeeMaj, E::Desactiver, S::Desactivee, V::DropPending, false, "desactiver"},
    // Nightly run (SPEC.md §6); expirer's reason is its cause, found by the run.
    {S::Envoyee, E::Activer, S::Activee, V::PromotePending, false, "activation"},
    {S::EnvoyeeMaj, E::Activer, S::Activee, V::PromotePending, false, "activation de la mise à jour"},
    {S::Activee, E::Expirer, S::Desactivee, V::None, false, ""},
}};

using VS = VersionSource;

struct EffectRow {
  VersionEffect effect;
  VersionMove move;
};

/// Each effect once (the enumerators' order).
constexpr std::array<EffectRow, 4> kEffects{{
    {V::NewPending, {VS::Active, VS::Created}},
    {V::None, {VS::Active, VS::Pending}},
    {V::PromotePending, {VS::Pending, VS::Nothing}},
    {V::DropPending, {VS::Active, VS::Nothing}},
}};

std::optional<std::int64_t> source_value(VersionSource source, const SheetVersions& before,
                                         std::optional<std::int64_t> created) {
  switch (source) {
    case VS::Active:
      return before.active;
    case VS::Pending:
      return before.pending;
    case VS::Created:
      return created;
    case VS::Nothing:
      return std::nullopt;
  }
  throw std::logic_error("version source outside its enum");
}

}  // namespace

SheetEvent to_event(SheetAction action) {
  switch (action) {
    case SheetAction::Enregistrer:
      return E::Enregistrer;
    case SheetAction::Soumettre:
      return E::Soumettre;
    case SheetAction::Supprimer:
      return E::Supprimer;
    case SheetAction::Desactiver:
      return E::Desactiver;
  }
  throw std::logic_error("sheet action outside its enum");
}

VersionMove version_move(VersionEffect effect) {
  for (const auto& row : kEffects) {
    if (row.effect == effect) return row.move;
  }
  throw std::logic_error("version effect without a row");
}

bool creates_version(VersionEffect effect) {
  const VersionMove move = version_move(effect);
  return move.active == VS::Created || move.pending == VS::Created;
}

SheetVersions apply_version_effect(VersionEffect effect, const SheetVersions& before,
                                   std::optional<std::int64_t> created) {
  const VersionMove move = version_move(effect);
  return SheetVersions{source_value(move.active, before, created), source_value(move.pending, before, created)};
}

std::span<const TransitionRow> transition_table() {
  return kTable;
}

std::optional<TransitionRow> find_transition(std::optional<SheetState> from, SheetEvent event) {
  for (const auto& row : kTable) {
    if (row.from == from && row.event == event) return row;
  }
  return std::nullopt;
}

EventStep event_step(SheetEvent event) {
  std::optional<EventStep> step;
  for (const auto& row : kTable) {
    if (row.event != event || !row.from) continue;
    if (row.marks_deleted) {
      throw std::logic_error("event " + std::string(to_code(event)) + " marks a sheet deleted: not one step");
    }
    if (!step) {
      step = EventStep{{}, row.to, row.effect};
    } else if (row.to != step->to || row.effect != step->effect) {
      throw std::logic_error("event " + std::string(to_code(event)) + " leads to different states: not one step");
    }
    step->from.push_back(*row.from);
  }
  if (!step) throw std::logic_error("event " + std::string(to_code(event)) + " starts from no state");
  return *step;
}

bool awaits_activation(SheetState state) {
  static const EventStep activation = event_step(SheetEvent::Activer);
  return std::find(activation.from.begin(), activation.from.end(), state) != activation.from.end();
}

}  // namespace raccord
