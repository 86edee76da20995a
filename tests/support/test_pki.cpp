// Test PKI with the OpenSSL 3 C API (see test_pki.hpp).
#include "tests/support/test_pki.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>

#include "domain/civil_date.hpp"

namespace raccord::testing {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void fail(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = {};
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  throw std::runtime_error("test PKI: " + what + ": " + buf);
}

void check(int ok, const char* what) {
  if (ok <= 0) fail(what);
}

PkeyPtr new_ec_key(int bits = 256) {
  const char* curve = bits == 384 ? "P-384" : bits == 224 ? "P-224" : "P-256";
  PkeyPtr key(EVP_EC_gen(curve));
  if (!key) fail("EC key generation");
  return key;
}

/// RSA keys are slow to make: one per size and per process, shared (up-ref'd).
PkeyPtr rsa_key(int bits) {
  static std::mutex mutex;
  static std::map<int, PkeyPtr> keys;
  std::lock_guard lock(mutex);
  auto& slot = keys[bits];
  if (!slot) {
    slot.reset(EVP_RSA_gen(static_cast<unsigned int>(bits)));
    if (!slot) fail("RSA key generation");
  }
  EVP_PKEY_up_ref(slot.get());
  return PkeyPtr(slot.get());
}

/// DSA keys (2048 bits) are slower still: one per process, shared (up-ref'd).
PkeyPtr dsa_key() {
  static std::mutex mutex;
  static PkeyPtr key;
  std::lock_guard lock(mutex);
  if (!key) {
    EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr);
    EVP_PKEY* params = nullptr;
    if (pctx == nullptr || EVP_PKEY_paramgen_init(pctx) <= 0 || EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx, 2048) <= 0 ||
        EVP_PKEY_paramgen(pctx, &params) <= 0) {
      EVP_PKEY_CTX_free(pctx);
      fail("DSA parameter generation");
    }
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_from_pkey(nullptr, params, nullptr);
    EVP_PKEY* generated = nullptr;
    const bool ok = kctx != nullptr && EVP_PKEY_keygen_init(kctx) > 0 && EVP_PKEY_keygen(kctx, &generated) > 0;
    EVP_PKEY_CTX_free(kctx);
    EVP_PKEY_free(params);
    if (!ok) fail("DSA key generation");
    key.reset(generated);
  }
  EVP_PKEY_up_ref(key.get());
  return PkeyPtr(key.get());
}

PkeyPtr new_key(const LeafOptions& o) {
  if (o.dsa) return dsa_key();
  if (o.ed25519) {
    PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) fail("Ed25519 key generation");
    return key;
  }
  if (o.rsa_bits > 0) return rsa_key(o.rsa_bits);
  return new_ec_key(o.ec_bits);
}

std::string der_of(X509* x) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(x, &buf);
  if (len <= 0) fail("i2d_X509");
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return out;
}

X509Ptr x509_of(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) fail("d2i_X509");
  return x;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

void set_time(X509* x, const std::string& iso, bool not_before) {
  auto instant = parse_iso_instant(iso);
  if (!instant) throw std::runtime_error("test PKI: bad instant " + iso);
  auto t = static_cast<time_t>(instant->time_since_epoch().count());
  ASN1_TIME* asn = ASN1_TIME_set(nullptr, t);
  if (asn == nullptr) fail("ASN1_TIME_set");
  int ok = not_before ? X509_set1_notBefore(x, asn) : X509_set1_notAfter(x, asn);
  ASN1_TIME_free(asn);
  check(ok, "set validity");
}

void add_ext(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) fail(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  check(X509_add_ext(x, ext, -1), "X509_add_ext");
  X509_EXTENSION_free(ext);
}

