// Bundle decoding: the text of a <Certificat> element (base64 of a PKCS#7 in DER or PEM, or PEM text)
// into the certificates OpenSSL decoded, refusing bare certificates and private keys with a French
// message that says what to send (docs/reference.md §3.3 "Certificates", docs/field-cases.md F19). Private to rules/;
// decode_bundle, the public entry, is declared in rules/certificates.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules/openssl_ptr.hpp"

namespace raccord::rules {

/// Where a check decodes certificates (issue 7). OpenSSL 3.0's decoders take their library
/// context's locks thousands of times per certificate, so that two threads decoding in one context
/// run no faster than one: each check decodes in a context it alone uses at the time, and keeps
/// the authority certificates it decoded there (the same few CAs come in every bundle).
struct DecodingContext {
  LibCtxPtr libctx;      // null: OpenSSL's default context
  ProviderPtr provider;  // the decoding provider (decoding_provider.hpp) in libctx; unloaded before libctx is freed
  std::unordered_map<std::string, X509Ptr> authorities;  // DER -> decoded in libctx; after libctx: freed first
  std::atomic<std::uint64_t> reused{0};                  // certificates taken from `authorities`
  static constexpr std::size_t kMaxAuthorities = 64;
};

/// The decoding contexts of one CertificateChecker: one per check running at a time, made on demand
/// and kept (with their authorities) for the next checks. Thread-safe.
class DecodingContextPool {
 public:
  /// A context of the pool for one check, given back on destruction. When OpenSSL cannot make a new
  /// library context, a context of OpenSSL's default one (libctx() null).
  class Lease {
   public:
    explicit Lease(DecodingContextPool& pool);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    DecodingContext& context() const { return *context_; }
    OSSL_LIB_CTX* libctx() const { return context_->libctx.get(); }

   private:
    DecodingContextPool& pool_;
    DecodingContext* context_ = nullptr;
  };

  /// Certificates taken already decoded, over every context.
  std::uint64_t reused_authority_decodings();
  /// Forgets the authorities kept by the contexts no check is using, and zeroes their counters.
  void clear_idle();

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<DecodingContext>> contexts_;  // every context made
  std::vector<DecodingContext*> idle_;                      // those no check is using
};

/// True when `content` is empty or only spaces, tabs, CR and LF.
bool is_blank(std::string_view content);

/// decode_bundle (rules/certificates.hpp), keeping the certificates as OpenSSL decoded them (one
/// parse per certificate, never re-encoded): true with `certificates` in the bundle's order, or false
/// with `why` (French; never quotes the content) and `certificates` empty. `bare_certificates` (if not
/// null) receives the DER of bare certificates refused as such. With `decoding`, the certificates are
/// decoded in its library context and its authorities are taken from and added to its cache; without,
/// in OpenSSL's default context.
bool decode_certificates(std::string_view content, std::vector<X509Ptr>& certificates, std::string& why,
                         std::vector<std::string>* bare_certificates, DecodingContext* decoding = nullptr);

}  // namespace raccord::rules
