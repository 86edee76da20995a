#include "outbox/export_writer.hpp"

#include "domain/allocation_fault.hpp"
#include "outbox/acknowledgement_writer.hpp"
#include "outbox/csv.hpp"

namespace raccord::outbox {
namespace {

/// Escapes XML attribute text after sanitize_xml_text (F16).
std::string attribute(std::string_view text) {
  return escape_xml(text);
}

std::string optional_date(const std::optional<CivilDate>& d, bool french) {
  if (!d) return {};
  return french ? format_french_date(*d) : format_iso_date(*d);
}

/// Length in bytes of the well-formed UTF-8 sequence (RFC 3629 §4) that starts `text` at `i`: 1 for
/// ASCII and for a byte that starts no well-formed sequence (each such byte counts as one character).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 1;
  unsigned char low = 0x80;   // bounds of the second byte (RFC 3629 §4: no overlong, no surrogate,
  unsigned char high = 0xBF;  // nothing beyond U+10FFFF)
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 1;
  }
  if (i + length > text.size()) return 1;
  if (byte(i + 1) < low || byte(i + 1) > high) return 1;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 1;
  }
  return length;
}

}  // namespace

struct ExportWriter::Csv {
  explicit Csv(std::ostream& out) : writer(out) {}
  CsvWriter writer;
};

std::string export_base_name(SheetKind kind, std::string_view reference, Instant at) {
  // docs/reference.md §5.2, finding 6: per character, not per byte ("réf" gives "r_f", not "r__f").
  std::string ref;
  for (std::size_t i = 0; i < reference.size() && ref.size() < 64;) {
    const char c = reference[i];
    const bool keep =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    ref += keep ? c : '_';
    i += keep ? 1 : utf8_sequence_length(reference, i);
  }
  if (ref.empty()) ref = "recherche";
  return "EXPORT_" + std::string(to_code(kind)) + "_" + ref + "_" + format_compact_instant(at);
}

std::string_view export_csv_header(SheetKind kind) {
  switch (kind) {
    case SheetKind::Edi:
      return "Partenaire;Protocole de raccordement;Code Appli partenaire;Code interface;Date de début;Date de fin;"
             "Etat courant";
    case SheetKind::Api:
      return "Partenaire;Code Appli partenaire;Etat courant";
  }
  return "";
}

ExportWriter::ExportWriter(std::ostream& out, SheetKind kind, ExportFormat format, std::string_view reference,
                           Instant generated)
    : out_(out), kind_(kind), format_(format) {
  switch (format_) {
    case ExportFormat::Csv:
      csv_ = std::make_unique<Csv>(out_);
      if (kind_ == SheetKind::Edi) {
        csv_->writer.row({"Partenaire", "Protocole de raccordement", "Code Appli partenaire", "Code interface",
                          "Date de début", "Date de fin", "Etat courant"});
      } else {
        csv_->writer.row({"Partenaire", "Code Appli partenaire", "Etat courant"});
      }
      break;
    case ExportFormat::Xml:
      out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Export xmlns=\"urn:raccord:export:1\" type=\""
           << to_code(kind_) << "\" reference=\"" << attribute(reference) << "\" genere=\""
           << format_iso_instant(generated) << "\">\n";
      break;
  }
}

ExportWriter::~ExportWriter() = default;

void ExportWriter::row(const SearchRow& r) {
  allocation_step(AllocationStep::Export);
  ++rows_;
  const std::string partner = r.partner_siret + " - " + r.raison_sociale;
  switch (format_) {
    case ExportFormat::Csv:
      if (kind_ == SheetKind::Edi) {
        csv_->writer.row({partner, r.protocol, r.code_appli, r.interface_code, optional_date(r.period_from, true),
                          optional_date(r.period_to, true), std::string(to_label(r.state))});
      } else {
        csv_->writer.row({partner, r.code_appli, std::string(to_label(r.state))});
      }
      break;
    case ExportFormat::Xml:
      out_ << "  <Ligne partenaire=\"" << attribute(r.partner_siret) << "\" raisonSociale=\""
           << attribute(r.raison_sociale) << "\"";
      if (kind_ == SheetKind::Edi) {
        out_ << " protocole=\"" << attribute(r.protocol) << "\"";
      }
      out_ << " codeAppli=\"" << attribute(r.code_appli) << "\"";
      if (kind_ == SheetKind::Edi) {
        out_ << " codeInterface=\"" << attribute(r.interface_code) << "\"";
        if (r.period_from) out_ << " debut=\"" << format_iso_date(*r.period_from) << "\"";
        if (r.period_to) out_ << " fin=\"" << format_iso_date(*r.period_to) << "\"";
      }
      out_ << " etat=\"" << to_code(r.state) << "\" libelleEtat=\"" << attribute(to_label(r.state)) << "\"/>\n";
      break;
  }
}

void ExportWriter::finish() {
  allocation_step(AllocationStep::Export);
  if (format_ == ExportFormat::Xml) out_ << "</Export>\n";
  out_.flush();
}

}  // namespace raccord::outbox