struct CertSpec {
  std::string common_name;
  std::string not_before;
  std::string not_after;
  std::string digest;
  bool ca = false;
  bool eku = false;
  bool client_auth = false;
  bool server_auth = false;
  bool authority_key_id = true;
  std::vector<std::string> crl_urls;
  bool basic_constraints_critical = true;
  bool subject_key_id = true;
  bool key_cert_sign = false;             // on a non-CA
  std::string ca_eku;                     // extendedKeyUsage of a CA
  bool ca_key_cert_sign = true;           // false: a CA whose keyUsage lacks keyCertSign
  std::string serial_hex;                 // empty: random
  std::vector<int> malformed_extensions;  // NIDs whose extnValue is "malformed" (not DER)
};

/// Builds and signs one certificate. `issuer`/`issuer_key` null: self-signed with `key`.
X509Ptr make_cert(const CertSpec& s, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr x(X509_new());
  check(X509_set_version(x.get(), 2), "X509_set_version");
  BIGNUM* bn = BN_new();
  if (s.serial_hex.empty()) {
    check(BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ODD), "BN_rand");
  } else {
    check(BN_hex2bn(&bn, s.serial_hex.c_str()), "BN_hex2bn");
  }
  ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
  BN_free(bn);
  check(X509_set_serialNumber(x.get(), serial), "serial");
  ASN1_INTEGER_free(serial);

  X509_NAME* name = X509_get_subject_name(x.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(s.common_name.c_str()), -1, -1, 0),
        "subject CN");
  check(X509_set_issuer_name(x.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name), "issuer name");
  set_time(x.get(), s.not_before, true);
  set_time(x.get(), s.not_after, false);
  check(X509_set_pubkey(x.get(), key), "X509_set_pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x.get(), x.get(), nullptr, nullptr, 0);
  add_ext(x.get(), &ctx, NID_basic_constraints,
          s.ca ? (s.basic_constraints_critical ? "critical,CA:TRUE" : "CA:TRUE") : "critical,CA:FALSE");
  bool rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
  std::string key_usage =
      s.ca ? (s.ca_key_cert_sign ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,cRLSign")
           : (rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
  if (!s.ca && s.key_cert_sign) key_usage += ",keyCertSign";
  add_ext(x.get(), &ctx, NID_key_usage, key_usage.c_str());
  if (s.ca && !s.ca_eku.empty()) add_ext(x.get(), &ctx, NID_ext_key_usage, s.ca_eku.c_str());
  if (s.eku) {
    std::string value;
    if (s.client_auth) value = "clientAuth";
    if (s.server_auth) value += value.empty() ? "serverAuth" : ",serverAuth";
    if (value.empty()) value = "codeSigning";
    add_ext(x.get(), &ctx, NID_ext_key_usage, value.c_str());
  }
  if (s.subject_key_id) add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash");
  if (s.authority_key_id) add_ext(x.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (!s.crl_urls.empty()) {
    std::string value;
    for (const auto& url : s.crl_urls) value += (value.empty() ? "URI:" : ",URI:") + url;
    add_ext(x.get(), &ctx, NID_crl_distribution_points, value.c_str());
  }
  for (const int nid : s.malformed_extensions) {
    static constexpr std::string_view kMalformed = "malformed";
    ASN1_OCTET_STRING* bytes = ASN1_OCTET_STRING_new();
    check(ASN1_OCTET_STRING_set(bytes, reinterpret_cast<const unsigned char*>(kMalformed.data()),
                                static_cast<int>(kMalformed.size())),
          "ASN1_OCTET_STRING_set");
    X509_EXTENSION* ext = X509_EXTENSION_create_by_NID(nullptr, nid, 0, bytes);
    ASN1_OCTET_STRING_free(bytes);
    check(ext != nullptr ? 1 : 0, "X509_EXTENSION_create_by_NID");
    const int added = X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
    check(added, "X509_add_ext");
  }

  EVP_PKEY* signer = issuer_key != nullptr ? issuer_key : key;
  const EVP_MD* md = nullptr;
  if (EVP_PKEY_get_base_id(signer) != EVP_PKEY_ED25519) {
    md = EVP_get_digestbyname(s.digest.c_str());
    if (md == nullptr) throw std::runtime_error("test PKI: unknown digest " + s.digest);
  }
  if (X509_sign(x.get(), signer, md) <= 0) fail("X509_sign");
  return x;
}

/// Serialises signing with a shared CA key (EVP_PKEY use from several threads).
std::mutex& sign_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

struct TestCa::State {
  PkeyPtr key;
  X509Ptr cert;
  std::string der;
  std::string subject;
};

namespace {

std::shared_ptr<TestCa::State> make_state(PkeyPtr key, X509Ptr cert, const std::string& cn) {
  auto st = std::make_shared<TestCa::State>();
  st->der = der_of(cert.get());
  st->key = std::move(key);
  st->cert = std::move(cert);
  st->subject = "CN=" + cn;
  return st;
}

CertSpec ca_spec(const CaOptions& o) {
  CertSpec spec;
  spec.common_name = o.common_name;
  spec.not_before = o.not_before;
  spec.not_after = o.not_after;
  spec.digest = o.digest;
  spec.ca = true;
  spec.authority_key_id = o.authority_key_id;
  spec.crl_urls = o.crl_urls;
  spec.basic_constraints_critical = o.basic_constraints_critical;
  spec.subject_key_id = o.subject_key_id;
  spec.ca_eku = o.eku;
  spec.ca_key_cert_sign = o.key_cert_sign;
  return spec;
}

/// A CA's new key: DSA when options.dsa, else EC P-256.
PkeyPtr new_ca_key(const CaOptions& o) {
  if (o.dsa) return dsa_key();
  return new_ec_key();
}

}  // namespace

TestCa TestCa::self_signed(const CaOptions& options) {
  PkeyPtr key = new_ca_key(options);
  X509Ptr cert = make_cert(ca_spec(options), key.get(), nullptr, nullptr);
  return TestCa(make_state(std::move(key), std::move(cert), options.common_name));
}

TestCa TestCa::issue_ca(const CaOptions& options) const {
  PkeyPtr key = new_ca_key(options);
  X509Ptr cert;
  {
    std::lock_guard lock(sign_mutex());
    cert = make_cert(ca_spec(options), key.get(), state_->cert.get(), state_->key.get());
  }
  return TestCa(make_state(std::move(key), std::move(cert), options.common_name));
}

namespace {

/// This CA's key, up-referenced (a second certificate of the same CA).
PkeyPtr same_key(const TestCa::State& ca) {
  if (EVP_PKEY_up_ref(ca.key.get()) != 1) fail("EVP_PKEY_up_ref");
  return PkeyPtr(ca.key.get());
}

/// options with this CA's common name (the subject of a second certificate of the same CA).
CaOptions same_name(const TestCa::State& ca, CaOptions options) {
  options.common_name = ca.subject.substr(3);  // "CN=..."
  return options;
}

}  // namespace

TestCa TestCa::cross_signed_by(const TestCa& issuer, const CaOptions& options) const {
  CaOptions o = same_name(*state_, options);
  PkeyPtr key = same_key(*state_);
  X509Ptr cert;
  {
    std::lock_guard lock(sign_mutex());
    cert = make_cert(ca_spec(o), key.get(), issuer.state_->cert.get(), issuer.state_->key.get());
  }
  return TestCa(make_state(std::move(key), std::move(cert), o.common_name));
}

TestCa TestCa::self_signed_copy(const CaOptions& options) const {
  CaOptions o = same_name(*state_, options);
  PkeyPtr key = same_key(*state_);
  X509Ptr cert;
  {
    std::lock_guard lock(sign_mutex());
    cert = make_cert(ca_spec(o), key.get(), nullptr, nullptr);
  }
  return TestCa(make_state(std::move(key), std::move(cert), o.common_name));
}

namespace {

struct Leaf {
  PkeyPtr key;
  X509Ptr cert;
};

Leaf make_leaf(const TestCa::State& ca, const LeafOptions& o) {
  PkeyPtr key = new_key(o);
  CertSpec spec;
  spec.common_name = o.common_name;
  spec.not_before = o.not_before;
  spec.not_after = o.not_after;
  spec.digest = o.digest;
  spec.ca = o.ca;
  spec.eku = o.eku;
  spec.client_auth = o.client_auth;
  spec.server_auth = o.server_auth;
  spec.authority_key_id = o.authority_key_id;
  spec.crl_urls = o.crl_urls;
  spec.subject_key_id = o.subject_key_id;
  spec.key_cert_sign = o.key_cert_sign;
  spec.serial_hex = o.serial_hex;
  spec.malformed_extensions = o.malformed_extensions;
  X509Ptr cert;
  if (o.self_signed) {
    cert = make_cert(spec, key.get(), nullptr, nullptr);
  } else {
    std::lock_guard lock(sign_mutex());
    cert = make_cert(spec, key.get(), ca.cert.get(), ca.key.get());
  }
  return Leaf{std::move(key), std::move(cert)};
}

}  // namespace

std::string TestCa::leaf_der(const LeafOptions& options) const {
  return der_of(make_leaf(*state_, options).cert.get());
}

struct TestSigner::State {
  PkeyPtr key;
  X509Ptr cert;
  std::string der;
};

TestSigner TestCa::signer(const LeafOptions& options) const {
  Leaf leaf = make_leaf(*state_, options);
  auto st = std::make_shared<TestSigner::State>();
  st->der = der_of(leaf.cert.get());
  st->key = std::move(leaf.key);
  st->cert = std::move(leaf.cert);
  return TestSigner(std::move(st));
}

std::string TestCa::der() const {
  return state_->der;
}

std::string TestCa::pem() const {
  return TestPki::certificates_pem({state_->der});
}

const std::string& TestCa::subject() const {
  return state_->subject;
}

TestPki::TestPki()
    : root_(TestCa::self_signed({"Raccord Test Root CA"})),
      intermediate_(root_.issue_ca({"Raccord Test Intermediate CA"})),
      other_root_(TestCa::self_signed({"Raccord Other Root CA"})),
      other_intermediate_(other_root_.issue_ca({"Raccord Other Intermediate CA"})),
      attacker_root_(TestCa::self_signed({"Raccord Test Root CA"})),
      expired_intermediate_(
          root_.issue_ca({"Raccord Expired Intermediate CA", "2020-01-01T00:00:00Z", "2024-12-31T23:59:59Z"})),
      future_intermediate_(
          root_.issue_ca({"Raccord Future Intermediate CA", "2031-01-01T00:00:00Z", "2040-12-31T23:59:59Z"})),
      sha1_intermediate_(
          root_.issue_ca({"Raccord SHA1 Intermediate CA", "2020-01-01T00:00:00Z", "2040-12-31T23:59:59Z", "sha1"})),
      sha1_root_(TestCa::self_signed({"Raccord SHA1 Root CA", "2020-01-01T00:00:00Z", "2040-12-31T23:59:59Z", "sha1"})),
      sha1_root_intermediate_(sha1_root_.issue_ca({"Raccord SHA1 Root Intermediate CA"})) {}

const TestPki& TestPki::instance() {
  static const TestPki pki;
  return pki;
}

std::string TestPki::root_der() const {
  return root_.der();
}
std::string TestPki::root_pem() const {
  return root_.pem();
}
std::string TestPki::intermediate_der() const {
  return intermediate_.der();
}
std::string TestPki::intermediate_pem() const {
  return intermediate_.pem();
}
std::string TestPki::leaf_der(const LeafOptions& options) const {
  return intermediate_.leaf_der(options);
}

TestSigner TestPki::signer(const LeafOptions& options) const {
  return intermediate_.signer(options);
}

void TestPki::write_trust_dir(const std::filesystem::path& dir) const {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / "root.pem", std::ios::binary | std::ios::trunc);
  out << root_pem();
  if (!out) throw std::runtime_error("test PKI: cannot write " + (dir / "root.pem").string());
  out.close();
  // What decides trust is writable by its owner alone (docs/accounts.md), whatever the umask of the test run.
  namespace fs = std::filesystem;
  fs::permissions(dir, fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove);
  fs::permissions(dir / "root.pem", fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove);
}

namespace {

struct Pkcs7Free {
  void operator()(PKCS7* p) const { PKCS7_free(p); }
};

std::unique_ptr<PKCS7, Pkcs7Free> make_pkcs7(const std::vector<std::string>& ders) {
  std::unique_ptr<PKCS7, Pkcs7Free> p7(PKCS7_new());
  check(PKCS7_set_type(p7.get(), NID_pkcs7_signed), "PKCS7_set_type");
  check(PKCS7_content_new(p7.get(), NID_pkcs7_data), "PKCS7_content_new");
  for (const auto& der : ders) {
    X509Ptr x = x509_of(der);
    check(PKCS7_add_certificate(p7.get(), x.get()), "PKCS7_add_certificate");
  }
  return p7;
}

}  // namespace

std::string TestPki::pkcs7_der(const std::vector<std::string>& der_certificates) {
  auto p7 = make_pkcs7(der_certificates);
  unsigned char* buf = nullptr;
  int len = i2d_PKCS7(p7.get(), &buf);
  if (len <= 0) fail("i2d_PKCS7");
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return out;
}

std::string TestPki::pkcs7_pem(const std::vector<std::string>& der_certificates) {
  auto p7 = make_pkcs7(der_certificates);
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PKCS7(bio.get(), p7.get()), "PEM_write_bio_PKCS7");
  return bio_text(bio.get());
}

std::string TestPki::base64(std::string_view bytes) {
  std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  encoded.resize(static_cast<std::size_t>(n));
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); i += 64) {
    out += encoded.substr(i, 64);
    out += '\n';
  }
  return out;
}

