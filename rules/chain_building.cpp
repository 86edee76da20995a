// Chain building and verification (docs/reference.md §4 chain family; RFC 4158; docs/toolchain.md #11, #13;
// docs/field-cases.md F20, F21) with OpenSSL 3, and the CA cache (issue 3).
#include "rules/chain_building.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "rules/certificate_facts.hpp"

namespace raccord::rules {
namespace {

// ---------------------------------------------------------------------------------------------
// Chain verification (docs/toolchain.md #11, #13).

int collect_errors(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  auto* errors = static_cast<std::vector<VerifyError>*>(X509_STORE_CTX_get_app_data(ctx));
  VerifyError e;
  e.code = X509_STORE_CTX_get_error(ctx);
  e.depth = X509_STORE_CTX_get_error_depth(ctx);
  if (X509* cur = X509_STORE_CTX_get_current_cert(ctx)) {
    e.missing_issuer = name_text(X509_get_issuer_name(cur));
    e.about = describe(cur);
  }
  if (errors != nullptr) errors->push_back(std::move(e));
  return 1;  // go on: every error is collected, the verdict is ours
}

struct ChainResult {
  StackPtr chain;                 // leaf first; the anchor last when anchored
  bool anchored = false;          // the top certificate comes from the trust store
  bool top_name_trusted = false;  // a trusted certificate bears the top's name, yet is not the top (F21 d)
  std::vector<VerifyError> errors;
};

/// OpenSSL's verification of `leaf` at `at`, every error collected (none is fatal to it).
ChainResult verify_chain(X509* leaf, STACK_OF(X509) * untrusted, X509_STORE* store, Instant at, OSSL_LIB_CTX* libctx,
                         unsigned long extra_flags = 0) {
  ChainResult r;
  StoreCtxPtr ctx(X509_STORE_CTX_new_ex(libctx, nullptr));
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, leaf, untrusted) != 1) {
    ERR_clear_error();
    r.errors.push_back({X509_V_ERR_OUT_OF_MEM, 0, {}, describe(leaf)});
    return r;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at.time_since_epoch().count()));
  X509_VERIFY_PARAM_set_auth_level(param, 0);  // no security-level verdicts (F25)
  // The RFC 5280 profile rules of strict mode are reported (class Profile, CERT_NON_CONFORME), not fatal.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT | extra_flags);
  X509_STORE_CTX_set_app_data(ctx.get(), &r.errors);
  X509_STORE_CTX_set_verify_cb(ctx.get(), collect_errors);
  int rc = X509_verify_cert(ctx.get());
  if (rc < 0) r.errors.push_back({X509_STORE_CTX_get_error(ctx.get()), 0, {}, describe(leaf)});
  r.chain.reset(X509_STORE_CTX_get1_chain(ctx.get()));
  if (r.chain) r.anchored = sk_X509_num(r.chain.get()) > X509_STORE_CTX_get_num_untrusted(ctx.get());
  ERR_clear_error();
  return r;
}

// ---------------------------------------------------------------------------------------------
// The CA cache (issue 3; the contract is in rules/certificates.hpp, CertificateChecker).

/// Fingerprints of the certificates whose subject is `name`, among `certs` (with `fps` alongside).
template <typename Get>
std::set<std::string> subjects_named(const X509_NAME* name, std::size_t count, Get get) {
  std::set<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    auto [cert, fp] = get(i);
    if (X509_NAME_cmp(X509_get_subject_name(cert), name) == 0) out.insert(*fp);
  }
  return out;
}

/// The only certificate OpenSSL can choose as the issuer of `child` (by name, the trust store first,
/// docs/toolchain.md #11), or empty when there is none or the choice is ambiguous.
std::string unique_issuer(X509* child, const BundleView& bundle, const TrustState& trust) {
  const X509_NAME* name = X509_get_issuer_name(child);
  auto in_store = subjects_named(name, trust.certs.size(), [&](std::size_t i) {
    return std::pair<X509*, const std::string*>(trust.certs[i].cert.get(), &trust.certs[i].fingerprint);
  });
  auto in_bundle = subjects_named(name, bundle.certs->size(), [&](std::size_t i) {
    return std::pair<X509*, const std::string*>((*bundle.certs)[i].get(), &(*bundle.fingerprints)[i]);
  });
  if (!in_store.empty()) {
    if (in_store.size() != 1) return {};
    if (!in_bundle.empty() && in_bundle != in_store) return {};
    return *in_store.begin();
  }
  if (in_bundle.size() != 1) return {};
  return *in_bundle.begin();
}

