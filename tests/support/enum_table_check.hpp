// What every enum table passes (domain/enum_table.hpp): each row's value round-trips through its
// code, codes and labels are distinct and non-empty, a label is not a code, near misses of a code
// (case, spaces) are refused, and enum_values lists the rows in order. Used by the test of each
// enum's own file (tests/domain/enum_table_test.cpp for domain/, lifecycle, database, log tests).
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "domain/enum_table.hpp"

namespace raccord::testing {

template <TabledEnum E>
void expect_table_round_trips() {
  std::set<std::string_view> codes;
  std::set<std::string_view> labels;
  std::size_t i = 0;
  const auto values = enum_values<E>();
  ASSERT_EQ(values.size(), enum_rows<E>().size());
  for (const auto& row : enum_rows<E>()) {
    const std::string code(row.code);
    EXPECT_EQ(values[i++], row.value) << code;
    EXPECT_EQ(to_code(row.value), row.code);
    EXPECT_EQ(parse<E>(to_code(row.value)), std::optional<E>(row.value)) << code;
    EXPECT_FALSE(to_label(row.value).empty()) << code;
    EXPECT_TRUE(codes.insert(row.code).second) << "code twice: " << code;
    EXPECT_TRUE(labels.insert(to_label(row.value)).second) << "label twice: " << to_label(row.value);
    if (to_label(row.value) != row.code) {
      EXPECT_FALSE(parse<E>(to_label(row.value))) << "a label is not a code: " << to_label(row.value);
    }
    std::string lower = code;
    std::string upper = code;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const std::string& miss : {lower, upper, " " + code, code + " ", code + "X"}) {
      if (miss != code) {
        EXPECT_FALSE(parse<E>(miss)) << "« " << miss << " »";
      }
    }
  }
  EXPECT_FALSE(parse<E>(""));
}

}  // namespace raccord::testing
