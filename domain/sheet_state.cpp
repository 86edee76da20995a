#include "domain/sheet_state.hpp"

namespace raccord {

std::string_view to_code(SheetState state) {
  switch (state) {
    case SheetState::Brouillon:
      return "BROUILLON";
    case SheetState::Envoyee:
      return "ENVOYEE";
    case SheetState::EnvoyeeMaj:
      return "ENVOYEE_MAJ";
    case SheetState::Activee:
      return "ACTIVEE";
    case SheetState::Desactivee:
      return "DESACTIVEE";
  }
  return "BROUILLON";
}

std::string_view to_label(SheetState state) {
  switch (state) {
    case SheetState::Brouillon:
      return "Brouillon";
    case SheetState::Envoyee:
      return "Envoyée";
    case SheetState::EnvoyeeMaj:
      return "Envoyée MAJ";
    case SheetState::Activee:
      return "Activée";
    case SheetState::Desactivee:
      return "Désactivée";
  }
  return "Brouillon";
}

std::optional<SheetState> parse_sheet_state(std::string_view code) {
  for (auto s : {SheetState::Brouillon, SheetState::Envoyee, SheetState::EnvoyeeMaj, SheetState::Activee,
                 SheetState::Desactivee}) {
    if (to_code(s) == code) return s;
  }
  return std::nullopt;
}

}  // namespace raccord
