// The export of a search (docs/reference.md §5.2): CSV for French Excel, or XML with the same rows.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "domain/civil_date.hpp"
#include "domain/search.hpp"
#include "domain/vocabulary.hpp"

namespace raccord::outbox {

/// "EXPORT_<EDI|API>_<reference>_<YYYYMMDDTHHMMSSZ>" without extension: the reference with every
/// character outside A-Za-z0-9_- replaced by "_", at most 64 characters, "recherche" when empty.
/// A character is a well-formed UTF-8 sequence (1 to 4 bytes, RFC 3629): "réf-été" gives "r_f-_t_"
/// (finding 6); a byte that starts no well-formed sequence counts as one character.
std::string export_base_name(SheetKind kind, std::string_view reference, Instant at);

/// Streams rows to `out` as they come (a large export never sits in memory).
/// CSV (docs/reference.md §5.2): UTF-8 BOM, ";", CRLF, RFC 4180 quoting, dd/mm/yyyy, state labels, the exact
/// header of the guide; Partenaire as "SIRET - RAISON SOCIALE"; formula triggers neutralised by "'".
/// XML: namespace urn:raccord:export:1, root Export (type, reference, genere), one Ligne per row with
/// attributes partenaire, raisonSociale, protocole, codeAppli, codeInterface, debut, fin (YYYY-MM-DD),
/// etat (code) and libelleEtat (samples/xsd/export.xsd).
class ExportWriter {
 public:
  ExportWriter(std::ostream& out, SheetKind kind, ExportFormat format, std::string_view reference, Instant generated);
  ~ExportWriter();
  void row(const SearchRow& row);
  /// Ends the document (XML closing tag). Call once after the last row.
  void finish();
  std::size_t rows() const { return rows_; }

 private:
  std::ostream& out_;
  SheetKind kind_;
  ExportFormat format_;
  std::size_t rows_ = 0;
  struct Csv;
  std::unique_ptr<Csv> csv_;
};

/// The CSV header line of `kind` (without BOM and CRLF), exactly as docs/reference.md §5.2 gives it.
std::string_view export_csv_header(SheetKind kind);

}  // namespace raccord::outbox
