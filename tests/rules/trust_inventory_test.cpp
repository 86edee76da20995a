// Tests of rules/trust_inventory.cpp (issue 17; docs/revocation.md): the trust store and the chains of
// stored bundles seen by `trust audit` and `trust refresh` — only chains that verify to a trust anchor give
// authorities and CRL distribution points (a self-signed or untrusted certificate never names a URL the
// engine would fetch), revoked links of verified chains, and CRLs judged against the known authorities.
#include "rules/trust_inventory.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/dates.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::rules {
namespace {

namespace fs = std::filesystem;
using raccord::testing::CaOptions;
using raccord::testing::CrlEntry;
using raccord::testing::CrlOptions;
using raccord::testing::instant;
using raccord::testing::LeafOptions;
using raccord::testing::TestCa;
using raccord::testing::TestPki;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kNow = "2026-01-03T00:00:00Z";
constexpr const char* kRootUrl = "http://crl.exemple.fr/racine.crl";
constexpr const char* kInterUrl = "http://crl.exemple.fr/intermediaire.crl";
constexpr const char* kInterUrl2 = "https://pki.exemple.fr/intermediaire.crl";

const TestPki& pki() {
  return TestPki::instance();
}

/// An intermediate of the test root whose certificate names the root's CRL.
const TestCa& cdp_intermediate() {
  static const TestCa ca = [] {
    CaOptions o;
    o.common_name = "Raccord CDP Intermediate CA";
    o.crl_urls = {kRootUrl};
    return pki().root().issue_ca(o);
  }();
  return ca;
}

std::string bundle(const std::vector<std::string>& ders) {
  return TestPki::base64(TestPki::pkcs7_der(ders));
}

class TrustInventoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "raccord-inventory-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    pki().write_trust_dir(dir_ / "trust");
    fs::create_directories(dir_ / "crl");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string leaf_with_urls(std::vector<std::string> urls) const {
    LeafOptions o;
    o.crl_urls = std::move(urls);
    return cdp_intermediate().leaf_der(o);
  }
  std::shared_ptr<const CrlStore> crls(const std::vector<std::string>& ders) {
    for (std::size_t i = 0; i < ders.size(); ++i) {
      std::ofstream(dir_ / "crl" / ("c" + std::to_string(i) + ".crl"), std::ios::binary) << ders[i];
    }
    std::vector<std::string> log;
    return CrlStore::load(dir_ / "crl", log);
  }
  const AuthoritySummary* authority(const TrustInventory& inv, const std::string& subject) const {
    for (const auto& a : inv.authorities()) {
      if (a.certificate.subject == subject) return &a;
    }
    return nullptr;
  }
  std::size_t index_of(const TrustInventory& inv, const std::string& subject) const {
    const auto& all = inv.authorities();
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].certificate.subject == subject) return i;
    }
    ADD_FAILURE() << subject;
    return 0;
  }

  fs::path dir_;
  std::vector<std::string> log_;
};

TEST_F(TrustInventoryTest, TrustDirCertificatesAndAnchors) {
  std::ofstream(dir_ / "trust" / "autres.pem") << pki().intermediate_pem() << pki().root_pem();  // duplicate root
  std::ofstream(dir_ / "trust" / "notes.txt") << "rien";
  const TrustInventory inv(dir_ / "trust", log_);
  ASSERT_EQ(inv.trust_certificates().size(), 2u);
  const CertificateSummary& configured = inv.trust_certificates()[0];  // autres.pem: intermediate, root
  EXPECT_EQ(configured.subject, "CN=Raccord Test Intermediate CA");
  EXPECT_FALSE(configured.self_signed);
  const CertificateSummary& anchor = inv.trust_certificates()[1];
  EXPECT_EQ(anchor.subject, "CN=Raccord Test Root CA");
  EXPECT_TRUE(anchor.self_signed);
  EXPECT_TRUE(anchor.ca);
  EXPECT_EQ(anchor.not_before, instant("2020-01-01T00:00:00Z"));
  EXPECT_EQ(anchor.not_after, instant("2040-12-31T23:59:59Z"));
  EXPECT_EQ(anchor.fingerprint_sha256.size(), 64u);
  ASSERT_GE(inv.authorities().size(), 1u);
  EXPECT_TRUE(inv.authorities()[0].anchor);
  EXPECT_EQ(inv.authorities()[0].certificate.subject, "CN=Raccord Test Root CA");
  ASSERT_NE(authority(inv, "CN=Raccord Test Intermediate CA"), nullptr);  // verifies to the root
  EXPECT_FALSE(authority(inv, "CN=Raccord Test Intermediate CA")->anchor);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_THAT(log_[0], HasSubstr("notes.txt ignoré"));
}

