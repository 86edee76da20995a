// Ownership of OpenSSL objects for the certificate rules (rules/certificates.cpp and the files it is
// split into) and the dépôt signatures (rules/deposit_signature.cpp): a unique_ptr per OpenSSL type, freed
// by its own OpenSSL function. Private to rules/ (raccord_rules links OpenSSL privately): no public header
// includes it.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string_view>

namespace raccord::rules {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct Pkcs7Free {
  void operator()(PKCS7* p) const { PKCS7_free(p); }
};
struct CmsFree {
  void operator()(CMS_ContentInfo* p) const { CMS_ContentInfo_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct EcGroupFree {
  void operator()(EC_GROUP* p) const { EC_GROUP_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
/// A stack owning its certificates (one reference each).
struct StackFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};
/// A stack borrowing its certificates (the stack alone is freed).
struct StackShallowFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_free(p); }
};
struct LibCtxFree {
  void operator()(OSSL_LIB_CTX* p) const { OSSL_LIB_CTX_free(p); }
};
struct ProviderUnload {
  void operator()(OSSL_PROVIDER* p) const { OSSL_PROVIDER_unload(p); }
};

using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Pkcs7Free>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, CmsFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, EcGroupFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, StoreCtxFree>;
using StackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;
using ShallowStackPtr = std::unique_ptr<STACK_OF(X509), StackShallowFree>;
using LibCtxPtr = std::unique_ptr<OSSL_LIB_CTX, LibCtxFree>;
using ProviderPtr = std::unique_ptr<OSSL_PROVIDER, ProviderUnload>;
/// Shared: a store is kept by the trust state and by the proved authorities of its CA cache.
/// Made as StorePtr(X509_STORE_new(), X509_STORE_free).
using StorePtr = std::shared_ptr<X509_STORE>;

/// The bytes of `s` as OpenSSL's d2i functions read them.
inline const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

/// One more owning reference to `x` (X509_up_ref): the same object, not a copy.
inline X509Ptr up_ref(X509* x) {
  X509_up_ref(x);
  return X509Ptr(x);
}

}  // namespace raccord::rules
