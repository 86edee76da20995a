// The trust store as an inventory, for `raccord trust audit` and `raccord trust refresh` (docs/revocation.md):
// the certificates of certificates.trust_dir, the chains of stored bundles verified to a trust anchor, the
// authorities (issuers) of those chains with the CRL distribution points that name their CRLs, and the
// judgement of CRLs against those authorities' keys. OpenSSL stays inside rules/: callers get summaries and
// authority indexes.
//
// A chain "verifies to a trust anchor" when every signature from the leaf up to a self-signed certificate of
// trust_dir verifies and each issuer is a CA (OpenSSL's path validation with the dates ignored): only then
// may its CRL distribution points be fetched (a sender must not be able to make the engine fetch a URL of
// its choosing, e.g. http://169.254.169.254/… in a self-signed certificate saved in a draft).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/civil_date.hpp"
#include "rules/crl_store.hpp"

namespace raccord::rules {

/// What `trust audit` shows of one certificate.
struct CertificateSummary {
  std::string subject;             // RFC 2253
  std::string issuer;              // RFC 2253
  std::string serial;              // uppercase hex (CertificateFacts::serial)
  std::string fingerprint_sha256;  // uppercase hex, 64 characters
  Instant not_before{};
  Instant not_after{};
  bool self_signed = false;  // issuer name = subject and its own key verifies its signature
  bool ca = false;           // basicConstraints CA:TRUE
};

/// An authority: the issuer of a certificate of a verified chain, or a trust anchor.
struct AuthoritySummary {
  CertificateSummary certificate;
  bool anchor = false;                // a self-signed certificate of trust_dir
  std::vector<std::string> crl_urls;  // URIs of the crlDistributionPoints (fullName) of the certificates it
                                      // issued in verified chains (an anchor's own too): its CRL; first seen
                                      // first, each once; any scheme (the caller filters)
  std::size_t live_chains = 0;        // verified chains of live bundles in which it issues a certificate
};

/// One certificate of a verified chain found revoked (`trust audit`).
struct RevokedLink {
  CertificateSummary certificate;
  std::string issuer;  // the issuer's subject
  RevocationAnswer answer;
};

/// The chain of one leaf of a bundle.
struct LeafFinding {
  CertificateSummary leaf;
  bool verified = false;             // its chain verifies to a trust anchor
  std::string why_not;               // French, when not verified
  std::vector<RevokedLink> revoked;  // certificates of the verified chain (the anchor excepted) found revoked
};

/// What `trust audit` says of one CRL of the store.
enum class CrlVerdict {
  Verified,       // its signature verifies with a known certificate bearing its issuer's name
  BadSignature,   // known certificates bear its issuer's name, none verifies it
  UnknownIssuer,  // no known certificate (trust_dir, authorities of the chains added) bears that name
};

class TrustInventory {
 public:
  /// Reads every regular, non-hidden file of `trust_dir` as PEM (several certificates each; symbolic links
  /// followed), like the certificate checks. The self-signed ones are the anchors (authorities with their own
  /// distribution points); the others verifying to an anchor are authorities too, their distribution points
  /// counted under their issuer. `log` receives one French line per file skipped or missing directory.
  TrustInventory(const std::filesystem::path& trust_dir, std::vector<std::string>& log);
  ~TrustInventory();
  TrustInventory(const TrustInventory&) = delete;
  TrustInventory& operator=(const TrustInventory&) = delete;

  /// Every certificate of trust_dir (file order, then order in the file), duplicates once.
  const std::vector<CertificateSummary>& trust_certificates() const;

  /// Adds the chains of the leaves (non-CA certificates) of one bundle, `content` being a <Certificat> text as
  /// stored (decode_bundle). Each leaf's chain is built from the bundle's certificates and trust_dir and
  /// verified to an anchor (dates ignored). For each verified chain, every issuer becomes an authority (its
  /// live_chains counted when `live`) and the distribution points of the certificate it issued are added to
  /// it; when `crls` is not null, each certificate of the chain but the anchor is checked against it at
  /// `at` and the revoked ones are returned. A bundle that cannot be decoded gives no leaf and sets `why`.
  std::vector<LeafFinding> add_bundle(std::string_view content, bool live, const CrlStore* crls, Instant at,
                                      const CrlSettings& settings, std::string* why = nullptr);

  /// The authorities found so far: the anchors first (trust_dir order), then the others as first met.
  /// Indexes are stable (add_bundle only appends).
  const std::vector<AuthoritySummary>& authorities() const;

  /// True when `crls` holds a verified, current, complete CRL of authority `index` at `at`.
  bool has_current_crl(std::size_t index, const CrlStore& crls, Instant at, const CrlSettings& settings) const;

  /// The newest verified complete CRL of authority `index` in `crls` (what `trust refresh` must beat).
  std::optional<CrlInfo> newest_complete_crl(std::size_t index, const CrlStore& crls) const;

  /// judge_fetched_crl against authority `index`.
  FetchedCrl judge_fetched_crl(std::size_t index, std::string_view bytes) const;

  /// crl_file_name of authority `index`: "<issuer hash>.crl".
  std::string crl_file_name(std::size_t index) const;

  /// Whether CRL `crl_index` of `crls` verifies with a known certificate bearing its issuer's name: the
  /// certificates of trust_dir and the authorities found so far.
  CrlVerdict crl_verdict(const CrlStore& crls, std::size_t crl_index) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raccord::rules
