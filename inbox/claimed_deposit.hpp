// One claimed dépôt as the engine takes it (docs/design.md "One dépôt, one transaction"): the
// inbox hands over, in one call, everything the engine needs from the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/deposit.hpp"
#include "inbox/inbox_directory.hpp"

namespace raccord::inbox {

/// What the engine needs from one claimed file, read once.
struct ClaimedDeposit {
  std::string name;            // its file name (the accusé's, and the record's)
  std::filesystem::path path;  // where it is claimed: inbox/.work/<name>
  std::string identity;        // "device:inode" of the open descriptor: a record of this very file
  std::uint64_t size = 0;      // bytes, measured on the descriptor before reading
  std::string sha256;          // lowercase hex SHA-256 of the bytes read (of the file when too large)
  DepositReadResult read;      // the dépôt, or its dépôt-level refusal (read_deposit, refuse_too_large)
};

/// `check_bytes`, when set, is given the very bytes loaded (neither empty nor too large) before they
/// are read as a dépôt: a diagnostic it returns is the dépôt-level refusal instead (a signed dépôt's
/// SIGNATURE_ABSENTE / SIGNATURE_INVALIDE, which come after FICHIER_VIDE and FICHIER_TROP_VOLUMINEUX and
/// before the reading errors, docs/accounts.md), and the bytes are not parsed.
using BytesCheck = std::function<std::optional<Diagnostic>(std::string_view bytes)>;

/// A claimed file is read in two halves, on two threads (docs/design.md "Reading ahead"): load_claimed
/// makes every system call on the engine's thread, read_loaded does the CPU work on any thread.
/// The first half: the file's bytes when they are to be read.
struct LoadedDeposit {
  ClaimedDeposit deposit;            // name, path, identity, size; sha256 and read already set when too large
  std::optional<std::string> bytes;  // the bytes read; none when too large (FICHIER_TROP_VOLUMINEUX already set)
};
/// Loads `file` once, through the descriptor its claim holds open and locked (the ClaimedFile keeps both:
/// archive and quarantine take it afterwards): its size and identity (fstat), then, when it is too large
/// for `max_bytes` (inbox.max_bytes, is_too_large), FICHIER_TROP_VOLUMINEUX without loading it and its
/// SHA-256 streamed from the file (docs/field-cases.md F07); otherwise its bytes (pread). Throws
/// std::system_error when the file cannot be read.
LoadedDeposit load_claimed(const ClaimedFile& file, std::uint64_t max_bytes);

/// The second half, no system call: the SHA-256 of the bytes loaded, `check_bytes`, then read_deposit of
/// them (which refuses them as too large when the file grew past `max_bytes` after its size was measured). Any thread
/// may run it (the reading of a group ahead, docs/design.md "Reading ahead"). Throws std::bad_alloc.
ClaimedDeposit read_loaded(LoadedDeposit loaded, std::uint64_t max_bytes, const BytesCheck& check_bytes = {});

}  // namespace raccord::inbox
