// The accusé of one dépôt (docs/reference.md §5.1) as a plain value, rendered to XML by outbox/.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/diagnostic.hpp"
#include "domain/sheet_state.hpp"
#include "domain/vocabulary.hpp"

namespace raccord {

/// AIFE-side network parameters of an accepted EDI sheet (docs/reference.md §5.1), as ordered
/// (element name, text) pairs, e.g. {"Identifiant","CTAIFEP"}, {"AdresseIP","93.92.105.71"}.
struct AifeParameters {
  Protocol protocol = Protocol::Sftp;
  std::vector<std::pair<std::string, std::string>> values;
};

/// One `Operation` of the accusé.
struct OperationOutcome {
  int rank = 0;
  std::string type;  // the operation's element name
  std::optional<std::string> reference;
  bool accepted = false;
  std::optional<std::string> code_appli;            // accepted sheet operations
  std::optional<SheetState> state;                  // accepted sheet operations
  bool deleted = false;                             // supprimer: supprimee="true"
  std::optional<std::string> subscription_request;  // accepted DemandeAbonnement: "ABO-NNNNNN"
  std::optional<std::string> export_file;           // Recherche: the export written to the outbox
  Diagnostics diagnostics;                          // errors and warnings, in the order found
  OmittedDiagnostics omitted;                       // found after them, not kept (kMaxListedDiagnostics)
  std::optional<AifeParameters> aife;               // accepted EDI sheet operations
};

/// The whole accusé.
struct Acknowledgement {
  std::string file_name;                  // the dépôt's file name (attribute fichier)
  std::string sha256;                     // lowercase hex of the dépôt's bytes
  std::optional<std::string> account;     // compte: the sender account it came through (absent: inbox/)
  std::optional<std::string> identifier;  // Depot/@identifiant
  std::optional<DepositMode> mode;        // absent when the file could not be read
  std::chrono::sys_seconds received{};    // UTC instant the dépôt was claimed
  std::chrono::sys_seconds processed{};   // UTC business instant of processing
  DepositStatus status = DepositStatus::Rejete;
  std::optional<std::string> original;  // DOUBLON: the original accusé's file name
  Diagnostics deposit_errors;           // dépôt-level errors (direct children of Accuse)
  OmittedDiagnostics deposit_omitted;   // dépôt-level errors found after them, not kept
  std::vector<OperationOutcome> operations;
};

}  // namespace raccord
