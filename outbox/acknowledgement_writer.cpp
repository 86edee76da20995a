// Renders the accusé (SPEC.md §5.1; FIELD-CASES F16) with pugixml, and names it.
// acknowledgement_writer.hpp uses Instant without including its header: include it first.
// clang-format off
#include "domain/civil_date.hpp"
#include "outbox/acknowledgement_writer.hpp"
// clang-format on

#include <fmt/format.h>

#include <pugixml.hpp>
#include <sstream>

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

void set_attribute(pugi::xml_node node, const char* name, std::string_view value) {
  node.append_attribute(name).set_value(sanitize_xml_text(value).c_str());
}

void append_diagnostic(pugi::xml_node parent, const Diagnostic& d) {
  pugi::xml_node node = parent.append_child(std::string(to_code(d.severity)).c_str());
  set_attribute(node, "code", to_code(d.code));
  if (!d.field.empty()) set_attribute(node, "champ", d.field);
  if (d.line > 0) set_attribute(node, "ligne", std::to_string(d.line));
  if (d.column > 0) set_attribute(node, "colonne", std::to_string(d.column));
  node.text().set(sanitize_xml_text(d.message).c_str());
}

void append_operation(pugi::xml_node root, const OperationOutcome& op) {
  pugi::xml_node node = root.append_child("Operation");
  set_attribute(node, "rang", std::to_string(op.rank));
  set_attribute(node, "type", op.type);
  if (op.reference) set_attribute(node, "reference", *op.reference);
  set_attribute(node, "statut", op.accepted ? "ACCEPTEE" : "REJETEE");
  if (op.code_appli) set_attribute(node, "codeAppli", *op.code_appli);
  if (op.state) set_attribute(node, "etat", to_code(*op.state));
  if (op.deleted) set_attribute(node, "supprimee", "true");
  if (op.subscription_request) set_attribute(node, "demande", *op.subscription_request);
  if (op.export_file) set_attribute(node, "export", *op.export_file);
  for (const Diagnostic& d : op.diagnostics) append_diagnostic(node, d);
  if (op.aife) {
    pugi::xml_node params = node.append_child("ParametresAIFE");
    set_attribute(params, "protocole", to_code(op.aife->protocol));
    for (const auto& [name, value] : op.aife->values) {
      params.append_child(element_name(name).c_str()).text().set(sanitize_xml_text(value).c_str());
    }
  }
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

std::string render_acknowledgement(const Acknowledgement& ack) {
  pugi::xml_document doc;
  pugi::xml_node declaration = doc.append_child(pugi::node_declaration);
  declaration.append_attribute("version").set_value("1.0");
  declaration.append_attribute("encoding").set_value("UTF-8");

  pugi::xml_node root = doc.append_child("Accuse");
  root.append_attribute("xmlns").set_value(kNamespace);
  set_attribute(root, "fichier", ack.file_name);
  set_attribute(root, "sha256", ack.sha256);
  if (ack.identifier) set_attribute(root, "identifiant", *ack.identifier);
  if (ack.mode) set_attribute(root, "mode", to_code(*ack.mode));
  set_attribute(root, "recu", format_iso_instant(ack.received));
  set_attribute(root, "traite", format_iso_instant(ack.processed));
  set_attribute(root, "statut", to_code(ack.status));
  if (ack.original) set_attribute(root, "original", *ack.original);

  for (const Diagnostic& d : ack.deposit_errors) append_diagnostic(root, d);
  for (const OperationOutcome& op : ack.operations) append_operation(root, op);

  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

std::string acknowledgement_base_name(std::string_view deposit_file_name, Instant processed) {
  std::string_view stem = deposit_file_name;
  const auto dot = stem.rfind('.');
  if (dot != std::string_view::npos && dot > 0) stem = stem.substr(0, dot);
  // Room for the "_N" of a taken name and ".xml" (SPEC.md §5.1): the stem is cut, never the instant.
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
