// Stable error and warning codes of docs/reference.md §4, with their one table of codes as written in accusés,
// e.g. "CERT_EXPIRE" (domain/enum_table.hpp: to_code, parse<ErrorCode>).
#pragma once

#include <span>
#include <string_view>

#include "domain/enum_table.hpp"

namespace raccord {

/// Every code an accusé may carry (docs/reference.md §4). The enumerator order is the
/// table's order; blocking codes first, then the codes that are only warnings.
enum class ErrorCode {
  XmlMalforme,
  EncodageInvalide,
  DtdInterdite,
  SchemaInvalide,
  FichierVide,
  FichierTropVolumineux,
  SignatureAbsente,   // dépôt-level: signature = obligatoire and no F.xml.p7s (docs/accounts.md)
  SignatureInvalide,  // dépôt-level: the detached signature does not verify, or its signer is not pinned/valid
  DepotIdentifiantReutilise,
  DemandeurNonAutorise,  // the operation's actor is not one of its sender account's logins (docs/accounts.md)
  CompteNonAutorise,     // dépôt-level: the file's owner or link count does not fit its account
  SiretInvalide,
  StructureInconnue,
  StructureInactive,
  UtilisateurInconnu,
  EspaceNonActive,
  DroitInsuffisant,
  PrerequisQualification,
  TiersTeletransmission,
  UtilisateurTechniqueAbsent,
  ProtocoleInvalide,
  PeriodeInvalide,
  ContactIncomplet,
  EmailInvalide,
  TelephoneInvalide,
  ReseauIncomplet,
  AdresseIpInvalide,
  PortInvalide,
  CodeInterfaceInconnu,
  CodeInterfaceQualification,
  AucunFluxRaccorde,
  FicheInconnue,
  TransitionInterdite,
  AbonnementInconnu,
  CertAbsent,
  CertNombre,
  CertFormat,
  CertAutosigne,
  CertAutoriteNonReconnue,
  CertChaineIncomplete,
  CertExpire,
  CertPasEncoreValide,
  CertUsage,
  CertCleFaible,
  CertSignatureFaible,
  CertRevoque,             // a certificate of the chain is revoked (docs/revocation.md)
  CertRevocationInconnue,  // its status is unknown: blocking under certificates.revocation = stricte only
  CertExpireAvantPeriode,  // an EDI sheet's leaf ends before the period's du: it could never be activated
  CertNonConforme,         // a certificate of the chain breaks an RFC 5280 profile rule (docs/reference.md §4)
  // Warning-only codes (never blocking).
  CertExpireBientot,
  CertSansEku,
  ReseauIgnore,
};

template <>
struct EnumTable<ErrorCode> {
  static constexpr std::array<EnumRow<ErrorCode>, 52> kRows{{
      {ErrorCode::XmlMalforme, "XML_MALFORME"},
      {ErrorCode::EncodageInvalide, "ENCODAGE_INVALIDE"},
      {ErrorCode::DtdInterdite, "DTD_INTERDITE"},
      {ErrorCode::SchemaInvalide, "SCHEMA_INVALIDE"},
      {ErrorCode::FichierVide, "FICHIER_VIDE"},
      {ErrorCode::FichierTropVolumineux, "FICHIER_TROP_VOLUMINEUX"},
      {ErrorCode::SignatureAbsente, "SIGNATURE_ABSENTE"},
      {ErrorCode::SignatureInvalide, "SIGNATURE_INVALIDE"},
      {ErrorCode::DepotIdentifiantReutilise, "DEPOT_IDENTIFIANT_REUTILISE"},
      {ErrorCode::DemandeurNonAutorise, "DEMANDEUR_NON_AUTORISE"},
      {ErrorCode::CompteNonAutorise, "COMPTE_NON_AUTORISE"},
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
      {ErrorCode::CertNonConforme, "CERT_NON_CONFORME"},
      {ErrorCode::CertExpireBientot, "CERT_EXPIRE_BIENTOT"},
      {ErrorCode::CertSansEku, "CERT_SANS_EKU"},
      {ErrorCode::ReseauIgnore, "RESEAU_IGNORE"},
  }};
};

/// True for the codes of docs/reference.md §4 that are only ever warnings.
bool is_warning_only(ErrorCode code);

/// What the reference tells people about one code (docs/reference.md §4, whose table is generated
/// from these rows by docs/reference_tables.cpp). One line each, in English like the reference.
struct ErrorCodeHelp {
  ErrorCode code;
  std::string_view field;       // the accusé's `champ` where it is reported
  std::string_view when;        // when the engine raises it (and where: dépôt level or operation)
  std::string_view what_to_do;  // what the sender, support or the operator does about it
};

/// Every help row, in the codes' table order (tests/domain/error_code_test.cpp checks that each
/// code has exactly one, with its texts non-empty).
std::span<const ErrorCodeHelp> error_code_helps();

/// The help row of `code`, or nullptr when it has none (a code added without its description: the
/// domain test and the reference generator fail).
const ErrorCodeHelp* error_code_help(ErrorCode code);

}  // namespace raccord
