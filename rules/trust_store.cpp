// The trust store and its cache of proved authorities (docs/reference.md §3.3; docs/toolchain.md #12; issue 3).
#include "rules/trust_store.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "rules/certificate_facts.hpp"
#include "rules/input_file.hpp"

namespace raccord::rules {
namespace {

int count_certificates(X509_STORE* store) {
  int n = 0;
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objects, i)) == X509_LU_X509) ++n;
  }
  return n;
}

/// Adds the certificates (and CRLs) of the PEM text `pem` to `store`, as X509_STORE_load_file does
/// with a file (X509_load_cert_crl_file), but from bytes read by read_input_file: a read error is
/// then the machine's failure, never "no certificate in this file" (issue 20). Returns 1 when
/// something was added, else 0 (OpenSSL's error queue says why).
int load_pem(X509_STORE* store, const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return 0;
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr);
  if (infos == nullptr) return 0;
  int count = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
    X509_INFO* info = sk_X509_INFO_value(infos, i);
    if (info->x509 != nullptr && X509_STORE_add_cert(store, info->x509) == 1) ++count;
    if (info->crl != nullptr && X509_STORE_add_crl(store, info->crl) == 1) ++count;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  return count > 0 ? 1 : 0;
}

}  // namespace

std::shared_ptr<const ProvedAuthority> AuthorityCache::find(const std::string& ca) const {
  std::shared_lock lock(mutex_);
  auto it = proved_.find(ca);
  return it == proved_.end() ? nullptr : it->second;
}

void AuthorityCache::add(std::shared_ptr<const ProvedAuthority> proved) {
  std::unique_lock lock(mutex_);
  proved_.emplace(proved->fingerprints.front(), std::move(proved));
}

std::size_t AuthorityCache::size() const {
  std::shared_lock lock(mutex_);
  return proved_.size();
}

std::vector<std::shared_ptr<const ProvedAuthority>> AuthorityCache::all() const {
  std::shared_lock lock(mutex_);
  std::vector<std::shared_ptr<const ProvedAuthority>> out;
  out.reserve(proved_.size());
  for (const auto& [fingerprint, proved] : proved_) out.push_back(proved);
  return out;
}

void AuthorityCache::clear() {
  std::unique_lock lock(mutex_);
  proved_.clear();
}

LoadedTrustStore load_trust_store(const std::filesystem::path& dir) {
  StorePtr store(X509_STORE_new(), X509_STORE_free);
  std::vector<TrustStoreNote> lines;
  const auto problem = [&lines](std::string text) { lines.push_back(TrustStoreNote{true, std::move(text)}); };
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  const bool is_dir = !dir.empty() && std::filesystem::is_directory(dir, ec);
  // Absent (ENOENT, ENOTDIR) is no error; a directory that is there and cannot be read is.
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
    throw std::system_error(ec, "lecture impossible du répertoire de confiance " + dir.string());
  }
  if (!is_dir) {
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
    if (ec) throw std::system_error(ec, "lecture impossible du répertoire de confiance " + dir.string());
    std::sort(files.begin(), files.end());
  }
  for (const auto& file : files) {
    const std::optional<std::string> pem = read_input_file(file);  // throws on a read error
    if (!pem) {
      problem("certificats : " + file.string() + " disparu pendant la lecture du répertoire, ignoré");
      continue;
    }
    int before = count_certificates(store.get());
    int ok = load_pem(store.get(), *pem);
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
  LoadedTrustStore loaded;
  loaded.anchors = count_certificates(store.get());
  if (loaded.anchors == 0 && !files.empty()) {
    problem("certificats : le répertoire de confiance " + dir.string() + " ne contient aucun certificat");
  } else if (files.empty() && std::filesystem::is_directory(dir, ec)) {
    problem("certificats : le répertoire de confiance " + dir.string() + " est vide");
  }
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
  loaded.state = std::move(trust);
  loaded.log = std::move(lines);
  return loaded;
}

}  // namespace raccord::rules