std::string TestPki::bundle_base64(const LeafOptions& options) const {
  return base64(pkcs7_der({leaf_der(options), intermediate_der()}));
}

std::string TestPki::certificates_pem(const std::vector<std::string>& der_certificates) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  for (const auto& der : der_certificates) {
    X509Ptr x = x509_of(der);
    check(PEM_write_bio_X509(bio.get(), x.get()), "PEM_write_bio_X509");
  }
  return bio_text(bio.get());
}

std::string TestPki::private_key_pem() {
  PkeyPtr key = new_ec_key();
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr), "PEM private key");
  return bio_text(bio.get());
}

std::string TestPki::private_key_der() {
  PkeyPtr key = new_ec_key();
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(i2d_PKCS8PrivateKey_bio(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr), "PKCS#8 DER");
  return bio_text(bio.get());
}

std::string TestPki::pkcs12_der(const LeafOptions& options) const {
  Leaf leaf = make_leaf(*intermediate_.state_, options);
  X509Ptr inter = x509_of(intermediate_der());
  STACK_OF(X509)* chain = sk_X509_new_null();
  sk_X509_push(chain, inter.get());
  PKCS12* p12 = PKCS12_create("test", "leaf", leaf.key.get(), leaf.cert.get(), chain, 0, 0, 0, 0, 0);
  sk_X509_free(chain);
  if (p12 == nullptr) fail("PKCS12_create");
  unsigned char* buf = nullptr;
  int len = i2d_PKCS12(p12, &buf);
  PKCS12_free(p12);
  if (len <= 0) fail("i2d_PKCS12");
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return out;
}

