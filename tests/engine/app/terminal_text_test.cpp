// engine/app/terminal_text.cpp: the text helpers of the commands (show, trust, cert, search).
#include "engine/app/terminal_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace raccord::app {
namespace {

TEST(TerminalText, ControlCharactersBecomeSpacesAndUtf8IsKept) {
  EXPECT_EQ(terminal_line("ligne 1\nligne 2\r\tfin"), "ligne 1 ligne 2  fin");
  EXPECT_EQ(terminal_line(std::string("a\x1b[31mb\x7f", 8)), "a [31mb ");
  EXPECT_EQ(terminal_line(std::string("nul\0x", 5)), "nul x");
  EXPECT_EQ(terminal_line("Société Générale — é"), "Société Générale — é");
  EXPECT_EQ(terminal_line(""), "");
}

TEST(TerminalText, UpperAsciiChangesOnlyAsciiLetters) {
  EXPECT_EQ(upper_ascii("edi"), "EDI");
  EXPECT_EQ(upper_ascii("Api-2_x"), "API-2_X");
  EXPECT_EQ(upper_ascii("été"), "éTé");  // UTF-8 bytes untouched
  EXPECT_EQ(upper_ascii(""), "");
}

}  // namespace
}  // namespace raccord::app
