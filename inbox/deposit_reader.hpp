// Reads one dépôt (docs/reference.md §3) into a Deposit, or into dépôt-level errors.
#pragma once

#include <cstdint>
#include <string_view>

#include "domain/deposit.hpp"

namespace raccord::inbox {

/// Reads the bytes of a dépôt (docs/reference.md §3; placement of errors: docs/reference.md §4).
///
/// Input: the whole file (`bytes`) and the limit `max_bytes` (config inbox.max_bytes, in bytes).
/// Output: either `deposit` (errors empty) or dépôt-level `errors` (deposit empty). Never throws for
/// bad input (only std::bad_alloc, or std::runtime_error when iconv lacks a converter). Memory
/// running out anywhere, in expat or pugixml too (which report it as a status), is std::bad_alloc,
/// never an answer such as XML_MALFORME: the file is not the sender's fault.
/// Findings: the details of the first kMaxListedDiagnostics of the dépôt's operations (document
/// order) and of its dépôt-level errors are kept; the others are counted in
/// Operation::omitted_schema_errors and DepositReadResult::omitted_errors (an accusé lists no more:
/// docs/design.md "Accusé: at most 1,000 findings listed").
///
/// Dépôt-level errors, in the order they are checked (only the first one found is returned, except
/// for the root checks, which are all reported):
/// - 0 bytes: FICHIER_VIDE (F06). More than `max_bytes`: FICHIER_TROP_VOLUMINEUX, message stating
///   the limit in bytes; exactly `max_bytes` is accepted (F07).
/// - ENCODAGE_INVALIDE (line and column in characters): a declared encoding other than UTF-8,
///   ISO-8859-1, windows-1252 (aliases latin1, cp1252; case-insensitive); a UTF-8 BOM with a
///   non-UTF-8 declaration; bytes invalid for the encoding (invalid UTF-8, windows-1252's undefined
///   0x81 0x8D 0x8F 0x90 0x9D). Transcoding: inbox/transcoder.hpp. A BOM never reaches a value (F11).
/// - The expat gate (inbox/xml_gate.hpp): DTD_INTERDITE for any DOCTYPE (F13, F14; nothing expanded,
///   nothing external read); XML_MALFORME with line, column and expat's reason (F16 control
///   characters, `&#x1A;`, NUL bytes, unbound prefixes, no root element — also a BOM-only or
///   blank file, F06); SCHEMA_INVALIDE when elements nest deeper than kMaxElementDepth (10 000)
///   levels (F15): the hard limit that keeps the parser's memory bounded. Deep nesting under that
///   limit is an operation's SCHEMA_INVALIDE (the first element not admitted where it stands).
/// - SCHEMA_INVALIDE on the root: not `Depot` in urn:raccord:depot:1 (any prefix), an attribute
///   other than identifiant, mode (complete|partielle), demandeur (field "Depot/@name"), or
///   non-blank text directly in Depot (field "Depot"). A blank `identifiant`, `mode` or
///   `demandeur` is absent (the default mode; no identifiant).
///
/// Operations: each element child of Depot, rank from 1, `element_name` its local name, `line` its
/// line. Unknown names and elements of another namespace give an UnknownOperation body with one
/// SCHEMA_INVALIDE. `requester` is the operation's @demandeur, else Depot's (neither given, or the
/// operation's written blank: SCHEMA_INVALIDE on "@demandeur"); `reference` is @reference. Every
/// other finding is a SCHEMA_INVALIDE in `Operation::schema_errors`, field relative to the operation ("@action",
/// "Periode/@au", "Gestionnaire[2]/@role", "CodesInterface/Interface[2]/@mode", "Reseau/Hote",
/// "Certificats/Certificat[1]/@nom") and line of the element concerned:
/// - unknown elements or attributes at any depth, prefixed attributes, non-blank text in an element
///   that holds none, an element repeated where one is expected (the first is kept), EDI-only
///   children (Protocole, Periode, Reseau, CodesInterface) in a FicheAPI;
/// - missing or blank (empty after trimming) required attributes/elements: Structure @siret
///   @raisonSociale; Gestionnaire @login @role; UtilisateurTechnique @login; Utilisateur @login
///   @email; ActivationEspace @structure; DemandeAbonnement @structure and consultation and/or
///   modification "true" (field "@consultation"); DecisionAbonnement @demande @decision;
///   FicheEDI/FicheAPI @action and Partenaire; Interface @code @mode. A value with a rule code of
///   its own (a SIRET, an email) is judged by that rule once it is given;
/// - bad values of action, statut, type, role, decision, format, Interface/@mode, booleans (exactly
///   true|false), dates (YYYY-MM-DD, a real calendar day) of DemandeAbonnement/@date,
///   SoumisDepuis, SoumisJusqua. On a bad value the body keeps the default.
/// Values with their own rule code stay raw text, never schema errors: Periode @du/@au, Protocole,
/// SIRETs, emails, phones, network values, interface codes, Recherche's Etat.
///
/// Every value is read by Field::of (domain/deposit.hpp): trimmed of XML whitespace, and
/// ABSENT when nothing is left, so an optional value written empty or blank (`au=""`, `fax=" "`,
/// `<Commentaires/>`, `identifiant=""`, `statut=""`, `support=""`) is exactly an omitted one (the
/// default applies; the sheet rules report a missing contact, network value or certificate name
/// under their own codes, docs/reference.md §3.3). An element's text is its text and CDATA children joined
/// (comments skipped). Field lines are the line of the attribute's element or of the text's element
/// in the original file (CR LF, CR and LF each end a line). No recursion follows the input's depth.
/// Memory: about 2.5 times the file size at peak for a 60 MiB file (the bytes, parsed in place by
/// pugixml when they are UTF-8, else their UTF-8 copy; plus the values); each operation's part of
/// the tree is freed once it is read (docs/design.md "Memory bound").
/// `bytes` is taken (moved in by a caller that no longer needs it): a UTF-8 dépôt is parsed in
/// them, without a copy (issue 7).
DepositReadResult read_deposit(std::string bytes, std::uint64_t max_bytes);

/// The size rule (F07): a file of `size_bytes` is refused when it is over `max_bytes`
/// (inbox.max_bytes); exactly `max_bytes` is accepted. Decided here only: read_deposit on the
/// bytes, load_claimed (inbox/claimed_deposit.hpp) on the size of a file it then never loads.
constexpr bool is_too_large(std::uint64_t size_bytes, std::uint64_t max_bytes) {
  return size_bytes > max_bytes;
}

/// The dépôt-level refusal of a file of `size_bytes` over `max_bytes` (inbox.max_bytes):
/// FICHIER_TROP_VOLUMINEUX with the one message that says both sizes and what to do. Decided
/// here only: read_deposit uses it, and so does a caller that refuses a file by its size
/// without reading it.
DepositReadResult refuse_too_large(std::uint64_t size_bytes, std::uint64_t max_bytes);

}  // namespace raccord::inbox
