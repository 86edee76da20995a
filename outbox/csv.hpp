// CSV for French Excel (docs/reference.md §5.2, §5.3; docs/field-cases.md F29, F30, F31, F32), written row by row.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace raccord::outbox {

/// Streams CSV rows to an std::ostream, so that a large export (200 000 rows) never sits in memory.
///
/// The format, for French Excel (docs/reference.md §5.2):
/// - the UTF-8 byte order mark EF BB BF first (written by the constructor, so even an empty export
///   opens as UTF-8), and never a "sep=" line, which would make Excel ignore the BOM (F29);
/// - ';' between cells, CRLF after every row, including the last (F30);
/// - RFC 4180 quoting: a cell containing ';', '"', CR or LF is enclosed in '"' and its '"' are
///   doubled;
/// - formula-injection neutralisation (F31): a cell whose first character is '=', '+', '-', '@',
///   TAB, CR or LF, or one of the full-width forms U+FF1D '＝', U+FF0B '＋', U+FF0D '－', U+FF20 '＠'
///   (which Excel may fold to their ASCII forms), gets a "'" before it. LF goes beyond docs/reference.md §5.2's
///   list because F31 asks for it; it changes nothing for a cell that does not start with LF.
/// - otherwise every cell is exactly its text: no "=\"…\"" wrapping of digit strings (docs/reference.md §5.2
///   overrides F32's suggestion), so a SIRET stays its 14 digits and "00048" keeps its zeros.
///
/// Cells are UTF-8 text; the writer does not transcode or validate them. Write errors are left in
/// the stream's state (badbit/failbit) for the caller to check after the last row.
class CsvWriter {
 public:
  /// Writes the BOM to `out`, which must outlive the writer.
  explicit CsvWriter(std::ostream& out);

  /// Writes one row: each cell encoded by cell(), separated by ';', ended by CRLF. An empty vector
  /// writes an empty line (CRLF only).
  void row(const std::vector<std::string>& cells);

  /// One cell as written on disk: the "'" prefix of F31 when it starts with a formula trigger,
  /// then RFC 4180 quoting when needed. "" stays "".
  static std::string cell(std::string_view text);

 private:
  std::ostream& out_;
};

}  // namespace raccord::outbox
