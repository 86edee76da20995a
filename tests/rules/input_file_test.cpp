// Tests of rules/input_file.cpp: an engine input that is there but cannot be read throws, naming
// it; only a missing file reads as absent (issue 20). The read errors are real: EISDIR from a
// directory, EIO from /proc/self/mem (a regular file whose offset 0 is not mapped).
#include "rules/input_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace raccord::rules {
namespace {

namespace fs = std::filesystem;

class InputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raccord-input-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Expects read_input_file(path) to throw std::system_error with `error`, naming `path`.
  static void expect_failure(const fs::path& path, int error) {
    try {
      (void)read_input_file(path);
      ADD_FAILURE() << "std::system_error attendu pour " << path;
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), error) << e.what();
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  }

  fs::path dir_;
};

TEST_F(InputFileTest, ReadsTheWholeFile) {
  std::string text(200000, 'x');  // more than one read(2)
  text += "fin";
  std::ofstream(dir_ / "f.pem", std::ios::binary) << text;
  EXPECT_EQ(read_input_file(dir_ / "f.pem"), text);
  std::ofstream(dir_ / "vide.pem", std::ios::binary).close();
  EXPECT_EQ(read_input_file(dir_ / "vide.pem"), std::string());
}

TEST_F(InputFileTest, AMissingFileIsAbsent) {
  EXPECT_EQ(read_input_file(dir_ / "absent.xml"), std::nullopt);
  EXPECT_EQ(read_input_file(dir_ / "absent" / "catalogue.xml"), std::nullopt);
}

TEST_F(InputFileTest, AReadThatFailsThrowsNamingTheFile) {
  expect_failure("/proc/self/mem", EIO);
  fs::create_symlink("/proc/self/mem", dir_ / "racine.pem");  // as an input file would be linked
  expect_failure(dir_ / "racine.pem", EIO);
  expect_failure(dir_, EISDIR);
}

}  // namespace
}  // namespace raccord::rules
