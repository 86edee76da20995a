#include "domain/sheet_state.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

namespace raccord {
namespace {

// docs/reference.md §1: state codes (XML, CLI, database) and labels (CSV, human output), UTF-8.
const std::vector<std::tuple<SheetState, std::string, std::string>>& all_states() {
  static const std::vector<std::tuple<SheetState, std::string, std::string>> states{
      {SheetState::Brouillon, "BROUILLON", "Brouillon"},
      {SheetState::Envoyee, "ENVOYEE",
       "Envoy\xC3\xA9"
       "e"},
      {SheetState::EnvoyeeMaj, "ENVOYEE_MAJ",
       "Envoy\xC3\xA9"
       "e MAJ"},
      {SheetState::Activee, "ACTIVEE",
       "Activ\xC3\xA9"
       "e"},
      {SheetState::Desactivee, "DESACTIVEE",
       "D\xC3\xA9"
       "sactiv\xC3\xA9"
       "e"},
  };
  return states;
}

TEST(SheetState, CodesAndLabelsAreTheSpecOnes) {
  for (const auto& [state, code, label] : all_states()) {
    EXPECT_EQ(to_code(state), code);
    EXPECT_EQ(to_label(state), label);
  }
  // Written literally too, to catch an encoding slip in either spelling.
  EXPECT_EQ(to_label(SheetState::EnvoyeeMaj), "Envoyée MAJ");
  EXPECT_EQ(to_label(SheetState::Desactivee), "Désactivée");
}

TEST(SheetState, CodesRoundTrip) {
  for (const auto& [state, code, label] : all_states()) {
    const auto parsed = parse<SheetState>(code);
    ASSERT_TRUE(parsed.has_value()) << code;
    EXPECT_EQ(*parsed, state);
  }
}

TEST(SheetState, LabelsAndOtherTextsAreNotCodes) {
  for (const auto& [state, code, label] : all_states()) {
    if (label != code) {
      EXPECT_FALSE(parse<SheetState>(label)) << label;
    }
  }
  EXPECT_FALSE(parse<SheetState>(""));
  EXPECT_FALSE(parse<SheetState>("brouillon"));
  EXPECT_FALSE(parse<SheetState>("ENVOYEE MAJ"));
  EXPECT_FALSE(parse<SheetState>("SUPPRIMEE"));
}

}  // namespace
}  // namespace raccord
