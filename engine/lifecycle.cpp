#include "engine/lifecycle.hpp"

#include <array>
#include <string>

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

bool is_user_event(SheetEvent event) {
  switch (event) {
    case E::Enregistrer:
    case E::Soumettre:
    case E::Supprimer:
    case E::Desactiver:
      return true;
    case E::Activer:
    case E::Expirer:
      return false;
  }
  return false;
}

std::vector<TransitionRow> user_transitions(std::optional<SheetState> from) {
  std::vector<TransitionRow> out;
  for (const auto& row : kTable) {
    if (row.from == from && is_user_event(row.event)) out.push_back(row);
  }
  return out;
}

namespace {

std::string quoted(std::string_view text) {
  return "« " + std::string(text) + " »";
}

/// "a", "a ou b", "a, b ou c".
std::string either(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += (i + 1 == parts.size()) ? " ou " : ", ";
    out += parts[i];
  }
  return out;
}

/// "« soumettre » (la fiche passe à l'état Envoyée)" for each user action allowed from `from`.
std::vector<std::string> described_actions(std::optional<SheetState> from) {
  std::vector<std::string> out;
  for (const auto& row : user_transitions(from)) {
    std::string effect;
    if (row.marks_deleted) {
      effect = "la fiche est supprimée";
    } else if (from && row.to == *from) {
      effect = "la fiche reste à l'état " + std::string(to_label(row.to));
    } else {
      effect = "la fiche passe à l'état " + std::string(to_label(row.to));
    }
    out.push_back(quoted(to_code(row.event)) + " (" + effect + ")");
  }
  return out;
}

}  // namespace

std::string forbidden_transition_message(SheetAction action, std::optional<SheetState> from,
                                         std::string_view code_appli) {
  const std::string refused = quoted(to_code(action));
  if (!from) {
    const auto possible = described_actions(std::nullopt);
    return "L'action " + refused + " est impossible sur une fiche qui n'existe pas. Action" +
           (possible.size() > 1 ? "s possibles" : " possible") + " sans fiche existante : " + either(possible) + ".";
  }
  const std::string label{to_label(*from)};
  std::string out =
      "L'action " + refused + " est impossible sur la fiche " + std::string(code_appli) + " à l'état " + label + ". ";
  const auto possible = described_actions(from);
  if (!possible.empty()) {
    return out + (possible.size() > 1 ? "Actions possibles" : "Action possible") + " à l'état " + label + " : " +
           either(possible) + ".";
  }
  // No user action: the sheet waits for the nightly run; say where it leads and what is possible then.
  out += "Aucune action n'est possible à l'état " + label + " : la fiche attend le traitement de nuit";
  for (const auto& row : kTable) {
    if (row.from != from || is_user_event(row.event)) continue;
    const std::string next{to_label(row.to)};
    out += ", qui la fera passer à l'état " + next;
    const auto then = described_actions(row.to);
    if (!then.empty())
      out += " ; à l'état " + next + ", " + either(then) + (then.size() > 1 ? " seront" : " sera") + " possible" +
             (then.size() > 1 ? "s" : "");
    break;
  }
  return out + ".";
}

}  // namespace raccord
