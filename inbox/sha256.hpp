// SHA-256 of a dépôt's bytes (docs/reference.md §2 "Exactly once").
#pragma once

#include <string>
#include <string_view>

namespace raccord::inbox {

/// Lowercase hex SHA-256 (64 characters) of `bytes`, computed with OpenSSL EVP.
std::string sha256_hex(std::string_view bytes);

/// Lowercase hex SHA-256 of everything readable from `fd` from offset 0 (pread, 64 KiB at a time),
/// so that an oversized dépôt is hashed without being held in memory. Throws std::system_error.
std::string sha256_hex_of_descriptor(int fd);

}  // namespace raccord::inbox
