#include "domain/vocabulary.hpp"
namespace raccord {
std::string_view to_code(Protocol v) {
  switch (v) {
    case Protocol::Pesit:
      return "PESIT";
    case Protocol::Sftp:
      return "SFTP";
    case Protocol::As2:
      return "AS2";
  }
  return "PESIT";
}

std::optional<Protocol> parse_protocol(std::string_view code) {
  if (code == "PESIT") return Protocol::Pesit;
  if (code == "SFTP") return Protocol::Sftp;
  if (code == "AS2") return Protocol::As2;
  return std::nullopt;
}

std::string_view to_code(ProcessingMode v) {
  switch (v) {
    case ProcessingMode::Aucun:
      return "aucun";
    case ProcessingMode::Complete:
      return "complete";
    case ProcessingMode::Partielle:
      return "partielle";
  }
  return "aucun";
}

std::optional<ProcessingMode> parse_processing_mode(std::string_view code) {
  if (code == "aucun") return ProcessingMode::Aucun;
  if (code == "complete") return ProcessingMode::Complete;
  if (code == "partielle") return ProcessingMode::Partielle;
  return std::nullopt;
}

std::string_view to_code(Environment v) {
  switch (v) {
    case Environment::Production:
      return "production";
    case Environment::Qualification:
      return "qualification";
  }
  return "production";
}

std::optional<Environment> parse_environment(std::string_view code) {
  if (code == "production") return Environment::Production;
  if (code == "qualification") return Environment::Qualification;
  return std::nullopt;
}

std::string_view to_code(SheetKind v) {
  switch (v) {
    case SheetKind::Edi:
      return "EDI";
    case SheetKind::Api:
      return "API";
  }
  return "EDI";
}

std::optional<SheetKind> parse_sheet_kind(std::string_view code) {
  if (code == "EDI") return SheetKind::Edi;
  if (code == "API") return SheetKind::Api;
  return std::nullopt;
}

std::string_view to_code(SheetAction v) {
  switch (v) {
    case SheetAction::Enregistrer:
      return "enregistrer";
    case SheetAction::Soumettre:
      return "soumettre";
    case SheetAction::Supprimer:
      return "supprimer";
    case SheetAction::Desactiver:
      return "desactiver";
  }
  return "enregistrer";
}

std::optional<SheetAction> parse_sheet_action(std::string_view code) {
  if (code == "enregistrer") return SheetAction::Enregistrer;
  if (code == "soumettre") return SheetAction::Soumettre;
  if (code == "supprimer") return SheetAction::Supprimer;
  if (code == "desactiver") return SheetAction::Desactiver;
  return std::nullopt;
}

std::string_view to_code(DepositMode v) {
  switch (v) {
    case DepositMode::Complete:
      return "complete";
    case DepositMode::Partielle:
      return "partielle";
  }
  return "complete";
}

std::optional<DepositMode> parse_deposit_mode(std::string_view code) {
  if (code == "complete") return DepositMode::Complete;
  if (code == "partielle") return DepositMode::Partielle;
  return std::nullopt;
}

std::string_view to_code(DepositStatus v) {
  switch (v) {
    case DepositStatus::Integre:
      return "INTEGRE";
    case DepositStatus::IntegrePartiel:
      return "INTEGRE_PARTIEL";
    case DepositStatus::Rejete:
      return "REJETE";
    case DepositStatus::Doublon:
      return "DOUBLON";
  }
  return "INTEGRE";
}

std::optional<DepositStatus> parse_deposit_status(std::string_view code) {
  if (code == "INTEGRE") return DepositStatus::Integre;
  if (code == "INTEGRE_PARTIEL") return DepositStatus::IntegrePartiel;
  if (code == "REJETE") return DepositStatus::Rejete;
  if (code == "DOUBLON") return DepositStatus::Doublon;
  return std::nullopt;
}

std::string_view to_code(ManagerRole v) {
  switch (v) {
    case ManagerRole::Principal:
      return "principal";
    case ManagerRole::Secondaire:
      return "secondaire";
  }
  return "principal";
}

std::optional<ManagerRole> parse_manager_role(std::string_view code) {
  if (code == "principal") return ManagerRole::Principal;
  if (code == "secondaire") return ManagerRole::Secondaire;
  return std::nullopt;
}

std::string_view to_code(Decision v) {
  switch (v) {
    case Decision::Valider:
      return "valider";
    case Decision::Refuser:
      return "refuser";
  }
  return "valider";
}

std::optional<Decision> parse_decision(std::string_view code) {
  if (code == "valider") return Decision::Valider;
  if (code == "refuser") return Decision::Refuser;
  return std::nullopt;
}

std::string_view to_code(ExportFormat v) {
  switch (v) {
    case ExportFormat::Csv:
      return "csv";
    case ExportFormat::Xml:
      return "xml";
  }
  return "csv";
}

std::optional<ExportFormat> parse_export_format(std::string_view code) {
  if (code == "csv") return ExportFormat::Csv;
  if (code == "xml") return ExportFormat::Xml;
  return std::nullopt;
}

std::optional<bool> parse_boolean(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

}  // namespace raccord
