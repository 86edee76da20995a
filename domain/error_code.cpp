#include "domain/error_code.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace raccord {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 47> kNames{{
    {ErrorCode::XmlMalforme, "XML_MALFORME"},
    {ErrorCode::EncodageInvalide, "ENCODAGE_INVALIDE"},
    {ErrorCode::DtdInterdite, "DTD_INTERDITE"},
    {ErrorCode::SchemaInvalide, "SCHEMA_INVALIDE"},
    {ErrorCode::FichierVide, "FICHIER_VIDE"},
    {ErrorCode::FichierTropVolumineux, "FICHIER_TROP_VOLUMINEUX"},
    {ErrorCode::DepotIdentifiantReutilise, "DEPOT_IDENTIFIANT_REUTILISE"},
    {ErrorCode::SiretInvalide, "SIRET_INVALIDE"},
    {ErrorCode::StructureInconnue, "STRUCTURE_INCONNUE"},
    {ErrorCode::StructureInactive, "STRUCTURE_INACTIVE"},
    {ErrorCode::UtilisateurInconnu, "UTILISATEUR_INCONNU"},
    {ErrorCode::EspaceNonActive, "ESPACE_NON_ACTIVE"},
    {ErrorCode::DroitInsuffisant, "DROIT_INSUFFISANT"},
    {ErrorCode::PrerequisQualification, "PREREQUIS_QUALIFICATION"},
    {ErrorCode::TiersTeletransmission, "TIERS_TELETRANSMISSION"},
    {ErrorCode::UtilisateurTechniqueAbsent, "UTILISATEUR_TECHNIQUE_ABSENT"},
    {ErrorCode::ProtocoleInvalide, "PROTOCOLE_INVALIDE"},
    {ErrorCode::PeriodeInvalide, "PERIODE_INVALIDE"},
    {ErrorCode::ContactIncomplet, "CONTACT_INCOMPLET"},
    {ErrorCode::EmailInvalide, "EMAIL_INVALIDE"},
    {ErrorCode::TelephoneInvalide, "TELEPHONE_INVALIDE"},
    {ErrorCode::ReseauIncomplet, "RESEAU_INCOMPLET"},
    {ErrorCode::AdresseIpInvalide, "ADRESSE_IP_INVALIDE"},
    {ErrorCode::PortInvalide, "PORT_INVALIDE"},
    {ErrorCode::CodeInterfaceInconnu, "CODE_INTERFACE_INCONNU"},
    {ErrorCode::CodeInterfaceQualification, "CODE_INTERFACE_QUALIFICATION"},
    {ErrorCode::AucunFluxRaccorde, "AUCUN_FLUX_RACCORDE"},
    {ErrorCode::FicheInconnue, "FICHE_INCONNUE"},
    {ErrorCode::TransitionInterdite, "TRANSITION_INTERDITE"},
    {ErrorCode::AbonnementInconnu, "ABONNEMENT_INCONNU"},
    {ErrorCode::CertAbsent, "CERT_ABSENT"},
    {ErrorCode::CertNombre, "CERT_NOMBRE"},
    {ErrorCode::CertFormat, "CERT_FORMAT"},
    {ErrorCode::CertAutosigne, "CERT_AUTOSIGNE"},
    {ErrorCode::CertAutoriteNonReconnue, "CERT_AUTORITE_NON_RECONNUE"},
    {ErrorCode::CertChaineIncomplete, "CERT_CHAINE_INCOMPLETE"},
    {ErrorCode::CertExpire, "CERT_EXPIRE"},
    {ErrorCode::CertPasEncoreValide, "CERT_PAS_ENCORE_VALIDE"},
    {ErrorCode::CertUsage, "CERT_USAGE"},
    {ErrorCode::CertCleFaible, "CERT_CLE_FAIBLE"},
    {ErrorCode::CertSignatureFaible, "CERT_SIGNATURE_FAIBLE"},
    {ErrorCode::CertRevoque, "CERT_REVOQUE"},
    {ErrorCode::CertRevocationInconnue, "CERT_REVOCATION_INCONNUE"},
    {ErrorCode::CertExpireAvantPeriode, "CERT_EXPIRE_AVANT_PERIODE"},
    {ErrorCode::CertExpireBientot, "CERT_EXPIRE_BIENTOT"},
    {ErrorCode::CertSansEku, "CERT_SANS_EKU"},
    {ErrorCode::ReseauIgnore, "RESEAU_IGNORE"},
}};

}  // namespace

std::string_view to_string(ErrorCode code) {
  for (const auto& [value, name] : kNames) {
    if (value == code) return name;
  }
  return "INCONNU";
}

std::optional<ErrorCode> parse_error_code(std::string_view text) {
  for (const auto& [value, name] : kNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

bool is_warning_only(ErrorCode code) {
  // A list, not a switch with default: (one truth per enum): the codes that never block.
  static constexpr std::array kWarningOnly{ErrorCode::CertExpireBientot, ErrorCode::CertSansEku,
                                           ErrorCode::ReseauIgnore};
  return std::find(kWarningOnly.begin(), kWarningOnly.end(), code) != kWarningOnly.end();
}

}  // namespace raccord