/// True when, for this bundle, each certificate of [leaf, chain...] has exactly the next one as its
/// only possible issuer (so OpenSSL would build this very chain, whatever the instant).
bool chain_is_forced(X509* leaf, const std::vector<X509*>& above, const std::vector<std::string>& above_fps,
                     const BundleView& bundle, const TrustState& trust) {
  X509* child = leaf;
  for (std::size_t i = 0; i < above.size(); ++i) {
    if (unique_issuer(child, bundle, trust) != above_fps[i]) return false;
    child = above[i];
  }
  return true;
}

/// Records the CA of a chain that verified cleanly above its leaf (the cold path, issue 3).
void remember(const ChainResult& r, X509* leaf, const BundleView& bundle, const TrustState& trust) {
  if (!r.chain || !r.anchored) return;
  const int n = sk_X509_num(r.chain.get());
  if (n < 2) return;
  for (const auto& e : r.errors) {
    if (e.depth != 0 || classify(e.code) != ErrorClass::Ignored) return;
  }
  auto entry = std::make_shared<ProvedAuthority>();
  std::vector<X509*> above;
  for (int i = 1; i < n; ++i) {
    X509* x = sk_X509_value(r.chain.get(), i);
    if (has_constraints(x)) return;
    above.push_back(x);
    entry->fingerprints.push_back(fingerprint(x));
  }
  if (!chain_is_forced(leaf, above, entry->fingerprints, bundle, trust)) return;
  for (X509* x : above) entry->chain.push_back(up_ref(x));
  entry->partial_store.reset(X509_STORE_new(), X509_STORE_free);
  if (!entry->partial_store || X509_STORE_add_cert(entry->partial_store.get(), above.front()) != 1) {
    ERR_clear_error();
    return;
  }
  trust.cache.add(std::move(entry));
}

