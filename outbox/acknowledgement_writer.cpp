// Renders the accusé (docs/reference.md §5.1; docs/field-cases.md F16) as text, without a document tree, and names it.
// acknowledgement_writer.hpp uses Instant without including its header: include it first.
// clang-format off
#include "domain/civil_date.hpp"
#include "outbox/acknowledgement_writer.hpp"
// clang-format on

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "domain/allocation_fault.hpp"
#include "files/atomic_file.hpp"

namespace raccord::outbox {
namespace {

constexpr const char* kNamespace = "urn:raccord:accuse:1";

bool is_xml_char(char32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

/// Length of the UTF-8 sequence starting at `text[i]` and its code point; 0 when the bytes there
/// are not a valid, shortest-form UTF-8 sequence (surrogates included).
std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  std::size_t length = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

/// A valid XML Name for an element from configuration (ParametresAIFE children): characters
/// outside [A-Za-z0-9_.-] become '_', and a leading digit, '.' or '-' gets a '_' before it.
std::string element_name(std::string_view raw) {
  std::string name;
  for (char c : raw) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    name.push_back(ok ? c : '_');
  }
  if (name.empty() || !((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) {
    name.insert(name.begin(), '_');
  }
  return name;
}

/// Appends `text` to `out` as XML: sanitized (a character outside the XML Char production as
/// "\uXXXX", a byte that is not UTF-8 as "\xNN"), then escaped for an attribute value in double
/// quotes (& < " and TAB, LF, CR as references, so that the value keeps them: XML 1.0 §3.3.3) or
/// for text content (& < >). The same bytes as pugixml's writer gave before (format_default).
void append_xml(std::string& out, std::string_view text, bool attribute) {
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t cp = 0;
    const std::size_t length = decode_utf8(text, i, cp);
    if (length == 0) {
      out += fmt::format("\\x{:02X}", static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (!is_xml_char(cp)) {
      out += fmt::format("\\u{:04X}", static_cast<std::uint32_t>(cp));
    } else if (length > 1) {
      out.append(text.substr(i, length));
    } else {
      switch (text[i]) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += attribute ? ">" : "&gt;";
          break;
        case '"':
          out += attribute ? "&quot;" : "\"";
          break;
        case '\t':
          out += attribute ? "&#09;" : "\t";
          break;
        case '\n':
          out += attribute ? "&#10;" : "\n";
          break;
        case '\r':
          out += attribute ? "&#13;" : "\r";
          break;
        default:
          out += text[i];
      }
    }
    i += length;
  }
}

void append_attribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  append_xml(out, value, true);
  out += '"';
}

/// `<Erreur ...>message</Erreur>` (or Avertissement) on a line of its own, after `indent`.
void append_diagnostic(std::string& out, std::string_view indent, const Diagnostic& d) {
  const char* element = d.is_error() ? "Erreur" : "Avertissement";
  out += indent;
  out += '<';
  out += element;
  append_attribute(out, "code", to_code(d.code));
  if (!d.field.empty()) append_attribute(out, "champ", d.field);
  if (d.line > 0) append_attribute(out, "ligne", std::to_string(d.line));
  if (d.column > 0) append_attribute(out, "colonne", std::to_string(d.column));
  if (d.message.empty()) {  // as pugixml writes an empty element
    out += " />\n";
    return;
  }
  out += '>';
  append_xml(out, d.message, false);
  out += "</";
  out += element;
  out += ">\n";
}

void append_aife(std::string& out, const AifeParameters& aife) {
  out += "    <ParametresAIFE";
  append_attribute(out, "protocole", to_code(aife.protocol));
  if (aife.values.empty()) {
    out += " />\n";
    return;
  }
  out += ">\n";
  for (const auto& [raw_name, value] : aife.values) {
    const std::string name = element_name(raw_name);
    out += "      <";
    out += name;
    if (value.empty()) {
      out += " />\n";
      continue;
    }
    out += '>';
    append_xml(out, value, false);
    out += "</";
    out += name;
    out += ">\n";
  }
  out += "    </ParametresAIFE>\n";
}

std::uint32_t offset(std::size_t from, std::size_t at) {
  return static_cast<std::uint32_t>(at - from);
}

}  // namespace

std::string sanitize_xml_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t cp = 0;
    const std::size_t length = decode_utf8(text, i, cp);
    if (length == 0) {
      out += fmt::format("\\x{:02X}", static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (is_xml_char(cp)) {
      out.append(text.substr(i, length));
    } else {
      out += fmt::format("\\u{:04X}", static_cast<std::uint32_t>(cp));
    }
    i += length;
  }
  return out;
}

AcknowledgementWriter::AcknowledgementWriter(std::size_t expected_bytes, bool may_reject_all)
    : may_reject_all_(may_reject_all) {
  if (expected_bytes > 0) body_.reserve(expected_bytes);
}

void AcknowledgementWriter::list(std::size_t findings) {
  if (findings > kMaxListedDiagnostics - listed_) {
    throw std::logic_error("AcknowledgementWriter: more findings given than an accusé lists (DiagnosticBudget)");
  }
  listed_ += findings;
}

void AcknowledgementWriter::deposit_error(const Diagnostic& d) {
  list(1);
  append_diagnostic(body_, "  ", d);
}

void AcknowledgementWriter::omit(const OmittedDiagnostics& omitted) {
  omitted_ += omitted.total();
}

void AcknowledgementWriter::operation(const OperationOutcome& op) {
  if (rejected_all_) throw std::logic_error("AcknowledgementWriter::operation after reject_all");
  allocation_step(AllocationStep::Acknowledgement);
  list(op.diagnostics.size());
  const std::size_t listed = op.diagnostics.size();
  const bool aife = op.accepted && op.aife.has_value();
  const std::size_t start = body_.size();
  AcceptedPlace place;
  body_ += "  <Operation";
  append_attribute(body_, "rang", std::to_string(op.rank));
  append_attribute(body_, "type", op.type);
  if (op.reference) append_attribute(body_, "reference", *op.reference);
  body_ += " statut=\"";
  place.status = offset(start, body_.size());
  body_ += op.accepted ? "ACCEPTEE\"" : "REJETEE\"";
  if (op.code_appli) append_attribute(body_, "codeAppli", *op.code_appli);
  if (op.state) append_attribute(body_, "etat", to_code(*op.state));
  if (op.deleted) append_attribute(body_, "supprimee", "true");
  if (op.subscription_request) append_attribute(body_, "demande", *op.subscription_request);
  if (op.export_file) append_attribute(body_, "export", *op.export_file);
  place.open_end = offset(start, body_.size());
  if (listed == 0 && !aife) {
    body_ += " />\n";
    place.diagnostics = place.diagnostics_end = place.open_end;
  } else {
    body_ += ">\n";
    place.diagnostics = offset(start, body_.size());
    for (std::size_t i = 0; i < listed; ++i) append_diagnostic(body_, "    ", op.diagnostics[i]);
    place.diagnostics_end = offset(start, body_.size());
    if (aife) append_aife(body_, *op.aife);
    body_ += "  </Operation>\n";
  }
  place.end = offset(start, body_.size());
  omitted_ += op.omitted.total();
  if (may_reject_all_ && op.accepted) {
    place.start = start;
    accepted_.push_back(place);
  }
}

void AcknowledgementWriter::reject_all() {
  if (!may_reject_all_) throw std::logic_error("AcknowledgementWriter::reject_all without may_reject_all");
  rejected_all_ = true;
  if (accepted_.empty()) return;
  // Each accepted fragment is rewritten shorter, in place, left to right: what is written never
  // reaches what is still to be read.
  char* text = body_.data();
  std::size_t write = accepted_.front().start;
  std::size_t read = write;
  const auto put = [&](std::size_t from, std::size_t length) {
    std::memmove(text + write, text + from, length);
    write += length;
  };
  const auto put_text = [&](std::string_view s) {
    std::memcpy(text + write, s.data(), s.size());
    write += s.size();
  };
  for (const AcceptedPlace& p : accepted_) {
    put(read, p.start - read);  // the rejected operations before it, unchanged
    put(p.start, p.status);     // "  <Operation rang=.. type=.. reference=.. statut=\""
    put_text("REJETEE\"");
    if (p.diagnostics_end > p.diagnostics) {
      put_text(">\n");
      put(p.start + p.diagnostics, p.diagnostics_end - p.diagnostics);
      put_text("  </Operation>\n");
    } else {
      put_text(" />\n");
    }
    read = p.start + p.end;
  }
  put(read, body_.size() - read);
  body_.resize(write);
  accepted_.clear();
  accepted_.shrink_to_fit();
}

std::string AcknowledgementWriter::finish(const Acknowledgement& root) {
  allocation_step(AllocationStep::Acknowledgement);
  std::string head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Accuse";
  append_attribute(head, "xmlns", kNamespace);
  append_attribute(head, "fichier", root.file_name);
  append_attribute(head, "sha256", root.sha256);
  if (root.account) append_attribute(head, "compte", *root.account);
  if (root.identifier) append_attribute(head, "identifiant", *root.identifier);
  if (root.mode) append_attribute(head, "mode", to_code(*root.mode));
  append_attribute(head, "recu", format_iso_instant(root.received));
  append_attribute(head, "traite", format_iso_instant(root.processed));
  append_attribute(head, "statut", to_code(root.status));
  if (root.original) append_attribute(head, "original", *root.original);
  if (omitted_ > 0) append_attribute(head, "erreursOmises", std::to_string(omitted_));
  if (body_.empty()) {
    head += " />\n";
    return head;
  }
  head += ">\n";
  constexpr std::string_view kEnd = "</Accuse>\n";
  // The head goes in front of the body in place when the room reserved allows it.
  if (body_.capacity() < body_.size() + head.size() + kEnd.size()) {
    body_.reserve(body_.size() + head.size() + kEnd.size());
  }
  body_.insert(0, head);
  body_ += kEnd;
  listed_ = 0;
  omitted_ = 0;
  return std::move(body_);
}

std::string render_acknowledgement(const Acknowledgement& ack) {
  // The lists of `ack` as given: the cap is decided by the same DiagnosticBudget as the engine's.
  AcknowledgementWriter writer;
  DiagnosticBudget budget;
  Diagnostics listed;
  OmittedDiagnostics omitted = ack.deposit_omitted;
  for (const Diagnostic& d : ack.deposit_errors) budget.add(listed, omitted, d);
  budget.skip(ack.deposit_omitted.total());
  for (const Diagnostic& d : listed) writer.deposit_error(d);
  writer.omit(omitted);
  for (const OperationOutcome& op : ack.operations) {
    OperationOutcome capped = op;
    capped.diagnostics.clear();
    for (const Diagnostic& d : op.diagnostics) budget.add(capped.diagnostics, capped.omitted, d);
    budget.skip(op.omitted.total());
    writer.operation(capped);
  }
  return writer.finish(ack);
}

std::string acknowledgement_base_name(std::string_view deposit_file_name, Instant processed) {
  std::string_view stem = deposit_file_name;
  const auto dot = stem.rfind('.');
  if (dot != std::string_view::npos && dot > 0) stem = stem.substr(0, dot);
  // Room for the "_N" of a taken name and ".xml" (docs/reference.md §5.1): the stem is cut, never the instant.
  return "ACK_" + files::fit_name(stem, "_" + format_compact_instant(processed), files::kMaxNameBytes - 12);
}

std::string escape_xml(std::string_view text) {
  std::string out;
  for (char c : sanitize_xml_text(text)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace raccord::outbox
