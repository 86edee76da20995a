#include "inbox/transcoder.hpp"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <stdexcept>

namespace raccord::inbox {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool starts_with_bom(std::string_view bytes) {
  return bytes.substr(0, 3) == kBom;
}

char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool is_xml_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(b));
  return buf;
}

/// Line and column (1-based, column in characters: UTF-8 continuation bytes are not counted when
/// `utf8` is true) of `offset` in `text`.
void position_of(std::string_view text, std::size_t offset, bool utf8, int& line, int& column) {
  line = 1;
  column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      if (i > 0 && text[i - 1] == '\r') continue;  // CR LF already counted at the CR
      ++line;
      column = 1;
    } else if (c == '\r') {
      ++line;
      column = 1;
    } else if (!utf8 || (c & 0xC0) != 0x80) {
      ++column;
    }
  }
}

Diagnostic encoding_error(int line, int column, std::string message) {
  Diagnostic d = Diagnostic::error(ErrorCode::EncodageInvalide, "", line, std::move(message));
  d.column = column;
  return d;
}

/// Length of the valid UTF-8 sequence at `i`, or 0 when the bytes there are not valid UTF-8
/// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    if (i + k >= s.size()) return false;
    const auto b = static_cast<unsigned char>(s[i + k]);
    return b >= lo && b <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 == 0xE0) return (cont(1, 0xA0, 0xBF) && cont(2)) ? 3 : 0;
  if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) return (cont(1) && cont(2)) ? 3 : 0;
  if (b0 == 0xED) return (cont(1, 0x80, 0x9F) && cont(2)) ? 3 : 0;
  if (b0 == 0xF0) return (cont(1, 0x90, 0xBF) && cont(2) && cont(3)) ? 4 : 0;
  if (b0 >= 0xF1 && b0 <= 0xF3) return (cont(1) && cont(2) && cont(3)) ? 4 : 0;
  if (b0 == 0xF4) return (cont(1, 0x80, 0x8F) && cont(2) && cont(3)) ? 4 : 0;
  return 0;
}

/// Offset of the first invalid UTF-8 byte, or npos.
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    // Fast path over ASCII.
    while (i < n && static_cast<unsigned char>(s[i]) < 0x80) ++i;
    if (i >= n) break;
    const std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

TranscodeResult transcode_single_byte(std::string_view bytes, SourceEncoding encoding) {
  TranscodeResult result;
  const char* from = encoding == SourceEncoding::Latin1 ? "ISO-8859-1" : "WINDOWS-1252";
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == reinterpret_cast<iconv_t>(-1)) {  // NOLINT(performance-no-int-to-ptr): iconv_open's error value
    // The platform lacks the converter: an engine failure, not bad input.
    throw std::runtime_error(std::string("iconv_open UTF-8 <- ") + from + " impossible");
  }
  const std::size_t high = static_cast<std::size_t>(
      std::count_if(bytes.begin(), bytes.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }));
  // Each byte >= 0x80 becomes at most 3 UTF-8 bytes (windows-1252 0x80 is U+20AC).
  result.utf8.resize(bytes.size() + 2 * high);
  char* in = const_cast<char*>(bytes.data());  // iconv's signature; input is not written
  std::size_t in_left = bytes.size();
  char* out = result.utf8.data();
  std::size_t out_left = result.utf8.size();
  const std::size_t rc = iconv(cd, &in, &in_left, &out, &out_left);
  const int saved_errno = errno;
  iconv_close(cd);
  if (rc == static_cast<std::size_t>(-1)) {
    const auto offset = static_cast<std::size_t>(in - bytes.data());
    int line = 0, column = 0;
    position_of(bytes, offset, false, line, column);
    const std::string byte = offset < bytes.size() ? hex_byte(static_cast<unsigned char>(bytes[offset])) : "?";
    std::string message = "L'octet " + byte + " (ligne " + std::to_string(line) + ", colonne " +
                          std::to_string(column) + ") n'est pas un caractère valide en " + from +
                          ", l'encodage déclaré par le fichier";
    message += saved_errno == EILSEQ ? "." : " (conversion interrompue).";
    message += " Corriger ce caractère ou enregistrer le fichier en UTF-8.";
    result.utf8.clear();
    result.error = encoding_error(line, column, std::move(message));
    return result;
  }
  result.utf8.resize(result.utf8.size() - out_left);
  return result;
}

}  // namespace