TEST_F(TrustInventoryTest, VerifiedChainGivesAuthoritiesWithTheirDistributionPoints) {
  TrustInventory inv(dir_ / "trust", log_);
  const std::string leaf = leaf_with_urls({kInterUrl, kInterUrl2});
  const auto findings = inv.add_bundle(bundle({leaf, cdp_intermediate().der()}), true, nullptr, instant(kNow), {});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_TRUE(findings[0].verified) << findings[0].why_not;
  EXPECT_EQ(findings[0].leaf.serial, TestPki::serial_hex(leaf));
  const auto* inter = authority(inv, "CN=Raccord CDP Intermediate CA");
  const auto* root = authority(inv, "CN=Raccord Test Root CA");
  ASSERT_NE(inter, nullptr);
  ASSERT_NE(root, nullptr);
  EXPECT_THAT(inter->crl_urls, ElementsAre(kInterUrl, kInterUrl2));
  EXPECT_THAT(root->crl_urls, ElementsAre(kRootUrl));
  EXPECT_EQ(inter->live_chains, 1u);
  EXPECT_EQ(root->live_chains, 1u);
  // A second bundle of the same CA with the same URL: counted, each URL once; a draft is not live.
  (void)inv.add_bundle(bundle({leaf_with_urls({kInterUrl}), cdp_intermediate().der()}), false, nullptr, instant(kNow),
                       {});
  EXPECT_THAT(authority(inv, "CN=Raccord CDP Intermediate CA")->crl_urls, ElementsAre(kInterUrl, kInterUrl2));
  EXPECT_EQ(authority(inv, "CN=Raccord CDP Intermediate CA")->live_chains, 1u);
}

TEST_F(TrustInventoryTest, UnverifiedCertificatesNeverNameAUrl) {
  TrustInventory inv(dir_ / "trust", log_);
  const std::string metadata = "http://169.254.169.254/latest/meta-data/";
  // A self-signed leaf saved in a draft.
  LeafOptions self;
  self.self_signed = true;
  self.crl_urls = {metadata};
  auto findings = inv.add_bundle(bundle({pki().leaf_der(self)}), false, nullptr, instant(kNow), {});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_FALSE(findings[0].verified);
  // A chain to an untrusted root whose certificates name internal hosts.
  CaOptions o;
  o.common_name = "Raccord Rogue Intermediate CA";
  o.crl_urls = {"http://10.0.0.1/racine.crl"};
  const TestCa rogue = pki().other_root().issue_ca(o);
  LeafOptions l;
  l.crl_urls = {metadata};
  findings = inv.add_bundle(bundle({rogue.leaf_der(l), rogue.der(), pki().other_root().der()}), true, nullptr,
                            instant(kNow), {});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_FALSE(findings[0].verified);
  EXPECT_FALSE(findings[0].why_not.empty());
  // An impostor of the trusted root (same name, own key) does not verify either.
  const TestCa impostor_inter = pki().attacker_root().issue_ca(o);
  findings = inv.add_bundle(bundle({impostor_inter.leaf_der(l), impostor_inter.der(), pki().attacker_root().der()}),
                            true, nullptr, instant(kNow), {});
  EXPECT_FALSE(findings.at(0).verified);
  for (const auto& a : inv.authorities()) {
    for (const auto& url : a.crl_urls) {
      EXPECT_NE(url, metadata) << a.certificate.subject;
      EXPECT_THAT(url, ::testing::Not(HasSubstr("10.0.0.1"))) << a.certificate.subject;
    }
    EXPECT_EQ(a.live_chains, 0u) << a.certificate.subject;
  }
  // A bundle that cannot be decoded.
  std::string why;
  EXPECT_TRUE(inv.add_bundle("pas du base64 !", true, nullptr, instant(kNow), {}, &why).empty());
  EXPECT_FALSE(why.empty());
}

TEST_F(TrustInventoryTest, DatesDoNotMatterForTheChainsStructure) {
  TrustInventory inv(dir_ / "trust", log_);
  LeafOptions expired;
  expired.not_before = "2021-01-01T00:00:00Z";
  expired.not_after = "2022-01-01T00:00:00Z";
  const auto findings =
      inv.add_bundle(bundle({pki().expired_intermediate().leaf_der(expired), pki().expired_intermediate().der()}), true,
                     nullptr, instant(kNow), {});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_TRUE(findings[0].verified) << findings[0].why_not;
}

