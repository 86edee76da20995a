#include "engine/lifecycle.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/enum_table_check.hpp"

namespace raccord {
namespace {

using S = SheetState;
using E = SheetEvent;
using V = VersionEffect;

struct Expected {
  std::optional<S> from;
  E event;
  S to;
  V effect;
  bool deleted;
  std::string reason;  // the history's reason ("": the nightly run names the cause)
};

// The allowed transitions of docs/reference.md §3.3 (user actions) and §6 (nightly run), written independently of
// engine/lifecycle.cpp. Everything else is TRANSITION_INTERDITE.
const std::vector<Expected>& allowed() {
  static const std::vector<Expected> rows{
      {std::nullopt, E::Enregistrer, S::Brouillon, V::NewPending, false, "enregistrer"},
      {S::Brouillon, E::Enregistrer, S::Brouillon, V::NewPending, false, "enregistrer"},
      {std::nullopt, E::Soumettre, S::Envoyee, V::NewPending, false, "soumettre"},
      {S::Brouillon, E::Soumettre, S::Envoyee, V::NewPending, false, "soumettre"},
      {S::Desactivee, E::Soumettre, S::Envoyee, V::NewPending, false, "soumettre"},
      // "the activated version stays in force until the update is activated"
      {S::Activee, E::Soumettre, S::EnvoyeeMaj, V::NewPending, false, "soumettre"},
      // "removed from searches (accusé etat is BROUILLON, with supprimee="true"); its history is kept"
      {S::Brouillon, E::Supprimer, S::Brouillon, V::None, true, "supprimer : brouillon supprimé"},
      {S::Activee, E::Desactiver, S::Desactivee, V::None, false, "desactiver"},
      {S::EnvoyeeMaj, E::Desactiver, S::Desactivee, V::DropPending, false, "desactiver"},
      // Nightly: ENVOYEE / ENVOYEE_MAJ pass → ACTIVEE (the update replaces the activated version).
      {S::Envoyee, E::Activer, S::Activee, V::PromotePending, false, "activation"},
      {S::EnvoyeeMaj, E::Activer, S::Activee, V::PromotePending, false, "activation de la mise à jour"},
      // Nightly: an ACTIVEE sheet past its `au` or with an expired certificate becomes DESACTIVEE.
      {S::Activee, E::Expirer, S::Desactivee, V::None, false, ""},
  };
  return rows;
}

const std::vector<std::optional<S>>& all_froms() {
  static const std::vector<std::optional<S>> froms{std::nullopt,  S::Brouillon, S::Envoyee,
                                                   S::EnvoyeeMaj, S::Activee,   S::Desactivee};
  return froms;
}

const std::vector<E>& all_events() {
  static const std::vector<E> events{E::Enregistrer, E::Soumettre, E::Supprimer, E::Desactiver, E::Activer, E::Expirer};
  return events;
}

std::string name(std::optional<S> from, E event) {
  return std::string(from ? to_code(*from) : "(nouvelle)") + " + " + std::string(to_code(event));
}

const Expected* expected_for(std::optional<S> from, E event) {
  for (const auto& row : allowed()) {
    if (row.from == from && row.event == event) return &row;
  }
  return nullptr;
}

TEST(Lifecycle, TableHoldsExactlyTheSpecRows) {
  const auto table = transition_table();
  ASSERT_EQ(table.size(), allowed().size());
  for (const auto& row : table) {
    const Expected* e = expected_for(row.from, row.event);
    ASSERT_NE(e, nullptr) << "row not allowed by the reference: " << name(row.from, row.event);
    EXPECT_EQ(row.to, e->to) << name(row.from, row.event);
    EXPECT_EQ(row.effect, e->effect) << name(row.from, row.event);
    EXPECT_EQ(row.marks_deleted, e->deleted) << name(row.from, row.event);
    EXPECT_EQ(row.reason, e->reason) << name(row.from, row.event);
  }
}

// The reference's transition table (docs/reference.md §3.3) is generated from the rows: each says when
// it happens, on one line that fits a Markdown table cell (issue 19).
TEST(Lifecycle, EveryRowHasADescription) {
  for (const auto& row : transition_table()) {
    EXPECT_FALSE(row.description.empty()) << name(row.from, row.event);
    EXPECT_EQ(row.description.find('\n'), std::string_view::npos) << name(row.from, row.event);
    EXPECT_EQ(row.description.find('|'), std::string_view::npos) << name(row.from, row.event);
  }
}

TEST(Lifecycle, EveryAllowedPairIsFoundWithItsOutcome) {
  for (const auto& e : allowed()) {
    const auto row = find_transition(e.from, e.event);
    ASSERT_TRUE(row.has_value()) << name(e.from, e.event);
    EXPECT_EQ(row->from, e.from);
    EXPECT_EQ(row->event, e.event);
    EXPECT_EQ(row->to, e.to) << name(e.from, e.event);
    EXPECT_EQ(row->effect, e.effect) << name(e.from, e.event);
    EXPECT_EQ(row->marks_deleted, e.deleted) << name(e.from, e.event);
    EXPECT_EQ(row->reason, e.reason) << name(e.from, e.event);
  }
}

TEST(Lifecycle, EveryOtherPairIsRefused) {
  int refused = 0;
  for (const auto& from : all_froms()) {
    for (const auto event : all_events()) {
      if (expected_for(from, event) != nullptr) continue;
      EXPECT_FALSE(find_transition(from, event).has_value()) << name(from, event) << " must be TRANSITION_INTERDITE";
      ++refused;
    }
  }
  EXPECT_EQ(refused, 6 * 6 - 12);
}

TEST(Lifecycle, NamedForbiddenPairs) {
  // Anything a user does on ENVOYEE (docs/reference.md §3.3 "e.g. anything on ENVOYEE").
  for (const auto event : {E::Enregistrer, E::Soumettre, E::Supprimer, E::Desactiver}) {
    EXPECT_FALSE(find_transition(S::Envoyee, event)) << to_code(event);
  }
  EXPECT_FALSE(find_transition(S::Activee, E::Enregistrer));
  EXPECT_FALSE(find_transition(S::Activee, E::Supprimer));
  EXPECT_FALSE(find_transition(S::EnvoyeeMaj, E::Soumettre));
  EXPECT_FALSE(find_transition(S::EnvoyeeMaj, E::Enregistrer));
  EXPECT_FALSE(find_transition(S::Desactivee, E::Desactiver));
  EXPECT_FALSE(find_transition(S::Desactivee, E::Enregistrer));
  EXPECT_FALSE(find_transition(S::Desactivee, E::Supprimer));
  EXPECT_FALSE(find_transition(S::Brouillon, E::Desactiver));
  // The nightly run never activates a draft nor a deactivated sheet, and only expires ACTIVEE.
  EXPECT_FALSE(find_transition(S::Brouillon, E::Activer));
  EXPECT_FALSE(find_transition(S::Desactivee, E::Activer));
  EXPECT_FALSE(find_transition(S::Activee, E::Activer));
  EXPECT_FALSE(find_transition(S::Envoyee, E::Expirer));
  EXPECT_FALSE(find_transition(S::EnvoyeeMaj, E::Expirer));
  // A sheet that does not exist can only be created.
  for (const auto event : {E::Supprimer, E::Desactiver, E::Activer, E::Expirer}) {
    EXPECT_FALSE(find_transition(std::nullopt, event)) << to_code(event);
  }
}

bool is_user(E e) {
  return e == E::Enregistrer || e == E::Soumettre || e == E::Supprimer || e == E::Desactiver;
}

SheetAction action_of(E e) {
  switch (e) {
    case E::Soumettre:
      return SheetAction::Soumettre;
    case E::Supprimer:
      return SheetAction::Supprimer;
    case E::Desactiver:
      return SheetAction::Desactiver;
    default:
      return SheetAction::Enregistrer;
  }
}

TEST(Lifecycle, UserTransitionsAreTheUserRowsOfEachState) {
  for (const auto& from : all_froms()) {
    std::vector<E> expected;
    for (const auto& row : allowed()) {
      if (row.from == from && is_user(row.event)) expected.push_back(row.event);
    }
    std::vector<E> got;
    for (const auto& row : user_transitions(from)) got.push_back(row.event);
    EXPECT_EQ(got, expected) << (from ? to_code(*from) : "(nouvelle)");
  }
  for (const auto e : all_events()) EXPECT_EQ(is_user_event(e), is_user(e)) << to_code(e);
}

// Issue 18, item 6: `desactiver` on an ENVOYEE sheet said the action is impossible without saying what
// is possible. Every refusal, from every state, now lists the user actions allowed there (and, where
// none is, what the nightly run will do and what is possible after).
TEST(Lifecycle, ForbiddenTransitionMessageListsWhatIsPossibleFromEveryState) {
  for (const auto& from : all_froms()) {
    for (const auto event : all_events()) {
      if (!is_user(event) || expected_for(from, event) != nullptr) continue;
      SCOPED_TRACE(name(from, event));
      const std::string message = forbidden_transition_message(action_of(event), from, "VFE042");
      const std::string refused = "L'action « " + std::string(to_code(event)) + " » est impossible";
      ASSERT_EQ(message.rfind(refused, 0), 0u) << message;
      if (from) {
        EXPECT_NE(message.find("VFE042"), std::string::npos) << message;
        EXPECT_NE(message.find(std::string(to_label(*from))), std::string::npos) << message;
      }
      const std::string rest = message.substr(message.find(". ") + 2);
      // The state whose actions are listed: this one, or where the nightly run takes it.
      std::optional<S> listed = from;
      bool any_now = false;
      for (const auto& row : allowed()) any_now = any_now || (row.from == from && is_user(row.event));
      if (!any_now) {
        EXPECT_NE(rest.find("traitement de nuit"), std::string::npos) << message;
        for (const auto& row : allowed()) {
          if (row.from == from && !is_user(row.event)) listed = row.to;
        }
        ASSERT_NE(listed, from) << "a state without user action must lead somewhere";
        EXPECT_NE(rest.find(std::string(to_label(*listed))), std::string::npos) << message;
      }
      for (const auto e : all_events()) {
        if (!is_user(e)) continue;
        const Expected* row = expected_for(listed, e);
        const bool said = rest.find("« " + std::string(to_code(e)) + " »") != std::string::npos;
        EXPECT_EQ(said, row != nullptr) << to_code(e) << " in: " << message;
        if (row != nullptr && !row->deleted && row->to != listed) {
          // Each possible action with the state it leads to.
          EXPECT_NE(rest.find("« " + std::string(to_code(e)) + " » (la fiche passe à l'état " +
                              std::string(to_label(row->to)) + ")"),
                    std::string::npos)
              << message;
        }
      }
    }
  }
  // The person's case, word for word at its start.
  const std::string envoyee = forbidden_transition_message(SheetAction::Desactiver, S::Envoyee, "VFE2008");
  EXPECT_EQ(envoyee.rfind("L'action « desactiver » est impossible sur la fiche VFE2008 à l'état Envoyée. Aucune "
                          "action n'est possible à l'état Envoyée : la fiche attend le traitement de nuit, qui la fera "
                          "passer à l'état Activée ; à l'état Activée, « soumettre »",
                          0),
            0u)
      << envoyee;
}

TEST(Lifecycle, EventCodesAndUserActions) {
  EXPECT_EQ(to_code(E::Enregistrer), "enregistrer");
  EXPECT_EQ(to_code(E::Soumettre), "soumettre");
  EXPECT_EQ(to_code(E::Supprimer), "supprimer");
  EXPECT_EQ(to_code(E::Desactiver), "desactiver");
  EXPECT_EQ(to_code(E::Activer), "activer");
  EXPECT_EQ(to_code(E::Expirer), "expirer");
  EXPECT_EQ(to_event(SheetAction::Enregistrer), E::Enregistrer);
  EXPECT_EQ(to_event(SheetAction::Soumettre), E::Soumettre);
  EXPECT_EQ(to_event(SheetAction::Supprimer), E::Supprimer);
  EXPECT_EQ(to_event(SheetAction::Desactiver), E::Desactiver);
  // The user action's code is the event's code.
  for (auto a : {SheetAction::Enregistrer, SheetAction::Soumettre, SheetAction::Supprimer, SheetAction::Desactiver}) {
    EXPECT_EQ(to_code(to_event(a)), to_code(a));
  }
}

TEST(Lifecycle, EventTableRoundTrips) {
  testing::expect_table_round_trips<SheetEvent>();
}

// The nightly run's two steps, as it asks for them: the states it starts from (its SQL lists), the
// state it writes and the version effect it applies (docs/reference.md §6).
TEST(Lifecycle, NightlyStepsAreTheTablesRows) {
  const EventStep activation = event_step(E::Activer);
  EXPECT_EQ(activation.from, (std::vector<S>{S::Envoyee, S::EnvoyeeMaj}));
  EXPECT_EQ(activation.to, S::Activee);
  EXPECT_EQ(activation.effect, V::PromotePending);
  const EventStep expiry = event_step(E::Expirer);
  EXPECT_EQ(expiry.from, (std::vector<S>{S::Activee}));
  EXPECT_EQ(expiry.to, S::Desactivee);
  EXPECT_EQ(expiry.effect, V::None);
  // The rows from an existing sheet only: enregistrer's creation row is not a source state.
  const EventStep draft = event_step(E::Enregistrer);
  EXPECT_EQ(draft.from, (std::vector<S>{S::Brouillon}));
  EXPECT_EQ(draft.to, S::Brouillon);
  EXPECT_EQ(draft.effect, V::NewPending);
}

TEST(Lifecycle, AnEventWhoseRowsDifferIsNotOneStep) {
  EXPECT_THROW((void)event_step(E::Soumettre), std::logic_error);   // ENVOYEE or ENVOYEE_MAJ
  EXPECT_THROW((void)event_step(E::Desactiver), std::logic_error);  // None or DropPending
  EXPECT_THROW((void)event_step(E::Supprimer), std::logic_error);   // marks the sheet deleted
}

TEST(Lifecycle, OnlyTheStatesActivationStartsFromAwaitIt) {
  EXPECT_TRUE(awaits_activation(S::Envoyee));
  EXPECT_TRUE(awaits_activation(S::EnvoyeeMaj));
  EXPECT_FALSE(awaits_activation(S::Brouillon));
  EXPECT_FALSE(awaits_activation(S::Activee));
  EXPECT_FALSE(awaits_activation(S::Desactivee));
}

// Each version effect, once (docs/reference.md §3.3 and §6): the pending version becomes the active one on
// activation, is dropped by desactiver on ENVOYEE_MAJ, and is the content sent by enregistrer/soumettre.
TEST(Lifecycle, VersionEffects) {
  const SheetVersions both{5, 9};
  const auto after = [&both](V effect, std::optional<std::int64_t> created = std::nullopt) {
    const SheetVersions v = apply_version_effect(effect, both, created);
    return std::pair{v.active, v.pending};
  };
  using P = std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>;
  EXPECT_EQ(after(V::PromotePending), (P{9, std::nullopt}));
  EXPECT_EQ(after(V::DropPending), (P{5, std::nullopt}));
  EXPECT_EQ(after(V::None), (P{5, 9}));
  EXPECT_EQ(after(V::NewPending, 12), (P{5, 12}));
  EXPECT_EQ(apply_version_effect(V::NewPending, {}, 1).pending, std::optional<std::int64_t>(1));
  EXPECT_TRUE(creates_version(V::NewPending));
  EXPECT_FALSE(creates_version(V::None));
  EXPECT_FALSE(creates_version(V::PromotePending));
  EXPECT_FALSE(creates_version(V::DropPending));
  EXPECT_EQ(version_move(V::PromotePending).active, VersionSource::Pending);
  EXPECT_EQ(version_move(V::PromotePending).pending, VersionSource::Nothing);
}

}  // namespace
}  // namespace raccord
