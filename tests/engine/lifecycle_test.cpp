#include "engine/lifecycle.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

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
};

// The allowed transitions of SPEC.md §3.3 (user actions) and §6 (nightly run), written independently of
// engine/lifecycle.cpp. Everything else is TRANSITION_INTERDITE.
const std::vector<Expected>& allowed() {
  static const std::vector<Expected> rows{
      {std::nullopt, E::Enregistrer, S::Brouillon, V::NewPending, false},
      {S::Brouillon, E::Enregistrer, S::Brouillon, V::NewPending, false},
      {std::nullopt, E::Soumettre, S::Envoyee, V::NewPending, false},
      {S::Brouillon, E::Soumettre, S::Envoyee, V::NewPending, false},
      {S::Desactivee, E::Soumettre, S::Envoyee, V::NewPending, false},
      // "the activated version stays in force until the update is activated"
      {S::Activee, E::Soumettre, S::EnvoyeeMaj, V::NewPending, false},
      // "removed from searches (accusé etat is BROUILLON, with supprimee="true"); its history is kept"
      {S::Brouillon, E::Supprimer, S::Brouillon, V::None, true},
      {S::Activee, E::Desactiver, S::Desactivee, V::None, false},
      {S::EnvoyeeMaj, E::Desactiver, S::Desactivee, V::DropPending, false},
      // Nightly: ENVOYEE / ENVOYEE_MAJ pass → ACTIVEE (the update replaces the activated version).
      {S::Envoyee, E::Activer, S::Activee, V::PromotePending, false},
      {S::EnvoyeeMaj, E::Activer, S::Activee, V::PromotePending, false},
      // Nightly: an ACTIVEE sheet past its `au` or with an expired certificate becomes DESACTIVEE.
      {S::Activee, E::Expirer, S::Desactivee, V::None, false},
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
    ASSERT_NE(e, nullptr) << "row not allowed by SPEC: " << name(row.from, row.event);
    EXPECT_EQ(row.to, e->to) << name(row.from, row.event);
    EXPECT_EQ(row.effect, e->effect) << name(row.from, row.event);
    EXPECT_EQ(row.marks_deleted, e->deleted) << name(row.from, row.event);
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
  // Anything a user does on ENVOYEE (SPEC.md §3.3 "e.g. anything on ENVOYEE").
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

}  // namespace
}  // namespace raccord
