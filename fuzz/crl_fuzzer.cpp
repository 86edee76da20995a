// libFuzzer target for the CRL reader (docs/revocation.md; docs/design.md "Reading a CRL"; issue 17):
// CrlStore::add on the input taken as a CRL file (PEM or DER), then every public question on what it
// loaded — verifies() with the key of each issuer certificate of fuzz/crl_issuers/ (those of the seeds),
// for_each_entry() and listed() — must neither crash nor hit undefined behaviour; and, DIFFERENTIAL, when
// the fast reading (entries walked in the DER) takes the file, its answers must be those of OpenSSL's whole
// reading (d2i_X509_CRL) of the same bytes: rules::internal::fast_and_openssl_agree. A disagreement aborts
// (libFuzzer keeps the reproducer; turn it into a test in tests/rules/crl_store_test.cpp). With
// RACCORD_FUZZ_TRACE set, each input says on stderr whether the fast reading took it (to check the seeds).
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "rules/crl_store.hpp"
#include "rules/crl_store_internal.hpp"

namespace {

/// The certificates of RACCORD_FUZZ_CRL_ISSUERS (PEM or DER files), read once and kept for the whole run
/// (never destroyed: still reachable for LeakSanitizer at exit).
const std::vector<const X509*>& issuers() {
  static const auto* certificates = new std::vector<const X509*>([] {
    std::vector<const X509*> out;
    for (const auto& entry : std::filesystem::directory_iterator(RACCORD_FUZZ_CRL_ISSUERS)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      X509* x = nullptr;
      if (bytes.find("-----BEGIN") != std::string::npos) {
        BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
        x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
      } else {
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        x = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()));
      }
      if (x == nullptr) std::abort();  // a broken issuer file: the fuzzer would prove less than it says
      out.push_back(x);                // kept for the whole run
    }
    if (out.empty()) std::abort();
    return out;
  }());
  return *certificates;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::vector<const X509*>& keys = issuers();

  raccord::rules::CrlStore store;
  std::string why;
  if (!store.add(bytes, "fuzz.crl", why)) {
    if (why.empty()) std::abort();  // a refusal always says why
  } else {
    if (store.size() == 0) std::abort();
    for (std::size_t i = 0; i < store.size(); ++i) {
      for (const X509* issuer : keys) store.verifies(i, issuer);
    }
    store.for_each_entry([&](std::string_view issuer, std::string_view serial) {
      if (!store.listed(issuer, serial)) std::abort();
    });
    store.take_log();
  }

  std::string difference;
  bool fast = false;
  const bool agree = raccord::rules::internal::fast_and_openssl_agree(bytes, keys, difference, &fast);
  if (std::getenv("RACCORD_FUZZ_TRACE") != nullptr) std::fprintf(stderr, "crl_fuzzer: fast path %d\n", fast);
  if (!agree) {
    std::fprintf(stderr, "crl_fuzzer: lecture rapide et lecture OpenSSL en désaccord : %s\n", difference.c_str());
    std::abort();
  }
  return 0;
}
