// Certificate rules (docs/reference.md §3.3 "Certificates", §4 CERT_*): PKCS#7 decoding and chain checks
// with OpenSSL (kept private to rules/). Times are UTC instants. The only public header of these
// rules; the code is split by concern (docs/design.md "The certificate rules"): decode_bundle is
// defined in bundle_decoding.cpp, read_certificate_facts in certificate_facts.cpp, the checker in
// certificates.cpp over chain_building.cpp and trust_store.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/certificate.hpp"
#include "domain/civil_date.hpp"
#include "domain/deposit.hpp"
#include "rules/crl_store.hpp"

namespace raccord::rules {

/// One line of a trust store (re)load, for the log (issue 18: a normal start is not a warning).
/// `problem`: the operator has something to fix (directory absent, unreadable or empty, a file
/// without any certificate), logged as a warning; otherwise information (each file's count of
/// certificates), logged at info level.
struct TrustStoreNote {
  bool problem = false;
  std::string text;
};

struct CertificatePolicy {
  std::filesystem::path trust_dir;  // PEM files, several certificates each; the only anchors
  int min_rsa_bits = 2048;
  int expiry_warning_days = 30;
  int clock_skew_s = 300;
  /// Revocation (docs/revocation.md; RFC 5280 §6.3): the CRL files of certificates.crl_dir, read with the
  /// trust store, and the mode. `Aucune` here (nothing is read): the engine passes
  /// certificates.revocation, whose default is `souple`.
  std::filesystem::path crl_dir;
  RevocationMode revocation = RevocationMode::Aucune;
  int crl_max_age_days = 10;  // certificates.crl_max_age_days
  int crl_grace_h = 24;       // certificates.crl_grace_h

  /// The freshness settings of CRLs (clock_skew_s, crl_max_age_days, crl_grace_h).
  CrlSettings crl_settings() const { return CrlSettings{clock_skew_s, crl_max_age_days, crl_grace_h}; }
};

/// One certificate of a built chain, as shown by `raccord cert` (docs/reference.md §7).
struct ChainLink {
  std::string subject;             // RFC 2253
  std::string serial;              // uppercase hex
  std::string fingerprint_sha256;  // uppercase hex, 64 chars
  bool from_trust_store = false;   // found in certificates.trust_dir (an anchor or a configured intermediate)
};

/// How the chain of a leaf ends (docs/reference.md §4 precedence).
enum class ChainEnd {
  Anchored,        // reaches a trust anchor of certificates.trust_dir
  SelfSignedLeaf,  // CERT_AUTOSIGNE
  UntrustedRoot,   // reaches a self-signed certificate that is not an anchor (CERT_AUTORITE_NON_RECONNUE)
  MissingIssuer,   // an issuer is in neither the bundle nor the trust store (CERT_CHAINE_INCOMPLETE)
  Invalid,         // another verification error (bad signature, issuer not a CA...)
};

/// The chain built for one leaf (leaf first; the anchor last when end == Anchored).
struct LeafChain {
  int bundle_index = 0;  // 1-based Certificat element
  std::vector<ChainLink> links;
  ChainEnd end = ChainEnd::Anchored;
  std::string missing_issuer;  // RFC 2253 DN of the missing issuer when end == MissingIssuer
};

/// What the checks found for one sheet: the diagnostics (errors and warnings) and the facts of
/// every certificate read from the sheet's bundles (for storage), with bundle_index set.
struct CertificateReport {
  Diagnostics diagnostics;
  std::vector<CertificateFacts> certificates;
  std::vector<LeafChain> chains;  // one per leaf, only when check() is asked for them (with_chains)
};

/// Counters of the CA cache (issue 3): how many leaves needed a full chain verification by OpenSSL,
/// and how many were verified against an authority already proved in this process.
struct CertificateCacheStats {
  std::uint64_t full_verifications = 0;          // X509_verify_cert over the whole chain (the CA chain included)
  std::uint64_t cached_verifications = 0;        // leaf-only verification against a proved authority
  std::size_t proved_authorities = 0;            // CA certificates in the cache now
  std::uint64_t reused_authority_decodings = 0;  // CA certificates of a bundle taken already decoded
};

/// A CA certificate of a chain proved to a trust anchor (CertificateChecker::proved_authorities), as the engine
/// records it for metrics.prom's CRL ages (docs/reference.md §5.4).
struct RecordedAuthority {
  std::string fingerprint;         // SHA-256 of the certificate's DER, uppercase hex (64 characters)
  std::string pem;                 // the certificate, "-----BEGIN CERTIFICATE-----" PEM
  std::string anchor_fingerprint;  // SHA-256 of the trust anchor the proved chain ended at, uppercase hex
};

/// Decodes the text of a <Certificat> element into DER certificates: base64 of a PKCS#7 (DER or PEM
/// bytes) with spaces/tabs/CR/LF ignored, or PEM text starting with "-----BEGIN". Returns false and
/// sets `why` (French) when it is not a PKCS#7 bundle with at least one certificate, is bare
/// certificates, or holds a private key.
/// Format detected from the bytes, never from a file name (docs/field-cases.md F19). The message never
/// quotes the content (a private key sent by mistake is never echoed).
bool decode_bundle(std::string_view content, std::vector<std::string>& der_certificates, std::string& why);

/// The same; in addition, when the content is refused because it is bare certificates (PEM CERTIFICATE
/// blocks, or one DER certificate, without PKCS#7 and without any private key), `bare_certificates`
/// (if not null) receives their DER bytes so that they can still be inspected (`raccord cert`).
bool decode_bundle(std::string_view content, std::vector<std::string>& der_certificates, std::string& why,
                   std::vector<std::string>* bare_certificates);

/// Facts of one DER X.509 certificate (bundle_index left at 0). Returns false when `der` is not a
/// certificate.
bool read_certificate_facts(std::string_view der, CertificateFacts& facts);

/// Thread-safe: check() may run concurrently from several threads; reload_trust_store() swaps the
/// store atomically (checks already running keep the store they started with).
///
/// CA cache (issue 3): once a leaf's chain [leaf, CA, ..., anchor] verified without any error above the
/// leaf, the CA (keyed by its SHA-256 fingerprint) is "proved" for the life of the trust store: the next
/// leaf whose issuer is that CA is verified alone against a store holding only the CA
/// (X509_V_FLAG_PARTIAL_CHAIN), and the proved upper chain is appended. The cache is used only when the
/// chain is unambiguous for the sheet's bundle (each issuer name matches exactly the cached certificate
/// in the bundle and the trust store: no choice among candidates), when the chain carries no name or policy
/// constraints, and when the leaf-only verification ends at that CA; otherwise the full verification
/// runs. The verdict is thus identical to the uncached one (validity, key and signature rules are ours
/// and run on every certificate of the chain at every check). reload_trust_store() empties the cache.
class CertificateChecker {
 public:
  /// How the constructor reads the CRLs of policy.crl_dir.
  enum class CrlLoading {
    Now,         // before it returns, with the trust store (reload_trust_store); their lines in trust_store_log()
    Background,  // on a thread of their own, started by the constructor (issue 17, figure 8: the engine's
                 // start and the reading of the first dépôts overlap them); every check, crls() and
                 // reload_crls() waits for them whole, so that no check ever sees a store half loaded
  };
  /// Receives the lines of a background CRL load (as reload_crls' `log`), on the loading thread, once, before
  /// any check can use the CRLs.
  using CrlNotesSink = std::function<void(std::vector<TrustStoreNote>)>;