/// The warm path: the leaf verified alone against its proved CA, the proved chain appended. nullopt
/// when the cache cannot give the verdict the full verification would give.
std::optional<ChainResult> verify_from_cache(X509* leaf, const BundleView& bundle, const TrustState& trust, Instant at,
                                             OSSL_LIB_CTX* libctx) {
  const std::string issuer = unique_issuer(leaf, bundle, trust);
  if (issuer.empty()) return std::nullopt;
  const std::shared_ptr<const ProvedAuthority> entry = trust.cache.find(issuer);
  if (!entry) return std::nullopt;
  std::vector<X509*> above;
  for (const auto& x : entry->chain) above.push_back(x.get());
  if (!chain_is_forced(leaf, above, entry->fingerprints, bundle, trust)) return std::nullopt;
  ShallowStackPtr none(sk_X509_new_null());
  ChainResult leaf_only =
      verify_chain(leaf, none.get(), entry->partial_store.get(), at, libctx, X509_V_FLAG_PARTIAL_CHAIN);
  if (!leaf_only.chain || sk_X509_num(leaf_only.chain.get()) != 2 ||
      X509_cmp(sk_X509_value(leaf_only.chain.get(), 1), above.front()) != 0) {
    return std::nullopt;
  }
  for (const auto& e : leaf_only.errors) {
    if (e.depth != 0 && classify(e.code) != ErrorClass::Ignored) return std::nullopt;
  }
  ChainResult r;
  r.chain.reset(sk_X509_new_null());
  sk_X509_push(r.chain.get(), up_ref(leaf).release());
  for (X509* x : above) sk_X509_push(r.chain.get(), up_ref(x).release());
  r.anchored = true;
  for (auto& e : leaf_only.errors) {
    if (e.depth == 0) r.errors.push_back(std::move(e));
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Path building (RFC 4158). OpenSSL takes, for each certificate, the
// first issuer candidate it meets in the bundle's order: with two certificates of
// one CA (cross-signed by the trusted root and self-signed, or an old and a renewed one), the verdict
// then depended on the bundle's order. The path is therefore chosen here, among every candidate of
// the trust store and of the bundle, in an order that does not depend on the bundle's, and OpenSSL
// verifies that path alone (docs/design.md, "Chain building").

/// A certificate that may issue another one in a chain: from the trust store or the bundle.
struct PathCandidate {
  X509* cert = nullptr;
  const std::string* fingerprint = nullptr;
  bool from_store = false;
  bool in_validity = true;  // within its dates at the check instant (notBefore with the clock skew)
};

enum class PathEnd { Anchored = 0, UntrustedRoot = 1, MissingIssuer = 2 };

/// How good a path is; lower is better, compared field by field in this order.
struct PathScore {
  int flawed_any = 0;  // 1 when an edge is known to be flawed: its issuer's signature does not verify
                       // (checked only when a certificate has several candidates), the issuer is no CA
                       // or its keyUsage forbids certificate signing
  PathEnd end = PathEnd::MissingIssuer;
  int out_of_validity = 0;  // certificates above the leaf outside their dates
  int flawed = 0;
  std::size_t length = 0;

  auto key() const { return std::tuple(flawed_any, static_cast<int>(end), out_of_validity, flawed, length); }
  bool operator<(const PathScore& other) const { return key() < other.key(); }
  bool perfect() const { return flawed_any == 0 && end == PathEnd::Anchored && out_of_validity == 0; }
};

/// Depth-first search of the issuer paths of one leaf, best candidate first, without loops (a
/// certificate appears once in a path), bounded in depth, in visited certificates and in signature
/// checks (a hostile bundle of many namesakes costs a bounded time).
class PathBuilder {
 public:
  static constexpr std::size_t kMaxDepth = 16;     // certificates above the leaf
  static constexpr int kMaxVisits = 256;           // certificates entered by the search
  static constexpr int kMaxSignatureChecks = 256;  // issuer signatures verified to rank candidates

  PathBuilder(X509* leaf, const BundleView& bundle, const TrustState& trust, Instant at, std::chrono::seconds skew) {
    const auto instant = std::chrono::sys_seconds(at.time_since_epoch());
    std::set<std::string_view> seen;
    auto add = [&](X509* x, const std::string* fp, bool from_store) {
      if (!seen.insert(*fp).second) return;  // a copy of a trust store certificate (or a duplicate)
      const bool valid = instant <= to_sys(X509_get0_notAfter(x)) && to_sys(X509_get0_notBefore(x)) <= instant + skew;
      pool_.push_back({x, fp, from_store, valid});
    };
    for (const auto& c : trust.certs) add(c.cert.get(), &c.fingerprint, true);
    for (std::size_t i = 0; i < bundle.certs->size(); ++i) {
      X509* x = (*bundle.certs)[i].get();
      if (x == leaf) {
        leaf_fingerprint_ = &(*bundle.fingerprints)[i];
        continue;
      }
      add(x, &(*bundle.fingerprints)[i], false);
    }
    // By subject name, so that the candidates of a certificate are found by a binary search.
    std::sort(pool_.begin(), pool_.end(), [](const PathCandidate& a, const PathCandidate& b) {
      return X509_NAME_cmp(X509_get_subject_name(a.cert), X509_get_subject_name(b.cert)) < 0;
    });
    leaf_ = leaf;
  }

  /// The chosen path above the leaf (empty when the leaf has no issuer candidate).
  std::vector<PathCandidate> build() {
    // First without signature checks: when no certificate has more than one candidate, the only
    // path is the one (the usual bundle; OpenSSL checks its signatures anyway).
    search(false);
    if (!ambiguous_) return best_;
    search(true);
    return best_;
  }

 private:
  void search(bool check_signatures) {
    check_signatures_ = check_signatures;
    visits_ = 0;
    signature_checks_ = 0;
    done_ = false;
    has_best_ = false;
    best_.clear();
    path_.clear();
    path_.reserve(kMaxDepth + 1);  // visit() keeps pointers to path_'s elements
    flawed_ = 0;
    visit(nullptr);
  }

  /// Extends path_ above `node` (the leaf when null).
  void visit(const PathCandidate* node) {
    if (done_) return;
    X509* child = node != nullptr ? node->cert : leaf_;
    if (node != nullptr && is_self_issued(child)) {
      finish(node->from_store ? PathEnd::Anchored : PathEnd::UntrustedRoot);
      return;
    }
    if (path_.size() >= kMaxDepth || ++visits_ > kMaxVisits) {
      finish(PathEnd::MissingIssuer);
      return;
    }
    struct Ranked {
      const PathCandidate* candidate;
      bool flawed;
    };
    std::vector<Ranked> candidates;
    const X509_NAME* issuer_name = X509_get_issuer_name(child);
    auto [first, last] = std::equal_range(pool_.begin(), pool_.end(), issuer_name, NameOrder{});
    for (auto it = first; it != last; ++it) {
      // Above a trust store certificate, OpenSSL looks in the trust store only.
      if (node != nullptr && node->from_store && !it->from_store) continue;
      if (in_path(*it->fingerprint)) continue;
      const int issued = X509_check_issued(it->cert, child);
      ERR_clear_error();
      if (issued != X509_V_OK && issued != X509_V_ERR_KEYUSAGE_NO_CERTSIGN) continue;
      candidates.push_back({&*it, issued != X509_V_OK || !is_ca(it->cert)});
    }
    if (candidates.empty()) {
      finish(PathEnd::MissingIssuer);
      return;
    }
    if (candidates.size() > 1) {
      ambiguous_ = true;
      if (!check_signatures_) {  // the first search stops here: the second one ranks by signature
        done_ = true;
        return;
      }
    }
    // Preference (RFC 4158, "sorting"): trust store first, then certificates within their dates, then by
    // fingerprint (a fixed order, whatever the bundle's); with signatures checked, flawed last.
    std::sort(candidates.begin(), candidates.end(), [](const Ranked& a, const Ranked& b) {
      return std::tuple(!a.candidate->from_store, !a.candidate->in_validity, *a.candidate->fingerprint) <
             std::tuple(!b.candidate->from_store, !b.candidate->in_validity, *b.candidate->fingerprint);
    });
    if (check_signatures_) {
      for (auto& c : candidates) {
        if (!c.flawed && signature_checks_ < kMaxSignatureChecks) {
          ++signature_checks_;
          EVP_PKEY* key = X509_get0_pubkey(c.candidate->cert);
          c.flawed = key == nullptr || X509_verify(child, key) != 1;
          ERR_clear_error();
        }
      }
      std::stable_sort(candidates.begin(), candidates.end(),
                       [](const Ranked& a, const Ranked& b) { return !a.flawed && b.flawed; });
    }
    for (const auto& c : candidates) {
      const int flawed = check_signatures_ && c.flawed ? 1 : 0;
      path_.push_back(*c.candidate);
      flawed_ += flawed;
      visit(&path_.back());
      flawed_ -= flawed;
      path_.pop_back();
      if (done_) return;
    }
  }

  void finish(PathEnd end) {
    PathScore score;
    score.flawed_any = flawed_ > 0 ? 1 : 0;
    score.end = end;
    for (const auto& c : path_) score.out_of_validity += c.in_validity ? 0 : 1;
    score.flawed = flawed_;
    score.length = path_.size();
    if (!has_best_ || score < best_score_) {
      has_best_ = true;
      best_score_ = score;
      best_ = path_;
    }
    if (score.perfect()) done_ = true;
  }

  bool in_path(const std::string& fp) const {
    if (leaf_fingerprint_ != nullptr && *leaf_fingerprint_ == fp) return true;
    return std::any_of(path_.begin(), path_.end(), [&](const PathCandidate& c) { return *c.fingerprint == fp; });
  }

  struct NameOrder {
    bool operator()(const PathCandidate& c, const X509_NAME* name) const {
      return X509_NAME_cmp(X509_get_subject_name(c.cert), name) < 0;
    }
    bool operator()(const X509_NAME* name, const PathCandidate& c) const {
      return X509_NAME_cmp(name, X509_get_subject_name(c.cert)) < 0;
    }
  };

  X509* leaf_ = nullptr;
  const std::string* leaf_fingerprint_ = nullptr;
  std::vector<PathCandidate> pool_;
  std::vector<PathCandidate> path_;
  std::vector<PathCandidate> best_;
  PathScore best_score_;
  bool has_best_ = false;
  bool ambiguous_ = false;
  bool check_signatures_ = false;
  bool done_ = false;
  int flawed_ = 0;
  int visits_ = 0;
  int signature_checks_ = 0;
};

/// The cold path: the issuer path of `leaf` chosen by PathBuilder, verified by OpenSSL with only
/// that path's certificates (its bundle certificates as untrusted ones, its trust store
/// certificates in a store of their own), so that OpenSSL cannot take another candidate.
ChainResult verify_built_path(X509* leaf, const BundleView& bundle, const TrustState& trust, Instant at,
                              std::chrono::seconds skew, OSSL_LIB_CTX* libctx) {
  std::vector<PathCandidate> path = PathBuilder(leaf, bundle, trust, at, skew).build();
  ShallowStackPtr untrusted(sk_X509_new_null());
  StorePtr store(X509_STORE_new(), X509_STORE_free);
  if (!untrusted || !store) {
    ERR_clear_error();
    ChainResult r;
    r.errors.push_back({X509_V_ERR_OUT_OF_MEM, 0, {}, describe(leaf)});
    return r;
  }
  for (const auto& c : path) {
    if (c.from_store) {
      X509_STORE_add_cert(store.get(), c.cert);
    } else {
      sk_X509_push(untrusted.get(), c.cert);
    }
  }
  ERR_clear_error();
  ChainResult r = verify_chain(leaf, untrusted.get(), store.get(), at, libctx);
  if (r.chain && !r.anchored && sk_X509_num(r.chain.get()) > 0) {
    X509* top = sk_X509_value(r.chain.get(), sk_X509_num(r.chain.get()) - 1);
    for (const auto& c : trust.certs) {
      if (X509_NAME_cmp(X509_get_subject_name(c.cert.get()), X509_get_subject_name(top)) == 0 &&
          X509_cmp(c.cert.get(), top) != 0) {
        r.top_name_trusted = true;
      }
    }
  }
  return r;
}

/// The chain of a leaf that is not self-signed: from the cache, else built and verified in full.
ChainResult verify_leaf(X509* leaf, const BundleView& bundle, const TrustState& trust, Instant at,
                        std::chrono::seconds skew, OSSL_LIB_CTX* libctx, ChainCounters& counters) {
  if (std::optional<ChainResult> cached = verify_from_cache(leaf, bundle, trust, at, libctx)) {
    ++counters.cached_verifications;
    return std::move(*cached);
  }
  // Checks run on several threads (issue 7): the cold path is taken by one at a time, and the cache
  // is asked again once inside, so a CA another thread just proved is not verified a second time.
  std::lock_guard proving(trust.proving_mutex);
  if (std::optional<ChainResult> cached = verify_from_cache(leaf, bundle, trust, at, libctx)) {
    ++counters.cached_verifications;
    return std::move(*cached);
  }
  ChainResult r = verify_built_path(leaf, bundle, trust, at, skew, libctx);
  ++counters.full_verifications;
  remember(r, leaf, bundle, trust);
  return r;
}

}  // namespace

ErrorClass classify(int code) {
  switch (code) {
    // Validity, key size and digest strength are judged by our own rules (F25, F27).
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
    case X509_V_ERR_INVALID_PURPOSE:
      return ErrorClass::Ignored;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return ErrorClass::Untrusted;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return ErrorClass::Incomplete;
    default:
      return profile_rule(code).empty() ? ErrorClass::Other : ErrorClass::Profile;
  }
}

std::string profile_rule(int code) {
  // OpenSSL 3.0's x509_vfy.c, check_chain(), the checks under X509_V_FLAG_X509_STRICT.
  switch (code) {
    case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
      return "un certificat d'autorité doit marquer l'extension basicConstraints comme critique (RFC 5280 §4.2.1.9)";
    case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
      return "un certificat d'autorité doit porter l'extension keyUsage (RFC 5280 §4.2.1.3)";
    case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
      return "l'usage keyCertSign est réservé aux certificats d'autorité (basicConstraints CA:TRUE) (RFC 5280 "
             "§4.2.1.3)";
    case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
      return "une longueur de chemin (pathLenConstraint) n'est permise que dans un certificat d'autorité (RFC 5280 "
             "§4.2.1.9)";
    case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
      return "une longueur de chemin (pathLenConstraint) exige l'usage keyCertSign (RFC 5280 §4.2.1.9)";
    case X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER:
      return "un certificat émis par une autorité doit porter l'identifiant de la clé de cette autorité "
             "(authorityKeyIdentifier avec keyIdentifier) (RFC 5280 §4.2.1.1)";
    case X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER:
      return "un certificat d'autorité doit porter l'identifiant de sa clé (subjectKeyIdentifier) (RFC 5280 "
             "§4.2.1.2)";
    case X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL:
      return "l'extension authorityKeyIdentifier ne doit pas être critique (RFC 5280 §4.2.1.1)";
    case X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL:
      return "l'extension subjectKeyIdentifier ne doit pas être critique (RFC 5280 §4.2.1.2)";
    case X509_V_ERR_ISSUER_NAME_EMPTY:
      return "le nom de l'émetteur ne doit pas être vide (RFC 5280 §4.1.2.4)";
    case X509_V_ERR_SUBJECT_NAME_EMPTY:
      return "le nom du sujet ne doit pas être vide (RFC 5280 §4.1.2.6)";
    case X509_V_ERR_EMPTY_SUBJECT_ALT_NAME:
      return "l'extension subjectAltName ne doit pas être vide (RFC 5280 §4.2.1.6)";
    case X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL:
      return "un certificat au sujet vide doit marquer l'extension subjectAltName comme critique (RFC 5280 §4.2.1.6)";
    case X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY:
      return "l'algorithme de signature annoncé dans le certificat doit être celui de sa signature (RFC 5280 "
             "§4.1.1.2)";
    case X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3:
      return "un certificat qui porte des extensions doit être en version 3 (RFC 5280 §4.1.2.1)";
    default:
      return {};
  }
}

std::string why_anchor_refused(X509* child, const TrustState& trust) {
  const X509_NAME* name = X509_get_issuer_name(child);
  std::string why;
  for (const auto& anchor : trust.certs) {
    X509* candidate = anchor.cert.get();
    if (X509_NAME_cmp(X509_get_subject_name(candidate), name) != 0) continue;
    std::string reason;
    const int issued = X509_check_issued(candidate, child);
    EVP_PKEY* key = X509_get0_pubkey(candidate);
    if (issued == X509_V_ERR_KEYUSAGE_NO_CERTSIGN) {
      reason = "son usage de clé (keyUsage) n'autorise pas la signature de certificats (keyCertSign)";
    } else if (issued == X509_V_ERR_AKID_SKID_MISMATCH || issued == X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH) {
      reason = "l'identifiant d'autorité (authorityKeyIdentifier) du certificat désigne une autre clé que la sienne";
    } else if (issued != X509_V_OK) {
      reason = X509_verify_cert_error_string(issued);
    } else if (key == nullptr || X509_verify(child, key) != 1) {
      reason =
          "la signature du certificat ne se vérifie pas avec sa clé (il a été émis par une autre clé portant ce "
          "nom)";
    } else {
      reason = "elle ne peut pas valider ce certificat";
    }
    ERR_clear_error();
    if (why.find(reason) == std::string::npos) why += (why.empty() ? "" : " ; ") + reason;
  }
  return why;
}

const VerifyError* BuiltChain::first_error(ErrorClass c) const {
  for (const auto& e : errors) {
    if (classify(e.code) == c) return &e;
  }
  return nullptr;
}

BuiltChain build_chain(X509* leaf, const BundleView& bundle, const TrustState& trust, Instant at,
                       std::chrono::seconds skew, OSSL_LIB_CTX* libctx, ChainCounters& counters) {
  BuiltChain built;
  if (is_self_signed(leaf)) {
    built.path.push_back(leaf);
    built.end = ChainEnd::SelfSignedLeaf;
    return built;
  }
  ChainResult r = verify_leaf(leaf, bundle, trust, at, skew, libctx, counters);
  built.owner = std::move(r.chain);
  built.anchored = r.anchored;
  built.top_name_trusted = r.top_name_trusted;
  built.errors = std::move(r.errors);
  if (built.owner) {
    const int n = sk_X509_num(built.owner.get());
    built.path.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) built.path.push_back(sk_X509_value(built.owner.get(), i));
  } else {
    built.path.push_back(leaf);
  }
  // Precedence (docs/reference.md §4): an untrusted root, else a missing issuer, else another error.
  built.end = built.first_error(ErrorClass::Untrusted) != nullptr    ? ChainEnd::UntrustedRoot
              : built.first_error(ErrorClass::Incomplete) != nullptr ? ChainEnd::MissingIssuer
              : built.first_error(ErrorClass::Other) != nullptr      ? ChainEnd::Invalid
              : built.anchored                                       ? ChainEnd::Anchored
                                                                     : ChainEnd::Invalid;
  return built;
}

}  // namespace raccord::rules
