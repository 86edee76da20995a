// Certificate rules (SPEC.md §3.3, §4; TOOLCHAIN.md #11-15; FIELD-CASES F19-F27) with OpenSSL 3.
#include "rules/certificates.hpp"

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace raccord::rules {
namespace {

// ---------------------------------------------------------------------------------------------
// OpenSSL ownership helpers.

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct Pkcs7Free {
  void operator()(PKCS7* p) const { PKCS7_free(p); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};
struct StackShallowFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Pkcs7Free>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, StoreCtxFree>;
using StackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;
using ShallowStackPtr = std::unique_ptr<STACK_OF(X509), StackShallowFree>;
using StorePtr = std::shared_ptr<X509_STORE>;
struct LibCtxFree {
  void operator()(OSSL_LIB_CTX* p) const { OSSL_LIB_CTX_free(p); }
};
using LibCtxPtr = std::unique_ptr<OSSL_LIB_CTX, LibCtxFree>;
struct ProviderUnload {
  void operator()(OSSL_PROVIDER* p) const { OSSL_PROVIDER_unload(p); }
};
using ProviderPtr = std::unique_ptr<OSSL_PROVIDER, ProviderUnload>;

/// Where a check decodes certificates (issue 7). OpenSSL 3.0's decoders take their library
/// context's locks thousands of times per certificate, so that two threads decoding in one context
/// run no faster than one: each check decodes in a context it alone uses at the time, and keeps
/// the authority certificates it decoded there (the same few CAs come in every bundle).
struct DecodingContext {
  LibCtxPtr libctx;       // null: OpenSSL's default context
  ProviderPtr provider;   // the default provider, loaded in libctx; unloaded before libctx is freed
  std::unordered_map<std::string, X509Ptr> authorities;  // DER -> decoded in libctx; after libctx: freed first
  std::atomic<std::uint64_t> reused{0};                  // certificates taken from `authorities`
  static constexpr std::size_t kMaxAuthorities = 64;
};

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string der_of(X509* x) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(x, &buf);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return out;
}

X509Ptr up_ref(X509* x) {
  X509_up_ref(x);
  return X509Ptr(x);
}

X509Ptr parse_x509(std::string_view der) {
  const unsigned char* p = bytes_of(der);
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (x && p != bytes_of(der) + der.size()) x.reset();
  ERR_clear_error();
  return x;
}

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
// Bundle decoding (SPEC.md §3.3, FIELD-CASES F19).

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
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
ASN1_NDEF_SEQUENCE(RawSignedData) = {
    ASN1_SIMPLE(RawSignedData, version, ASN1_INTEGER),
    ASN1_SET_OF(RawSignedData, md_algs, X509_ALGOR),
    ASN1_SIMPLE(RawSignedData, contents, PKCS7),
    ASN1_IMP_SEQUENCE_OF_OPT(RawSignedData, cert, ASN1_ANY, 0),
    ASN1_IMP_SET_OF_OPT(RawSignedData, crl, X509_CRL, 1),
    ASN1_SET_OF(RawSignedData, signer_info, PKCS7_SIGNER_INFO)
} ASN1_NDEF_SEQUENCE_END(RawSignedData)

ASN1_ADB_TEMPLATE(raw_pkcs7_other) = ASN1_EXP_OPT(RawPkcs7, d.other, ASN1_ANY, 0);
ASN1_ADB(RawPkcs7) = {
    ADB_ENTRY(NID_pkcs7_signed, ASN1_NDEF_EXP_OPT(RawPkcs7, d.sign, RawSignedData, 0)),
} ASN1_ADB_END(RawPkcs7, 0, type, 0, &raw_pkcs7_other_tt, NULL);

ASN1_NDEF_SEQUENCE(RawPkcs7) = {
    ASN1_SIMPLE(RawPkcs7, type, ASN1_OBJECT),
    ASN1_ADB_OBJECT(RawPkcs7)
} ASN1_NDEF_SEQUENCE_END(RawPkcs7)
#pragma GCC diagnostic pop

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
  BioPtr bio(BIO_new_mem_buf(normalized.data(), static_cast<int>(normalized.size())));
  std::vector<X509Ptr> pkcs7_certs;
  std::vector<X509Ptr> bare_certs;
  int pkcs7_blocks = 0;
  bool key = false;
  bool malformed = false;
  std::string pkcs7_why;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      unsigned long err = ERR_peek_last_error();
      if (err != 0 && ERR_GET_REASON(err) != PEM_R_NO_START_LINE) malformed = true;
      ERR_clear_error();
      break;
    }
    std::string_view block(name);
    std::string_view body(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
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
        X509Ptr aux(d2i_X509_AUX(nullptr, &p, len));
        ERR_clear_error();
        if (aux) {
          bare_certs.push_back(std::move(aux));
        } else {
          malformed = true;
        }
      }
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
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

// ---------------------------------------------------------------------------------------------
// Certificate facts.

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string common_name(const X509_NAME* name) {
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return {};
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string hex_upper(const unsigned char* data, unsigned int len) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0x0F]);
  }
  return out;
}

