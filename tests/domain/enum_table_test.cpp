// Tests of domain/enum_table.hpp (one convention for our enums): to_code / to_label / parse /
// enum_values generated from a table, the compile-time checks of a table, a value outside its
// table; and every enum table of domain/ round-trips.
#include "domain/enum_table.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "domain/diagnostic.hpp"
#include "domain/error_code.hpp"
#include "domain/sheet_state.hpp"
#include "domain/vocabulary.hpp"
#include "tests/support/enum_table_check.hpp"

namespace raccord {
namespace {

enum class Colour { Rouge, Vert, BleuMarine };

}  // namespace

template <>
struct EnumTable<Colour> {
  static constexpr std::array<EnumRow<Colour>, 3> kRows{{
      {Colour::Rouge, "ROUGE", "Rouge"},
      {Colour::Vert, "VERT"},  // no label of its own
      {Colour::BleuMarine, "BLEU_MARINE", "Bleu marine"},
  }};
};

namespace {

TEST(EnumTable, CodeLabelAndParseComeFromTheRows) {
  EXPECT_EQ(to_code(Colour::BleuMarine), "BLEU_MARINE");
  EXPECT_EQ(to_label(Colour::BleuMarine), "Bleu marine");
  EXPECT_EQ(to_label(Colour::Vert), "VERT");  // the code when the row has no label
  EXPECT_EQ(parse<Colour>("ROUGE"), Colour::Rouge);
  EXPECT_FALSE(parse<Colour>("Rouge"));  // a label is not a code
  EXPECT_FALSE(parse<Colour>("rouge"));
  EXPECT_FALSE(parse<Colour>("JAUNE"));
  EXPECT_EQ(enum_values<Colour>(), (std::array{Colour::Rouge, Colour::Vert, Colour::BleuMarine}));
  static_assert(to_code(Colour::Vert) == "VERT");  // usable at compile time
  static_assert(parse<Colour>("VERT") == Colour::Vert);
}

TEST(EnumTable, AValueOutsideItsTableIsALogicErrorNeverADefault) {
  EXPECT_THROW((void)to_code(static_cast<Colour>(3)), std::logic_error);
  EXPECT_THROW((void)to_label(static_cast<Colour>(-1)), std::logic_error);
}

TEST(EnumTable, ATableOutOfOrderWithATwiceCodeOrACodeNotAWordIsRefused) {
  using enum_table_detail::well_formed;
  static_assert(well_formed(EnumTable<Colour>::kRows));
  static_assert(!well_formed(std::array<EnumRow<Colour>, 2>{{{Colour::Vert, "VERT"}, {Colour::Rouge, "ROUGE"}}}));
  static_assert(!well_formed(std::array<EnumRow<Colour>, 2>{{{Colour::Rouge, "ROUGE"}, {Colour::BleuMarine, "B"}}}));
  static_assert(!well_formed(std::array<EnumRow<Colour>, 2>{{{Colour::Rouge, "R"}, {Colour::Vert, "R"}}}));
  static_assert(!well_formed(std::array<EnumRow<Colour>, 1>{{{Colour::Rouge, "RO'UGE"}}}));
  static_assert(!well_formed(std::array<EnumRow<Colour>, 1>{{{Colour::Rouge, "ROU GE"}}}));
  static_assert(!well_formed(std::array<EnumRow<Colour>, 1>{{{Colour::Rouge, ""}}}));
  SUCCEED();
}

// Every enum table of domain/ (each enum's own codes are checked in its file's test).
template <class E>
class DomainEnumTable : public ::testing::Test {};
using DomainEnums =
    ::testing::Types<SheetState, ErrorCode, Severity, Protocol, ProcessingMode, Environment, SheetKind, SheetAction,
                     DepositMode, DepositStatus, ManagerRole, Decision, SubscriptionStatus, ExportFormat, Colour>;
TYPED_TEST_SUITE(DomainEnumTable, DomainEnums);

TYPED_TEST(DomainEnumTable, EveryRowRoundTrips) {
  testing::expect_table_round_trips<TypeParam>();
}

}  // namespace
}  // namespace raccord
