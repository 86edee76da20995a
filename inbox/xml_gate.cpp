#include "inbox/xml_gate.hpp"

#include <expat.h>

#include <algorithm>
#include <memory>
#include <new>
#include <string>
#include <utility>

namespace raccord::inbox {
namespace {

struct GateState {
  XML_Parser parser = nullptr;
  int depth = 0;
  int max_depth = kMaxElementDepth;
  std::optional<Diagnostic> verdict;  // DTD_INTERDITE or too deep, set before stopping the parser
};

int current_line(XML_Parser p) {
  return static_cast<int>(XML_GetCurrentLineNumber(p));
}
int current_column(XML_Parser p) {
  return static_cast<int>(XML_GetCurrentColumnNumber(p)) + 1;
}

void XMLCALL on_start_doctype(void* user, const XML_Char* name, const XML_Char*, const XML_Char*, int) {
  auto* state = static_cast<GateState*>(user);
  if (state->verdict) return;
  const int line = current_line(state->parser);
  state->verdict = Diagnostic::error(ErrorCode::DtdInterdite, "", line,
                                     "Le dépôt contient une déclaration de type de document (<!DOCTYPE " +
                                         std::string(name ? name : "") + ">, ligne " + std::to_string(line) +
                                         ") : les DTD et les entités sont interdites. Retirer la déclaration DOCTYPE.");
  XML_StopParser(state->parser, XML_FALSE);
}

void XMLCALL on_entity_decl(void* user, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                            const XML_Char*, const XML_Char*) {
  // Unreachable without a DOCTYPE; kept as a second lock.
  auto* state = static_cast<GateState*>(user);
  if (!state->verdict) {
    state->verdict = Diagnostic::error(ErrorCode::DtdInterdite, "", current_line(state->parser),
                                       "Le dépôt déclare une entité : les DTD et les entités sont interdites.");
  }
  XML_StopParser(state->parser, XML_FALSE);
}

void XMLCALL on_start_element(void* user, const XML_Char*, const XML_Char**) {
  auto* state = static_cast<GateState*>(user);
  if (++state->depth <= state->max_depth || state->verdict) return;
  const int line = current_line(state->parser);
  state->verdict = Diagnostic::error(ErrorCode::SchemaInvalide, "", line,
                                     "Les éléments sont imbriqués sur plus de " + std::to_string(state->max_depth) +
                                         " niveaux (ligne " + std::to_string(line) +
                                         ") : au-delà de cette limite de sécurité le fichier n'est pas lu. Aucun "
                                         "dépôt valide n'a cette profondeur (4 niveaux au plus) : retirer les "
                                         "éléments imbriqués et déposer le fichier corrigé.");
  XML_StopParser(state->parser, XML_FALSE);
}

void XMLCALL on_end_element(void* user, const XML_Char*) {
  --static_cast<GateState*>(user)->depth;
}

/// True when expat's error says the input ended before the document did: inside a token (tag,
/// attribute, comment, processing instruction, end tag), inside a character, inside a CDATA
/// section, or with the root element still open ("no element found" once an element started; the
/// same error with no element at all is an empty document, not a cut one).
bool ends_inside_the_document(XML_Error code, const GateState& state) {
  switch (code) {
    case XML_ERROR_UNCLOSED_TOKEN:
    case XML_ERROR_PARTIAL_CHAR:
    case XML_ERROR_UNCLOSED_CDATA_SECTION:
      return true;
    case XML_ERROR_NO_ELEMENTS:
      return state.depth > 0;
    default:
      return false;
  }
}

/// Line and column (1-based, characters as expat counts them) just after the last byte of `utf8`.
std::pair<int, int> end_position(std::string_view utf8) {
  const auto lines = std::count(utf8.begin(), utf8.end(), '\n');
  const std::size_t last = utf8.rfind('\n');
  const std::string_view tail = last == std::string_view::npos ? utf8 : utf8.substr(last + 1);
  // UTF-8 continuation bytes (10xxxxxx) do not start a character.
  const auto characters =
      std::count_if(tail.begin(), tail.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; });
  return {static_cast<int>(lines) + 1, static_cast<int>(characters) + 1};
}

/// French reading of expat's most frequent errors; expat's own text follows in the message.
std::string french_reason(XML_Error code) {
  switch (code) {
    case XML_ERROR_NO_ELEMENTS:
      return "aucun élément racine (fichier vide, ou seulement des blancs, une marque BOM ou des commentaires)";
    case XML_ERROR_INVALID_TOKEN:
      return "caractère ou balise invalide (caractère de contrôle interdit, octet nul, « < » ou « & » mal placé)";
    case XML_ERROR_UNCLOSED_TOKEN:
      return "balise non terminée";
    case XML_ERROR_PARTIAL_CHAR:
      return "caractère incomplet";
    case XML_ERROR_TAG_MISMATCH:
      return "balise fermante ne correspondant pas à la balise ouvrante";
    case XML_ERROR_DUPLICATE_ATTRIBUTE:
      return "attribut répété sur un même élément";
    case XML_ERROR_JUNK_AFTER_DOC_ELEMENT:
      return "contenu après l'élément racine (un seul élément racine est admis)";
    case XML_ERROR_UNDEFINED_ENTITY:
      return "entité non définie (seules &amp; &lt; &gt; &quot; &apos; et les références numériques sont admises)";
    case XML_ERROR_BAD_CHAR_REF:
      return "référence de caractère vers un caractère interdit en XML";
    case XML_ERROR_UNBOUND_PREFIX:
      return "préfixe d'espace de noms non déclaré";
    case XML_ERROR_UNCLOSED_CDATA_SECTION:
      return "section CDATA non terminée";
    case XML_ERROR_MISPLACED_XML_PI:
      return "déclaration XML ailleurs qu'au tout début du fichier";
    case XML_ERROR_XML_DECL:
      return "déclaration XML incorrecte";
    case XML_ERROR_SYNTAX:
      return "erreur de syntaxe";
    default:
      return "document XML mal formé";
  }
}

}  // namespace