TEST_F(TrustInventoryTest, RevokedLinksOfVerifiedChains) {
  const std::string leaf = leaf_with_urls({kInterUrl});
  CrlOptions by_inter;
  by_inter.entries.push_back(CrlEntry{TestPki::serial_hex(leaf), "2025-07-14T00:00:00Z", 1});
  CrlOptions by_root;
  by_root.entries.push_back(CrlEntry{TestPki::serial_hex(cdp_intermediate().der()), "2025-08-01T00:00:00Z", 2});
  const auto store = crls({cdp_intermediate().crl_der(by_inter), pki().root().crl_der(by_root)});
  TrustInventory inv(dir_ / "trust", log_);
  const auto findings = inv.add_bundle(bundle({leaf, cdp_intermediate().der()}), true, store.get(), instant(kNow), {});
  ASSERT_EQ(findings.size(), 1u);
  ASSERT_EQ(findings[0].revoked.size(), 2u);
  EXPECT_EQ(findings[0].revoked[0].certificate.serial, TestPki::serial_hex(leaf));
  EXPECT_EQ(findings[0].revoked[0].issuer, "CN=Raccord CDP Intermediate CA");
  EXPECT_EQ(findings[0].revoked[0].answer.reason_code, 1);
  EXPECT_EQ(findings[0].revoked[1].certificate.subject, "CN=Raccord CDP Intermediate CA");
  EXPECT_EQ(findings[0].revoked[1].answer.revocation_date, instant("2025-08-01T00:00:00Z"));
  // A good leaf of the same CA: only the intermediate is revoked.
  const auto other = inv.add_bundle(bundle({cdp_intermediate().leaf_der(), cdp_intermediate().der()}), true,
                                    store.get(), instant(kNow), {});
  ASSERT_EQ(other.at(0).revoked.size(), 1u);
  EXPECT_EQ(other[0].revoked[0].certificate.subject, "CN=Raccord CDP Intermediate CA");
}

TEST_F(TrustInventoryTest, CurrentCrlsVerdictsAndFetchedCrls) {
  CrlOptions forged;
  forged.stranger_key = true;
  CrlOptions stale;
  stale.this_update = "2025-11-01T00:00:00Z";
  stale.next_update = "2025-11-08T00:00:00Z";
  const auto store = crls({cdp_intermediate().crl_der(), pki().root().crl_der(stale), pki().root().crl_der(forged),
                           pki().other_root().crl_der()});
  TrustInventory inv(dir_ / "trust", log_);
  // Before any bundle names it, the CDP intermediate is unknown: its CRL cannot be verified.
  EXPECT_EQ(inv.crl_verdict(*store, 0), CrlVerdict::UnknownIssuer);
  (void)inv.add_bundle(bundle({cdp_intermediate().leaf_der(), cdp_intermediate().der()}), true, nullptr, instant(kNow),
                       {});
  EXPECT_EQ(inv.crl_verdict(*store, 0), CrlVerdict::Verified);
  EXPECT_EQ(inv.crl_verdict(*store, 1), CrlVerdict::Verified);
  EXPECT_EQ(inv.crl_verdict(*store, 2), CrlVerdict::BadSignature);
  EXPECT_EQ(inv.crl_verdict(*store, 3), CrlVerdict::UnknownIssuer);
  const std::size_t inter = index_of(inv, "CN=Raccord CDP Intermediate CA");
  const std::size_t root = index_of(inv, "CN=Raccord Test Root CA");
  EXPECT_TRUE(inv.has_current_crl(inter, *store, instant(kNow), {}));
  EXPECT_FALSE(inv.has_current_crl(root, *store, instant(kNow), {}));
  ASSERT_TRUE(inv.newest_complete_crl(root, *store).has_value());
  EXPECT_EQ(inv.newest_complete_crl(root, *store)->this_update, instant("2025-11-01T00:00:00Z"));
  EXPECT_TRUE(inv.judge_fetched_crl(root, pki().root().crl_der()).accepted);
  EXPECT_FALSE(inv.judge_fetched_crl(inter, pki().root().crl_der()).accepted);
  EXPECT_NE(inv.crl_file_name(root), inv.crl_file_name(inter));
}

}  // namespace
}  // namespace raccord::rules
