// Well-formedness gate of a dépôt with expat (SPEC.md §3, §4; TOOLCHAIN.md #6; FIELD-CASES F13–F16).
#pragma once

#include <optional>
#include <string_view>

#include "engine/domain/diagnostic.hpp"

namespace raccord::inbox {

/// Deepest element nesting a dépôt may have (Depot is depth 1; the schema needs 4).
inline constexpr int kMaxElementDepth = 64;

/// Checks that `utf8` (a whole document, already UTF-8, no BOM) is well-formed XML 1.0 with
/// namespaces, parsed by expat with the UTF-8 encoding forced (the XML declaration's encoding is
/// ignored: the text was transcoded before).
/// Returns nullopt when it is, else one dépôt-level diagnostic:
/// - DTD_INTERDITE at the DOCTYPE's line: parsing stops at `<!DOCTYPE`, before any internal subset
///   is read; no entity is ever expanded, parameter entities are off, nothing external is read
///   (F13, F14).
/// - SCHEMA_INVALIDE when elements nest deeper than `max_depth` (F15); parsing stops there.
/// - XML_MALFORME with expat's line and 1-based column and a French message quoting expat's
///   reason (control characters, `&#x1A;`, NUL bytes, unbound prefixes, no root element, … F16).
/// Memory is bounded by expat's own state (no tree is built); input of any size is fed in chunks.
std::optional<Diagnostic> check_well_formed(std::string_view utf8, int max_depth = kMaxElementDepth);

}  // namespace raccord::inbox