  /// Loads the trust store from policy.trust_dir at once (see reload_trust_store; the log lines are
  /// kept, see trust_store_log()), and the CRLs as `loading` says: with CrlLoading::Background their lines go
  /// to `on_crl_notes` (when set), not to trust_store_log(). Throws what reload_trust_store throws.
  explicit CertificateChecker(CertificatePolicy policy, CrlLoading loading = CrlLoading::Now,
                              CrlNotesSink on_crl_notes = {});
  ~CertificateChecker();
  CertificateChecker(const CertificateChecker&) = delete;
  CertificateChecker& operator=(const CertificateChecker&) = delete;

  /// (Re)loads the trust store from policy.trust_dir, and the CRLs (reload_crls). A missing or empty
  /// directory is not an error (returns the number of anchors loaded; `log` receives lines worth logging,
  /// each with its level: TrustStoreNote). Every regular, non-hidden file of the directory is read as PEM
  /// holding one or several certificates (docs/toolchain.md #12); a file without certificates is logged and
  /// skipped. Throws std::system_error when the directory or one of its files is there but cannot be read
  /// (the store before the call is kept); the constructor throws it too (load_trust_store).
  int reload_trust_store(std::vector<TrustStoreNote>& log);

  /// (Re)loads the CRLs of policy.crl_dir (CrlStore::load; nothing when the mode is `Aucune` or the
  /// directory is unset) and swaps them in: checks already running keep the CRLs they started with.
  /// Returns the number of CRLs loaded; `log` receives one line per file loaded or skipped (a problem:
  /// a file skipped, the directory absent, unreadable or without CRLs). Signatures are verified later, per
  /// issuer key (CrlStore::take_log has the CRLs that did not verify).
  /// The trust store's reload (SIGHUP) and the daemon's watch on crl_dir (docs/revocation.md) call it;
  /// throws only what allocation throws (the CRLs in use are then kept).
  std::size_t reload_crls(std::vector<TrustStoreNote>& log);

  /// The CRLs in use (never null; empty when none were loaded). Waits for a background load still running
  /// (CrlLoading::Background) and rethrows what it threw (allocation only).
  std::shared_ptr<const CrlStore> crls() const;

