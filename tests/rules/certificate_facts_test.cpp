// Tests of rules/certificate_facts.cpp: the facts of one certificate of the test PKI.
#include "rules/certificate_facts.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

// The one PEM reader of rules/ (the CRL files, the signers file, the bundles): every block in order with
// its name and bytes, text around them ignored; the end of the text is no error, a broken block is, after
// the blocks before it; an exception of the caller leaves nothing allocated (AddressSanitizer's leak check).
TEST(ForEachPemBlock, GivesEveryBlockThenSaysWhetherTheTextEndedCleanly) {
  const std::string pem =
      "avant\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\nentre\n"
      "-----BEGIN X509 CRL-----\nAwQF\n-----END X509 CRL-----\napres\n";
  std::vector<std::pair<std::string, std::string>> seen;
  const auto collect = [&](std::string_view name, std::string_view der) { seen.emplace_back(name, der); };
  EXPECT_FALSE(for_each_pem_block(pem, collect).has_value());
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0], std::make_pair(std::string("CERTIFICATE"), std::string("\x00\x01\x02", 3)));
  EXPECT_EQ(seen[1], std::make_pair(std::string("X509 CRL"), std::string("\x03\x04\x05")));

  seen.clear();
  EXPECT_FALSE(for_each_pem_block("", collect).has_value());
  EXPECT_FALSE(for_each_pem_block("pas de PEM ici\n", collect).has_value());
  EXPECT_TRUE(seen.empty());

  for (const std::string broken :
       {"-----BEGIN X509 CRL-----\nA*EC\n-----END X509 CRL-----\n", "-----BEGIN X509 CRL-----\nAwQF\n"}) {
    SCOPED_TRACE(broken);
    seen.clear();
    const auto failed = for_each_pem_block(pem + broken, collect);
    ASSERT_TRUE(failed.has_value());
    EXPECT_FALSE(failed->empty());
    EXPECT_EQ(seen.size(), 2U);
  }
  EXPECT_THROW(for_each_pem_block(pem, [](std::string_view, std::string_view) { throw std::runtime_error("x"); }),
               std::runtime_error);
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

// The DER element reader and header writer shared by the CRL reader and the signature's lighter decoding:
// every length form written is read back; what they do not follow is refused, never misread.
TEST(ReadTlv, ReadsBackEveryHeaderFormAndRefusesWhatItDoesNotFollow) {
  for (std::size_t length : {0UL, 1UL, 127UL, 128UL, 255UL, 256UL, 65535UL, 65536UL}) {
    SCOPED_TRACE(length);
    const std::string der = der_header(0x30, length) + std::string(length, '\x05');
    const auto t = read_tlv(der, 0, der.size());
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->tag, 0x30);
    EXPECT_EQ(t->length, length);
    EXPECT_EQ(t->content(), der.size() - length);
    EXPECT_EQ(t->end(), der.size());
    EXPECT_EQ(t->header, length < 0x80 ? 2U : length < 0x100 ? 3U : length < 0x10000 ? 4U : 5U);
    EXPECT_FALSE(read_tlv(der, 0, der.size() - 1).has_value());  // runs past the limit
  }
  EXPECT_FALSE(read_tlv(std::string("\x1F\x01\x00", 3), 0, 3).has_value());                  // multi-byte tag
  EXPECT_FALSE(read_tlv(std::string("\x30\x80\x00\x00", 4), 0, 4).has_value());              // indefinite (BER)
  EXPECT_FALSE(read_tlv(std::string("\x30\x85\x00\x00\x00\x00\x01", 7), 0, 7).has_value());  // 5 length bytes
  EXPECT_FALSE(read_tlv(std::string("\x30", 1), 0, 1).has_value());                          // no length
}

}  // namespace
}  // namespace raccord::rules
