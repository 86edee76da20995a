// Bundle decoding (docs/reference.md §3.3, §4 CERT_FORMAT; docs/toolchain.md #12, #14; docs/field-cases.md F19) with
// OpenSSL 3.
#include "rules/bundle_decoding.hpp"

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "rules/certificate_facts.hpp"
#include "rules/certificates.hpp"
#include "rules/decoding_provider.hpp"

namespace raccord::rules {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// True when every byte after `used` is padding a tool may leave (NUL or whitespace).
bool only_padding_after(std::string_view bytes, std::size_t used) {
  for (std::size_t i = used; i < bytes.size(); ++i) {
    if (bytes[i] != '\0' && !is_space(bytes[i])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Messages.

constexpr const char* kBundleHowTo =
    "Regroupez le certificat et sa chaîne (certificats intermédiaires) dans un fichier PKCS#7 (.p7b), "
    "par exemple : openssl crl2pkcs7 -nocrl -certfile chaine.pem -out certificat.p7b";

constexpr const char* kPrivateKey =
    "Le contenu transmis contient une clé privée : une clé privée ne doit jamais être envoyée. Envoyez "
    "uniquement le certificat et sa chaîne au format PKCS#7 (.p7b) et, par précaution, faites générer une "
    "nouvelle clé et un nouveau certificat.";

std::string bare_certificates_message(std::size_t count) {
  std::string what = count > 1 ? "des certificats X.509 seuls (" + std::to_string(count) + ")"
                               : std::string("un certificat X.509 seul");
  return "Le contenu est " + what + ", sans structure PKCS#7. " + kBundleHowTo + ".";
}

// ---------------------------------------------------------------------------------------------
// Bundle decoding (docs/reference.md §3.3, docs/field-cases.md F19).

enum class Pkcs7Result { Ok, NotPkcs7, Invalid };

// A PKCS#7 SignedData whose certificates are kept as raw DER: OpenSSL's own templates of
// PKCS7 and PKCS7_SIGNED (crypto/pkcs7/pk7_asn1.c, RFC 2315 §9.1) with ANY in place of
// Certificate, so that an authority certificate met before is not decoded again (issue 7: decoding
// a certificate's key is most of a sheet's cost with OpenSSL 3.0, and every bundle repeats its CAs).
struct RawSignedData {
  ASN1_INTEGER* version;
  STACK_OF(X509_ALGOR) * md_algs;
  PKCS7* contents;
  STACK_OF(ASN1_TYPE) * cert;
  STACK_OF(X509_CRL) * crl;
  STACK_OF(PKCS7_SIGNER_INFO) * signer_info;
};
struct RawPkcs7 {
  ASN1_OBJECT* type;
  union {
    RawSignedData* sign;
    ASN1_TYPE* other;
  } d;
};

}  // namespace
}  // namespace raccord::rules

// OpenSSL's template macros define their items at namespace scope, as C does.
using raccord::rules::RawPkcs7;
using raccord::rules::RawSignedData;
// Each template ends with a ';' of its own (an empty declaration) so that clang-format sees where it ends.
// clang-format off
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
ASN1_NDEF_SEQUENCE(RawSignedData) = {
    ASN1_SIMPLE(RawSignedData, version, ASN1_INTEGER),
    ASN1_SET_OF(RawSignedData, md_algs, X509_ALGOR),
    ASN1_SIMPLE(RawSignedData, contents, PKCS7),
    ASN1_IMP_SEQUENCE_OF_OPT(RawSignedData, cert, ASN1_ANY, 0),
    ASN1_IMP_SET_OF_OPT(RawSignedData, crl, X509_CRL, 1),
    ASN1_SET_OF(RawSignedData, signer_info, PKCS7_SIGNER_INFO)
} ASN1_NDEF_SEQUENCE_END(RawSignedData);

ASN1_ADB_TEMPLATE(raw_pkcs7_other) = ASN1_EXP_OPT(RawPkcs7, d.other, ASN1_ANY, 0);
ASN1_ADB(RawPkcs7) = {
    ADB_ENTRY(NID_pkcs7_signed, ASN1_NDEF_EXP_OPT(RawPkcs7, d.sign, RawSignedData, 0)),
} ASN1_ADB_END(RawPkcs7, 0, type, 0, &raw_pkcs7_other_tt, NULL);

ASN1_NDEF_SEQUENCE(RawPkcs7) = {
    ASN1_SIMPLE(RawPkcs7, type, ASN1_OBJECT),
    ASN1_ADB_OBJECT(RawPkcs7)
} ASN1_NDEF_SEQUENCE_END(RawPkcs7);
#pragma GCC diagnostic pop
// clang-format on

namespace raccord::rules {
namespace {

struct RawPkcs7Free {
  void operator()(RawPkcs7* p) const { ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(p), ASN1_ITEM_rptr(RawPkcs7)); }
};

/// The fast path of read_pkcs7: true when `bytes` is a SignedData whose every certificate decodes,
/// with the certificates appended to certs_out exactly as d2i_PKCS7 would give them (the same bytes
/// decoded by the same X509 template, in decoding's context). False for anything else — the caller
/// then reads `bytes` with d2i_PKCS7, whose verdict and message stand.
bool read_signed_data_reusing_authorities(std::string_view bytes, std::vector<X509Ptr>& certs_out,
                                          DecodingContext& decoding) {
  const unsigned char* p = bytes_of(bytes);
  std::unique_ptr<RawPkcs7, RawPkcs7Free> raw(reinterpret_cast<RawPkcs7*>(
      ASN1_item_d2i(nullptr, &p, static_cast<long>(bytes.size()), ASN1_ITEM_rptr(RawPkcs7))));
  ERR_clear_error();
  if (!raw || OBJ_obj2nid(raw->type) != NID_pkcs7_signed || raw->d.sign == nullptr || raw->d.sign->cert == nullptr ||
      !only_padding_after(bytes, static_cast<std::size_t>(p - bytes_of(bytes)))) {
    return false;
  }
  std::vector<X509Ptr> certs;
  for (int i = 0; i < sk_ASN1_TYPE_num(raw->d.sign->cert); ++i) {
    const ASN1_TYPE* any = sk_ASN1_TYPE_value(raw->d.sign->cert, i);
    if (any == nullptr || any->type != V_ASN1_SEQUENCE) return false;
    const std::string der(reinterpret_cast<const char*>(any->value.sequence->data),
                          static_cast<std::size_t>(any->value.sequence->length));
    if (auto known = decoding.authorities.find(der); known != decoding.authorities.end()) {
      certs.push_back(up_ref(known->second.get()));
      ++decoding.reused;
      continue;
    }
    X509* x = X509_new_ex(decoding.libctx.get(), nullptr);
    const unsigned char* q = bytes_of(der);
    if (x == nullptr || ASN1_item_d2i_ex(reinterpret_cast<ASN1_VALUE**>(&x), &q, static_cast<long>(der.size()),
                                         ASN1_ITEM_rptr(X509), decoding.libctx.get(), nullptr) == nullptr) {
      ERR_clear_error();
      return false;  // x was freed by the failed d2i
    }
    X509Ptr cert(x);
    if (q != bytes_of(der) + der.size()) return false;
    if ((X509_get_extension_flags(x) & EXFLAG_CA) != 0) {
      if (decoding.authorities.size() >= DecodingContext::kMaxAuthorities) decoding.authorities.clear();
      decoding.authorities.emplace(der, up_ref(x));
    }
    ERR_clear_error();
    certs.push_back(std::move(cert));
  }
  if (certs.empty()) return false;
  for (auto& c : certs) certs_out.push_back(std::move(c));
  return true;
}

/// Reads DER `bytes` as a PKCS#7 SignedData and appends its certificates (the decoded objects
/// themselves: never re-encoded and parsed again, issue 7), decoded in `decoding`'s context (null:
/// OpenSSL's default one), its authorities taken from and added to its cache.
Pkcs7Result read_pkcs7(std::string_view bytes, std::vector<X509Ptr>& certs_out, std::string& why,
                       DecodingContext* decoding) {
  if (decoding != nullptr && read_signed_data_reusing_authorities(bytes, certs_out, *decoding)) {
    return Pkcs7Result::Ok;
  }
  OSSL_LIB_CTX* libctx = decoding != nullptr ? decoding->libctx.get() : nullptr;
  const unsigned char* p = bytes_of(bytes);
  PKCS7* decoded = PKCS7_new_ex(libctx, nullptr);  // d2i_PKCS7 decodes in the context of *a
  if (decoded != nullptr && d2i_PKCS7(&decoded, &p, static_cast<long>(bytes.size())) == nullptr) {
    decoded = nullptr;  // freed by d2i on failure
  }
  Pkcs7Ptr p7(decoded);
  ERR_clear_error();
  if (!p7 || !only_padding_after(bytes, static_cast<std::size_t>(p - bytes_of(bytes)))) return Pkcs7Result::NotPkcs7;
  STACK_OF(X509)* certs = nullptr;
  if (PKCS7_type_is_signed(p7.get())) {
    if (p7->d.sign != nullptr) certs = p7->d.sign->cert;
  } else if (PKCS7_type_is_signedAndEnveloped(p7.get())) {
    if (p7->d.signed_and_enveloped != nullptr) certs = p7->d.signed_and_enveloped->cert;
  } else {
    why = "Le fichier PKCS#7 n'est pas de type SignedData et ne transporte aucun certificat. " +
          std::string(kBundleHowTo) + ".";
    return Pkcs7Result::Invalid;
  }
  if (certs == nullptr || sk_X509_num(certs) == 0) {
    why = "Le fichier PKCS#7 ne contient aucun certificat. " + std::string(kBundleHowTo) + ".";
    return Pkcs7Result::Invalid;
  }
  for (int i = 0; i < sk_X509_num(certs); ++i) {
    X509* x = sk_X509_value(certs, i);
    if (x == nullptr) {
      why = "Un certificat du fichier PKCS#7 est illisible.";
      return Pkcs7Result::Invalid;
    }
    certs_out.push_back(up_ref(x));
  }
  return Pkcs7Result::Ok;
}

bool is_private_key_der(std::string_view bytes) {
  auto consumed_all = [&](const unsigned char* p) {
    return only_padding_after(bytes, static_cast<std::size_t>(p - bytes_of(bytes)));
  };
  bool found = false;
  {
    const unsigned char* p = bytes_of(bytes);
    PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(bytes.size()));
    if (p12 != nullptr) found = consumed_all(p);
    PKCS12_free(p12);
  }
  if (!found) {
    const unsigned char* p = bytes_of(bytes);
    PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(bytes.size()));
    if (info != nullptr) found = consumed_all(p);
    PKCS8_PRIV_KEY_INFO_free(info);
  }
  if (!found) {
    const unsigned char* p = bytes_of(bytes);
    X509_SIG* sig = d2i_X509_SIG(nullptr, &p, static_cast<long>(bytes.size()));  // encrypted PKCS#8
    if (sig != nullptr) found = consumed_all(p);
    X509_SIG_free(sig);
  }
  if (!found) {
    const unsigned char* p = bytes_of(bytes);
    EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(bytes.size()));  // traditional RSA/EC/DSA
    found = key != nullptr;
    EVP_PKEY_free(key);
  }
  ERR_clear_error();
  return found;
}

