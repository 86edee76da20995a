// Trust inventory (see trust_inventory.hpp; docs/revocation.md). OpenSSL 3.0 C API, private to rules/.
#include "rules/trust_inventory.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iterator>
#include <unordered_map>
#include <unordered_set>

#include "rules/certificate_facts.hpp"  // name_text, serial_hex, fingerprint, to_sys
#include "rules/certificates.hpp"       // decode_bundle

namespace raccord::rules {
namespace {

namespace fs = std::filesystem;

struct StoreFree {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
using OwnedStorePtr = std::unique_ptr<X509_STORE, StoreFree>;  // (rules/openssl_ptr.hpp's StorePtr is shared)

bool is_self_signed(X509* x) {
  const bool ok = X509_check_issued(x, x) == X509_V_OK && X509_verify(x, X509_get0_pubkey(x)) == 1;
  ERR_clear_error();
  return ok;
}

CertificateSummary summary_of(X509* x) {
  CertificateSummary s;
  s.subject = name_text(X509_get_subject_name(x));
  s.issuer = name_text(X509_get_issuer_name(x));
  s.serial = serial_hex(x);
  s.fingerprint_sha256 = fingerprint(x);
  s.not_before = to_sys(X509_get0_notBefore(x));
  s.not_after = to_sys(X509_get0_notAfter(x));
  s.self_signed = is_self_signed(x);
  s.ca = X509_check_ca(x) != 0;
  return s;
}

/// URIs of the crlDistributionPoints of `x` whose CRL is issued by `x`'s issuer (fullName, no cRLIssuer).
std::vector<std::string> distribution_points(const X509* x) {
  std::vector<std::string> out;
  int critical = 0;
  auto* points =
      static_cast<STACK_OF(DIST_POINT)*>(X509_get_ext_d2i(x, NID_crl_distribution_points, &critical, nullptr));
  if (points == nullptr) return out;
  for (int i = 0; i < sk_DIST_POINT_num(points); ++i) {
    const DIST_POINT* dp = sk_DIST_POINT_value(points, i);
    if (dp->distpoint == nullptr || dp->distpoint->type != 0 || dp->CRLissuer != nullptr) continue;
    const GENERAL_NAMES* names = dp->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, j);
      if (name->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       static_cast<std::size_t>(ASN1_STRING_length(uri)));
    }
  }
  sk_DIST_POINT_pop_free(points, DIST_POINT_free);
  return out;
}

X509Ptr decode_der(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) ERR_clear_error();
  return x;
}

}  // namespace

struct TrustInventory::Impl {
  OwnedStorePtr store{X509_STORE_new()};
  std::vector<X509Ptr> trust_certs;
  std::vector<CertificateSummary> trust_summaries;
  std::vector<X509Ptr> authority_certs;
  std::vector<AuthoritySummary> authorities;
  std::unordered_map<std::string, std::size_t> authority_by_fingerprint;

  std::size_t authority_of(X509* x, const CertificateSummary* known = nullptr) {
    const std::string fp = known != nullptr ? known->fingerprint_sha256 : fingerprint(x);
    if (auto it = authority_by_fingerprint.find(fp); it != authority_by_fingerprint.end()) return it->second;
    AuthoritySummary a;
    a.certificate = known != nullptr ? *known : summary_of(x);
    a.anchor = false;
    for (const auto& t : trust_summaries) {
      if (t.fingerprint_sha256 == fp && t.self_signed) a.anchor = true;
    }
    if (a.anchor) a.crl_urls = distribution_points(x);
    authorities.push_back(std::move(a));
    authority_certs.push_back(up_ref(x));
    authority_by_fingerprint.emplace(fp, authorities.size() - 1);
    return authorities.size() - 1;
  }

  static void add_urls(AuthoritySummary& a, const std::vector<std::string>& urls) {
    for (const auto& u : urls) {
      if (std::find(a.crl_urls.begin(), a.crl_urls.end(), u) == a.crl_urls.end()) a.crl_urls.push_back(u);
    }
  }

  /// The chain of `leaf` verified to an anchor (leaf first), or empty with `why`.
  std::vector<X509Ptr> verify(X509* leaf, STACK_OF(X509) * untrusted, std::string& why) const {
    std::vector<X509Ptr> chain;
    StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted) != 1) {
      ERR_clear_error();
      why = "vérification impossible";
      return chain;
    }
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
    X509_VERIFY_PARAM_set_auth_level(param, 0);  // the verdict does not depend on the system security level
    if (X509_verify_cert(ctx.get()) == 1) {
      STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
      for (int i = 0; i < sk_X509_num(built); ++i) chain.push_back(up_ref(sk_X509_value(built, i)));
    } else {
      why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    }
    ERR_clear_error();
    return chain;
  }

  /// Records a verified chain: each issuer an authority with the distribution points of what it issued.
  void record(const std::vector<X509Ptr>& chain, bool live, const CrlStore* crls, Instant at,
              const CrlSettings& settings, LeafFinding* finding) {
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      const std::size_t issuer = authority_of(chain[i + 1].get());
      add_urls(authorities[issuer], distribution_points(chain[i].get()));
      if (live) ++authorities[issuer].live_chains;
      if (crls != nullptr && finding != nullptr) {
        RevocationAnswer answer = crls->status(chain[i].get(), chain[i + 1].get(), at, settings);
        if (answer.status == RevocationStatus::Revoked) {
          finding->revoked.push_back(
              RevokedLink{summary_of(chain[i].get()), authorities[issuer].certificate.subject, std::move(answer)});
        }
      }
    }
  }
};

