// The flow catalogue (docs/reference.md §4 end, §1): compiled-in seed and loader of rules/catalogue.xml
// (format documented at the top of that file). pugixml stays private to this file.
#include "rules/catalogue.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <pugixml.hpp>
#include <set>
#include <system_error>

#include "rules/input_file.hpp"

namespace raccord::rules {
namespace {

constexpr std::string_view kCatalogueFileName = "catalogue.xml";

/// 1-based line of byte `offset` in `text`.
int line_of(const std::string& text, std::ptrdiff_t offset) {
  if (offset < 0) return 0;
  const auto end = text.begin() + std::min<std::ptrdiff_t>(offset, static_cast<std::ptrdiff_t>(text.size()));
  return 1 + static_cast<int>(std::count(text.begin(), end, '\n'));
}

bool is_code(std::string_view code) {
  if (code.empty()) return false;
  return std::all_of(code.begin(), code.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

bool is_family(std::string_view family) {
  return family == "E1" || family == "E2" || family == "E3" || family == "R" || family == "S";
}

std::string trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::size_t b = 0;
  std::size_t e = text.size();
  while (b < e && is_space(text[b])) ++b;
  while (e > b && is_space(text[e - 1])) --e;
  return std::string{text.substr(b, e - b)};
}

}  // namespace

Catalogue Catalogue::seed() {
  // Same 15 codes as rules/catalogue.xml (a test checks that both agree).
  Catalogue c;
  c.entries_ = {
      {"FSO1100A", "Flux de factures structurées", "E1", "UBL", true},
      {"FSO1101A", "Flux de factures structurées", "E1", "CII", true},
      {"FSO1102A", "Flux de factures structurées", "E1", "PES", true},
      {"FSO1105A", "Flux de factures structurées", "E1", "XCBL", true},
      {"FSO1110A", "Flux de factures mixtes", "E2", "UBL Invoice Minimal", true},
      {"FSO1111A", "Flux de factures mixtes", "E2", "CII Minimal", true},
      {"FSO1112A", "Flux de factures mixtes", "E2", "PES_Factures Minimal", true},
      {"FSO1113A", "Flux de factures mixtes", "E2", "CPPFactureMixte / PES Facture", true},
      {"FSO1120A", "Flux structuré de mémoires de frais de justice", "E3", "UBL Invoice Mémoire", true},
      {"FSO1300A", "Flux du cycle de vie des factures émis par les émetteurs (accusé de réception)", "R", "CPP Statut",
       false},
      {"FSO1301A", "Flux du cycle de vie des factures émis par les destinataires (statut de la facture)", "R",
       "CPP Statut", false},
      {"FEN1200A", "Flux du cycle de vie des factures envoyé aux fournisseurs", "R", "CPP Statut", true},
      {"FEN1201A", "Flux du cycle de vie des factures à destination des fournisseurs", "R", "AIFE Statut", true},
      {"FEN0036A", "Flux pivot", "S", "CPP Pivot", false},
      {"FAR0037A", "Flux pivot", "S", "CPP Pivot", true},
  };
  return c;
}

std::optional<Catalogue> Catalogue::load_file(const std::filesystem::path& file, std::string& error) {
  // A read error throws (read_input_file): a catalogue that is there is never replaced by the seed
  // because the disk failed (issue 20).
  const std::optional<std::string> bytes = read_input_file(file);
  if (!bytes) {
    error = "catalogue " + file.string() + " absent";
    return std::nullopt;
  }
  const std::string& text = *bytes;

  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    error = "catalogue " + file.string() + " : XML invalide ligne " + std::to_string(line_of(text, parsed.offset)) +
            " (" + parsed.description() + ")";
    return std::nullopt;
  }
  const auto fail = [&](const pugi::xml_node& node, const std::string& why) {
    error = "catalogue " + file.string() + " ligne " + std::to_string(line_of(text, node.offset_debug())) + " : " + why;
    return std::nullopt;
  };