bool decode_pem_text(std::string_view text, std::vector<X509Ptr>& certs, std::string& why,
                     std::vector<std::string>* bare, DecodingContext* decoding);

/// DER bytes: PKCS#7, else a bare certificate, else a private key container, else unknown.
bool decode_binary(std::string_view bytes, std::vector<X509Ptr>& certs, std::string& why,
                   std::vector<std::string>* bare, DecodingContext* decoding) {
  std::string_view trimmed = trim(bytes);
  if (trimmed.substr(0, 10) == "-----BEGIN") return decode_pem_text(trimmed, certs, why, bare, decoding);
  switch (read_pkcs7(bytes, certs, why, decoding)) {
    case Pkcs7Result::Ok:
      return true;
    case Pkcs7Result::Invalid:
      return false;
    case Pkcs7Result::NotPkcs7:
      break;
  }
  if (X509Ptr x = parse_x509(bytes)) {
    if (bare != nullptr) bare->push_back(der_of(x.get()));
    why = bare_certificates_message(1);
    return false;
  }
  if (is_private_key_der(bytes)) {
    why = kPrivateKey;
    return false;
  }
  why = "Le contenu décodé n'est pas un fichier PKCS#7 lisible (ni DER ni PEM). " + std::string(kBundleHowTo) +
        ", puis encodez le fichier en base64.";
  return false;
}