// ---------------------------------------------------------------------------------------------
// CRLs (issue 17).

namespace {

struct CrlFree {
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
};
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;

struct Asn1TimeFree {
  void operator()(ASN1_TIME* p) const { ASN1_TIME_free(p); }
};
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Asn1TimeFree>;

struct Asn1IntegerFree {
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
};
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Asn1IntegerFree>;

Asn1TimePtr asn1_time(const std::string& iso) {
  auto instant = parse_iso_instant(iso);
  if (!instant) throw std::runtime_error("test PKI: bad instant " + iso);
  Asn1TimePtr t(ASN1_TIME_set(nullptr, static_cast<time_t>(instant->time_since_epoch().count())));
  if (!t) fail("ASN1_TIME_set");
  return t;
}

Asn1IntegerPtr asn1_integer_of_hex(const std::string& hex) {
  BIGNUM* bn = nullptr;
  if (BN_hex2bn(&bn, hex.c_str()) == 0) throw std::runtime_error("test PKI: bad serial " + hex);
  Asn1IntegerPtr n(BN_to_ASN1_INTEGER(bn, nullptr));
  BN_free(bn);
  if (!n) fail("BN_to_ASN1_INTEGER");
  return n;
}

Asn1IntegerPtr asn1_integer(long value) {
  Asn1IntegerPtr n(ASN1_INTEGER_new());
  if (!n) fail("ASN1_INTEGER_new");
  check(ASN1_INTEGER_set(n.get(), value), "ASN1_INTEGER_set");
  return n;
}

void add_revoked(X509_CRL* crl, ASN1_INTEGER* serial, const ASN1_TIME* when, int reason, int second_reason = -1) {
  X509_REVOKED* r = X509_REVOKED_new();
  if (r == nullptr) fail("X509_REVOKED_new");
  check(X509_REVOKED_set_serialNumber(r, serial), "X509_REVOKED_set_serialNumber");
  check(X509_REVOKED_set_revocationDate(r, const_cast<ASN1_TIME*>(when)), "X509_REVOKED_set_revocationDate");
  if (reason >= 0) {
    ASN1_ENUMERATED* e = ASN1_ENUMERATED_new();
    check(ASN1_ENUMERATED_set(e, reason), "ASN1_ENUMERATED_set");
    const int ok = X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
    ASN1_ENUMERATED_free(e);
    check(ok, "CRL reason");
  }
  if (second_reason >= 0) {
    ASN1_ENUMERATED* e = ASN1_ENUMERATED_new();
    check(ASN1_ENUMERATED_set(e, second_reason), "ASN1_ENUMERATED_set");
    const int ok = X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, X509V3_ADD_APPEND);
    ASN1_ENUMERATED_free(e);
    check(ok, "second CRL reason");
  }
  check(X509_CRL_add0_revoked(crl, r), "X509_CRL_add0_revoked");
}

