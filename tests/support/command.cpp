#include "tests/support/command.hpp"

#include <sys/wait.h>

#include <cstdlib>

#include "tests/support/files.hpp"

namespace raccord::testing {

namespace fs = std::filesystem;

std::string shell_quote(std::string_view s) {
  std::string q = "'";
  for (const char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string raccord_command_line(const std::string& args, const fs::path& cwd, const std::string& env) {
  std::string line;
  if (!cwd.empty()) line = "cd " + shell_quote(cwd.string()) + " && ";
  line += "env -u RACCORD_CONFIG -u RACCORD_NOW ";
  if (!env.empty()) line += env + " ";
  return line + shell_quote(RACCORD_BINARY) + " " + args;
}

std::string raccord_command_line(const std::vector<std::string>& args, const fs::path& cwd, const std::string& env) {
  std::string words;
  for (const auto& a : args) words += (words.empty() ? "" : " ") + shell_quote(a);
  return raccord_command_line(words, cwd, env);
}

CommandRun run_command(const std::string& command_line, const fs::path& capture_dir) {
  const fs::path out = capture_dir / "stdout";
  const fs::path err = capture_dir / "stderr";
  const std::string cmd =
      command_line + " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string()) + " </dev/null";
  const int status = std::system(cmd.c_str());
  CommandRun r;
  r.code = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

}  // namespace raccord::testing
