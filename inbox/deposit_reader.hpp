// Reads one dépôt (SPEC.md §3) into a Deposit, or into dépôt-level errors.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/domain/deposit.hpp"

namespace raccord::inbox {

/// Reads the bytes of a dépôt.
/// - 0 bytes: FICHIER_VIDE. More than `max_bytes`: FICHIER_TROP_VOLUMINEUX (message states the limit).
/// - Encoding: UTF-8 (optional BOM), or ISO-8859-1 / windows-1252 when the XML declaration says so,
///   transcoded with iconv; bytes invalid for the encoding: ENCODAGE_INVALIDE with line and column.
/// - Gate with expat (namespaces on): not well-formed: XML_MALFORME with line and column; any
///   DOCTYPE: DTD_INTERDITE (no entity is ever expanded, nothing outside the file is read).
/// - Root must be `Depot` in namespace urn:raccord:depot:1 with only attributes identifiant, mode,
///   demandeur (mode complete|partielle): else dépôt-level SCHEMA_INVALIDE.
/// - Each element child of Depot is one Operation (rank from 1) with its own schema_errors
///   (SCHEMA_INVALIDE with field and line): unknown elements/attributes, missing required ones,
///   bad enum/boolean/date values, element in another namespace.
/// Never throws for bad input. Lines are those of the original bytes.
DepositReadResult read_deposit(std::string_view bytes, std::uint64_t max_bytes);

}  // namespace raccord::inbox
