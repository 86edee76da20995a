// Detached signatures of a sender account's dépôts (issue 16; docs/accounts.md "Signing a dépôt"): an account
// with `signature = obligatoire` takes `F.xml` with `F.xml.p7s`, a detached CMS SignedData (RFC 5652), DER or
// PEM, over the exact bytes of `F.xml`, by one of the certificates the operator pinned in the account's
// `signataires` file (compared by SHA-256 fingerprint). OpenSSL stays inside rules/: callers get the verdict.
//
// What is checked, in this order (the first failure is the verdict, SIGNATURE_INVALIDE):
//   1. the bytes are one CMS ContentInfo, DER or PEM ("CMS" or "PKCS7" block), of type SignedData;
//   2. exactly one SignerInfo (none: a certificates-only bundle, not a signature);
//   3. no encapsulated content, not even an empty one (an attached signature carries its own copy of the data);
//   4. its signer certificate (embedded in the signature, or one of the pinned ones) is found and its
//      SHA-256 fingerprint is one of the pinned;
//   5. the processing instant is within that certificate's validity (notBefore..notAfter, inclusive);
//   6. the signature verifies over the dépôt's bytes as they are (OpenSSL CMS_verify, CMS_BINARY |
//      CMS_DETACHED; no chain building: CMS_NO_SIGNER_CERT_VERIFY, the operator pinned the certificate, so
//      no purpose, keyUsage or issuer is checked); signed attributes, when present, verify too;
//   7. the signature was not presented before with a dépôt that was rejected (the replay key below).
// `signingTime` is never read (the sender's clock decides nothing).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/civil_date.hpp"
#include "domain/diagnostic.hpp"

namespace raccord::rules {

/// One certificate of a `signataires` file.
struct PinnedSigner {
  std::string der;                 // the certificate, DER bytes
  std::string fingerprint_sha256;  // SHA-256 of `der`, uppercase hex (64 characters)
  std::string subject;             // RFC 2253
  Instant not_before{};
  Instant not_after{};
};

/// What verify_deposit_signature needs of the pinned certificates that does not depend on the dépôt, made once
/// per configuration by parse_pinned_signers (rules/deposit_signature.cpp; private to rules/).
struct PreparedSigners;

/// The certificates an account accepts signatures from (several during a rollover).
struct PinnedSigners {
  std::filesystem::path file;  // where they were read (for messages)
  std::vector<PinnedSigner> signers;
  /// `signers` parsed once (their OpenSSL certificates, public keys and curve orders, the SHA-256 digest
  /// fetched): set by parse_pinned_signers, shared by the copies; null in a PinnedSigners built by hand, which
  /// verify_deposit_signature then prepares at each call (the same verdicts, slower).
  std::shared_ptr<const PreparedSigners> prepared;

  /// The pinned signer of that SHA-256 fingerprint (uppercase hex), or null.
  const PinnedSigner* find(std::string_view fingerprint_sha256) const;
};

/// Reads `pem` (the text of a `signataires` file): one or more "-----BEGIN CERTIFICATE-----" blocks, text
/// outside the blocks ignored (comments), each certificate once (a repeated one is kept once).
/// Errors: std::runtime_error with a French message naming `file`, when there is no certificate, when a block
/// is not a readable certificate, or when a block of another kind is present (a private key put there by
/// mistake must not stay unnoticed). An expired certificate is not an error (the caller may warn).
PinnedSigners parse_pinned_signers(std::string_view pem, const std::filesystem::path& file);

/// Reads the file `file` (regular file, symbolic links followed) and parses it as parse_pinned_signers.
/// Errors: std::runtime_error naming `file` when it cannot be read, else as parse_pinned_signers.
PinnedSigners load_pinned_signers(const std::filesystem::path& file);

/// The verdict on one detached signature.
struct SignatureCheck {
  /// Set when the signature is refused: SIGNATURE_INVALIDE, dépôt-level (empty field, line 0), with a French
  /// message saying what is wrong and what to do. Unset: the signature is accepted.
  std::optional<Diagnostic> refusal;
  /// SHA-256 fingerprint (uppercase hex) of the signer certificate, when it was found (embedded or pinned).
  std::string signer_fingerprint;
  /// Identifies the signature whatever its encoding (DER or PEM, re-encoded containers), when it holds
  /// exactly one SignerInfo: "sha256:" then the uppercase hex SHA-256 of its signature value, an ECDSA value
  /// first normalised to its low-S form when the signer's key is known (so that (r, n-s), which verifies
  /// too, is the same signature). Empty when the bytes hold no single signature. What the store keeps of
  /// the signature of a rejected dépôt (engine/store.hpp: Store::record_refused_signature).
  std::string replay_key;
  /// True when the signature verified over the dépôt's exact bytes with a pinned signer's key, whether or
  /// not it is accepted: a pinned signer outside its validity at the processing instant is refused, yet the
  /// signature is genuine and its replay key is kept with the REJETE dépôt like an accepted one's, so that the
  /// same pair dropped again once the certificate is valid is a replay (hostile16).
  bool verified = false;

  bool accepted() const { return !refusal.has_value(); }
};

/// Answers whether a replay key was recorded with a rejected dépôt (engine: Store::signature_refused).
using RejectedSignatureLookup = std::function<bool(const std::string& replay_key)>;

/// Verifies `signature` (the bytes of `<deposit_name>.p7s`) over `deposit` (the exact bytes of the dépôt)
/// against `pinned` at the processing instant `now`, in the order of this header's comment. `deposit_name`
/// (the dépôt's file name, e.g. "lot.xml") is only used in messages. `rejected_before`, when set, is asked
/// last, once everything else holds: true refuses the signature as a replay.
/// Never throws for any bytes (an empty or garbage signature is a refusal); OpenSSL's error queue is left
/// empty.
SignatureCheck verify_deposit_signature(std::string_view deposit, std::string_view signature,
                                        const PinnedSigners& pinned, Instant now, std::string_view deposit_name,
                                        const RejectedSignatureLookup& rejected_before = {});

/// A `.p7s` larger than this is refused before any parsing: a detached signature with its certificate is a
/// few kilobytes; a sender's mistake (the dépôt itself renamed .p7s) must not be parsed as ASN.1.
inline constexpr std::uint64_t kMaxSignatureBytes = std::uint64_t{1024} * 1024;

/// The refusal of a `.p7s` of `size` bytes, more than kMaxSignatureBytes, for dépôt `deposit_name`, as
/// verify_deposit_signature gives it: for callers that measure the file and never load such a one.
SignatureCheck oversized_signature(std::uint64_t size, std::string_view deposit_name);

}  // namespace raccord::rules