/// A key that no CA of the test PKI has (badly signed CRLs), made once per process.
EVP_PKEY* stranger_key() {
  static PkeyPtr key = new_ec_key();
  return key.get();
}

}  // namespace

std::string TestCa::crl_der(const CrlOptions& o) const {
  CrlPtr crl(X509_CRL_new());
  if (!crl) fail("X509_CRL_new");
  check(X509_CRL_set_version(crl.get(), 1), "X509_CRL_set_version");  // v2
  check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(state_->cert.get())), "CRL issuer");
  check(X509_CRL_set1_lastUpdate(crl.get(), asn1_time(o.this_update).get()), "thisUpdate");
  if (!o.next_update.empty()) check(X509_CRL_set1_nextUpdate(crl.get(), asn1_time(o.next_update).get()), "nextUpdate");
  for (const auto& e : o.entries) {
    add_revoked(crl.get(), asn1_integer_of_hex(e.serial_hex).get(), asn1_time(e.revoked_at).get(), e.reason,
                e.second_reason);
  }
  if (o.filler_entries > 0) {
    Asn1TimePtr when = asn1_time("2025-03-01T00:00:00Z");
    for (std::size_t i = 0; i < o.filler_entries; ++i) {
      add_revoked(crl.get(), asn1_integer(0x7F000000L + static_cast<long>(i)).get(), when.get(), 4);
    }
  }
  check(X509_CRL_sort(crl.get()), "X509_CRL_sort");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, state_->cert.get(), nullptr, nullptr, crl.get(), 0);
  auto add_crl_ext = [&](X509_EXTENSION* ext, const char* what) {
    if (ext == nullptr) fail(what);
    const int ok = X509_CRL_add_ext(crl.get(), ext, -1);
    X509_EXTENSION_free(ext);
    check(ok, what);
  };
  add_crl_ext(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"), "CRL AKID");
  if (o.crl_number >= 0)
    check(X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, asn1_integer(o.crl_number).get(), 0, 0), "cRLNumber");
  if (o.delta_base >= 0) {
    check(X509_CRL_add1_ext_i2d(crl.get(), NID_delta_crl, asn1_integer(o.delta_base).get(), 1, 0), "deltaCRLIndicator");
  }
  if (!o.idp_uri.empty()) {
    ISSUING_DIST_POINT* idp = ISSUING_DIST_POINT_new();
    idp->distpoint = DIST_POINT_NAME_new();
    idp->distpoint->type = 0;  // fullName
    idp->distpoint->name.fullname = GENERAL_NAMES_new();
    GENERAL_NAME* uri = a2i_GENERAL_NAME(nullptr, nullptr, nullptr, GEN_URI, o.idp_uri.c_str(), 0);
    if (uri == nullptr) fail("IDP URI");
    sk_GENERAL_NAME_push(idp->distpoint->name.fullname, uri);
    const int ok = X509_CRL_add1_ext_i2d(crl.get(), NID_issuing_distribution_point, idp, 1, 0);
    ISSUING_DIST_POINT_free(idp);
    check(ok, "CRL IDP");
  }
  if (o.unknown_critical_extension) {
    ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.55555.1", 1);
    ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
    static const unsigned char kNull[] = {0x05, 0x00};
    check(ASN1_OCTET_STRING_set(data, kNull, sizeof kNull), "ASN1_OCTET_STRING_set");
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, 1, data);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(data);
    add_crl_ext(ext, "unknown critical CRL extension");
  }
  const EVP_MD* md = EVP_get_digestbyname(o.digest.c_str());
  if (md == nullptr) throw std::runtime_error("test PKI: unknown digest " + o.digest);
  {
    std::lock_guard lock(sign_mutex());
    if (X509_CRL_sign(crl.get(), o.stranger_key ? stranger_key() : state_->key.get(), md) <= 0) fail("X509_CRL_sign");
  }
  unsigned char* buf = nullptr;
  const int len = i2d_X509_CRL(crl.get(), &buf);
  if (len <= 0) fail("i2d_X509_CRL");
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return out;
}

