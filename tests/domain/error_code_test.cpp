#include "domain/error_code.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace raccord {
namespace {

// The codes of docs/reference.md §4, in the table's order, with their stable spelling.
const std::vector<std::pair<ErrorCode, std::string>>& all_codes() {
  static const std::vector<std::pair<ErrorCode, std::string>> codes{
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
  };
  return codes;
}

TEST(ErrorCode, EveryCodeHasItsSpecSpelling) {
  for (const auto& [code, text] : all_codes()) {
    EXPECT_EQ(to_code(code), text);
  }
}

TEST(ErrorCode, EveryCodeRoundTrips) {
  for (const auto& [code, text] : all_codes()) {
    const auto parsed = parse<ErrorCode>(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, code) << text;
    EXPECT_EQ(to_code(*parsed), text);
  }
}

TEST(ErrorCode, SpellingsAreDistinctAndListIsComplete) {
  std::set<std::string> seen;
  for (const auto& [code, text] : all_codes()) EXPECT_TRUE(seen.insert(text).second) << text;
  // The enumerator after the last one does not exist: the list covers 0..ReseauIgnore.
  EXPECT_EQ(static_cast<std::size_t>(ErrorCode::ReseauIgnore) + 1, all_codes().size());
}

TEST(ErrorCode, UnknownTextsAreRefused) {
  EXPECT_FALSE(parse<ErrorCode>(""));
  EXPECT_FALSE(parse<ErrorCode>("cert_expire"));  // case-sensitive
  EXPECT_FALSE(parse<ErrorCode>("CERT_EXPIRE "));
  EXPECT_FALSE(parse<ErrorCode>("INCONNU"));
  EXPECT_FALSE(parse<ErrorCode>("EMPTY_FILE"));
}

TEST(ErrorCode, OnlyTheThreeWarningCodesAreWarningOnly) {
  for (const auto& [code, text] : all_codes()) {
    const bool expected =
        code == ErrorCode::CertExpireBientot || code == ErrorCode::CertSansEku || code == ErrorCode::ReseauIgnore;
    EXPECT_EQ(is_warning_only(code), expected) << text;
  }
}

// The reference's table of codes (docs/reference.md §4) is generated from error_code_helps(): every
// code has exactly one row there, in the codes' order, with its one-line texts (issue 19).
TEST(ErrorCode, EveryCodeHasOneDescriptionInTableOrder) {
  const auto codes = enum_values<ErrorCode>();
  const auto helps = error_code_helps();
  ASSERT_EQ(helps.size(), codes.size()) << "a code without its row in error_code.cpp's kHelp, or a row too many";
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const std::string text(to_code(codes[i]));
    EXPECT_EQ(helps[i].code, codes[i]) << "row " << i << " should describe " << text;
    const ErrorCodeHelp* help = error_code_help(codes[i]);
    ASSERT_NE(help, nullptr) << text;
    EXPECT_EQ(help, &helps[i]) << text;
    EXPECT_FALSE(help->field.empty()) << text << ": the field it is reported on";
    EXPECT_FALSE(help->when.empty()) << text << ": when it is raised";
    EXPECT_FALSE(help->what_to_do.empty()) << text << ": what to do";
    // One line each, and a Markdown table cell: no line break, no cell separator.
    for (const std::string_view part : {help->field, help->when, help->what_to_do}) {
      EXPECT_EQ(part.find('\n'), std::string_view::npos) << text;
      EXPECT_EQ(part.find('|'), std::string_view::npos) << text;
    }
  }
}

}  // namespace
}  // namespace raccord