  /// metrics.prom's CRL ages (docs/reference.md §5.4): CrlStore::newest_verified_crls of the CRLs in use at `at`
  /// (the business instant) under the policy's CRL settings, with as known issuers the certificates of the trust
  /// store in use (anchors and the intermediates installed beside them), those of the authorities this checker's
  /// checks proved since the trust store was loaded (the CA cache above: kept across reload_crls, emptied by
  /// reload_trust_store), and `recorded`: authorities proved earlier, by any process (the engine keeps them in
  /// its store), each counted only while the anchor its chain ended at is in the trust store in use (a PEM
  /// that does not decode is ignored). Empty when no CRL is loaded (revocation not checked, or none). Waits
  /// for a background CRL load as crls() does; throws std::bad_alloc only.
  std::vector<CrlStore::IssuerCrl> newest_verified_crls(Instant at,
                                                        const std::vector<RecordedAuthority>& recorded = {}) const;

  /// The CA certificates of the chains this checker proved since the trust store was loaded (the CA cache: each
  /// certificate of a proved chain but its anchor, once), for the engine to record (newest_verified_crls'
  /// `recorded`). Throws std::bad_alloc only.
  std::vector<RecordedAuthority> proved_authorities() const;

  /// Log lines of the last (re)load of the trust store, and its number of certificates.
  std::vector<TrustStoreNote> trust_store_log() const;
  int trust_anchor_count() const;

  /// All certificate rules of one sheet at instant `at`: CERT_ABSENT, CERT_NOMBRE (SFTP and API:
  /// exactly 1 Certificat; PESIT and AS2: 1 or 2; `protocol` nullopt for API), CERT_FORMAT,
  /// CERT_EXPIRE / CERT_PAS_ENCORE_VALIDE (every certificate of a leaf's chain, notBefore tolerated up
  /// to clock_skew_s ahead), and the chain family of docs/reference.md §4. Fields "Certificats/Certificat[N]".
  /// The chain of a leaf is chosen among every issuer candidate of the bundle and the trust store, the
  /// same whatever the order of the bundle's certificates (RFC 4158): a path to a trust
  /// anchor if one exists (signatures that verify first, then certificates within their dates), else one
  /// ending at an untrusted self-signed certificate, else one missing an issuer (docs/design.md, "Chain
  /// building").
  /// Precedence per leaf (leaves = the bundle's non-CA certificates): CERT_AUTOSIGNE, else
  /// CERT_AUTORITE_NON_RECONNUE, else CERT_CHAINE_INCOMPLETE (naming the missing issuer DN); plus
  /// CERT_USAGE (leaves of all bundles together), CERT_CLE_FAIBLE, CERT_SIGNATURE_FAIBLE (the
  /// anchor's self-signature excepted), warnings CERT_EXPIRE_BIENTOT and CERT_SANS_EKU (leaves).
  /// EDI sheet with a readable Periode/@du: CERT_EXPIRE_AVANT_PERIODE when a leaf ends before du
  /// (00:00 UTC), and CERT_EXPIRE_BIENTOT is counted from the later of `at` and du (docs/reference.md §4; the engine
  /// makes it a warning for `enregistrer`, like every rule).
  /// Revocation (policy.revocation not `Aucune`; chains ending at a trust anchor): every certificate of
  /// the leaf's chain but the anchor gets its status from the CRLs (CrlStore::status with the certificate
  /// that issued it): revoked → CERT_REVOQUE; unknown → CERT_REVOCATION_INCONNUE, an error under
  /// `Stricte`, a warning under `Souple`. The messages name the certificate (subject, serial), the CRL
  /// (issuer, thisUpdate, nextUpdate) and what to do.
  /// The verdict does not depend on the system OpenSSL security level (docs/field-cases.md F25).
  /// Diagnostics are on field "Certificats/Certificat[N]" with the line of that element, or on
  /// "Certificats" (CERT_ABSENT without any element, CERT_NOMBRE, CERT_USAGE across several bundles).
  /// With `with_chains`, report.chains gets the chain built for each leaf (for `raccord cert`).
  /// Safe from several threads at once (issue 7): each check decodes in an OpenSSL library context
  /// of its own (OpenSSL 3.0's decoders contend on their context's locks), where the authority
  /// certificates of earlier bundles are kept decoded (a bundle's CA is not decoded again; the
  /// certificates are the ones d2i_PKCS7 gives, which reads every bundle the fast path declines).
  CertificateReport check(const SheetOperation& sheet, std::optional<Protocol> protocol, Instant at,
                          bool with_chains = false) const;

  /// Counters of the CA cache since construction (or the last clear_cache()).
  CertificateCacheStats cache_stats() const;
  /// Forgets every proved authority and every authority certificate kept decoded, and zeroes the
  /// counters (the trust store stays). For benchmarks and tests; reload_trust_store() also empties
  /// the cache of proved authorities. Not to be called while a check runs on another thread.
  void clear_cache();

  const CertificatePolicy& policy() const { return policy_; }

 private:
  CertificatePolicy policy_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raccord::rules
