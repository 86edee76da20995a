// `raccord --version` (engine/app/version.cpp; README "Commands"): the real binary prints the project
// version of CMakeLists.txt's project(VERSION) and the OpenSSL, SQLite and Poco versions of the
// libraries loaded at run time (asked here of the same libraries), exits 0, and opens or creates
// nothing, with or without a command, a configuration or a store.
#include "engine/app/version.hpp"

#include <Poco/Environment.h>
#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "tests/support/command.hpp"

namespace {

namespace fs = std::filesystem;
using raccord::testing::CommandRun;
using raccord::testing::raccord_command_line;
using raccord::testing::run_command;

// The X.Y.Z of `project(raccord VERSION X.Y.Z ...)` in the top-level CMakeLists.txt.
std::string project_version() {
  std::ifstream in(fs::path(RACCORD_SOURCE_DIR) / "CMakeLists.txt");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(R"(project\(raccord VERSION ([0-9.]+))"))) return "<no project()>";
  return m[1];
}

// What --version must print, from the libraries this test process loaded (the same shared objects).
std::string expected_version_text() {
  const Poco::UInt32 poco = Poco::Environment::libraryVersion();
  return "raccord " + project_version() + "\n" + OpenSSL_version(OPENSSL_VERSION) + "\nSQLite " + sqlite3_libversion() +
         "\nPoco " + std::to_string((poco >> 24) & 0xFFU) + "." + std::to_string((poco >> 16) & 0xFFU) + "." +
         std::to_string((poco >> 8) & 0xFFU) + "\n";
}

class VersionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raccord-version-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "work");
    fs::create_directories(dir_ / "cap");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  CommandRun raccord(const std::string& args) {
    return run_command(raccord_command_line(args, dir_ / "work"), dir_ / "cap");
  }
  fs::path dir_;
};

TEST_F(VersionTest, PrintsTheProjectVersionAndTheLoadedLibraryVersions) {
  const CommandRun r = raccord("--version");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, expected_version_text());
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(raccord::app::version_text() + "\n", expected_version_text());
}

TEST_F(VersionTest, NeedsNoCommandNorConfigurationAndCreatesNothing) {
  // Whatever else is on the line: a configuration that does not exist, the environment's one, a
  // command after it. --version answers first and touches nothing (no store, no var/).
  for (const std::string args : {"--version --config absent.ini", "--config absent.ini --version", "--version process",
                                 "--version --now 2026-13-45"}) {
    const CommandRun r = raccord(args);
    EXPECT_EQ(r.code, 0) << args << ": " << r.err;
    EXPECT_EQ(r.out, expected_version_text()) << args;
  }
  const CommandRun env = run_command(
      raccord_command_line("--version", dir_ / "work", "RACCORD_CONFIG=absent.ini RACCORD_NOW=pas-un-instant"),
      dir_ / "cap");
  EXPECT_EQ(env.code, 0) << env.err;
  EXPECT_EQ(env.out, expected_version_text());
  EXPECT_TRUE(fs::is_empty(dir_ / "work"));
}

TEST_F(VersionTest, HelpOffersIt) {
  const CommandRun r = raccord("--help");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("--version"), std::string::npos) << r.out;
}

}  // namespace
