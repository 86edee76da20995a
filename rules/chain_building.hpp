// Chain building: the issuer path of one leaf, chosen among every candidate of its bundle and of the
// trust store (RFC 4158; docs/design.md "Chain building"), verified by OpenSSL (docs/toolchain.md #11,
// #13), through the cache of proved authorities when it gives the same verdict (issue 3). Private
// to rules/.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "domain/civil_date.hpp"
#include "rules/certificates.hpp"
#include "rules/openssl_ptr.hpp"
#include "rules/trust_store.hpp"

namespace raccord::rules {

/// One error OpenSSL reported while verifying a chain (every error is collected; the verdict is ours).
struct VerifyError {
  int code = 0;                // X509_V_ERR_*
  int depth = 0;               // 0: the leaf
  std::string missing_issuer;  // issuer DN (RFC 2253) of the certificate the error is about
  std::string about;           // describe() of that certificate
};

/// What an OpenSSL verification error means for the certificate rules.
enum class ErrorClass {
  Ignored,     // validity, key size, digest strength, purpose: judged by our own rules (F25, F27)
  Untrusted,   // the chain ends at a root that is no anchor (CERT_AUTORITE_NON_RECONNUE)
  Incomplete,  // an issuer is missing (CERT_CHAINE_INCOMPLETE)
  Profile,     // an RFC 5280 profile rule of OpenSSL's strict mode (CERT_NON_CONFORME; the chain's end unchanged)
  Other,       // anything else (bad signature, issuer not a CA...)
};
ErrorClass classify(int code);

/// The RFC 5280 profile rule, in French, that OpenSSL's strict-mode error `code`
/// (X509_V_FLAG_X509_STRICT, class Profile) stands for, e.g. "un certificat d'autorité doit marquer
/// basicConstraints comme critique (RFC 5280 §4.2.1.9)"; empty for any other code.
std::string profile_rule(int code);

/// Why the trust store's certificates named like the issuer of `child` cannot have issued it, in French
/// (e.g. "sa signature ne se vérifie pas avec la clé de cette autorité"), or empty when the trust store
/// holds no certificate of that name. For the message of a chain whose issuer OpenSSL did not find
/// although the trust store holds an anchor of that name: the partner is never asked to add a
/// certificate the trust store already holds (issue 17).
std::string why_anchor_refused(X509* child, const TrustState& trust);

/// The certificates of one bundle, as decoded, with their fingerprints (same order).
struct BundleView {
  const std::vector<X509Ptr>* certs;
  const std::vector<std::string>* fingerprints;
};

/// How the chains of a checker were verified (CertificateCacheStats).
struct ChainCounters {
  std::atomic<std::uint64_t> full_verifications{0};    // the built path verified by X509_verify_cert
  std::atomic<std::uint64_t> cached_verifications{0};  // the leaf alone against a proved authority
};

/// The chain built for one leaf, as the certificate rules judge it.
/// `path` is the seam for checks that walk the chain (the revocation check of a later issue reads
/// each certificate but the anchor with issuer_of(i), the certificate that signed it).
struct BuiltChain {
  /// Leaf first, then the issuer of each certificate in turn; the anchor (from the trust store)
  /// last when `end` is Anchored. Just the leaf when it is self-signed or OpenSSL built no chain.
  std::vector<X509*> path;
  ChainEnd end = ChainEnd::Invalid;
  bool anchored = false;          // the top of `path` comes from the trust store
  bool top_name_trusted = false;  // a trusted certificate bears the top's name, yet is not the top (F21 d)
  std::vector<VerifyError> errors;
  StackPtr owner;  // the references `path` borrows above the leaf (OpenSSL's chain), or null

  /// The certificate that issued path[i] (its signature verifies with its key), or null for the top of the path.
  X509* issuer_of(std::size_t i) const { return i + 1 < path.size() ? path[i + 1] : nullptr; }
  /// The first error of class `c` OpenSSL reported, or null.
  const VerifyError* first_error(ErrorClass c) const;
};

/// The chain of `leaf` (a certificate of `bundle`) at instant `at`, notBefore tolerated up to `skew`
/// ahead, verified in library context `libctx` (null: OpenSSL's default). A self-signed leaf is not
/// verified (end SelfSignedLeaf). Otherwise the leaf is verified against a proved authority when the
/// cache can give the full verification's verdict (docs in rules/certificates.hpp, "CA cache"), else
/// the path PathBuilder chooses is verified alone by OpenSSL and, when clean above the leaf, its CA is
/// remembered; `counters` counts both ways. Thread-safe: the full verifications of one trust store
/// run one at a time. Raises nothing (OpenSSL's failures are errors of the result).
BuiltChain build_chain(X509* leaf, const BundleView& bundle, const TrustState& trust, Instant at,
                       std::chrono::seconds skew, OSSL_LIB_CTX* libctx, ChainCounters& counters);

}  // namespace raccord::rules
