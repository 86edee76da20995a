// Small closed vocabularies of SPEC.md §1 and §3, each with one string conversion pair.
#pragma once

#include <optional>
#include <string_view>

namespace raccord {

/// Protocole de raccordement (EDI only). Codes: "PESIT", "SFTP", "AS2".
enum class Protocol { Pesit, Sftp, As2 };
std::string_view to_code(Protocol p);
std::optional<Protocol> parse_protocol(std::string_view code);

/// Mode de traitement of one interface code: "aucun", "complete", "partielle".
enum class ProcessingMode { Aucun, Complete, Partielle };
std::string_view to_code(ProcessingMode m);
std::optional<ProcessingMode> parse_processing_mode(std::string_view code);

/// The engine's environment (config engine.environment): "production", "qualification".
enum class Environment { Production, Qualification };
std::string_view to_code(Environment e);
std::optional<Environment> parse_environment(std::string_view code);

/// Kind of sheet: "EDI" (FicheEDI) or "API" (FicheAPI).
enum class SheetKind { Edi, Api };
std::string_view to_code(SheetKind k);
std::optional<SheetKind> parse_sheet_kind(std::string_view code);

/// `action` of a FicheEDI/FicheAPI (SPEC.md §3.3): "enregistrer", "soumettre", "supprimer", "desactiver".
enum class SheetAction { Enregistrer, Soumettre, Supprimer, Desactiver };
std::string_view to_code(SheetAction a);
std::optional<SheetAction> parse_sheet_action(std::string_view code);

/// `mode` of a Depot (SPEC.md §3): "complete" (default) or "partielle".
enum class DepositMode { Complete, Partielle };
std::string_view to_code(DepositMode m);
std::optional<DepositMode> parse_deposit_mode(std::string_view code);

/// Accusé `statut` of a dépôt (SPEC.md §5.1).
enum class DepositStatus { Integre, IntegrePartiel, Rejete, Doublon };
std::string_view to_code(DepositStatus s);
std::optional<DepositStatus> parse_deposit_status(std::string_view code);

/// `role` of a Gestionnaire: "principal", "secondaire".
enum class ManagerRole { Principal, Secondaire };
std::string_view to_code(ManagerRole r);
std::optional<ManagerRole> parse_manager_role(std::string_view code);

/// `decision` of a DecisionAbonnement: "valider", "refuser".
enum class Decision { Valider, Refuser };
std::string_view to_code(Decision d);
std::optional<Decision> parse_decision(std::string_view code);

/// Export format of a Recherche: "csv" (default), "xml".
enum class ExportFormat { Csv, Xml };
std::string_view to_code(ExportFormat f);
std::optional<ExportFormat> parse_export_format(std::string_view code);

/// Booleans of the dépôt: exactly "true" or "false".
std::optional<bool> parse_boolean(std::string_view text);

}  // namespace raccord
