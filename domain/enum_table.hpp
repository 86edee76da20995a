// One convention for every enum of ours that is stored, written or shown (issue 15): beside the enum,
// one table of rows (value, code, label), and to_code / to_label / parse generated from it, here.
//  - code:  the spelling in the store, the XML, the CLI and the configuration (e.g. "ENVOYEE_MAJ");
//  - label: the French wording for people (CSV, pages, `raccord show`, e.g. "Envoyée MAJ"); left
//           empty when the enum has no wording of its own (to_label then gives the code).
// The table is declared by specialising EnumTable next to the enum:
//   template <> struct EnumTable<SheetKind> {
//     static constexpr std::array<EnumRow<SheetKind>, 2> kRows{{{SheetKind::Edi, "EDI"}, {SheetKind::Api, "API"}}};
//   };
// Its rows follow the enumerators' declaration order with consecutive values, and its codes are
// distinct words of [A-Za-z0-9_] (checked at compile time wherever the table is used), so a code
// may be written into SQL text as is (engine/database.hpp `sql_list`).
// Standard library only.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace raccord {

/// One row of an enum's table.
template <class E>
struct EnumRow {
  E value;
  std::string_view code;
  std::string_view label = {};  // empty: no wording of its own (to_label gives the code)
};

/// Specialised beside each enum: `static constexpr std::array<EnumRow<E>, N> kRows{{...}};`.
template <class E>
struct EnumTable;

/// An enum with a table.
template <class E>
concept TabledEnum = std::is_enum_v<E> && requires {
  EnumTable<E>::kRows;
};

namespace enum_table_detail {

constexpr bool is_word(std::string_view code) {
  if (code.empty()) return false;
  for (const char c : code) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

/// Rows in declaration order with consecutive values, codes distinct words.
template <class E, std::size_t N>
constexpr bool well_formed(const std::array<EnumRow<E>, N>& rows) {
  if (N == 0) return false;
  using U = std::underlying_type_t<E>;
  for (std::size_t i = 0; i < N; ++i) {
    if (static_cast<U>(rows[i].value) != static_cast<U>(static_cast<U>(rows[0].value) + static_cast<U>(i))) {
      return false;
    }
    if (!is_word(rows[i].code)) return false;
    for (std::size_t j = 0; j < i; ++j) {
      if (rows[j].code == rows[i].code) return false;
    }
  }
  return true;
}

template <TabledEnum E>
constexpr const auto& checked_rows() {
  static_assert(well_formed(EnumTable<E>::kRows),
                "enum table: rows in declaration order, consecutive values, distinct codes of [A-Za-z0-9_]");
  return EnumTable<E>::kRows;
}

}  // namespace enum_table_detail

/// The rows of E's table, in declaration order.
template <TabledEnum E>
constexpr std::span<const EnumRow<E>> enum_rows() {
  return enum_table_detail::checked_rows<E>();
}

/// Every value of E, in declaration order.
template <TabledEnum E>
constexpr auto enum_values() {
  const auto& rows = enum_table_detail::checked_rows<E>();
  std::array<E, EnumTable<E>::kRows.size()> values{};
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = rows[i].value;
  return values;
}

/// The row of `value`. Throws std::logic_error for a value outside the table (an enumerator added
/// to the enum and not to its table: a programming error, caught by the enum's test).
template <TabledEnum E>
constexpr const EnumRow<E>& enum_row(E value) {
  const auto& rows = enum_table_detail::checked_rows<E>();
  using U = std::underlying_type_t<E>;
  const auto offset =
      static_cast<long long>(static_cast<U>(value)) - static_cast<long long>(static_cast<U>(rows[0].value));
  if (offset < 0 || offset >= static_cast<long long>(rows.size())) {
    throw std::logic_error("enum value without a row in its table");
  }
  return rows[static_cast<std::size_t>(offset)];
}

/// The code of `value` (store, XML, CLI, configuration).
template <TabledEnum E>
constexpr std::string_view to_code(E value) {
  return enum_row(value).code;
}

/// The French label of `value` for people, or its code when the enum has no wording of its own.
template <TabledEnum E>
constexpr std::string_view to_label(E value) {
  const EnumRow<E>& row = enum_row(value);
  return row.label.empty() ? row.code : row.label;
}

/// The value whose code is exactly `code` (case-sensitive; a label is not a code), or nullopt.
template <TabledEnum E>
constexpr std::optional<E> parse(std::string_view code) {
  for (const auto& row : enum_table_detail::checked_rows<E>()) {
    if (row.code == code) return row.value;
  }
  return std::nullopt;
}

}  // namespace raccord
