// Renders the accusé (SPEC.md §5.1) as XML, and names it.
#pragma once

#include <string>
#include <string_view>

#include "domain/acknowledgement.hpp"
#include "domain/civil_date.hpp"

namespace raccord::outbox {

/// The accusé XML (UTF-8, namespace urn:raccord:accuse:1, root Accuse), well-formed XML 1.0 for any
/// input: text and attribute values are escaped and characters outside the XML Char production
/// are written as a visible "\uXXXX" (FIELD-CASES F16). Instants as "YYYY-MM-DDTHH:MM:SSZ".
/// Erreur/Avertissement carry code, champ, ligne (when > 0) and colonne (when > 0).
std::string render_acknowledgement(const Acknowledgement& ack);

/// "ACK_<stem>_<YYYYMMDDTHHMMSSZ>" (without ".xml"): stem = file name without its last extension,
/// cut (at a UTF-8 boundary) so that the name with a "_N" suffix and ".xml" fits in 255 bytes.
std::string acknowledgement_base_name(std::string_view deposit_file_name, Instant processed);

/// Replaces every character outside the XML 1.0 Char production in UTF-8 `text` (and every byte
/// that is not valid UTF-8) with "\uXXXX" (or "\xNN" for a bad byte).
std::string sanitize_xml_text(std::string_view text);

/// `text` made safe for XML (and HTML) text content and double-quoted attribute values:
/// sanitize_xml_text, then & < > " and TAB, LF, CR written as references (so attribute values keep
/// them, XML 1.0 §3.3.3).
std::string escape_xml(std::string_view text);

}  // namespace raccord::outbox
