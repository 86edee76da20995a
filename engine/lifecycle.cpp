#include "engine/lifecycle.hpp"

#include <array>

namespace raccord {
namespace {

using S = SheetState;
using E = SheetEvent;
using V = VersionEffect;

constexpr std::array<TransitionRow, 12> kTable{{
    // User actions (SPEC.md §3.3).
    {std::nullopt, E::Enregistrer, S::Brouillon, V::NewPending, false},
    {S::Brouillon, E::Enregistrer, S::Brouillon, V::NewPending, false},
    {std::nullopt, E::Soumettre, S::Envoyee, V::NewPending, false},
    {S::Brouillon, E::Soumettre, S::Envoyee, V::NewPending, false},
    {S::Desactivee, E::Soumettre, S::Envoyee, V::NewPending, false},
    {S::Activee, E::Soumettre, S::EnvoyeeMaj, V::NewPending, false},
    {S::Brouillon, E::Supprimer, S::Brouillon, V::None, true},
    {S::Activee, E::Desactiver, S::Desactivee, V::None, false},
    {S::EnvoyeeMaj, E::Desactiver, S::Desactivee, V::DropPending, false},
    // Nightly run (SPEC.md §6).
    {S::Envoyee, E::Activer, S::Activee, V::PromotePending, false},
    {S::EnvoyeeMaj, E::Activer, S::Activee, V::PromotePending, false},
    {S::Activee, E::Expirer, S::Desactivee, V::None, false},
}};

}  // namespace

std::string_view to_code(SheetEvent event) {
  switch (event) {
    case E::Enregistrer:
      return "enregistrer";
    case E::Soumettre:
      return "soumettre";
    case E::Supprimer:
      return "supprimer";
    case E::Desactiver:
      return "desactiver";
    case E::Activer:
      return "activer";
    case E::Expirer:
      return "expirer";
  }
  return "enregistrer";
}

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
  return E::Enregistrer;
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

}  // namespace raccord
