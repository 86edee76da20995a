// Revocation from CRL files (docs/revocation.md; RFC 5280 §5 and §6.3): the CRLs of
// certificates.crl_dir, and the status of one certificate at a business instant — good, revoked or
// unknown, never confused. No network access happens here (`raccord trust refresh` fetches CRLs).
//
// Rules (docs/revocation.md "Les trois réponses"):
//  - revoked: the certificate's serial is listed (any reason except removeFromCRL) in a CRL whose issuer
//    name is the certificate's issuer and whose signature verifies with that issuer's key, whatever the
//    CRL's dates, a delta CRL or a CRL with an issuing distribution point included;
//  - good: not revoked, and a verified CRL of the issuer is current at the instant (thisUpdate <= instant +
//    clock_skew_s, instant <= nextUpdate + crl_grace_h, instant - thisUpdate <= crl_max_age_days) and can
//    prove good (a complete CRL: no deltaCRLIndicator, no issuingDistributionPoint, no unknown critical
//    extension);
//  - unknown: otherwise.
// A CRL is used only once its signature verifies with the key of the issuer certificate the caller gives
// (a trust anchor, or an intermediate of the bundle being checked): the verification is lazy, done once per
// (CRL, issuer key) and cached, so that a check costs about a hash lookup and a binary search per CRL.
#pragma once

#include <openssl/types.h>  // X509, X509_CRL (declarations only)

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/civil_date.hpp"

namespace raccord::rules {

/// certificates.revocation (docs/revocation.md): `aucune` (not checked), `souple` (revoked blocks with
/// CERT_REVOQUE, unknown is the warning CERT_REVOCATION_INCONNUE), `stricte` (unknown blocks too).
enum class RevocationMode { Aucune, Souple, Stricte };

/// "aucune", "souple", "stricte" (exact, lowercase) → the mode; nullopt otherwise.
std::optional<RevocationMode> parse_revocation_mode(std::string_view text);
std::string_view to_string(RevocationMode mode);

/// Freshness settings of CRLs (certificates.clock_skew_s, crl_max_age_days, crl_grace_h).
struct CrlSettings {
  int clock_skew_s = 300;
  int max_age_days = 10;
  int grace_h = 24;
};

/// Larger CRL files are skipped and logged (docs/revocation.md), and `trust refresh` downloads no more.
inline constexpr std::uintmax_t kMaxCrlBytes = 50ULL * 1024 * 1024;

/// What one loaded CRL says about itself (nothing here depends on its signature).
struct CrlInfo {
  std::filesystem::path file;  // the file it was read from (empty for a downloaded one)
  std::string issuer;          // RFC 2253, UTF-8
  Instant this_update{};
  std::optional<Instant> next_update;  // absent: only crl_max_age_days bounds its use
  std::string crl_number;              // cRLNumber in decimal; "" when absent
  bool delta = false;                  // deltaCRLIndicator present
  bool issuing_distribution_point = false;
  bool unknown_critical_extension = false;  // a critical CRL or entry extension no reader here knows
  std::size_t entries = 0;
};

/// True when `crl` is current at `at` under `settings` (thisUpdate <= at + clock_skew_s; at <= nextUpdate +
/// grace_h when it has a nextUpdate; at - thisUpdate <= max_age_days).
bool is_current(const CrlInfo& crl, Instant at, const CrlSettings& settings);

/// True when `crl` may prove a certificate good: a complete CRL (not a delta, no issuing distribution point,
/// no unknown critical extension).
bool can_prove_good(const CrlInfo& crl);

/// True when `a` is newer than `b`: a later thisUpdate, or the same thisUpdate and a greater CRL Number
/// (a CRL with a number beats one without).
bool is_newer(const CrlInfo& a, const CrlInfo& b);

enum class RevocationStatus { Good, Revoked, Unknown };

/// Why a status is unknown (RevocationStatus::Unknown only).
enum class UnknownCause {
  None,             // the status is known
  NoCrl,            // no CRL names the certificate's issuer
  BadSignature,     // CRLs name the issuer but none verifies with its key (they are never used)
  Stale,            // verified complete CRLs, none current: too old, past nextUpdate + grace, or not yet issued
  CannotProveGood,  // verified CRLs, but only deltas, CRLs with an issuing distribution point or with an
                    // unknown critical extension
};

/// The answer for one certificate, with what the messages name.
struct RevocationAnswer {
  RevocationStatus status = RevocationStatus::Unknown;
  UnknownCause cause = UnknownCause::NoCrl;
  /// Revoked: the (newest) CRL listing the certificate; Good: the newest current complete CRL; Unknown: the
  /// newest verified CRL of the issuer when there is one, else the newest CRL naming it; none for NoCrl.
  std::optional<CrlInfo> crl;
  std::optional<Instant> revocation_date;  // Revoked
  std::optional<int> reason_code;          // Revoked, when the entry carries a CRLReason (RFC 5280 §5.3.1)
};

/// The French label of a CRLReason code, e.g. 1 → "compromission de la clé"; "motif inconnu (N)" otherwise.
std::string reason_label(int code);

/// A French sentence on the CRL side of `answer` at `at`, for messages and `trust audit`, e.g.
/// "révoqué le 01/06/2025 (compromission de la clé) d'après la CRL de « CN=… » émise le 01/01/2026 00:00 UTC
/// (prochaine mise à jour le 08/01/2026 00:00 UTC)", or for unknown "aucune CRL de l'autorité « CN=… » dans
/// le répertoire des CRL". `issuer` is the issuer's RFC 2253 name (used when answer.crl is empty).
std::string describe(const RevocationAnswer& answer, std::string_view issuer, Instant at, const CrlSettings& settings);

/// "01/01/2026 00:00 UTC".
std::string format_crl_instant(Instant instant);

/// The CRLs of certificates.crl_dir. Immutable once loaded, except its cache of signature verifications:
/// every method may run concurrently from several threads. A reload builds a new store (load()) that the
/// owner swaps in (a std::shared_ptr<const CrlStore>): checks already running keep the store they started
/// with.
class CrlStore {
 public:
  /// An empty store: every status is unknown (NoCrl).
  CrlStore();
  ~CrlStore();
  CrlStore(const CrlStore&) = delete;
  CrlStore& operator=(const CrlStore&) = delete;

