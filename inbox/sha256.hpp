// SHA-256 of a dépôt's bytes (SPEC.md §2 "Exactly once").
#pragma once

#include <string>
#include <string_view>

namespace raccord::inbox {

/// Lowercase hex SHA-256 (64 characters) of `bytes`, computed with OpenSSL EVP.
std::string sha256_hex(std::string_view bytes);

}  // namespace raccord::inbox