std::optional<SourceEncoding> parse_encoding_name(std::string_view name) {
  std::string upper;
  upper.reserve(name.size());
  for (char c : name) upper.push_back(ascii_upper(c));
  if (upper == "UTF-8" || upper == "UTF8") return SourceEncoding::Utf8;
  if (upper == "ISO-8859-1" || upper == "ISO8859-1" || upper == "ISO_8859-1" || upper == "LATIN1" ||
      upper == "LATIN-1") {
    return SourceEncoding::Latin1;
  }
  if (upper == "WINDOWS-1252" || upper == "CP1252") return SourceEncoding::Windows1252;
  return std::nullopt;
}

std::optional<std::string> declared_encoding(std::string_view bytes) {
  if (starts_with_bom(bytes)) bytes.remove_prefix(kBom.size());
  if (bytes.substr(0, 5) != "<?xml" || bytes.size() < 6 || !is_xml_space(bytes[5])) return std::nullopt;
  const std::size_t end = bytes.find("?>");
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view decl = bytes.substr(5, end - 5);
  std::size_t pos = 0;
  while ((pos = decl.find("encoding", pos)) != std::string_view::npos) {
    const bool preceded_by_space = pos > 0 && is_xml_space(decl[pos - 1]);
    std::size_t i = pos + 8;
    pos = i;
    if (!preceded_by_space) continue;
    while (i < decl.size() && is_xml_space(decl[i])) ++i;
    if (i >= decl.size() || decl[i] != '=') continue;
    ++i;
    while (i < decl.size() && is_xml_space(decl[i])) ++i;
    if (i >= decl.size() || (decl[i] != '"' && decl[i] != '\'')) continue;
    const char quote = decl[i++];
    const std::size_t close = decl.find(quote, i);
    if (close == std::string_view::npos) return std::nullopt;
    return std::string(decl.substr(i, close - i));
  }
  return std::nullopt;
}

TranscodeResult transcode_to_utf8(std::string owned) {
  const std::string_view bytes(owned);  // `owned` becomes the result when already UTF-8 (no copy: issue 7)
  const bool bom = starts_with_bom(bytes);
  SourceEncoding encoding = SourceEncoding::Utf8;
  if (const auto declared = declared_encoding(bytes)) {
    const auto parsed = parse_encoding_name(*declared);
    if (!parsed) {
      TranscodeResult r;
      r.error = encoding_error(1, 0,
                               "L'encodage déclaré « " + *declared +
                                   " » n'est pas accepté : un dépôt est en UTF-8, ISO-8859-1 ou windows-1252.");
      return r;
    }
    encoding = *parsed;
    if (bom && encoding != SourceEncoding::Utf8) {
      TranscodeResult r;
      r.error = encoding_error(1, 0,
                               "Le fichier commence par une marque d'ordre UTF-8 (BOM) mais déclare l'encodage « " +
                                   *declared + " » : retirer la marque ou déclarer UTF-8.");
      return r;
    }
  }
  switch (encoding) {
    case SourceEncoding::Utf8: {
      TranscodeResult r;
      const std::string_view body = bom ? bytes.substr(kBom.size()) : bytes;
      const std::size_t bad = first_invalid_utf8(body);
      if (bad != std::string_view::npos) {
        int line = 0, column = 0;
        position_of(body, bad, true, line, column);
        r.error = encoding_error(line, column,
                                 "L'octet " + hex_byte(static_cast<unsigned char>(body[bad])) + " (ligne " +
                                     std::to_string(line) + ", colonne " + std::to_string(column) +
                                     ") n'est pas de l'UTF-8 valide. Enregistrer le fichier en UTF-8, ou déclarer "
                                     "son encodage réel (ISO-8859-1 ou windows-1252) dans la déclaration XML.");
        return r;
      }
      r.utf8 = std::move(owned);
      if (bom) r.utf8.erase(0, kBom.size());
      return r;
    }
    case SourceEncoding::Latin1:
    case SourceEncoding::Windows1252:
      return transcode_single_byte(bytes, encoding);
  }
  return {};
}

LineIndex::LineIndex(std::string_view text) {
  line_starts_.push_back(0);
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = begin;
  while (p < end) {
    const char* nl = std::find_if(p, end, [](char c) { return c == '\n' || c == '\r'; });
    if (nl == end) break;
    const char* next = nl + 1;
    if (*nl == '\r' && next < end && *next == '\n') ++next;
    line_starts_.push_back(static_cast<std::size_t>(next - begin));
    p = next;
  }
}

int LineIndex::line_of(std::size_t offset) const {
  const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  return static_cast<int>(it - line_starts_.begin());
}

}  // namespace raccord::inbox
