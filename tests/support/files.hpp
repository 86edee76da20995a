// Files for the tests: read and write whole files, list a directory, split text into lines, and a
// throw-away directory. Shared by every test executable (raccord_test_support); no engine dependency.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace raccord::testing {

/// The whole content of `path`, byte for byte (binary); "" when it is missing or unreadable.
std::string read_file(const std::filesystem::path& path);

/// Writes `bytes` to `path` (binary, truncating), creating its parent directories first. Failures are
/// not reported: the test's next read sees them.
void write_file(const std::filesystem::path& path, std::string_view bytes);

/// Names (not paths) of every entry directly in `dir` (files, directories, links, hidden ones too)
/// whose name starts with `prefix`, sorted; empty when `dir` is not a directory.
std::vector<std::string> entry_names(const std::filesystem::path& dir, std::string_view prefix = "");

/// The lines of `text`, split on '\n' (a '\r' stays in its line; no empty last line after a final '\n').
std::vector<std::string> lines_of(const std::string& text);

/// A new empty directory `base/PREFIX-XXXXXX` (mkdtemp), removed with its content on destruction.
/// Throws std::system_error when it cannot be created (the test then fails: never an empty path).
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "raccord-test",
                   const std::filesystem::path& base = std::filesystem::temp_directory_path());
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace raccord::testing
