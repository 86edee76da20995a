// Encoding of a dépôt (docs/reference.md §3, docs/toolchain.md #7): detect the declared encoding, transcode to
// UTF-8 with glibc iconv, and map buffer offsets to the lines of the original file.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/diagnostic.hpp"

namespace raccord::inbox {

/// The encodings a dépôt may use (docs/reference.md §3).
enum class SourceEncoding { Utf8, Latin1, Windows1252 };

/// Maps the encoding name of an XML declaration to a SourceEncoding, case-insensitively:
/// "UTF-8"/"UTF8"; "ISO-8859-1"/"ISO8859-1"/"ISO_8859-1"/"LATIN1"/"LATIN-1";
/// "WINDOWS-1252"/"CP1252". nullopt for any other name.
std::optional<SourceEncoding> parse_encoding_name(std::string_view name);

/// The `encoding` pseudo-attribute of the XML declaration at the start of `bytes` (after an
/// optional UTF-8 BOM), as written; nullopt when there is no declaration or no encoding in it.
std::optional<std::string> declared_encoding(std::string_view bytes);

/// Result of transcode_to_utf8: `utf8` is the document as UTF-8 without any BOM (meaningful only
/// when `error` is empty).
struct TranscodeResult {
  std::string utf8;
  std::optional<Diagnostic> error;  // ENCODAGE_INVALIDE, with line and column of the bad byte
};

/// Transcodes a whole dépôt to UTF-8.
/// - Input: the raw bytes of the file (any size).
/// - UTF-8 (default when no encoding is declared, or when a BOM is present): validated strictly
///   (no overlong forms, no surrogates, nothing above U+10FFFF); the BOM is dropped.
/// - ISO-8859-1 / windows-1252 (declared): converted with iconv; windows-1252's undefined bytes
///   0x81 0x8D 0x8F 0x90 0x9D are errors.
/// - Errors (ENCODAGE_INVALIDE): an undeclared/unsupported declared encoding (line 1), a BOM with a
///   non-UTF-8 declaration (line 1), a byte invalid for the encoding (its 1-based line and column
///   in characters). The field is empty.
/// The output keeps every line break byte (CR, LF) one for one and the BOM holds none, so line
/// numbers computed on the output are those of the original file; columns too (one character
/// in, one character out).
/// `owned` (the raw bytes) is taken, moved in by a caller that no longer needs it: a UTF-8 dépôt
/// becomes the result without being copied (issue 7).
TranscodeResult transcode_to_utf8(std::string owned);

/// Offset → line map of a text, counting line breaks as XML does (CR LF, CR, LF each end a line).
class LineIndex {
 public:
  /// Scans `text` once; O(n) time, one size_t per line of memory.
  explicit LineIndex(std::string_view text);
  /// 1-based line of the byte at `offset` (offsets past the end give the last line).
  int line_of(std::size_t offset) const;
  /// Number of lines (at least 1).
  int line_count() const { return static_cast<int>(line_starts_.size()); }

 private:
  std::vector<std::size_t> line_starts_;
};

}  // namespace raccord::inbox