std::string serial_hex(X509* x) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  if (bn == nullptr) return {};
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::chrono::sys_seconds to_sys(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  using namespace std::chrono;
  sys_days day{year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
               std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
  return sys_seconds{day} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

bool has_flag(X509* x, uint32_t flag) {
  return (X509_get_extension_flags(x) & flag) != 0;
}
bool is_ca(X509* x) {
  return has_flag(x, EXFLAG_CA);
}
bool has_eku(X509* x) {
  return has_flag(x, EXFLAG_XKUSAGE);
}
bool is_self_signed(X509* x) {
  bool yes = X509_self_signed(x, 1) == 1;
  ERR_clear_error();
  return yes;
}
/// Subject and issuer names match (and the key identifiers, when both are present), signature not
/// checked: enough to recognise a trust anchor at the top of a verified chain, whose self-signature
/// OpenSSL does not check either (issue 7: checking it cost one signature verification per sheet).
bool is_self_issued(X509* x) {
  bool yes = X509_self_signed(x, 0) == 1;
  ERR_clear_error();
  return yes;
}
/// Purpose checks as TLS does them (EKU, keyUsage, Netscape type; no EKU means any purpose; F23).
bool usable_for_client(X509* x) {
  return X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0) == 1;
}
bool usable_for_server(X509* x) {
  return X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) == 1;
}

std::string fingerprint(X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(x, EVP_sha256(), md, &len) != 1) return {};
  return hex_upper(md, len);
}

CertificateFacts facts_of(X509* x) {
  CertificateFacts f;
  f.subject = name_text(X509_get_subject_name(x));
  f.subject_cn = common_name(X509_get_subject_name(x));
  f.issuer = name_text(X509_get_issuer_name(x));
  f.serial = serial_hex(x);
  f.not_before = to_sys(X509_get0_notBefore(x));
  f.not_after = to_sys(X509_get0_notAfter(x));
  f.fingerprint_sha256 = fingerprint(x);
  f.is_ca = is_ca(x);
  f.self_signed = is_self_signed(x);
  f.has_eku = has_eku(x);
  f.client_auth = usable_for_client(x);
  f.server_auth = usable_for_server(x);
  if (EVP_PKEY* key = X509_get0_pubkey(x)) {
    const char* type = EVP_PKEY_get0_type_name(key);
    f.key_type = type != nullptr ? type : "";
    std::transform(f.key_type.begin(), f.key_type.end(), f.key_type.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c); });
    f.key_bits = EVP_PKEY_get_bits(key);
  }
  int sig_nid = X509_get_signature_nid(x);
  const char* ln = OBJ_nid2ln(sig_nid);
  f.signature_algorithm = ln != nullptr ? ln : "";
  ERR_clear_error();
  return f;
}

/// « CN=… » (n° de série …): how a message names a certificate.
std::string describe(X509* x) {
  std::string cn = common_name(X509_get_subject_name(x));
  std::string who = cn.empty() ? name_text(X509_get_subject_name(x)) : "CN=" + cn;
  return "« " + who + " » (n° de série " + serial_hex(x) + ")";
}

std::string french_date(std::chrono::sys_seconds t) {
  return format_french_date(CivilDate{std::chrono::floor<std::chrono::days>(t)});
}

// ---------------------------------------------------------------------------------------------
// Chain verification (TOOLCHAIN.md #11, #13).

struct VerifyError {
  int code = 0;
  int depth = 0;
  std::string missing_issuer;  // issuer DN of the certificate the error is about
  std::string about;           // describe() of that certificate
};

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

enum class ErrorClass { Ignored, Untrusted, Incomplete, Other };

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
      return ErrorClass::Other;
  }
}

