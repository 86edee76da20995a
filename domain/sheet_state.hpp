// Etat courant of a fiche de raccordement (SPEC.md §1) and its two spellings.
#pragma once

#include <optional>
#include <string_view>

namespace raccord {

enum class SheetState { Brouillon, Envoyee, EnvoyeeMaj, Activee, Desactivee };

/// State code for XML, CLI and database: "BROUILLON", "ENVOYEE", "ENVOYEE_MAJ", "ACTIVEE", "DESACTIVEE".
std::string_view to_code(SheetState state);
/// Label for CSV and human output (UTF-8): "Brouillon", "Envoyée", "Envoyée MAJ", "Activée", "Désactivée".
std::string_view to_label(SheetState state);
/// Parses a state code (not a label); nullopt when unknown.
std::optional<SheetState> parse_sheet_state(std::string_view code);

}  // namespace raccord
