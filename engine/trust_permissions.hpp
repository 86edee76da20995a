// Who may change what decides trust (docs/accounts.md "Who may change what is trusted"): the trust anchors, the
// CRLs and the sender accounts' pinned signers must be writable by root or the engine's user alone, else the
// engine does not start.
#pragma once

#include <stdexcept>

#include "engine/config.hpp"

namespace raccord {

/// Thrown by check_trust_permissions: a file or directory that decides what is trusted may be changed by someone
/// other than root or the engine's user. The start stops with exit 1 (engine/app/commands.cpp), not 2: the
/// configuration is right, the file system is not.
struct TrustPermissionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Checks, following symbolic links (the target is what is read), that none of these is writable by group or
/// others (mode & 022) nor owned by a uid other than 0 or `engine_uid` (the engine's effective uid):
///   - certificates.trust_dir and every regular, non-hidden file in it (each is read as anchors), when it exists
///     (a missing one is logged by the trust store, not fatal);
///   - the CRL directory (certificates.crl_dir, or its default <paths.root>/crl) and every regular, non-hidden
///     file in it (each is read as CRLs), when it exists;
///   - the `signataires` file of every account that names one.
/// Entries are judged in name order, so the same path is named at every start. `init`, `process`, `nightly` and
/// `daemon` call it at start, the daemon at each SIGHUP too (a failure then keeps the previous configuration);
/// the commands that only read (`check`, `cert`, `search`, `show`, `trust`) do not.
/// Throws TrustPermissionError, in French, naming the first offending path, its mode or owner, and the command
/// that fixes it (chmod go-w PATH, chown root PATH); std::system_error (naming the path) when a path cannot be
/// stat'ed for another reason than not existing, std::filesystem::filesystem_error when a directory cannot be
/// listed.
void check_trust_permissions(const Config& config, unsigned engine_uid);

}  // namespace raccord