struct ChainResult {
  StackPtr chain;                 // leaf first; the anchor last when anchored
  bool anchored = false;          // the top certificate comes from the trust store
  bool top_name_trusted = false;  // a trusted certificate bears the top's name, yet is not the top (F21 d)
  std::vector<VerifyError> errors;
};

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
  if (extra_flags != 0) X509_VERIFY_PARAM_set_flags(param, extra_flags);
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
// The trust store and its CA cache (issue 3). One TrustState per (re)load: a reload builds a new
// one, so the cache of proved authorities never outlives the store that proved them.

struct StoreCert {
  X509Ptr cert;
  std::string fingerprint;
};

/// A CA proved in this process: the chain above a leaf, [CA, ..., anchor], that verified without error.
struct ProvedAuthority {
  std::vector<X509Ptr> chain;             // chain[0] the CA, last the anchor (up-referenced)
  std::vector<std::string> fingerprints;  // of chain, same order
  StorePtr partial_store;                 // holds chain[0] only, as a trusted certificate
};

struct TrustState {
  StorePtr store;
  std::vector<StoreCert> certs;        // every certificate of the store
  std::set<std::string> fingerprints;  // of certs
  mutable std::shared_mutex cache_mutex;
  mutable std::mutex proving_mutex;  // held over a full verification and the cache update after it
  mutable std::unordered_map<std::string, std::shared_ptr<const ProvedAuthority>> cache;
};

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

struct BundleView {
  const std::vector<X509Ptr>* certs;
  const std::vector<std::string>* fingerprints;
};

/// The only certificate OpenSSL can choose as the issuer of `child` (by name, the trust store first,
/// TOOLCHAIN.md #11), or empty when there is none or the choice is ambiguous.
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

bool has_constraints(X509* x) {
  for (int nid : {NID_name_constraints, NID_policy_constraints, NID_inhibit_any_policy, NID_policy_mappings}) {
    if (X509_get_ext_by_NID(x, nid, -1) >= 0) return true;
  }
  return false;
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
  std::unique_lock lock(trust.cache_mutex);
  trust.cache.emplace(entry->fingerprints.front(), std::move(entry));
}

/// The warm path: the leaf verified alone against its proved CA, the proved chain appended. nullopt
/// when the cache cannot give the verdict the full verification would give.
std::optional<ChainResult> verify_from_cache(X509* leaf, const BundleView& bundle, const TrustState& trust,
                                             Instant at, OSSL_LIB_CTX* libctx) {
  const std::string issuer = unique_issuer(leaf, bundle, trust);
  if (issuer.empty()) return std::nullopt;
  std::shared_ptr<const ProvedAuthority> entry;
  {
    std::shared_lock lock(trust.cache_mutex);
    auto it = trust.cache.find(issuer);
    if (it == trust.cache.end()) return std::nullopt;
    entry = it->second;
  }
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

// ---------------------------------------------------------------------------------------------
// Rules on one certificate.

/// Why the key is weak (French), or empty (F25: our rule, not the library's security level).
std::string weak_key(X509* x, int min_rsa_bits) {
  EVP_PKEY* key = X509_get0_pubkey(x);
  ERR_clear_error();
  if (key == nullptr) return "sa clé publique est illisible";
  int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
    case EVP_PKEY_DSA:
      if (bits < min_rsa_bits) {
        return "sa clé " + std::string(EVP_PKEY_get_base_id(key) == EVP_PKEY_DSA ? "DSA" : "RSA") + " fait " +
               std::to_string(bits) + " bits, moins que le minimum de " + std::to_string(min_rsa_bits) + " bits (" +
               std::to_string(bits) + " < " + std::to_string(min_rsa_bits) + ")";
      }
      return {};
    case EVP_PKEY_EC:
      if (bits < 256) return "sa clé EC fait " + std::to_string(bits) + " bits, moins que le minimum de 256 bits";
      return {};
    default:
      return {};  // Ed25519, Ed448: strong
  }
}

/// The weak digest name ("SHA1", "MD5") of x's signature, or empty.
std::string weak_digest(X509* x) {
  int md = NID_undef;
  int pk = NID_undef;
  int secbits = 0;
  uint32_t flags = 0;
  if (X509_get_signature_info(x, &md, &pk, &secbits, &flags) != 1) {
    OBJ_find_sigid_algs(X509_get_signature_nid(x), &md, &pk);
  }
  ERR_clear_error();
  switch (md) {
    case NID_md2:
    case NID_md4:
    case NID_md5:
    case NID_md5_sha1:
    case NID_sha1: {
      const char* sn = OBJ_nid2sn(md);
      return sn != nullptr ? sn : "MD5/SHA-1";
    }
    default:
      return {};
  }
}

