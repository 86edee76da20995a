// Facts of one X.509 certificate, as stored with a sheet (docs/design.md "The store") and used by the nightly run.
#pragma once

#include <chrono>
#include <string>

namespace raccord {

struct CertificateFacts {
  std::string subject;                    // RFC 2253 one-line form, UTF-8
  std::string subject_cn;                 // commonName, may be empty
  std::string issuer;                     // RFC 2253 one-line form
  std::string serial;                     // uppercase hex, no separators
  std::chrono::sys_seconds not_before{};  // UTC
  std::chrono::sys_seconds not_after{};   // UTC
  std::string fingerprint_sha256;         // uppercase hex, no separators (64 chars)
  bool is_ca = false;                     // basicConstraints CA:TRUE
  bool self_signed = false;               // subject == issuer and the signature verifies with its own key
  bool has_eku = false;                   // extendedKeyUsage present
  bool client_auth = false;               // usable for TLS client auth (EKU clientAuth, or no EKU)
  bool server_auth = false;               // usable for TLS server auth (EKU serverAuth, or no EKU)
  std::string key_type;                   // "RSA", "EC", "ED25519", ...
  int key_bits = 0;
  std::string signature_algorithm;  // OpenSSL long name, e.g. "sha256WithRSAEncryption"
  int bundle_index = 0;             // 1-based index of the Certificat element it came from
};

}  // namespace raccord
