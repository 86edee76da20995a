// Renders the accusé (docs/reference.md §5.1) as XML, and names it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/acknowledgement.hpp"
#include "domain/civil_date.hpp"

namespace raccord::outbox {

/// Writes one accusé (docs/design.md "Accusé: at most 1,000 findings listed") as its parts become
/// known, straight into one string, without a document tree: the dépôt-level errors, then each
/// operation in document order, then finish() with the root's attributes. So an accusé costs its
/// own text and nothing per operation besides (a dépôt of 250,000 operations is not 250,000
/// outcomes kept until the end).
///
/// Output: UTF-8, namespace urn:raccord:accuse:1, root Accuse; well-formed XML 1.0 for any input:
/// text and attribute values are escaped and characters outside the XML Char production are written
/// as a visible "\uXXXX" (a byte that is not UTF-8: "\xNN"; docs/field-cases.md F16). Instants as
/// "YYYY-MM-DDTHH:MM:SSZ". Erreur/Avertissement carry code, champ (when not empty), ligne (when > 0)
/// and colonne (when > 0). Two-space indentation, one element per line.
///
/// The cap (at most kMaxListedDiagnostics Erreur and Avertissement, the first in document order) is
/// decided before, where the findings are collected (DiagnosticBudget, domain/diagnostic.hpp): the
/// writer lists every finding it is given and counts every one given as omitted
/// (OmittedDiagnostics) in `Accuse/@erreursOmises`, written only when not 0.
///
/// Errors: every allocation failure throws std::bad_alloc out of the call that met it; nothing is
/// caught, so no accusé is ever returned cut short (the caller's transaction then does not commit).
/// Given more than kMaxListedDiagnostics findings to list in all: std::logic_error (a caller that
/// did not collect them through a DiagnosticBudget), and no accusé.
class AcknowledgementWriter {
 public:
  /// `expected_bytes`: the size the accusé should reach, reserved at once (a string grown by
  /// doubling holds two copies of itself at each growth); 0 for none. `may_reject_all`: the dépôt
  /// is in `complete` mode, so reject_all() may be called (the accepted operations' places are
  /// remembered for it: 24 bytes each).
  explicit AcknowledgementWriter(std::size_t expected_bytes = 0, bool may_reject_all = false);

  /// A dépôt-level Erreur (a direct child of Accuse); before any operation.
  void deposit_error(const Diagnostic& d);
  /// Findings not kept by whoever collected them, counted in erreursOmises.
  void omit(const OmittedDiagnostics& omitted);
  /// The next Operation, in document order: its attributes, all its diagnostics (op.omitted
  /// counted) and, when accepted and given, its ParametresAIFE.
  void operation(const OperationOutcome& op);
  /// Turns every operation written so far into a rejected one (complete mode rolled back: statut
  /// REJETEE, no codeAppli, etat, supprimee, demande, export nor ParametresAIFE; each keeps its own
  /// diagnostics). Only when constructed with `may_reject_all` (std::logic_error otherwise); no
  /// operation() after it.
  void reject_all();
  /// The whole accusé. `root` gives the root's attributes (file_name, sha256, identifier, mode,
  /// received, processed, status, original); its diagnostics and operations are not read.
  std::string finish(const Acknowledgement& root);

  /// Findings listed so far, and left out so far (what erreursOmises will say).
  std::size_t listed() const { return listed_; }
  std::uint64_t omitted() const { return omitted_; }

 private:
  /// Where an accepted operation's parts are in `body_`: offsets from `start` (reject_all).
  struct AcceptedPlace {
    std::size_t start = 0;
    std::uint32_t status = 0;       // the value of statut
    std::uint32_t open_end = 0;     // after the attributes: " />" or ">"
    std::uint32_t diagnostics = 0;  // first diagnostic (open_end + 2 when there are children)
    std::uint32_t diagnostics_end = 0;
    std::uint32_t end = 0;  // after the fragment's last line
  };

  /// Counts `findings` more listed; std::logic_error past kMaxListedDiagnostics.
  void list(std::size_t findings);

  std::string body_;
  std::size_t listed_ = 0;
  std::uint64_t omitted_ = 0;
  bool may_reject_all_ = false;
  bool rejected_all_ = false;
  std::vector<AcceptedPlace> accepted_;
};

/// The whole accusé of `ack`, its lists of findings as they are, capped on the way by a
/// DiagnosticBudget in document order (the same text and the same cap as the engine's accusés).
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