std::string_view protocol_label(std::optional<Protocol> protocol) {
  return protocol ? to_code(*protocol) : std::string_view("API");
}

struct Bundle {
  int index = 0;
  int line = 0;
  std::string field;
  std::vector<X509Ptr> certs;
  std::vector<std::string> fingerprints;  // of certs, same order
};

struct LeafRef {
  X509* cert;
  const Bundle* bundle;
};

}  // namespace

// =============================================================================================

bool decode_bundle(std::string_view content, std::vector<std::string>& der_certificates, std::string& why) {
  return decode_bundle(content, der_certificates, why, nullptr);
}

namespace {

/// decode_bundle, keeping the certificates OpenSSL decoded (one parse per certificate).
bool decode_certificates(std::string_view content, std::vector<X509Ptr>& certificates, std::string& why,
                         std::vector<std::string>* bare_certificates, DecodingContext* decoding = nullptr) {
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

}  // namespace

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

bool read_certificate_facts(std::string_view der, CertificateFacts& facts) {
  X509Ptr x = parse_x509(der);
  if (!x) return false;
  facts = facts_of(x.get());
  return true;
}

struct CertificateChecker::Impl {
  // OpenSSL 3.0's decoders take their library context's locks thousands of times per certificate:
  // two threads decoding in the default context run no faster than one (issue 7, measured). Each
  // check therefore decodes and verifies in a context of its own, taken from this pool (one per
  // thread checking at a time). Declared first: destroyed after the trust states, whose proved
  // authorities may hold certificates decoded in these contexts.
  mutable std::mutex contexts_mutex;
  mutable std::vector<std::unique_ptr<DecodingContext>> contexts;  // every context made
  mutable std::vector<DecodingContext*> idle;                      // those no check is using

  mutable std::mutex mutex;
  std::shared_ptr<const TrustState> trust;
  std::vector<TrustStoreNote> log;
  int anchors = 0;
  mutable std::atomic<std::uint64_t> full_verifications{0};
  mutable std::atomic<std::uint64_t> cached_verifications{0};

  std::shared_ptr<const TrustState> snapshot() const {
    std::lock_guard lock(mutex);
    return trust;
  }

  /// A decoding context of the pool for one check, given back on destruction. When OpenSSL cannot
  /// make a new library context, a context of OpenSSL's default one (libctx() null).
  class ContextLease {
   public:
    explicit ContextLease(const Impl& impl) : impl_(impl) {
      {
        std::lock_guard lock(impl_.contexts_mutex);
        if (!impl_.idle.empty()) {
          context_ = impl_.idle.back();
          impl_.idle.pop_back();
          return;
        }
      }
      auto made = std::make_unique<DecodingContext>();
      made->libctx.reset(OSSL_LIB_CTX_new());
      if (made->libctx) made->provider.reset(OSSL_PROVIDER_load(made->libctx.get(), "default"));
      if (!made->provider) made->libctx.reset();
      ERR_clear_error();
      context_ = made.get();
      std::lock_guard lock(impl_.contexts_mutex);
      impl_.contexts.push_back(std::move(made));
    }
    ~ContextLease() {
      std::lock_guard lock(impl_.contexts_mutex);
      impl_.idle.push_back(context_);
    }
    ContextLease(const ContextLease&) = delete;
    ContextLease& operator=(const ContextLease&) = delete;
    DecodingContext* get() const { return context_; }
    OSSL_LIB_CTX* libctx() const { return context_->libctx.get(); }

   private:
    const Impl& impl_;
    DecodingContext* context_ = nullptr;
  };
};

CertificateChecker::CertificateChecker(CertificatePolicy policy)
    : policy_(std::move(policy)), impl_(std::make_unique<Impl>()) {
  std::vector<TrustStoreNote> log;
  reload_trust_store(log);
}

CertificateChecker::~CertificateChecker() = default;

namespace {

int count_certificates(X509_STORE* store) {
  int n = 0;
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objects, i)) == X509_LU_X509) ++n;
  }
  return n;
}

}  // namespace

