#!/usr/bin/env bash
# Syscall fault sweep (issue 20; docs/design.md "Failures of the machine under the engine"): every
# file and store operation of one `raccord process` pass (or of `raccord daemon`) fails in turn under
# Debian's strace (`-e inject=SYSCALL:error=ERRNO:when=N`: EIO everywhere, ENOSPC and EDQUOT on
# writes and syncs, EROFS on opens, renames, links, unlinks, mkdirs, symlinks and chmods, ENOSPC on
# symlinks too), then clean passes run until the inbox is empty and the exactly-once invariants are
# checked (tests/faults/fault_sweep.py says which).
#   scripts/fault-sweep.sh --full [options]   full sweep of `raccord process` (every occurrence; outside CI)
#     --sample K [--seed S]                   K injections sampled across all syscall kinds (seeded)
#     --daemon                                `raccord daemon` instead of `raccord process`
#     --only SYSCALL:ERRNO:RANK               one injection (the reproducer printed for a failure)
#     --check-the-checks                      first prove each check catches a fault planted in a good state
#     --list                                  the occurrences swept, nothing injected
#     --syscalls S1,S2 / --files TEXT,TEXT    only those syscalls' occurrences / those on a file whose name
#                                             contains a TEXT (with --full, --sample, --list; both: both
#                                             hold), e.g. --full --files signe/,libre/,signataires
#     --work DIR                              keep the runs there (default: a temporary directory,
#                                             removed when nothing failed)
# Prints per syscall the injections made, recovered and failed, then `N injected, N recovered,
# N failed` and a reproducer per failure; exit 1 when one failed.
# env: BUILD_DIR (default build; the raccord target is built first).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
command -v strace >/dev/null || { echo "strace introuvable : WITH_TEST_PACKAGES=1 scripts/setup.sh l'installe" >&2; exit 1; }
cmake --build "$BUILD_DIR" --target raccord >/dev/null
exec python3 tests/faults/fault_sweep.py --binary "$BUILD_DIR/engine/app/raccord" --source . "$@"
