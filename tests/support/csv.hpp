// Reading back the CSV files the engine writes (exports docs/reference.md §5.2, nightly report §5.3): UTF-8 with
// a BOM, ';' between cells, CRLF after every record, RFC 4180 quotes ('"' doubled inside; a lone LF
// inside quotes is data). Test-only reader: strict on the record ends, reports what it cannot read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace raccord::testing {

/// The records of `text` (after the BOM: the caller checks and skips it), each a vector of unquoted cells. Adds a
/// GoogleTest failure (and returns what it read) on an unterminated quote or a last record without CRLF.
std::vector<std::vector<std::string>> parse_csv(std::string_view text);

}  // namespace raccord::testing
