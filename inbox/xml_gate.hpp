// Well-formedness gate of a dépôt with expat (docs/reference.md §3, §4; docs/toolchain.md #6;
// docs/field-cases.md F13–F16).
#pragma once

#include <optional>
#include <string_view>

#include "domain/diagnostic.hpp"

namespace raccord::inbox {

/// Hard safety limit on element nesting (Depot is depth 1; the schema needs 4). Deeper than the
/// schema but within this limit, the dépôt is read and the first element not admitted where it
/// stands is its operation's SCHEMA_INVALIDE (docs/reference.md §4 "Placement"; the other operations are
/// applied in `partielle` mode). Beyond it the file is not read at all: expat keeps every open
/// element (about 150 bytes each), so a 64 MiB file of `<a>` would need gigabytes
/// (docs/design.md "Nesting depth"). Nothing in the engine recurses on the input's depth.
inline constexpr int kMaxElementDepth = 10000;

/// Checks that `utf8` (a whole document, already UTF-8, no BOM) is well-formed XML 1.0 with
/// namespaces, parsed by expat with the UTF-8 encoding forced (the XML declaration's encoding is
/// ignored: the text was transcoded before).
/// Returns nullopt when it is, else one dépôt-level diagnostic:
/// - DTD_INTERDITE at the DOCTYPE's line: parsing stops at `<!DOCTYPE`, before any internal subset
///   is read; no entity is ever expanded, parameter entities are off, nothing external is read
///   (F13, F14).
/// - SCHEMA_INVALIDE when elements nest deeper than `max_depth` (F15); parsing stops there (the
///   safety limit above, not a schema rule: the message says the file could not be read).
/// - XML_MALFORME with expat's line and 1-based column and a French message quoting expat's
///   reason (control characters, `&#x1A;`, NUL bytes, unbound prefixes, no root element, … F16).
/// Memory is bounded by expat's own state (no tree is built); input of any size is fed in chunks.
/// Throws std::bad_alloc when memory runs out (expat's XML_ERROR_NO_MEMORY included): never an
/// answer about the file.
std::optional<Diagnostic> check_well_formed(std::string_view utf8, int max_depth = kMaxElementDepth);

}  // namespace raccord::inbox