  /// Loads every regular, non-hidden file of `dir` (symbolic links followed, sorted by name), each PEM (every
  /// "X509 CRL" block; other blocks are logged and ignored) or DER (one or several CRLs one after the
  /// other). A file over kMaxCrlBytes is skipped; a file that cannot be read or holds anything that is not
  /// a CRL is skipped whole. `log` receives one French line per skipped file and one per file loaded; a
  /// missing directory is a line too, never an error. The signatures are verified later, per issuer.
  /// A CRL is held in about its own size: its entries stay in its DER, indexed by serial (not decoded one
  /// by one into OpenSSL objects, ten allocations each), except the rare CRLs described in docs/design.md
  /// ("Reading a CRL") which OpenSSL reads whole.
  static std::shared_ptr<const CrlStore> load(const std::filesystem::path& dir, std::vector<std::string>& log);

  /// Adds the CRLs of `bytes` (PEM or DER, as in a file) read from `file`. Returns false and sets `why`
  /// (French) when no CRL, or a part that is not a CRL, was found (nothing is added then); on success `why`
  /// names the PEM blocks ignored, if any. For load() and tests; not while other threads use the store.
  bool add(std::string_view bytes, const std::filesystem::path& file, std::string& why);

  /// The status of `cert` whose issuer certificate is `issuer` (the next certificate of its chain), at `at`
  /// (the business instant). The CRLs considered are those whose issuer name is the certificate's issuer
  /// name; each is used only when its signature verifies with `issuer`'s key and `issuer`'s subject is that
  /// name. See the rules at the top of this header.
  RevocationAnswer status(const X509* cert, const X509* issuer, Instant at, const CrlSettings& settings) const;

  /// True when a verified, current, complete CRL of `issuer` exists at `at` (the certificates it issued can
  /// be proved good): `trust audit`'s "authority without a current CRL" is the negation.
  bool has_current_crl(const X509* issuer, Instant at, const CrlSettings& settings) const;