std::string TestPki::serial_hex(const std::string& der_certificate) {
  X509Ptr x = x509_of(der_certificate);
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x.get()), nullptr);
  if (bn == nullptr) fail("ASN1_INTEGER_to_BN");
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::string TestPki::crl_pem(const std::vector<std::string>& der_crls) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  for (const auto& der : der_crls) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    if (!crl) fail("d2i_X509_CRL");
    check(PEM_write_bio_X509_CRL(bio.get(), crl.get()), "PEM_write_bio_X509_CRL");
  }
  return bio_text(bio.get());
}

// ---------------------------------------------------------------------------------------------
// Detached CMS signatures (issue 16).

namespace {

struct CmsFree {
  void operator()(CMS_ContentInfo* p) const { CMS_ContentInfo_free(p); }
};
using CmsPtr = std::unique_ptr<CMS_ContentInfo, CmsFree>;

/// Adds the signer of `st` to `cms`, with `options.signing_time` as signingTime.
void add_signer(CMS_ContentInfo* cms, const TestSigner::State& st, const CmsOptions& o) {
  unsigned int flags = CMS_PARTIAL | CMS_BINARY;
  if (!o.embed_certificate) flags |= CMS_NOCERTS;
  if (!o.signed_attributes) flags |= CMS_NOATTR;
  CMS_SignerInfo* si = CMS_add1_signer(cms, st.cert.get(), st.key.get(), EVP_sha256(), flags);
  if (si == nullptr) fail("CMS_add1_signer");
  if (o.signed_attributes) {
    auto instant = parse_iso_instant(o.signing_time);
    if (!instant) throw std::runtime_error("test PKI: bad instant " + o.signing_time);
    ASN1_TIME* t = ASN1_TIME_set(nullptr, static_cast<time_t>(instant->time_since_epoch().count()));
    if (t == nullptr) fail("ASN1_TIME_set");
    const int ok = CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1);
    ASN1_TIME_free(t);
    check(ok, "signingTime");
  }
}