int CertificateChecker::reload_trust_store(std::vector<TrustStoreNote>& log) {
  StorePtr store(X509_STORE_new(), X509_STORE_free);
  std::vector<TrustStoreNote> lines;
  const auto problem = [&lines](std::string text) { lines.push_back(TrustStoreNote{true, std::move(text)}); };
  const auto& dir = policy_.trust_dir;
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) {
    problem("certificats : répertoire de confiance absent (" + dir.string() +
            ") ; aucune autorité reconnue, toute chaîne finira en CERT_AUTORITE_NON_RECONNUE");
  } else {
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const auto& path = it->path();
      std::string name = path.filename().string();
      if (name.empty() || name.front() == '.') continue;
      std::error_code sec;
      if (!std::filesystem::is_regular_file(it->status(sec))) continue;
      files.push_back(path);
    }
    if (ec) problem("certificats : lecture du répertoire de confiance " + dir.string() + " : " + ec.message());
    std::sort(files.begin(), files.end());
  }
  for (const auto& file : files) {
    int before = count_certificates(store.get());
    int ok = X509_STORE_load_file(store.get(), file.string().c_str());
    unsigned long err = ERR_peek_last_error();
    char buf[256] = {};
    if (err != 0) ERR_error_string_n(err, buf, sizeof buf);
    ERR_clear_error();
    int added = count_certificates(store.get()) - before;
    if (ok != 1 && added == 0) {
      problem("certificats : " + file.string() + " ignoré, aucun certificat PEM lisible (" + buf + ")");
    } else {
      lines.push_back(TrustStoreNote{
          false, "certificats : " + file.string() + " : " + std::to_string(added) + " certificat(s) de confiance"});
    }
  }
  int anchors = count_certificates(store.get());
  if (anchors == 0 && !files.empty()) {
    problem("certificats : le répertoire de confiance " + dir.string() + " ne contient aucun certificat");
  } else if (files.empty() && std::filesystem::is_directory(dir, ec)) {
    problem("certificats : le répertoire de confiance " + dir.string() + " est vide");
  }
  log.insert(log.end(), lines.begin(), lines.end());
  auto trust = std::make_shared<TrustState>();
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store.get());
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    X509* x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
    if (x == nullptr) continue;
    StoreCert c{up_ref(x), fingerprint(x)};
    trust->fingerprints.insert(c.fingerprint);
    trust->certs.push_back(std::move(c));
  }
  trust->store = std::move(store);
  std::lock_guard lock(impl_->mutex);
  impl_->trust = std::move(trust);
  impl_->log = std::move(lines);
  impl_->anchors = anchors;
  return anchors;
}

CertificateCacheStats CertificateChecker::cache_stats() const {
  CertificateCacheStats stats;
  stats.full_verifications = impl_->full_verifications.load();
  stats.cached_verifications = impl_->cached_verifications.load();
  auto trust = impl_->snapshot();
  std::shared_lock lock(trust->cache_mutex);
  stats.proved_authorities = trust->cache.size();
  std::lock_guard contexts(impl_->contexts_mutex);
  for (const auto& c : impl_->contexts) stats.reused_authority_decodings += c->reused.load();
  return stats;
}

void CertificateChecker::clear_cache() {
  auto trust = impl_->snapshot();
  {
    std::unique_lock lock(trust->cache_mutex);
    trust->cache.clear();
  }
  impl_->full_verifications = 0;
  impl_->cached_verifications = 0;
  std::lock_guard contexts(impl_->contexts_mutex);
  for (DecodingContext* idle : impl_->idle) {  // a context in use is its check's alone
    idle->authorities.clear();
    idle->reused = 0;
  }
}

std::vector<TrustStoreNote> CertificateChecker::trust_store_log() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

int CertificateChecker::trust_anchor_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->anchors;
}

