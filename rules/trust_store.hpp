// The trust store of the certificate rules (certificates.trust_dir: the only anchors, docs/reference.md §3.3,
// §4; docs/toolchain.md #12) and its cache of proved authorities (issue 3). One TrustState per (re)load:
// a reload builds a new one, so the cache never outlives the store that proved its authorities.
// Private to rules/.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "rules/certificates.hpp"
#include "rules/openssl_ptr.hpp"

namespace raccord::rules {

/// A certificate of the trust store (an anchor or a configured intermediate).
struct StoreCert {
  X509Ptr cert;
  std::string fingerprint;  // SHA-256, uppercase hex
};

/// A CA proved in this process: the chain above a leaf, [CA, ..., anchor], that verified without error.
struct ProvedAuthority {
  std::vector<X509Ptr> chain;             // chain[0] the CA, last the anchor (up-referenced)
  std::vector<std::string> fingerprints;  // of chain, same order
  StorePtr partial_store;                 // holds chain[0] only, as a trusted certificate
};

/// The proved authorities of one trust store, by the fingerprint of the CA (chain[0]). Thread-safe.
class AuthorityCache {
 public:
  /// The authority proved under fingerprint `ca`, or null.
  std::shared_ptr<const ProvedAuthority> find(const std::string& ca) const;
  /// Keeps `proved` (an authority already there stays as it is).
  void add(std::shared_ptr<const ProvedAuthority> proved);
  std::size_t size() const;
  /// Every authority proved so far (in no particular order).
  std::vector<std::shared_ptr<const ProvedAuthority>> all() const;
  void clear();

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const ProvedAuthority>> proved_;
};

/// One load of the trust store, shared by the checks that started with it.
struct TrustState {
  StorePtr store;
  std::vector<StoreCert> certs;        // every certificate of the store
  std::set<std::string> fingerprints;  // of certs
  mutable std::mutex proving_mutex;    // held over a full verification and the cache update after it
  mutable AuthorityCache cache;
};

/// What loading the trust directory gave.
struct LoadedTrustStore {
  std::shared_ptr<TrustState> state;  // never null
  std::vector<TrustStoreNote> log;    // French lines worth logging (each file read or skipped, why)
  int anchors = 0;                    // certificates loaded
};

/// Reads every regular, non-hidden file of `dir` (in name order) as PEM holding one or several
/// certificates (docs/toolchain.md #12); a file without certificates is logged and skipped. A missing or
/// empty directory is not an error: the store is empty and the log says so. A directory or file that
/// is there but cannot be read (EIO, EACCES...) throws std::system_error naming it: the store would
/// be short of anchors and valid sheets rejected (docs/design.md "Failures of the machine under the
/// engine").
LoadedTrustStore load_trust_store(const std::filesystem::path& dir);

}  // namespace raccord::rules