TrustInventory::TrustInventory(const fs::path& trust_dir, std::vector<std::string>& log)
    : impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  std::vector<fs::path> files;
  if (trust_dir.empty() || !fs::is_directory(trust_dir, ec)) {
    log.push_back("certificats : répertoire de confiance absent (" + trust_dir.string() + ")");
  } else {
    for (fs::directory_iterator it(trust_dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.empty() || name.front() == '.') continue;
      std::error_code sec;
      if (!fs::is_regular_file(it->status(sec))) continue;
      files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
  }
  std::unordered_set<std::string> seen;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    int count = 0;
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509Ptr cert(x);
      ++count;
      CertificateSummary s = summary_of(cert.get());
      if (!seen.insert(s.fingerprint_sha256).second) continue;
      X509_STORE_add_cert(impl_->store.get(), cert.get());
      impl_->trust_summaries.push_back(std::move(s));
      impl_->trust_certs.push_back(std::move(cert));
    }
    ERR_clear_error();
    if (count == 0) log.push_back("certificats : " + file.string() + " ignoré, aucun certificat PEM lisible");
  }
  // Anchors first, then the configured intermediates that verify to one.
  for (std::size_t i = 0; i < impl_->trust_certs.size(); ++i) {
    if (impl_->trust_summaries[i].self_signed)
      impl_->authority_of(impl_->trust_certs[i].get(), &impl_->trust_summaries[i]);
  }
  for (std::size_t i = 0; i < impl_->trust_certs.size(); ++i) {
    if (impl_->trust_summaries[i].self_signed) continue;
    std::string why;
    const auto chain = impl_->verify(impl_->trust_certs[i].get(), nullptr, why);
    if (chain.empty()) {
      log.push_back("certificats : « " + impl_->trust_summaries[i].subject +
                    " » du répertoire de confiance ne se vérifie pas jusqu'à une autorité racine (" + why + ")");
      continue;
    }
    impl_->record(chain, false, nullptr, {}, {}, nullptr);
    if (impl_->trust_summaries[i].ca) impl_->authority_of(impl_->trust_certs[i].get(), &impl_->trust_summaries[i]);
  }
}

TrustInventory::~TrustInventory() = default;

const std::vector<CertificateSummary>& TrustInventory::trust_certificates() const {
  return impl_->trust_summaries;
}

std::vector<LeafFinding> TrustInventory::add_bundle(std::string_view content, bool live, const CrlStore* crls,
                                                    Instant at, const CrlSettings& settings, std::string* why) {
  std::vector<LeafFinding> out;
  std::vector<std::string> ders;
  std::string problem;
  if (!decode_bundle(content, ders, problem)) {
    if (why != nullptr) *why = problem;
    return out;
  }
  std::vector<X509Ptr> certs;
  ShallowStackPtr untrusted(sk_X509_new_null());
  for (const auto& der : ders) {
    X509Ptr x = decode_der(der);
    if (!x) continue;
    sk_X509_push(untrusted.get(), x.get());
    certs.push_back(std::move(x));
  }
  for (const auto& cert : certs) {
    if (X509_check_ca(cert.get()) != 0) continue;  // leaves are the bundle's non-CA certificates
    LeafFinding finding;
    finding.leaf = summary_of(cert.get());
    const auto chain = impl_->verify(cert.get(), untrusted.get(), finding.why_not);
    finding.verified = !chain.empty();
    if (finding.verified) impl_->record(chain, live, crls, at, settings, &finding);
    out.push_back(std::move(finding));
  }
  return out;
}

const std::vector<AuthoritySummary>& TrustInventory::authorities() const {
  return impl_->authorities;
}

bool TrustInventory::has_current_crl(std::size_t index, const CrlStore& crls, Instant at,
                                     const CrlSettings& settings) const {
  return crls.has_current_crl(impl_->authority_certs.at(index).get(), at, settings);
}

std::optional<CrlInfo> TrustInventory::newest_complete_crl(std::size_t index, const CrlStore& crls) const {
  return crls.newest_complete_crl(impl_->authority_certs.at(index).get());
}

FetchedCrl TrustInventory::judge_fetched_crl(std::size_t index, std::string_view bytes) const {
  return rules::judge_fetched_crl(bytes, impl_->authority_certs.at(index).get());
}

std::string TrustInventory::crl_file_name(std::size_t index) const {
  return rules::crl_file_name(impl_->authority_certs.at(index).get());
}

CrlVerdict TrustInventory::crl_verdict(const CrlStore& crls, std::size_t crl_index) const {
  const std::string& issuer = crls.info(crl_index).issuer;
  bool named = false;
  auto check = [&](const CertificateSummary& s, X509* x) {
    if (s.subject != issuer) return false;
    named = true;
    return crls.verifies(crl_index, x);
  };
  for (std::size_t i = 0; i < impl_->trust_certs.size(); ++i) {
    if (check(impl_->trust_summaries[i], impl_->trust_certs[i].get())) return CrlVerdict::Verified;
  }
  for (std::size_t i = 0; i < impl_->authority_certs.size(); ++i) {
    if (check(impl_->authorities[i].certificate, impl_->authority_certs[i].get())) return CrlVerdict::Verified;
  }
  return named ? CrlVerdict::BadSignature : CrlVerdict::UnknownIssuer;
}

}  // namespace raccord::rules
