// Small closed vocabularies of docs/reference.md §1, §3 and §5, each with its one table of codes
// (domain/enum_table.hpp: to_code, to_label, parse<E>).
#pragma once

#include <algorithm>
#include <optional>
#include <string_view>

#include "domain/enum_table.hpp"

namespace raccord {

/// Protocole de raccordement (EDI only).
enum class Protocol { Pesit, Sftp, As2 };
template <>
struct EnumTable<Protocol> {
  static constexpr std::array<EnumRow<Protocol>, 3> kRows{{
      {Protocol::Pesit, "PESIT"},
      {Protocol::Sftp, "SFTP"},
      {Protocol::As2, "AS2"},
  }};
};

/// Mode de traitement of one interface code.
enum class ProcessingMode { Aucun, Complete, Partielle };
template <>
struct EnumTable<ProcessingMode> {
  static constexpr std::array<EnumRow<ProcessingMode>, 3> kRows{{
      {ProcessingMode::Aucun, "aucun"},
      {ProcessingMode::Complete, "complete"},
      {ProcessingMode::Partielle, "partielle"},
  }};
};

/// The engine's environment (config engine.environment).
enum class Environment { Production, Qualification };
template <>
struct EnumTable<Environment> {
  static constexpr std::array<EnumRow<Environment>, 2> kRows{{
      {Environment::Production, "production"},
      {Environment::Qualification, "qualification"},
  }};
};

/// Kind of sheet: "EDI" (FicheEDI) or "API" (FicheAPI).
enum class SheetKind { Edi, Api };
template <>
struct EnumTable<SheetKind> {
  static constexpr std::array<EnumRow<SheetKind>, 2> kRows{{
      {SheetKind::Edi, "EDI"},
      {SheetKind::Api, "API"},
  }};
};

/// `action` of a FicheEDI/FicheAPI (docs/reference.md §3.3).
enum class SheetAction { Enregistrer, Soumettre, Supprimer, Desactiver };
template <>
struct EnumTable<SheetAction> {
  static constexpr std::array<EnumRow<SheetAction>, 4> kRows{{
      {SheetAction::Enregistrer, "enregistrer"},
      {SheetAction::Soumettre, "soumettre"},
      {SheetAction::Supprimer, "supprimer"},
      {SheetAction::Desactiver, "desactiver"},
  }};
};

/// `mode` of a Depot (docs/reference.md §3): "complete" (default) or "partielle".
enum class DepositMode { Complete, Partielle };
template <>
struct EnumTable<DepositMode> {
  static constexpr std::array<EnumRow<DepositMode>, 2> kRows{{
      {DepositMode::Complete, "complete"},
      {DepositMode::Partielle, "partielle"},
  }};
};

/// Accusé `statut` of a dépôt (docs/reference.md §5.1), also stored in deposits.status.
enum class DepositStatus { Integre, IntegrePartiel, Rejete, Doublon };
template <>
struct EnumTable<DepositStatus> {
  static constexpr std::array<EnumRow<DepositStatus>, 4> kRows{{
      {DepositStatus::Integre, "INTEGRE"},
      {DepositStatus::IntegrePartiel, "INTEGRE_PARTIEL"},
      {DepositStatus::Rejete, "REJETE"},
      {DepositStatus::Doublon, "DOUBLON"},
  }};
};

/// The statuses of an applied dépôt (its operations were applied; its bytes and its identifiant
/// are then taken: DOUBLON, DEPOT_IDENTIFIANT_REUTILISE).
inline constexpr std::array kAppliedDepositStatuses{DepositStatus::Integre, DepositStatus::IntegrePartiel};
constexpr bool is_applied(DepositStatus status) {
  return std::find(kAppliedDepositStatuses.begin(), kAppliedDepositStatuses.end(), status) !=
         kAppliedDepositStatuses.end();
}

/// `role` of a Gestionnaire.
enum class ManagerRole { Principal, Secondaire };
template <>
struct EnumTable<ManagerRole> {
  static constexpr std::array<EnumRow<ManagerRole>, 2> kRows{{
      {ManagerRole::Principal, "principal"},
      {ManagerRole::Secondaire, "secondaire"},
  }};
};

/// `decision` of a DecisionAbonnement.
enum class Decision { Valider, Refuser };
template <>
struct EnumTable<Decision> {
  static constexpr std::array<EnumRow<Decision>, 2> kRows{{
      {Decision::Valider, "valider"},
      {Decision::Refuser, "refuser"},
  }};
};

/// Status of a subscription request (docs/reference.md §3.2), stored in subscriptions.status.
enum class SubscriptionStatus { EnAttente, Validee, Refusee };
template <>
struct EnumTable<SubscriptionStatus> {
  static constexpr std::array<EnumRow<SubscriptionStatus>, 3> kRows{{
      {SubscriptionStatus::EnAttente, "EN_ATTENTE"},
      {SubscriptionStatus::Validee, "VALIDEE"},
      {SubscriptionStatus::Refusee, "REFUSEE"},
  }};
};

/// Export format of a Recherche: "csv" (default), "xml".
enum class ExportFormat { Csv, Xml };
template <>
struct EnumTable<ExportFormat> {
  static constexpr std::array<EnumRow<ExportFormat>, 2> kRows{{
      {ExportFormat::Csv, "csv"},
      {ExportFormat::Xml, "xml"},
  }};
};

/// Booleans of the dépôt: exactly "true" or "false".
std::optional<bool> parse_boolean(std::string_view text);

}  // namespace raccord
