// A finding about a dépôt: an error or a warning with its code, field and line (SPEC.md §4, §5.1).
#pragma once

#include <string>
#include <vector>

#include "domain/enum_table.hpp"
#include "domain/error_code.hpp"

namespace raccord {

/// Code: the element of an accusé (SPEC.md §5.1) and of `raccord cert --format xml`; label: as the
/// text reports head a finding.
enum class Severity { Error, Warning };
template <>
struct EnumTable<Severity> {
  static constexpr std::array<EnumRow<Severity>, 2> rows{{
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

}  // namespace raccord
