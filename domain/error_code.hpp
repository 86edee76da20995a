// Stable error and warning codes of SPEC.md §4, with their one string conversion.
#pragma once

#include <optional>
#include <string_view>

namespace raccord {

/// Every code an accusé may carry (SPEC.md §4). The enumerator order is the
/// table's order; blocking codes first, then the codes that are only warnings.
enum class ErrorCode {
  XmlMalforme,
  EncodageInvalide,
  DtdInterdite,
  SchemaInvalide,
  FichierVide,
  FichierTropVolumineux,
  DepotIdentifiantReutilise,
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
  // Warning-only codes (never blocking).
  CertExpireBientot,
  CertSansEku,
  ReseauIgnore,
};

/// The stable code as written in accusés, e.g. "CERT_EXPIRE".
std::string_view to_string(ErrorCode code);

/// Inverse of to_string; nullopt for an unknown text.
std::optional<ErrorCode> parse_error_code(std::string_view text);

/// True for the codes of SPEC.md §4 that are only ever warnings.
bool is_warning_only(ErrorCode code);

}  // namespace raccord
