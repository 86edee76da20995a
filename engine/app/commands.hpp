// The `raccord` command line (docs/reference.md §7): parses arguments, builds the engine, runs one command.
#pragma once

namespace raccord::app {

/// Runs the command line and returns the process exit code (docs/reference.md §7 table):
/// 0 success; 1 failure (or `check`: some dépôt would not be INTEGRE; `cert`: not acceptable; `show`:
/// unknown code); 2 usage error, for every command: bad arguments, or a configuration that cannot be
/// used (config file missing or unreadable, invalid value); `nightly`: 3 when another run holds the lock.
/// Global options --config FILE (env RACCORD_CONFIG) and --now INSTANT (env RACCORD_NOW) are
/// accepted before or after the command name; the command line wins over the environment.
int run(int argc, char** argv);

}  // namespace raccord::app
