// What one X.509 certificate says, read with OpenSSL 3 (subject, issuer, serial, dates, key, purposes,
// extensions): the facts stored for each certificate of a sheet (domain/certificate.hpp) and the
// questions the certificate rules ask (RFC 5280; docs/reference.md §3.3 "Certificates"). Private to rules/;
// read_certificate_facts, the public entry, is declared in rules/certificates.hpp.
// None of these functions throws; OpenSSL's error queue is left empty.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "domain/certificate.hpp"
#include "rules/openssl_ptr.hpp"

namespace raccord::rules {

/// The certificate DER `der` holds, or null when it is not exactly one certificate (bytes after it
/// included).
X509Ptr parse_x509(std::string_view der);

/// Calls `block(name, der)` for each PEM block of `pem` in order (`name`: the word after "BEGIN", e.g.
/// "CERTIFICATE", "X509 CRL"; `der`: its decoded bytes, valid during the call), read by OpenSSL's
/// PEM_read_bio (RFC 7468 framing; text around the blocks ignored). Returns nullopt when the text ends
/// after the last block (no BEGIN line further), else OpenSSL's reason for the block that cannot be read
/// (bad base64, no END line), after the blocks before it were given. An exception of `block` propagates.
std::optional<std::string> for_each_pem_block(std::string_view pem,
                                              const std::function<void(std::string_view, std::string_view)>& block);

/// One DER element (X.690 §8.1): its tag, where it starts, the size of its header and of its content.
struct Tlv {
  unsigned char tag = 0;
  std::size_t start = 0;
  std::size_t header = 0;
  std::size_t length = 0;
  std::size_t content() const { return start + header; }
  std::size_t end() const { return start + header + length; }
};

/// The element at byte `pos` of `der`, ending at or before byte `limit`; nullopt for a multi-byte tag, an
/// indefinite length (BER), a length of more than 4 bytes, or an element running past `limit`.
std::optional<Tlv> read_tlv(std::string_view der, std::size_t pos, std::size_t limit);

/// The DER header (tag, then the definite length in its shortest form) of an element of `tag` whose
/// content is `length` bytes.
std::string der_header(unsigned char tag, std::size_t length);

/// The DER encoding of `x`, or empty when OpenSSL cannot encode it.
std::string der_of(X509* x);

/// `name` as RFC 2253 text (UTF-8 kept as it is), e.g. "CN=Raccord Test Root CA".
std::string name_text(const X509_NAME* name);

/// The first commonName of `name` in UTF-8, or empty.
std::string common_name(const X509_NAME* name);

/// The serial number in uppercase hex, or empty when unreadable.
std::string serial_hex(const X509* x);

/// The SHA-256 fingerprint of `x`'s DER in uppercase hex (64 characters), or empty.
std::string fingerprint(const X509* x);

/// An ASN.1 time as a UTC instant; the epoch when `t` is null or unreadable.
std::chrono::sys_seconds to_sys(const ASN1_TIME* t);
inline std::chrono::sys_seconds not_before(X509* x) {
  return to_sys(X509_get0_notBefore(x));
}
inline std::chrono::sys_seconds not_after(X509* x) {
  return to_sys(X509_get0_notAfter(x));
}

/// basicConstraints CA:TRUE (as OpenSSL's extension flags read it).
bool is_ca(X509* x);
/// Has an extendedKeyUsage extension.
bool has_eku(X509* x);
/// Issued by itself and its signature verifies with its own key.
bool is_self_signed(X509* x);
/// Subject and issuer names match (and the key identifiers, when both are present), signature not
/// checked: enough to recognise a trust anchor at the top of a verified chain, whose self-signature
/// OpenSSL does not check either (issue 7: checking it cost one signature verification per sheet).
bool is_self_issued(X509* x);
/// Purpose checks as TLS does them (EKU, keyUsage, Netscape type; no EKU means any purpose;
/// docs/field-cases.md F23).
bool usable_for_client(X509* x);
bool usable_for_server(X509* x);
/// Carries a name or policy constraint extension (nameConstraints, policyConstraints,
/// inhibitAnyPolicy, policyMappings): what makes a CA's verdict depend on the leaf below it.
bool has_constraints(X509* x);

/// Every fact of `x` (bundle_index left at 0).
CertificateFacts facts_of(X509* x);

/// How a French message names a certificate: « CN=… » (n° de série …), the whole subject when it
/// has no commonName.
std::string describe(X509* x);

}  // namespace raccord::rules
