// Running commands from the tests: quoting for /bin/sh, running a command line with its stdout and
// stderr captured, and the real `raccord` binary (RACCORD_BINARY, built by the raccord target) with
// RACCORD_CONFIG and RACCORD_NOW removed from its environment (docs/reference.md §7: the tests choose both).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace raccord::testing {

/// What a command did: its exit code (-1 when it did not exit normally or could not start), and
/// everything it wrote on stdout and stderr.
struct CommandRun {
  int code = -1;
  std::string out;
  std::string err;
};

/// `s` as one single-quoted /bin/sh word ('a'\''b' for a'b), whatever it holds.
std::string shell_quote(std::string_view s);

/// `[cd 'CWD' && ]env -u RACCORD_CONFIG -u RACCORD_NOW [ENV ]'RACCORD_BINARY' ARGS`: a /bin/sh command
/// line (no redirection) running the binary. `args` and `env` are shell text, quoted by the caller
/// (e.g. `env` = "RACCORD_CONFIG=" + shell_quote(path)); no `cd` when `cwd` is empty.
std::string raccord_command_line(const std::string& args, const std::filesystem::path& cwd = {},
                                 const std::string& env = "");

/// The same with every element of `args` quoted as one word.
std::string raccord_command_line(const std::vector<std::string>& args, const std::filesystem::path& cwd = {},
                                 const std::string& env = "");

/// Runs `command_line` through /bin/sh with `>CAPTURE/stdout 2>CAPTURE/stderr </dev/null` appended
/// (`capture_dir` must exist; both files are left there) and returns the exit code and both outputs.
CommandRun run_command(const std::string& command_line, const std::filesystem::path& capture_dir);

}  // namespace raccord::testing
