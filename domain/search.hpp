// Search of connection sheets (docs/reference.md §3.4, §5.2): criteria and result rows.
#pragma once

#include <optional>
#include <string>

#include "domain/civil_date.hpp"
#include "domain/sheet_state.hpp"
#include "domain/vocabulary.hpp"

namespace raccord {

/// Every criterion is optional; given ones are combined with AND.
struct SearchCriteria {
  SheetKind kind = SheetKind::Edi;            // absent from the request: engine/search.hpp search_kind_of_code
  std::optional<std::string> partner;         // SIRET, exact
  std::optional<std::string> state;           // state code, exact (an unknown code matches nothing)
                                              // (`raccord search --etat`: engine/search.hpp parse_state_criterion)
  std::optional<std::string> code_appli;      // exact
  std::optional<std::string> protocol;        // PESIT | SFTP | AS2, exact (EDI)
  std::optional<std::string> interface_code;  // exact (EDI): rows of that interface only
  std::optional<CivilDate> submitted_from;    // inclusive, civil date of submission in engine.timezone
  std::optional<CivilDate> submitted_to;      // inclusive
  std::optional<std::string> raison_sociale;  // part of the partner's name, accents and case ignored
};

/// One row of a result: EDI, one per connected interface (mode not "aucun"); API, one per sheet.
struct SearchRow {
  std::string partner_siret;
  std::string raison_sociale;
  std::string protocol;  // EDI
  std::string code_appli;
  std::string interface_code;            // EDI
  std::optional<CivilDate> period_from;  // EDI
  std::optional<CivilDate> period_to;    // EDI; nullopt when open-ended
  SheetState state = SheetState::Brouillon;
};

}  // namespace raccord