CertificateReport CertificateChecker::check(const SheetOperation& sheet, std::optional<Protocol> protocol, Instant at,
                                            bool with_chains) const {
  CertificateReport report;
  auto& diags = report.diagnostics;
  const std::string_view label = protocol_label(protocol);
  const Impl::ContextLease decoding(*impl_);
  OSSL_LIB_CTX* const libctx = decoding.libctx();

  if (!sheet.has_certificates || sheet.certificates.empty()) {
    diags.push_back(Diagnostic::error(
        ErrorCode::CertAbsent, "Certificats", sheet.certificates_line,
        "Aucun certificat n'est fourni : ajoutez dans <Certificats> un élément <Certificat> contenant le fichier "
        "PKCS#7 (.p7b) du certificat et de sa chaîne, encodé en base64."));
    return report;
  }

  // CERT_NOMBRE (SPEC.md §4): SFTP and API exactly 1, PESIT and AS2 1 or 2.
  const bool pair_allowed = protocol && (*protocol == Protocol::Pesit || *protocol == Protocol::As2);
  const std::size_t max_count = pair_allowed ? 2 : 1;
  if (sheet.certificates.size() > max_count) {
    std::string msg =
        pair_allowed
            ? "Une fiche " + std::string(label) + " accepte un ou deux certificats (client et serveur), or " +
                  std::to_string(sheet.certificates.size()) + " éléments <Certificat> sont fournis : retirez-en."
            : "Une fiche " + std::string(label) + " accepte exactement un certificat, or " +
                  std::to_string(sheet.certificates.size()) +
                  " éléments <Certificat> sont fournis : regroupez le certificat et sa chaîne dans un seul fichier "
                  "PKCS#7.";
    diags.push_back(Diagnostic::error(ErrorCode::CertNombre, "Certificats", sheet.certificates_line, std::move(msg)));
  }

  // Decoding (CERT_ABSENT for an empty element, CERT_FORMAT) and facts.
  std::vector<Bundle> bundles;
  bool some_unusable = false;  // an empty or unreadable element: CERT_USAGE would only echo it
  for (const auto& element : sheet.certificates) {
    Bundle b;
    b.index = element.index;
    b.line = element.line;
    b.field = "Certificats/Certificat[" + std::to_string(element.index) + "]";
    if (trim(element.content).empty()) {
      diags.push_back(Diagnostic::error(ErrorCode::CertAbsent, b.field, b.line,
                                        "L'élément <Certificat> n° " + std::to_string(element.index) +
                                            " est vide : mettez-y le fichier PKCS#7 (.p7b) du certificat et de sa "
                                            "chaîne, encodé en base64."));
      some_unusable = true;
      continue;
    }
    std::vector<X509Ptr> certs;
    std::string why;
    if (!decode_certificates(element.content, certs, why, nullptr, decoding.get())) {
      diags.push_back(Diagnostic::error(ErrorCode::CertFormat, b.field, b.line, std::move(why)));
      some_unusable = true;
      continue;
    }
    bool unreadable = false;
    for (auto& x : certs) {
      if (!x) {
        unreadable = true;
        break;
      }
      CertificateFacts facts = facts_of(x.get());
      facts.bundle_index = element.index;
      b.fingerprints.push_back(facts.fingerprint_sha256);
      report.certificates.push_back(std::move(facts));
      b.certs.push_back(std::move(x));
    }
    if (unreadable) {
      diags.push_back(
          Diagnostic::error(ErrorCode::CertFormat, b.field, b.line, "Un certificat du fichier PKCS#7 est illisible."));
      some_unusable = true;
      continue;
    }
    bundles.push_back(std::move(b));
  }

  std::shared_ptr<const TrustState> trust = impl_->snapshot();
  const auto skew = std::chrono::seconds(policy_.clock_skew_s);
  const auto warning_window = std::chrono::days(policy_.expiry_warning_days);
  std::vector<LeafRef> leaves;

  for (const auto& bundle : bundles) {
    std::set<std::pair<ErrorCode, std::string>> seen;  // one diagnostic per (code, certificate) in a bundle
    auto add = [&](ErrorCode code, X509* about, std::string message, bool warning = false) {
      if (!seen.emplace(code, fingerprint(about)).second) return;
      diags.push_back(warning ? Diagnostic::warning(code, bundle.field, bundle.line, std::move(message))
                              : Diagnostic::error(code, bundle.field, bundle.line, std::move(message)));
    };

    for (const auto& owned : bundle.certs) {
      X509* leaf = owned.get();
      if (is_ca(leaf)) continue;  // leaves are the bundle's non-CA certificates (SPEC.md §4)
      leaves.push_back({leaf, &bundle});
      const std::string who = describe(leaf);

      // Chain and its precedence: AUTOSIGNE, else AUTORITE_NON_RECONNUE, else CHAINE_INCOMPLETE.
      std::vector<X509*> chain;
      StackPtr chain_owner;
      bool anchored = false;
      bool top_name_trusted = false;
      ChainEnd end = ChainEnd::SelfSignedLeaf;
      std::string missing_issuer;
      if (is_self_signed(leaf)) {
        add(ErrorCode::CertAutosigne, leaf,
            "Le certificat " + who +
                " est auto-signé : il doit être émis par une autorité de certification reconnue. Faites-le émettre "
                "par une autorité reconnue et envoyez-le avec sa chaîne au format PKCS#7.");
        chain.push_back(leaf);
      } else {
        const BundleView view{&bundle.certs, &bundle.fingerprints};
        std::optional<ChainResult> cached = verify_from_cache(leaf, view, *trust, at, libctx);
        ChainResult r;
        if (cached) {
          r = std::move(*cached);
          ++impl_->cached_verifications;
        } else {
          // Checks run on several threads (issue 7): the cold path is taken by one at a time, and
          // the cache is asked again once inside, so a CA another thread just proved is not
          // verified a second time.
          std::lock_guard proving(trust->proving_mutex);
          cached = verify_from_cache(leaf, view, *trust, at, libctx);
          if (cached) {
            r = std::move(*cached);
            ++impl_->cached_verifications;
          } else {
            r = verify_built_path(leaf, view, *trust, at, skew, libctx);
            ++impl_->full_verifications;
            remember(r, leaf, view, *trust);
          }
        }
        chain_owner = std::move(r.chain);
        anchored = r.anchored;
        top_name_trusted = r.top_name_trusted;
        if (chain_owner) {
          for (int i = 0; i < sk_X509_num(chain_owner.get()); ++i) chain.push_back(sk_X509_value(chain_owner.get(), i));
        } else {
          chain.push_back(leaf);
        }
        const VerifyError* untrusted_error = nullptr;
        const VerifyError* incomplete_error = nullptr;
        const VerifyError* other_error = nullptr;
        for (const auto& e : r.errors) {
          switch (classify(e.code)) {
            case ErrorClass::Ignored:
              break;
            case ErrorClass::Untrusted:
              if (untrusted_error == nullptr) untrusted_error = &e;
              break;
            case ErrorClass::Incomplete:
              if (incomplete_error == nullptr) incomplete_error = &e;
              break;
            case ErrorClass::Other:
              if (other_error == nullptr) other_error = &e;
              break;
          }
        }
        end = untrusted_error != nullptr    ? ChainEnd::UntrustedRoot
              : incomplete_error != nullptr ? ChainEnd::MissingIssuer
              : other_error != nullptr      ? ChainEnd::Invalid
              : anchored                    ? ChainEnd::Anchored
                                            : ChainEnd::Invalid;
        if (incomplete_error != nullptr) missing_issuer = incomplete_error->missing_issuer;
        if (untrusted_error != nullptr) {
          X509* top = chain.back();
          add(ErrorCode::CertAutoriteNonReconnue, leaf,
              "La chaîne du certificat " + who + " aboutit à l'autorité racine " + describe(top) +
                  (top_name_trusted
                       ? ", qui porte le nom d'une autorité reconnue mais n'est pas celle-ci (autre clé) : ce "
                         "certificat n'est pas émis par l'autorité reconnue."
                       : ", qui n'est pas une autorité reconnue.") +
                  " Faites émettre le certificat par une autorité reconnue et envoyez-le avec sa chaîne.");
        } else if (incomplete_error != nullptr) {
          const std::string& missing = incomplete_error->missing_issuer;
          add(ErrorCode::CertChaineIncomplete, leaf,
              "La chaîne du certificat " + who + " est incomplète : le certificat de l'autorité émettrice « " +
                  missing + " » est introuvable. Ajoutez le certificat intermédiaire « " + missing +
                  " » au fichier PKCS#7.");
        } else if (other_error != nullptr) {
          add(ErrorCode::CertAutoriteNonReconnue, leaf,
              "La chaîne du certificat " + who + " n'est pas valide (" + other_error->about + " : " +
                  X509_verify_cert_error_string(other_error->code) +
                  "). Faites émettre le certificat par une autorité reconnue et envoyez-le avec sa chaîne.");
        }
      }

      if (with_chains) {
        LeafChain described;
        described.bundle_index = bundle.index;
        described.end = end;
        described.missing_issuer = missing_issuer;
        for (X509* c : chain) {
          ChainLink link;
          link.subject = name_text(X509_get_subject_name(c));
          link.serial = serial_hex(c);
          link.fingerprint_sha256 = fingerprint(c);
          link.from_trust_store = trust->fingerprints.count(link.fingerprint_sha256) > 0;
          described.links.push_back(std::move(link));
        }
        report.chains.push_back(std::move(described));
      }

      // Validity, key and signature rules on every certificate of the chain.
      for (std::size_t i = 0; i < chain.size(); ++i) {
        X509* c = chain[i];
        const std::string name = describe(c);
        const bool is_leaf = i == 0;
        const auto not_before = to_sys(X509_get0_notBefore(c));
        const auto not_after = to_sys(X509_get0_notAfter(c));
        const std::string role = is_leaf ? "Le certificat " : "Le certificat d'autorité ";
        if (at > not_after) {
          add(ErrorCode::CertExpire, c,
              role + name + " a expiré le " + french_date(not_after) +
                  (is_leaf ? " : faites émettre un nouveau certificat et envoyez-le."
                           : " : ajoutez au fichier PKCS#7 la version renouvelée de ce certificat d'autorité."));
        }
        if (not_before > at + skew) {
          add(ErrorCode::CertPasEncoreValide, c,
              role + name + " n'est valide qu'à partir du " + french_date(not_before) +
                  " : soumettez de nouveau la fiche à partir de cette date.");
        }
        if (std::string why = weak_key(c, policy_.min_rsa_bits); !why.empty()) {
          add(ErrorCode::CertCleFaible, c,
              role + name + " a une clé trop faible : " + why +
                  ". Générez une nouvelle clé plus forte et faites émettre un nouveau certificat.");
        }
        const bool anchor_self_signature = i + 1 == chain.size() && i > 0 && anchored && is_self_issued(c);
        if (!anchor_self_signature) {
          if (std::string md = weak_digest(c); !md.empty()) {
            add(ErrorCode::CertSignatureFaible, c,
                role + name + " est signé avec l'algorithme faible " + md + " (" +
                    OBJ_nid2ln(X509_get_signature_nid(c)) +
                    ") : faites-le émettre de nouveau avec une signature SHA-256 ou plus forte.");
          }
        }
      }

      // Warnings on the leaf.
      const auto leaf_end = to_sys(X509_get0_notAfter(leaf));
      if (at <= leaf_end && leaf_end - at <= warning_window) {
        add(ErrorCode::CertExpireBientot, leaf,
            "Le certificat " + who + " expire bientôt, le " + french_date(leaf_end) + " : préparez son renouvellement.",
            true);
      }
      if (!has_eku(leaf)) {
        add(ErrorCode::CertSansEku, leaf,
            "Le certificat " + who +
                " n'a pas d'extension d'usage étendu (extendedKeyUsage) : il est accepté pour tous les usages.",
            true);
      }
    }
  }

  // CERT_USAGE: the leaves of all bundles together cover the protocol's purposes (F23).
  if (!bundles.empty() && !some_unusable) {
    const bool need_server = pair_allowed;
    bool client = false;
    bool server = false;
    for (const auto& l : leaves) {
      client = client || usable_for_client(l.cert);
      server = server || usable_for_server(l.cert);
    }
    const std::string field = bundles.size() == 1 ? bundles.front().field : "Certificats";
    const int line = bundles.size() == 1 ? bundles.front().line : sheet.certificates_line;
    std::string names;
    for (const auto& l : leaves) names += (names.empty() ? "" : ", ") + describe(l.cert);
    auto missing = [&](const std::string& purpose, const char* eku) {
      std::string msg;
      if (leaves.empty()) {
        msg =
            "Le fichier PKCS#7 ne contient que des certificats d'autorité, aucun certificat final : il faut un "
            "certificat qui autorise " +
            purpose + " (" + eku + ") pour une fiche " + std::string(label) + ".";
      } else if (leaves.size() == 1) {
        msg = "Le certificat " + names + " n'autorise pas " + purpose + " (" + eku + "), exigée pour une fiche " +
              std::string(label) + " : faites émettre un certificat avec l'usage étendu " + eku + ".";
      } else {
        msg = "Aucun des certificats " + names + " n'autorise " + purpose + " (" + eku + "), exigée pour une fiche " +
              std::string(label) + " : faites émettre un certificat avec l'usage étendu " + eku + ".";
      }
      diags.push_back(Diagnostic::error(ErrorCode::CertUsage, field, line, std::move(msg)));
    };
    if (!client) missing("l'authentification client", "clientAuth");
    if (need_server && !server) missing("l'authentification serveur", "serverAuth");
  }
  return report;
}

}  // namespace raccord::rules