  /// The newest (is_newer) verified complete CRL of `issuer`: the one `trust refresh` must beat.
  std::optional<CrlInfo> newest_complete_crl(const X509* issuer) const;

  /// metrics.prom's CRL ages (docs/reference.md §5.4, docs/design.md "CRL ages"). For each certificate of
  /// `known_issuers` (the trust store's and the authorities proved by checks; repeats ignored), the newest
  /// (is_newer) CRL bearing its subject as issuer name (X509_NAME_cmp, whatever the text encoding) that can prove
  /// good (can_prove_good) and whose signature verifies with that certificate's key — among those in force at
  /// `at` (thisUpdate <= at + settings.clock_skew_s) when one verifies, else among the others. One entry per
  /// issuer subject (RFC 2253 text): when several keys bear one name (a CA renewed with a new key), the entry
  /// of the key whose CRL is the oldest, the one an alert must see; a certificate expired at `at` (notAfter)
  /// counts for nothing (an old certificate left beside its successor). Sorted by subject (byte order). Keys a check
  /// gave status() do not count (a sender chooses them); a certificate without any such CRL gives no entry; the
  /// dates are not judged otherwise (a stale CRL is listed: its age tells). Verifies each CRL at most once per
  /// key (cached, shared with status()), newest first, stopping at the first that verifies. Throws
  /// std::bad_alloc only.
  struct IssuerCrl {
    std::string issuer;  // the known certificate's subject, RFC 2253 (UTF-8)
    CrlInfo crl;
  };
  std::vector<IssuerCrl> newest_verified_crls(const std::vector<const X509*>& known_issuers, Instant at,
                                              const CrlSettings& settings) const;

  /// Number of CRLs loaded, and what CRL `index` says about itself (load order).
  std::size_t size() const;
  const CrlInfo& info(std::size_t index) const;

  /// True when CRL `index` names `issuer` (its subject) as its issuer and its signature verifies with
  /// `issuer`'s key (cached).
  bool verifies(std::size_t index, const X509* issuer) const;

  /// Set-based pre-filter (the nightly run): true when some CRL, verified or not, lists serial `serial_hex`
  /// (uppercase hex, CertificateFacts::serial) under issuer `issuer_rfc2253` (CertificateFacts::issuer),
  /// removeFromCRL entries excepted. A hash lookup (the set is built once, at the first call); a true answer
  /// still needs status() with the issuer certificate to become "revoked".
  bool listed(std::string_view issuer_rfc2253, std::string_view serial_hex) const;

  /// Calls `on_entry(issuer_rfc2253, serial_hex)` for every entry of every CRL (removeFromCRL excepted), for
  /// a join with stored certificate facts.
  void for_each_entry(const std::function<void(std::string_view, std::string_view)>& on_entry) const;

  /// Lines worth logging found since the last call (a CRL whose signature does not verify with the key of
  /// the issuer certificate given, once per CRL and key), then forgets them.
  std::vector<std::string> take_log() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A CRL fetched by `trust refresh`, judged against the issuer certificate whose distribution point named it.
struct FetchedCrl {
  bool accepted = false;
  std::string why;  // French, when not accepted
  CrlInfo info;     // when it could be decoded
  std::string pem;  // accepted: the CRL as PEM text, ready to be written
};

/// Decodes `bytes` (exactly one CRL, DER or PEM) and accepts it only when its issuer name is `issuer`'s
/// subject, its signature verifies with `issuer`'s key and it is not a delta CRL (written as the issuer's
/// file, a delta would replace the complete CRL). Whether it is newer than the one in use is the caller's
/// question (CrlStore::newest_complete_crl, is_newer).
FetchedCrl judge_fetched_crl(std::string_view bytes, const X509* issuer);

/// The file name `trust refresh` writes the CRL of `issuer` to: "<issuer hash>.crl", the issuer hash being
/// OpenSSL's subject name hash of `issuer` (8 lowercase hex digits, as `openssl x509 -hash`).
std::string crl_file_name(const X509* issuer);

}  // namespace raccord::rules
