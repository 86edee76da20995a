// The facts of one certificate (docs/reference.md §3.3; docs/toolchain.md #11-15; docs/field-cases.md F23) with OpenSSL
// 3.
#include "rules/certificate_facts.hpp"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <ctime>

#include "rules/certificates.hpp"

namespace raccord::rules {
namespace {

std::string hex_upper(const unsigned char* data, unsigned int len) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(std::size_t{len} * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0x0F]);
  }
  return out;
}

bool has_flag(X509* x, uint32_t flag) {
  return (X509_get_extension_flags(x) & flag) != 0;
}

}  // namespace

X509Ptr parse_x509(std::string_view der) {
  const unsigned char* p = bytes_of(der);
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (x && p != bytes_of(der) + der.size()) x.reset();
  ERR_clear_error();
  return x;
}

std::optional<std::string> for_each_pem_block(std::string_view pem,
                                              const std::function<void(std::string_view, std::string_view)>& block) {
  if (pem.size() > INT_MAX) return std::string("texte PEM trop volumineux");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return std::string("mémoire épuisée");
  struct Freed {
    void operator()(void* p) const { OPENSSL_free(p); }
  };
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    const int read = PEM_read_bio(bio.get(), &name, &header, &data, &len);
    const std::unique_ptr<char, Freed> owned_name(name);
    const std::unique_ptr<char, Freed> owned_header(header);
    const std::unique_ptr<unsigned char, Freed> owned_data(data);
    if (read != 1) {
      const unsigned long e = ERR_peek_last_error();
      if (e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
        ERR_clear_error();
        return std::nullopt;  // no block further
      }
      char reason[256] = {};
      ERR_error_string_n(e, reason, sizeof reason);
      ERR_clear_error();
      return std::string(reason);
    }
    block(name, std::string_view(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len)));
  }
}

std::optional<Tlv> read_tlv(std::string_view der, std::size_t pos, std::size_t limit) {
  if (pos + 2 > limit) return std::nullopt;
  Tlv t;
  t.start = pos;
  t.tag = static_cast<unsigned char>(der[pos]);
  if ((t.tag & 0x1F) == 0x1F) return std::nullopt;
  const auto first = static_cast<unsigned char>(der[pos + 1]);
  if (first < 0x80) {
    t.header = 2;
    t.length = first;
  } else {
    const std::size_t bytes = first & 0x7F;
    if (bytes == 0 || bytes > 4 || pos + 2 + bytes > limit) return std::nullopt;
    std::size_t length = 0;
    for (std::size_t i = 0; i < bytes; ++i) length = (length << 8) | static_cast<unsigned char>(der[pos + 2 + i]);
    t.header = 2 + bytes;
    t.length = length;
  }
  if (t.length > limit - pos - t.header) return std::nullopt;
  return t;
}

std::string der_header(unsigned char tag, std::size_t length) {
  std::string h(1, static_cast<char>(tag));
  if (length < 0x80) {
    h += static_cast<char>(length);
    return h;
  }
  std::string bytes;
  for (std::size_t n = length; n != 0; n >>= 8) bytes.insert(bytes.begin(), static_cast<char>(n & 0xFF));
  h += static_cast<char>(0x80 | bytes.size());
  return h + bytes;
}

std::string der_of(X509* x) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(x, &buf);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return out;
}

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

std::string serial_hex(const X509* x) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  if (bn == nullptr) return {};
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::string fingerprint(const X509* x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(x, EVP_sha256(), md, &len) != 1) return {};
  return hex_upper(md, len);
}

std::chrono::sys_seconds to_sys(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  using namespace std::chrono;
  sys_days day{year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
               std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
  return sys_seconds{day} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
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

bool is_self_issued(X509* x) {
  bool yes = X509_self_signed(x, 0) == 1;
  ERR_clear_error();
  return yes;
}

bool usable_for_client(X509* x) {
  return X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0) == 1;
}

bool usable_for_server(X509* x) {
  return X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) == 1;
}

bool has_constraints(X509* x) {
  for (int nid : {NID_name_constraints, NID_policy_constraints, NID_inhibit_any_policy, NID_policy_mappings}) {
    if (X509_get_ext_by_NID(x, nid, -1) >= 0) return true;
  }
  return false;
}

CertificateFacts facts_of(X509* x) {
  CertificateFacts f;
  f.subject = name_text(X509_get_subject_name(x));
  f.subject_cn = common_name(X509_get_subject_name(x));
  f.issuer = name_text(X509_get_issuer_name(x));
  f.serial = serial_hex(x);
  f.not_before = not_before(x);
  f.not_after = not_after(x);
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

std::string describe(X509* x) {
  std::string cn = common_name(X509_get_subject_name(x));
  std::string who = cn.empty() ? name_text(X509_get_subject_name(x)) : "CN=" + cn;
  return "« " + who + " » (n° de série " + serial_hex(x) + ")";
}

bool read_certificate_facts(std::string_view der, CertificateFacts& facts) {
  X509Ptr x = parse_x509(der);
  if (!x) return false;
  facts = facts_of(x.get());
  return true;
}

}  // namespace raccord::rules
