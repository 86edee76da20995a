// CSV for French Excel (docs/reference.md §5.2; docs/field-cases.md F29, F30, F31).
#include "outbox/csv.hpp"

#include <array>

namespace raccord::outbox {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kSeparator = ";";
constexpr std::string_view kLineEnd = "\r\n";

/// ASCII first characters that spreadsheet software may read as the start of a formula (F31).
constexpr std::string_view kAsciiTriggers = "=+-@\t\r\n";

/// UTF-8 of the full-width forms of '=', '+', '-', '@' (U+FF1D, U+FF0B, U+FF0D, U+FF20).
constexpr std::array<std::string_view, 4> kFullWidthTriggers = {"\xEF\xBC\x9D", "\xEF\xBC\x8B", "\xEF\xBC\x8D",
                                                                "\xEF\xBC\xA0"};

bool starts_like_formula(std::string_view text) {
  if (text.empty()) return false;
  if (kAsciiTriggers.find(text.front()) != std::string_view::npos) return true;
  for (std::string_view trigger : kFullWidthTriggers) {
    if (text.substr(0, trigger.size()) == trigger) return true;
  }
  return false;
}

bool needs_quotes(std::string_view text) {
  return text.find_first_of(";\"\r\n") != std::string_view::npos;
}

}  // namespace

CsvWriter::CsvWriter(std::ostream& out) : out_(out) {
  out_ << kBom;
}

void CsvWriter::row(const std::vector<std::string>& cells) {
  bool first = true;
  for (const std::string& text : cells) {
    if (!first) out_ << kSeparator;
    first = false;
    out_ << cell(text);
  }
  out_ << kLineEnd;
}

std::string CsvWriter::cell(std::string_view text) {
  std::string value;
  value.reserve(text.size() + 3);
  if (starts_like_formula(text)) value.push_back('\'');
  value.append(text);
  if (!needs_quotes(value)) return value;

  std::string quoted;
  quoted.reserve(value.size() + 2);
  quoted.push_back('"');
  for (char c : value) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace raccord::outbox
