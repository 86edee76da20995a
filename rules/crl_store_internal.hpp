// Test-only access to the two readings of a CRL file in rules/crl_store.cpp (issue 17): the fast reading
// (entries walked in the DER) and OpenSSL's whole reading (d2i_X509_CRL). For fuzz/crl_fuzzer.cpp and
// tests/rules/crl_store_test.cpp; not part of rules' interface.
#pragma once

#include <openssl/types.h>  // X509 (declaration only)

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raccord::rules::internal {

/// Reads `bytes` (a CRL file, as CrlStore::add) both ways when the fast reading accepts it, and compares
/// what CrlStore answers from each: the file accepted or refused, the number of CRLs, every CrlInfo, the
/// serials listed (removeFromCRL excepted), the listing (revocation date, reason) of every serial OpenSSL
/// lists plus its neighbours, a few others and their negatives, and the signature verified with the key of
/// each of `issuers`. True when they agree, or the fast reading refuses the file (`*fast_taken` false then);
/// false with `why` (French) naming the first difference.
bool fast_and_openssl_agree(std::string_view bytes, const std::vector<const X509*>& issuers, std::string& why,
                            bool* fast_taken = nullptr);

/// The DER of each "X509 CRL" block of `bytes` when the fast reading decodes the PEM itself (the exact
/// shape PEM_write_bio_X509_CRL writes: read_canonical_pem); nullopt when the file is left to PEM_read_bio.
std::optional<std::vector<std::string>> canonical_pem_blocks(std::string_view bytes);

}  // namespace raccord::rules::internal