/// PEM text: every line trimmed, then every block read (PKCS7, CERTIFICATE, keys).
bool decode_pem_text(std::string_view text, std::vector<X509Ptr>& certs, std::string& why,
                     std::vector<std::string>* bare, DecodingContext* decoding) {
  std::string normalized;
  normalized.reserve(text.size());
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(start, end - start));
    if (!line.empty()) {
      normalized.append(line);
      normalized.push_back('\n');
    }
    start = end + 1;
  }
  std::vector<X509Ptr> pkcs7_certs;
  std::vector<X509Ptr> bare_certs;
  int pkcs7_blocks = 0;
  bool key = false;
  std::string pkcs7_why;
  bool malformed = false;
  const auto unreadable = for_each_pem_block(normalized, [&](std::string_view block, std::string_view body) {
    if (block.find("PRIVATE KEY") != std::string_view::npos || block == "PKCS12") {
      key = true;
    } else if (block == "PKCS7" || block == "PKCS #7 SIGNED DATA" || block == "CMS") {
      ++pkcs7_blocks;
      if (read_pkcs7(body, pkcs7_certs, pkcs7_why, decoding) == Pkcs7Result::NotPkcs7) {
        pkcs7_why = "Le bloc PEM « " + std::string(block) + " » n'est pas un PKCS#7 lisible.";
      }
    } else if (block == "CERTIFICATE" || block == "X509 CERTIFICATE" || block == "TRUSTED CERTIFICATE") {
      X509Ptr x = parse_x509(body);
      if (x) {
        bare_certs.push_back(std::move(x));
      } else {
        const unsigned char* p = bytes_of(body);
        X509Ptr aux(d2i_X509_AUX(nullptr, &p, static_cast<long>(body.size())));
        ERR_clear_error();
        if (aux) {
          bare_certs.push_back(std::move(aux));
        } else {
          malformed = true;
        }
      }
    }
  });
  if (unreadable) malformed = true;
  if (key) {
    why = kPrivateKey;
    return false;
  }
  if (!pkcs7_why.empty()) {
    why = pkcs7_why;
    return false;
  }
  if (malformed) {
    why =
        "Le texte PEM est mal formé (en-tête, pied ou base64 d'un bloc illisible). " + std::string(kBundleHowTo) + ".";
    return false;
  }
  if (pkcs7_blocks == 0) {
    if (!bare_certs.empty()) {
      why = bare_certificates_message(bare_certs.size());
      if (bare != nullptr) {
        for (const auto& x : bare_certs) bare->push_back(der_of(x.get()));
      }
    } else {
      why = "Le texte PEM ne contient aucun bloc « -----BEGIN PKCS7----- ». " + std::string(kBundleHowTo) + ".";
    }
    return false;
  }
  // Loose CERTIFICATE blocks next to a PKCS#7 are kept as further (untrusted) bundle members.
  for (auto& x : pkcs7_certs) certs.push_back(std::move(x));
  for (auto& x : bare_certs) certs.push_back(std::move(x));
  return true;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/// Strict base64 (whitespace already removed): alphabet, at most two final '=', length multiple of 4.
