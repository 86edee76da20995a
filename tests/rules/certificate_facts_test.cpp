// Tests of rules/certificate_facts.cpp: the facts of one certificate of the test PKI.
#include "rules/certificate_facts.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/rules/certificates_fixture.hpp"

namespace raccord::rules {
namespace {

TEST(ReadCertificateFacts, ReadsEveryFact) {
  LeafOptions o;
  o.server_auth = true;
  std::string der = pki().leaf_der(o);
  CertificateFacts f;
  ASSERT_TRUE(read_certificate_facts(der, f));
  EXPECT_EQ(f.subject, "CN=client.exemple.fr");
  EXPECT_EQ(f.subject_cn, "client.exemple.fr");
  EXPECT_EQ(f.issuer, "CN=Raccord Test Intermediate CA");
  EXPECT_EQ(f.not_before, instant("2025-01-01T00:00:00Z"));
  EXPECT_EQ(f.not_after, instant("2030-12-31T23:59:59Z"));
  EXPECT_EQ(f.fingerprint_sha256.size(), 64u);
  EXPECT_EQ(f.fingerprint_sha256.find_first_not_of("0123456789ABCDEF"), std::string::npos);
  EXPECT_FALSE(f.serial.empty());
  EXPECT_EQ(f.serial.find_first_not_of("0123456789ABCDEF"), std::string::npos);
  EXPECT_FALSE(f.is_ca);
  EXPECT_FALSE(f.self_signed);
  EXPECT_TRUE(f.has_eku);
  EXPECT_TRUE(f.client_auth);
  EXPECT_TRUE(f.server_auth);
  EXPECT_EQ(f.key_type, "EC");
  EXPECT_EQ(f.key_bits, 256);
  EXPECT_EQ(f.signature_algorithm, "ecdsa-with-SHA256");

  CertificateFacts root;
  ASSERT_TRUE(read_certificate_facts(pki().root_der(), root));
  EXPECT_TRUE(root.is_ca);
  EXPECT_TRUE(root.self_signed);
  EXPECT_FALSE(read_certificate_facts("pas un certificat", root));
}

TEST(CertificateFacts, OneCertificateAndHowMessagesNameIt) {
  const std::string der = pki().leaf_der();
  const X509Ptr x = parse_x509(der);
  ASSERT_TRUE(x);
  const CertificateFacts f = facts_of(x.get());
  EXPECT_EQ(describe(x.get()), "« CN=client.exemple.fr » (n° de série " + f.serial + ")");
  EXPECT_EQ(der_of(x.get()), der);
  EXPECT_EQ(not_before(x.get()), instant("2025-01-01T00:00:00Z"));
  EXPECT_EQ(not_after(x.get()), instant("2030-12-31T23:59:59Z"));
  EXPECT_FALSE(has_constraints(x.get()));
  // Exactly one certificate, nothing after it.
  EXPECT_FALSE(parse_x509(der + "x"));
  EXPECT_FALSE(parse_x509(der.substr(0, der.size() - 1)));
  EXPECT_FALSE(parse_x509(""));
}

}  // namespace
}  // namespace raccord::rules