std::optional<Diagnostic> check_well_formed(std::string_view utf8, int max_depth) {
  // The separator only needs to be a character no namespace URI uses in practice.
  std::unique_ptr<std::remove_pointer_t<XML_Parser>, decltype(&XML_ParserFree)> parser(
      XML_ParserCreateNS("UTF-8", '\x1F'), &XML_ParserFree);
  if (!parser) throw std::bad_alloc();
  GateState state;
  state.parser = parser.get();
  state.max_depth = max_depth;
  XML_SetUserData(parser.get(), &state);
  XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);
  XML_SetStartDoctypeDeclHandler(parser.get(), on_start_doctype);
  XML_SetEntityDeclHandler(parser.get(), on_entity_decl);
  XML_SetElementHandler(parser.get(), on_start_element, on_end_element);
  // No external entity handler: nothing outside the file can be read.

  // Expat copies what it is given into its own buffer: small chunks keep that buffer small (a whole
  // 60 MiB dépôt at once doubled the memory, and the copy's first touch of each page is not free).
  // But expat 2.5 scans a token that spans chunks again from its start at every chunk: one attribute
  // of 50 MiB in 256 KiB chunks was 200 scans of up to 50 MiB (18 s) while its buffer grew step by
  // step. So while a token is pending (more than half a chunk not yet parsed), the next chunk doubles:
  // a long token is scanned a logarithmic number of times (docs/design.md "Memory bound").
  constexpr std::size_t kChunk = std::size_t{1} << 18;
  std::size_t chunk = kChunk;
  std::size_t done = 0;
  XML_Status status = XML_STATUS_OK;
  do {
    const std::size_t len = std::min(chunk, utf8.size() - done);
    const bool last = done + len == utf8.size();
    status = XML_Parse(parser.get(), utf8.data() + done, static_cast<int>(len), last ? XML_TRUE : XML_FALSE);
    done += len;
    if (status != XML_STATUS_OK || last) break;
    const auto parsed = static_cast<std::size_t>(std::max<XML_Index>(XML_GetCurrentByteIndex(parser.get()), 0));
    chunk = done - std::min(parsed, done) > chunk / 2 ? chunk * 2 : kChunk;
  } while (true);

  if (state.verdict) return state.verdict;
  if (status == XML_STATUS_OK) return std::nullopt;
  const XML_Error code = XML_GetErrorCode(parser.get());
  // Memory running out is the engine's failure, never an XML_MALFORME of the sender's file (which
  // would send it to error/ for good): thrown, the dépôt stays claimed for the next pass.
  if (code == XML_ERROR_NO_MEMORY) throw std::bad_alloc();
  const XML_LChar* english = XML_ErrorString(code);
  if (ends_inside_the_document(code, state)) {
    // Issue 18: an upload cut short (or taken while still written) ends inside a tag, an attribute,
    // a comment, a CDATA section, or after the root's start tag: said as such, at the file's end.
    const auto [end_line, end_column] = end_position(utf8);
    Diagnostic d =
        Diagnostic::error(ErrorCode::XmlMalforme, "", end_line,
                          "Le fichier n'est pas un XML bien formé : le fichier semble tronqué : fin inattendue ligne " +
                              std::to_string(end_line) + ", colonne " + std::to_string(end_column) +
                              ". Vérifiez que l'envoi est allé jusqu'au bout, puis déposez le fichier entier à nouveau "
                              "(écrit sous un nom qui n'est pas un dépôt, puis renommé) [expat : " +
                              (english ? english : "?") + "].");
    d.column = end_column;
    return d;
  }
  const int line = current_line(parser.get());
  const int column = current_column(parser.get());
  Diagnostic d = Diagnostic::error(ErrorCode::XmlMalforme, "", line,
                                   "Le fichier n'est pas un XML bien formé (ligne " + std::to_string(line) +
                                       ", colonne " + std::to_string(column) + ") : " + french_reason(code) +
                                       " [expat : " + (english ? english : "?") + "].");
  d.column = column;
  return d;
}

}  // namespace raccord::inbox
