#include "outbox/file_names.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace raccord::outbox {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The "_YYYYMMDDTHHMMSSZ" that ends `stem` (the name without its extension), before an optional
/// "_N" (docs/reference.md §5.1: a second accusé of the same instant), as a UTC instant of the business range.
std::optional<Instant> trailing_compact_instant(std::string_view stem) {
  if (const auto last = stem.rfind('_');
      last != std::string_view::npos && stem.size() - last - 1 != 16 && all_digits(stem.substr(last + 1))) {
    stem = stem.substr(0, last);
  }
  if (stem.size() < 17 || stem[stem.size() - 17] != '_') return std::nullopt;
  const std::string_view t = stem.substr(stem.size() - 16);
  if (t[8] != 'T' || t[15] != 'Z' || !all_digits(t.substr(0, 8)) || !all_digits(t.substr(9, 6))) return std::nullopt;
  return parse_iso_instant(fmt::format("{}-{}-{}T{}:{}:{}Z", t.substr(0, 4), t.substr(4, 2), t.substr(6, 2),
                                       t.substr(9, 2), t.substr(11, 2), t.substr(13, 2)));
}

}  // namespace

std::optional<FileKind> file_kind(std::string_view name) {
  if (name.starts_with("ACK_") && name.ends_with(".xml")) return FileKind::Accuse;
  if ((name.starts_with("EXPORT_EDI_") || name.starts_with("EXPORT_API_")) &&
      (name.ends_with(".csv") || name.ends_with(".xml"))) {
    return FileKind::Export;
  }
  if (name.starts_with("NIGHTLY_") && (name.ends_with(".xml") || name.ends_with(".csv") || name.ends_with(".html"))) {
    return FileKind::Report;
  }
  return std::nullopt;
}

std::optional<CivilDate> file_date(std::string_view name, const std::function<CivilDate(Instant)>& date_of) {
  const auto kind = file_kind(name);
  if (!kind) return std::nullopt;
  switch (*kind) {
    case FileKind::Report: {
      const std::string_view rest = name.substr(8);
      const auto dot = rest.find('.');
      return dot == 10 ? parse_iso_date(rest.substr(0, 10)) : std::nullopt;
    }
    case FileKind::Accuse:
    case FileKind::Export: {
      const auto instant = trailing_compact_instant(name.substr(0, name.rfind('.')));
      if (!instant) return std::nullopt;
      return date_of(*instant);
    }
  }
  return std::nullopt;
}

}  // namespace raccord::outbox
