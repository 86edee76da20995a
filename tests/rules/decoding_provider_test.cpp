// Tests of rules/decoding_provider.cpp (issue 21): the library contexts a check decodes certificates in offer
// only the SubjectPublicKeyInfo decoders, and every key type of the test PKI decodes there to the same key
// as in OpenSSL's default context, with the same verdicts.
#include "rules/decoding_provider.hpp"

#include <gtest/gtest.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "rules/bundle_decoding.hpp"
#include "tests/rules/certificates_fixture.hpp"

namespace raccord::rules {
namespace {

/// The decoders a context of a checker's pool offers: their property definitions.
std::vector<std::string> decoders_of(OSSL_LIB_CTX* libctx) {
  std::vector<std::string> properties;
  OSSL_DECODER_do_all_provided(
      libctx,
      [](OSSL_DECODER* decoder, void* arg) {
        static_cast<std::vector<std::string>*>(arg)->emplace_back(OSSL_DECODER_get0_properties(decoder));
      },
      &properties);
  return properties;
}

TEST(DecodingProvider, AChecksContextOffersOnlyTheSubjectPublicKeyInfoDecoders) {
  DecodingContextPool pool;
  const DecodingContextPool::Lease lease(pool);
  ASSERT_NE(lease.libctx(), nullptr);
  const std::vector<std::string> offered = decoders_of(lease.libctx());
  // The default provider's 12 (RSA, RSA-PSS, DH, DHX, DSA, EC, ED25519, ED448, X25519, X448, SM2, and
  // RSA's type-specific form); OpenSSL's default context offers about 80.
  EXPECT_GE(offered.size(), 10u);
  EXPECT_LT(offered.size(), decoders_of(nullptr).size());
  for (const std::string& p : offered) {
    EXPECT_NE(p.find("input=der"), std::string::npos) << p;
    EXPECT_NE(p.find("structure=SubjectPublicKeyInfo"), std::string::npos) << p;
  }
}

struct KeyCase {
  const char* name;
  LeafOptions leaf;
};

LeafOptions with(void (*set)(LeafOptions&)) {
  LeafOptions o;
  set(o);
  return o;
}

class DecodingProviderKeys : public CertificatesTest, public ::testing::WithParamInterface<KeyCase> {};

TEST_P(DecodingProviderKeys, LeafKeyDecodesToTheSameKeyAndVerdictAsInTheDefaultContext) {
  const std::string leaf = pki().leaf_der(GetParam().leaf);
  DecodingContextPool pool;
  const DecodingContextPool::Lease lease(pool);
  std::vector<X509Ptr> certs;
  std::string why;
  ASSERT_TRUE(decode_certificates(bundle({leaf, pki().intermediate_der()}), certs, why, nullptr, &lease.context()))
      << why;
  ASSERT_EQ(certs.size(), 2u);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(leaf.data());
  const X509Ptr plain(d2i_X509(nullptr, &p, static_cast<long>(leaf.size())));
  ASSERT_TRUE(plain);
  EVP_PKEY* key = X509_get0_pubkey(certs[0].get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(key, X509_get0_pubkey(plain.get())), 1);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_get_base_id(X509_get0_pubkey(plain.get())));
  EXPECT_EQ(EVP_PKEY_get_bits(key), EVP_PKEY_get_bits(X509_get0_pubkey(plain.get())));
  // Decoded by the decoding provider's decoder, not by the default provider's of the default context.
  ASSERT_NE(EVP_PKEY_get0_provider(key), nullptr);
  EXPECT_STREQ(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(key)), kDecodingProviderName);
  // The leaf verifies against its CA's key decoded in the same context (the signature check's input).
  EXPECT_EQ(X509_verify(certs[0].get(), X509_get0_pubkey(certs[1].get())), 1);
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, DecodingProviderKeys,
                         ::testing::Values(KeyCase{"EcP256", LeafOptions{}},
                                           KeyCase{"EcP384", with([](LeafOptions& o) { o.ec_bits = 384; })},
                                           KeyCase{"EcP224", with([](LeafOptions& o) { o.ec_bits = 224; })},
                                           KeyCase{"Rsa2048", with([](LeafOptions& o) { o.rsa_bits = 2048; })},
                                           KeyCase{"Ed25519", with([](LeafOptions& o) { o.ed25519 = true; })},
                                           KeyCase{"Dsa", with([](LeafOptions& o) { o.dsa = true; })}),
                         [](const ::testing::TestParamInfo<KeyCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace raccord::rules