  const pugi::xml_node root = doc.document_element();
  if (std::string_view{root.name()} != "Catalogue") {
    return fail(root, std::string{"racine attendue <Catalogue>, trouvée <"} + root.name() + ">");
  }
  for (const pugi::xml_attribute& a : root.attributes()) {
    if (std::string_view{a.name()} != "version") return fail(root, std::string{"attribut inconnu "} + a.name());
  }
  if (std::string_view{root.attribute("version").value()} != "1") {
    return fail(root, "attribut version=\"1\" attendu sur <Catalogue>");
  }

  Catalogue catalogue;
  std::set<std::string, std::less<>> seen;
  for (const pugi::xml_node& node : root.children()) {
    switch (node.type()) {
      case pugi::node_comment:
        continue;
      case pugi::node_element:
        break;
      case pugi::node_null:
      case pugi::node_document:
      case pugi::node_pcdata:
      case pugi::node_cdata:
      case pugi::node_pi:
      case pugi::node_declaration:
      case pugi::node_doctype:
        return fail(node, "contenu inattendu dans <Catalogue> (seuls des éléments <Flux> sont permis)");
    }
    if (std::string_view{node.name()} != "Flux") {
      return fail(node, std::string{"élément inconnu <"} + node.name() + "> (seul <Flux> est permis)");
    }
    for (const pugi::xml_attribute& a : node.attributes()) {
      const std::string_view n = a.name();
      if (n != "code" && n != "famille" && n != "format" && n != "production") {
        return fail(node, std::string{"attribut inconnu "} + a.name() + " sur <Flux>");
      }
    }
    for (const pugi::xml_node& child : node.children()) {
      if (child.type() != pugi::node_pcdata && child.type() != pugi::node_cdata && child.type() != pugi::node_comment) {
        return fail(child, "<Flux> ne contient que sa description (texte)");
      }
    }
    FlowEntry entry;
    entry.code = trim(node.attribute("code").value());
    entry.family = trim(node.attribute("famille").value());
    entry.format = trim(node.attribute("format").value());
    entry.description = trim(node.text().get());
    const std::string production = trim(node.attribute("production").value());
    if (!is_code(entry.code)) {
      return fail(node, "code \"" + entry.code + "\" invalide (lettres majuscules et chiffres attendus)");
    }
    if (!seen.insert(entry.code).second) return fail(node, "code " + entry.code + " en double");
    if (!is_family(entry.family)) {
      return fail(node, "famille \"" + entry.family + "\" du code " + entry.code + " invalide (E1, E2, E3, R ou S)");
    }
    if (entry.format.empty()) return fail(node, "format absent pour le code " + entry.code);
    if (production == "true") {
      entry.in_production = true;
    } else if (production == "false") {
      entry.in_production = false;
    } else {
      return fail(node, "production=\"" + production + "\" invalide pour le code " + entry.code + " (true ou false)");
    }
    if (entry.description.empty()) return fail(node, "description absente pour le code " + entry.code);
    catalogue.entries_.push_back(std::move(entry));
  }
  if (catalogue.entries_.empty()) return fail(root, "aucun <Flux> dans le catalogue");
  return catalogue;
}

Catalogue Catalogue::load_or_seed(const std::filesystem::path& rules_dir, std::string& source) {
  const std::filesystem::path file = rules_dir / kCatalogueFileName;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    source = "seed";
    return seed();
  }
  std::string error;
  if (auto loaded = load_file(file, error)) {
    source = file.string();
    return std::move(*loaded);
  }
  // The file is there but unusable: keep the seed and say why (the caller logs `source`).
  source = "seed (" + error + ")";
  return seed();
}

const FlowEntry* Catalogue::find(std::string_view code) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const FlowEntry& e) { return e.code == code; });
  return it == entries_.end() ? nullptr : &*it;
}

}  // namespace raccord::rules