bool decode_base64(std::string_view text, std::string& out) {
  std::size_t pad = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      ++pad;
    } else if (!is_base64_char(c) || pad > 0) {
      return false;
    }
  }
  if (pad > 2 || text.size() % 4 != 0 || text.empty()) return false;
  out.assign(text.size() / 4 * 3 + 3, '\0');
  EVP_ENCODE_CTX* ctx = EVP_ENCODE_CTX_new();
  EVP_DecodeInit(ctx);
  int n = 0;
  int total = 0;
  bool ok = EVP_DecodeUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n, bytes_of(text),
                             static_cast<int>(text.size())) >= 0;
  total = n;
  if (ok) {
    ok = EVP_DecodeFinal(ctx, reinterpret_cast<unsigned char*>(out.data()) + total, &n) == 1;
    total += n;
  }
  EVP_ENCODE_CTX_free(ctx);
  ERR_clear_error();
  if (!ok) return false;
  out.resize(static_cast<std::size_t>(total));
  return true;
}

}  // namespace

bool is_blank(std::string_view content) {
  return trim(content).empty();
}

bool decode_certificates(std::string_view content, std::vector<X509Ptr>& certificates, std::string& why,
                         std::vector<std::string>* bare_certificates, DecodingContext* decoding) {
  certificates.clear();
  if (bare_certificates != nullptr) bare_certificates->clear();
  why.clear();
  std::string_view text = trim(content);
  if (text.empty()) {
    why = "Le certificat est vide.";
    return false;
  }
  bool ok = false;
  if (text.substr(0, 10) == "-----BEGIN") {
    ok = decode_pem_text(text, certificates, why, bare_certificates, decoding);
  } else {
    std::string compact;
    compact.reserve(text.size());
    for (char c : text) {
      if (!is_space(c)) compact.push_back(c);
    }
    std::string bytes;
    if (!decode_base64(compact, bytes)) {
      why =
          "Le contenu n'est ni du base64 valide ni un texte PEM commençant par « -----BEGIN ». Encodez en base64 "
          "le fichier PKCS#7 (.p7b) du certificat et de sa chaîne.";
      return false;
    }
    ok = decode_binary(bytes, certificates, why, bare_certificates, decoding);
  }
  if (!ok) certificates.clear();
  return ok;
}

