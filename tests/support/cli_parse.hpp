// In-process runs of one `raccord` subcommand (engine/app/*_command.cpp) from the tests: the command
// line parsed by CLI11 as main() would (docs/reference.md §7: a usage error exits 2). Header-only, so that
// raccord_test_support does not depend on CLI11; include it only from tests that link raccord_app.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/command.hpp"

namespace raccord::testing {

/// Parses `raccord COMMAND ARGS...` with `app`, on which the subcommand's options were added
/// (add_*_command). nullopt when the line parses (the options are then filled in); otherwise the
/// outcome of a usage error: code 2, `err` the CLI11 message, `out` empty.
inline std::optional<CommandRun> parse_command_line(CLI::App& app, std::string_view command,
                                                    const std::vector<std::string>& args) {
  std::vector<std::string> all{"raccord", std::string(command)};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const auto& a : all) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    CommandRun usage;
    usage.code = 2;
    usage.err = e.what();
    return usage;
  }
  return std::nullopt;
}

}  // namespace raccord::testing