/// Replaces the ECDSA value (r, s) of the first SignerInfo of `cms` by (r, n - s), n the order of the key
/// of `st`: the other value that verifies (ECDSA's malleability).
void use_other_ecdsa_form(CMS_ContentInfo* cms, const TestSigner::State& st) {
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
  ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(si);
  const unsigned char* p = ASN1_STRING_get0_data(value);
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, ASN1_STRING_length(value));
  if (sig == nullptr) fail("d2i_ECDSA_SIG (not an EC signer?)");
  char group[80] = {};
  std::size_t len = 0;
  check(EVP_PKEY_get_utf8_string_param(st.key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len),
        "EC group name");
  EC_GROUP* g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(group));
  if (g == nullptr) fail("EC_GROUP_new_by_curve_name");
  BIGNUM* r = BN_dup(ECDSA_SIG_get0_r(sig));
  BIGNUM* s = BN_new();
  check(BN_sub(s, EC_GROUP_get0_order(g), ECDSA_SIG_get0_s(sig)), "BN_sub");
  EC_GROUP_free(g);
  check(ECDSA_SIG_set0(sig, r, s), "ECDSA_SIG_set0");
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_len <= 0) fail("i2d_ECDSA_SIG");
  const int ok = ASN1_OCTET_STRING_set(value, der, der_len);
  OPENSSL_free(der);
  check(ok, "ASN1_OCTET_STRING_set");
}

}  // namespace

