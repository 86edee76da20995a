// A finding about a dépôt: an error or a warning with its code, field and line (docs/reference.md §4, §5.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "domain/enum_table.hpp"
#include "domain/error_code.hpp"

namespace raccord {

/// Code: the element of an accusé (docs/reference.md §5.1) and of `raccord cert --format xml`; label: as the
/// text reports head a finding.
enum class Severity { Error, Warning };
template <>
struct EnumTable<Severity> {
  static constexpr std::array<EnumRow<Severity>, 2> kRows{{
      {Severity::Error, "Erreur", "ERREUR"},
      {Severity::Warning, "Avertissement", "AVERTISSEMENT"},
  }};
};

/// One `Erreur` or `Avertissement` of an accusé.
/// - `field`: XPath-like path relative to the operation (e.g. "Certificats/Certificat[1]",
///   "ContactTechnique/@email"), or relative to the dépôt for dépôt-level errors; may be empty.
/// - `line`: 1-based line in the original dépôt file; 0 when unknown.
/// - `column`: 1-based column, set only for XML_MALFORME; 0 otherwise.
/// - `message`: French text for a back-office user (UTF-8).
struct Diagnostic {
  ErrorCode code{};
  Severity severity = Severity::Error;
  std::string field;
  int line = 0;
  int column = 0;
  std::string message;

  static Diagnostic error(ErrorCode c, std::string f, int l, std::string m) {
    return Diagnostic{c, Severity::Error, std::move(f), l, 0, std::move(m)};
  }
  static Diagnostic warning(ErrorCode c, std::string f, int l, std::string m) {
    return Diagnostic{c, Severity::Warning, std::move(f), l, 0, std::move(m)};
  }
  bool is_error() const { return severity == Severity::Error; }
};

using Diagnostics = std::vector<Diagnostic>;

/// True when at least one diagnostic is an error.
inline bool has_error(const Diagnostics& ds) {
  for (const auto& d : ds) {
    if (d.is_error()) return true;
  }
  return false;
}

/// An accusé lists at most this many `Erreur` and `Avertissement` elements, the first in document
/// order; the others are only counted, in `Accuse/@erreursOmises` (docs/design.md "Accusé: at most
/// 1,000 findings listed").
inline constexpr std::size_t kMaxListedDiagnostics = 1000;

/// Findings whose details were not kept because they cannot be among the first
/// kMaxListedDiagnostics of their accusé: only how many there were, errors and warnings apart (an
/// omitted error still rejects its operation).
struct OmittedDiagnostics {
  std::uint32_t errors = 0;
  std::uint32_t warnings = 0;

  std::uint64_t total() const { return std::uint64_t{errors} + warnings; }
  void count(const Diagnostic& d) { ++(d.is_error() ? errors : warnings); }
  OmittedDiagnostics& operator+=(const OmittedDiagnostics& o) {
    errors += o.errors;
    warnings += o.warnings;
    return *this;
  }
};

/// True when `ds` holds an error or an error was omitted.
inline bool has_error(const Diagnostics& ds, const OmittedDiagnostics& omitted) {
  return omitted.errors > 0 || has_error(ds);
}

/// Collects the findings of one accusé in document order, keeping the details of the first
/// kMaxListedDiagnostics only: the findings after them are counted, never stored (a dépôt of
/// 250,000 faulty elements costs a counter, not 250,000 messages; docs/design.md "Memory bound").
/// What it keeps is a superset of what the accusé lists: the renderer applies the cap again
/// (outbox::AcknowledgementWriter).
class DiagnosticBudget {
 public:
  /// Appends `d` to `list` while fewer than kMaxListedDiagnostics findings came before it; else
  /// counts it in `omitted`.
  void add(Diagnostics& list, OmittedDiagnostics& omitted, Diagnostic d) {
    if (seen_++ < kMaxListedDiagnostics) {
      list.push_back(std::move(d));
    } else {
      omitted.count(d);
    }
  }
  /// Findings collected elsewhere (kept or counted) that come before the next ones.
  void skip(std::uint64_t findings) { seen_ += findings; }
  /// Findings seen so far.
  std::uint64_t seen() const { return seen_; }

 private:
  std::uint64_t seen_ = 0;
};

}  // namespace raccord
