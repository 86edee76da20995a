#include "engine/prerequisites.hpp"

#include <fmt/format.h>

namespace raccord {

Diagnostics check_partner_prerequisites(Store& store, Environment environment, const StructureRecord& partner,
                                        SheetKind kind, int line) {
  Diagnostics out;
  if (environment == Environment::Production && !partner.connected_in_qualification) {
    const auto editor = partner.editor_siret ? store.find_structure(*partner.editor_siret) : std::nullopt;
    if (!editor || !editor->connected_in_qualification) {
      out.push_back(Diagnostic::error(
          ErrorCode::PrerequisQualification, "Partenaire", line,
          fmt::format("{} - {} n'est pas encore raccordée en qualification (ni l'éditeur de son logiciel) : le "
                      "raccordement en production suppose un raccordement en qualification préalable.",
                      partner.siret, partner.raison_sociale)));
    }
  }
  if (partner.uses_tiers) {
    out.push_back(Diagnostic::error(
        ErrorCode::TiersTeletransmission, "Partenaire", line,
        fmt::format("{} - {} passe par un tiers de télétransmission : elle n'a pas de fiche de raccordement à déposer.",
                    partner.siret, partner.raison_sociale)));
  }
  if (kind == SheetKind::Api && store.technical_user_count(partner.siret) == 0) {
    out.push_back(Diagnostic::error(
        ErrorCode::UtilisateurTechniqueAbsent, "Partenaire", line,
        fmt::format("{} - {} n'a pas d'utilisateur technique : créez-le avant de déposer ou d'activer une fiche API.",
                    partner.siret, partner.raison_sociale)));
  }
  return out;
}

}  // namespace raccord