std::string TestSigner::der() const {
  return state_->der;
}

std::string TestSigner::pem() const {
  return TestPki::certificates_pem({state_->der});
}

std::string TestSigner::key_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), state_->key.get(), nullptr, nullptr, 0, nullptr, nullptr),
        "PEM private key");
  return bio_text(bio.get());
}

std::string TestSigner::other_ecdsa_form(std::string_view der_signature) const {
  const auto* p = reinterpret_cast<const unsigned char*>(der_signature.data());
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der_signature.size())));
  if (!cms) fail("d2i_CMS_ContentInfo");
  use_other_ecdsa_form(cms.get(), *state_);
  BioPtr out(BIO_new(BIO_s_mem()));
  check(i2d_CMS_bio(out.get(), cms.get()), "i2d_CMS_bio");
  return bio_text(out.get());
}

std::string TestSigner::sign(std::string_view bytes, const CmsOptions& o) const {
  unsigned int flags = CMS_PARTIAL | CMS_BINARY;
  if (!o.attached) flags |= CMS_DETACHED;
  CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  if (!cms) fail("CMS_sign");
  add_signer(cms.get(), *state_, o);
  if (o.second_signer != nullptr) add_signer(cms.get(), *o.second_signer->state_, o);
  BioPtr data(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  check(CMS_final(cms.get(), data.get(), nullptr, CMS_BINARY), "CMS_final");
  BioPtr out(BIO_new(BIO_s_mem()));
  if (o.pem) {
    check(PEM_write_bio_CMS_stream(out.get(), cms.get(), nullptr, 0), "PEM_write_bio_CMS_stream");
  } else {
    check(i2d_CMS_bio(out.get(), cms.get()), "i2d_CMS_bio");
  }
  return bio_text(out.get());
}

}  // namespace raccord::testing
