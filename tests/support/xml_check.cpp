#include "tests/support/xml_check.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <system_error>

#include "tests/support/command.hpp"
#include "tests/support/files.hpp"

namespace raccord::testing {

namespace fs = std::filesystem;

fs::path xsd_path(std::string_view name) {
  return fs::path(RACCORD_SOURCE_DIR) / "samples" / "xsd" / std::string(name);
}

bool xmllint_available() {
  return std::system("command -v xmllint >/dev/null 2>&1") == 0;
}

namespace {

/// A new empty file under the temporary directory, named after `pattern` (mkstemps, `suffix_length`
/// characters after the XXXXXX); empty path on failure.
fs::path temporary_file(const std::string& name, int suffix_length) {
  std::string pattern = (fs::temp_directory_path() / name).string();
  const int fd = ::mkstemps(pattern.data(), suffix_length);
  if (fd < 0) return {};
  ::close(fd);
  return pattern;
}

}  // namespace

XmllintResult xmllint_file(const fs::path& file, const fs::path& xsd) {
  // The log goes to the temporary directory, never beside `file` (an outbox must not gain files).
  const fs::path log = temporary_file("raccord-xmllint-XXXXXX.log", 4);
  if (log.empty()) return {};
  std::string command = "xmllint --noout ";
  if (!xsd.empty()) command += "--schema " + shell_quote(xsd.string()) + " ";
  command += shell_quote(file.string()) + " >" + shell_quote(log.string()) + " 2>&1";
  XmllintResult result;
  result.status = std::system(command.c_str());
  result.log = read_file(log);
  std::error_code ec;
  fs::remove(log, ec);
  return result;
}

XmllintResult xmllint_text(std::string_view xml, const fs::path& xsd) {
  const fs::path file = temporary_file("raccord-xmllint-XXXXXX.xml", 4);
  if (file.empty()) return {};
  write_file(file, xml);
  XmllintResult result = xmllint_file(file, xsd);
  std::error_code ec;
  fs::remove(file, ec);
  return result;
}

}  // namespace raccord::testing