bool decode_bundle(std::string_view content, std::vector<std::string>& der_certificates, std::string& why) {
  return decode_bundle(content, der_certificates, why, nullptr);
}

bool decode_bundle(std::string_view content, std::vector<std::string>& der_certificates, std::string& why,
                   std::vector<std::string>* bare_certificates) {
  der_certificates.clear();
  std::vector<X509Ptr> certificates;
  if (!decode_certificates(content, certificates, why, bare_certificates)) return false;
  for (const auto& x : certificates) {
    std::string der = der_of(x.get());
    if (der.empty()) {
      der_certificates.clear();
      why = "Un certificat du fichier PKCS#7 est illisible.";
      return false;
    }
    der_certificates.push_back(std::move(der));
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The pool of decoding contexts (issue 7).

DecodingContextPool::Lease::Lease(DecodingContextPool& pool) : pool_(pool) {
  {
    std::lock_guard lock(pool_.mutex_);
    if (!pool_.idle_.empty()) {
      context_ = pool_.idle_.back();
      pool_.idle_.pop_back();
      return;
    }
  }
  auto made = std::make_unique<DecodingContext>();
  made->libctx.reset(OSSL_LIB_CTX_new());
  // OpenSSL's default provider with only its SubjectPublicKeyInfo decoders (issue 21); the default provider
  // itself if OpenSSL refuses that one.
  if (made->libctx) made->provider.reset(load_decoding_provider(made->libctx.get()));
  if (made->libctx && !made->provider) made->provider.reset(OSSL_PROVIDER_load(made->libctx.get(), "default"));
  if (!made->provider) made->libctx.reset();
  ERR_clear_error();
  context_ = made.get();
  std::lock_guard lock(pool_.mutex_);
  pool_.contexts_.push_back(std::move(made));
}

DecodingContextPool::Lease::~Lease() {
  std::lock_guard lock(pool_.mutex_);
  pool_.idle_.push_back(context_);
}

std::uint64_t DecodingContextPool::reused_authority_decodings() {
  std::lock_guard lock(mutex_);
  std::uint64_t reused = 0;
  for (const auto& c : contexts_) reused += c->reused.load();
  return reused;
}

void DecodingContextPool::clear_idle() {
  std::lock_guard lock(mutex_);
  for (DecodingContext* idle : idle_) {  // a context in use is its check's alone
    idle->authorities.clear();
    idle->reused = 0;
  }
}

}  // namespace raccord::rules
