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
    // User actions (docs/reference.md §3.3); the history's reason is the action's code.
    {std::nullopt, E::Enregistrer, S::Brouillon, V::NewPending, false, "enregistrer",
     "A new sheet is saved as a draft; a codeAppli is allocated. Rules other than access are warnings."},
    {S::Brouillon, E::Enregistrer, S::Brouillon, V::NewPending, false, "enregistrer",
     "The draft's content is replaced by the content sent."},
    {std::nullopt, E::Soumettre, S::Envoyee, V::NewPending, false, "soumettre",
     "A new sheet is submitted: every rule must pass; it waits for the nightly activation."},
    {S::Brouillon, E::Soumettre, S::Envoyee, V::NewPending, false, "soumettre",
     "The draft is submitted with the content sent: every rule must pass."},
    {S::Desactivee, E::Soumettre, S::Envoyee, V::NewPending, false, "soumettre",
     "A deactivated sheet is submitted again (e.g. with a new certificate)."},
    {S::Activee, E::Soumettre, S::EnvoyeeMaj, V::NewPending, false, "soumettre",
     "An update of an activated sheet; the activated version stays in force until the update is activated."},
    {S::Brouillon, E::Supprimer, S::Brouillon, V::None, true, "supprimer : brouillon supprimé",
     "The draft is deleted: gone from searches (accusé supprimee=\"true\"), its history kept."},
    {S::Activee, E::Desactiver, S::Desactivee, V::None, false, "desactiver",
     "The sender deactivates the sheet at once."},
    {S::EnvoyeeMaj, E::Desactiver, S::Desactivee, V::DropPending, false, "desactiver",
     "The sender deactivates the sheet at once; the pending update is dropped."},
    // Nightly run (docs/reference.md §6); expirer's reason is its cause, found by the run.
    {S::Envoyee, E::Activer, S::Activee, V::PromotePending, false, "activation",
     "Nightly run: the sheet is due and passes every check again at the run instant."},
    {S::EnvoyeeMaj, E::Activer, S::Activee, V::PromotePending, false, "activation de la mise à jour",
     "Nightly run: the update passes every check again and replaces the activated version."},
    {S::Activee, E::Expirer, S::Desactivee, V::None, false, "",
     "Nightly run: the period's au is past, or a certificate has expired or is revoked (the reason says which)."},
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
