#include "engine/log.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/enum_table_check.hpp"

namespace raccord {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { log::set_threshold(log::Level::Debug); }
  void TearDown() override { log::set_threshold(log::Level::Info); }
};

TEST(LogLevel, TableRoundTripsWithTheNamesOfRaccordLogLevel) {
  testing::expect_table_round_trips<log::Level>();
  EXPECT_EQ(to_code(log::Level::Notice), "notice");
  EXPECT_EQ(parse<log::Level>("debug"), log::Level::Debug);
}

TEST_F(LogTest, LinesCarryTheSdDaemonPriority) {
  CaptureStderr();
  log::write(log::Level::Error, "erreur");
  log::write(log::Level::Warning, "avertissement");
  log::write(log::Level::Notice, "note");
  log::write(log::Level::Info, "info");
  log::write(log::Level::Debug, "détail");
  EXPECT_EQ(GetCapturedStderr(), "<3>erreur\n<4>avertissement\n<5>note\n<6>info\n<7>détail\n");
}

// Regression (issue 8, hostile dépôt names): a dépôt named "ligne\nsuivante.xml" split its log line,
// so a name could forge a second record with any priority.
TEST_F(LogTest, ControlCharactersCannotSplitOrForgeALine) {
  CaptureStderr();
  log::info("{} : INTEGRE", "ligne\n<3>faux.xml");
  log::warning("a\tb\r\x1b[31m");
  EXPECT_EQ(GetCapturedStderr(), "<6>ligne\\x0A<3>faux.xml : INTEGRE\n<4>a\\x09b\\x0D\\x1B[31m\n");
}

TEST_F(LogTest, FormattingHelpers) {
  CaptureStderr();
  log::error("{} : {}", "lot.xml", 42);
  log::warning("clé inconnue : {}", "engine.colour");
  log::info("{} dépôt(s)", 3);
  log::debug("{}", "é");
  EXPECT_EQ(GetCapturedStderr(), "<3>lot.xml : 42\n<4>clé inconnue : engine.colour\n<6>3 dépôt(s)\n<7>é\n");
}

TEST_F(LogTest, ThresholdDropsLessSevereLines) {
  log::set_threshold(log::Level::Warning);
  CaptureStderr();
  log::debug("non");
  log::info("non");
  log::write(log::Level::Notice, "non");
  log::warning("oui");
  log::error("oui aussi");
  EXPECT_EQ(GetCapturedStderr(), "<4>oui\n<3>oui aussi\n");
  log::set_threshold(log::Level::Error);
  CaptureStderr();
  log::warning("non");
  log::error("seul");
  EXPECT_EQ(GetCapturedStderr(), "<3>seul\n");
}

TEST_F(LogTest, LongLinesAreWrittenWhole) {
  const std::string big(100000, 'x');
  CaptureStderr();
  log::info("{}", big);
  EXPECT_EQ(GetCapturedStderr(), "<6>" + big + "\n");
}

}  // namespace
}  // namespace raccord
