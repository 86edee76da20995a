// The engine's own input files under rules/ and the trust store (catalogue, trusted certificates):
// a file that is there but cannot be read is a failure of the machine under the engine, never an
// absent or empty file (issue 20: an EIO while reading the trust store made every sheet REJETE).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace raccord::rules {

/// The bytes of `file`, read whole through open(2)/read(2) (EINTR retried). Returns nullopt when it
/// does not exist (ENOENT, ENOTDIR on open). Throws std::system_error carrying the errno, its message
/// naming the file ("lecture impossible de <file>"), on every other failure: open (EIO, EACCES,
/// EROFS...) or read (EIO, EISDIR...). Rule: docs/design.md "Failures of the machine under the engine".
std::optional<std::string> read_input_file(const std::filesystem::path& file);

}  // namespace raccord::rules
