// Etat courant of a fiche de raccordement (docs/reference.md §1): its code (XML, CLI, database) and its label
// (CSV and human output, UTF-8), in one table (domain/enum_table.hpp).
#pragma once

#include "domain/enum_table.hpp"

namespace raccord {

enum class SheetState { Brouillon, Envoyee, EnvoyeeMaj, Activee, Desactivee };

template <>
struct EnumTable<SheetState> {
  static constexpr std::array<EnumRow<SheetState>, 5> kRows{{
      {SheetState::Brouillon, "BROUILLON", "Brouillon"},
      {SheetState::Envoyee, "ENVOYEE", "Envoyée"},
      {SheetState::EnvoyeeMaj, "ENVOYEE_MAJ", "Envoyée MAJ"},
      {SheetState::Activee, "ACTIVEE", "Activée"},
      {SheetState::Desactivee, "DESACTIVEE", "Désactivée"},
  }};
};

}  // namespace raccord
