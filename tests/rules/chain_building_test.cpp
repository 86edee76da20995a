// Tests of rules/chain_building.cpp: the chain of a leaf whatever the order of its bundle and the
// candidates it holds (docs/field-cases.md F20, RFC 4158), and the CA cache (issue 3), through
// CertificateChecker::check.
#include "rules/chain_building.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "rules/bundle_decoding.hpp"
#include "rules/certificate_facts.hpp"
#include "rules/trust_store.hpp"
#include "tests/rules/certificates_fixture.hpp"

namespace raccord::rules {
namespace {

// ---------------------------------------------------------------------------------------------
// F20: order of the bundle

TEST_F(CertificatesTest, F20OrderDoesNotMatter) {
  std::string leaf = pki().leaf_der();
  std::string inter = pki().intermediate_der();
  std::string root = pki().root_der();
  std::string fp;
  for (const auto& order : std::vector<std::vector<std::string>>{
           {leaf, inter, root}, {root, inter, leaf}, {inter, root, leaf}, {inter, leaf}}) {
    auto r = check({bundle(order)});
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
    auto it = std::find_if(r.certificates.begin(), r.certificates.end(), [](auto& f) { return !f.is_ca; });
    ASSERT_NE(it, r.certificates.end());
    if (fp.empty()) fp = it->fingerprint_sha256;
    EXPECT_EQ(it->fingerprint_sha256, fp);
  }
}

TEST_F(CertificatesTest, F20UnrelatedCaCertificateIsIgnored) {
  auto r = check({bundle({pki().other_root().der(), pki().leaf_der(), pki().intermediate_der()})});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(r.certificates.size(), 3u);
}

// F20 with several issuer candidates: a CA shipped both cross-signed by the trusted root and
// self-signed (same name, same key), renewed CA certificates, namesakes with other keys, loops.
// Every order of the bundle gives the same verdict and the same chain (docs/design.md, "Chain
// building").

/// Every order of `certs` (n! bundles).
std::vector<std::vector<std::string>> every_order(std::vector<std::string> certs) {
  std::vector<std::size_t> index(certs.size());
  for (std::size_t i = 0; i < index.size(); ++i) index[i] = i;
  std::vector<std::vector<std::string>> out;
  do {
    std::vector<std::string> order;
    order.reserve(index.size());
    for (std::size_t i : index) order.push_back(certs[i]);
    out.push_back(std::move(order));
  } while (std::next_permutation(index.begin(), index.end()));
  return out;
}

std::string fingerprint_of(const std::string& der) {
  CertificateFacts facts;
  EXPECT_TRUE(read_certificate_facts(der, facts));
  return facts.fingerprint_sha256;
}

/// The verdict of a report in a form that does not depend on the bundle's order: error and warning
/// codes with their messages, and the chains (end, missing issuer, fingerprints, trust-store marks).
std::string order_free_verdict(const CertificateReport& r) {
  std::string out = dump(r);
  for (const auto& c : r.chains) {
    out += "chain end=" + std::to_string(static_cast<int>(c.end)) + " " + c.missing_issuer + ":";
    for (const auto& l : c.links) out += " " + l.fingerprint_sha256 + (l.from_trust_store ? "*" : "");
    out += "\n";
  }
  return out;
}

/// "CN=Raccord Cross CA", issued by the trusted root; its other forms are made from it by the tests.
const raccord::testing::TestCa& cross_ca() {
  static const raccord::testing::TestCa ca = pki().root().issue_ca({"Raccord Cross CA"});
  return ca;
}

class ChainBuildingTest : public CertificatesTest {
 protected:
  /// Checks every order of `certs` on a fresh checker (cold) and on the shared one (warm after the
  /// first orders), expects the same verdict for all, and returns it with the first order's report.
  static CertificateReport same_for_every_order(const std::vector<std::string>& certs, Instant at = kNow) {
    CertificatePolicy policy;
    policy.trust_dir = *trust_dir_;
    CertificateChecker cold(policy);
    CertificateReport first;
    std::string reference;
    for (const auto& order : every_order(certs)) {
      cold.clear_cache();
      auto r = cold.check(sheet_with({bundle(order)}), Protocol::Sftp, at, true);
      auto warm = checker_->check(sheet_with({bundle(order)}), Protocol::Sftp, at, true);
      const std::string verdict = order_free_verdict(r);
      EXPECT_EQ(order_free_verdict(warm), verdict) << "cache";
      if (reference.empty()) {
        reference = verdict;
        first = std::move(r);
      } else {
        EXPECT_EQ(verdict, reference) << "l'ordre du lot change le verdict";
      }
    }
    return first;
  }

  static std::vector<std::string> chain_fingerprints(const CertificateReport& r) {
    std::vector<std::string> out;
    if (r.chains.size() != 1) return out;
    for (const auto& l : r.chains[0].links) out.push_back(l.fingerprint_sha256);
    return out;
  }
};

TEST_F(ChainBuildingTest, F20CrossSignedCaShippedWithItsSelfSignedFormIsAnchoredInEveryOrder) {
  const auto& ca = cross_ca();
  const auto self = ca.self_signed_copy();
  const std::string leaf = ca.leaf_der();
  // The issue's two orders first: [leaf, CA by root, CA self-signed] and the order pyca/cryptography writes.
  for (const auto& order :
       {std::vector<std::string>{leaf, ca.der(), self.der()}, std::vector<std::string>{leaf, self.der(), ca.der()}}) {
    auto r = check({bundle(order)});
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  }
  // The shared checker has proved the CA on a plain bundle: the warm checks cannot take its cache.
  ASSERT_TRUE(check({bundle({ca.leaf_der(), ca.der()})}).diagnostics.empty());
  auto r = same_for_every_order({leaf, ca.der(), self.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  ASSERT_EQ(r.chains.size(), 1u);
  EXPECT_EQ(r.chains[0].end, ChainEnd::Anchored);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                             fingerprint_of(pki().root_der())}));
  EXPECT_TRUE(r.chains[0].links[2].from_trust_store);
  // The same with a copy of the trusted root in the bundle: the trust store's root ends the chain.
  r = same_for_every_order({leaf, ca.der(), self.der(), pki().root_der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                             fingerprint_of(pki().root_der())}));
}

TEST_F(ChainBuildingTest, F20WithoutAPathToAnAnchorTheCodeIsTheSameInEveryOrder) {
  const auto& ca = cross_ca();
  const auto self = ca.self_signed_copy();
  const auto by_other = ca.cross_signed_by(pki().other_root());  // its issuer is in neither bundle nor store
  const std::string leaf = ca.leaf_der();
  // Only the self-signed form: the chain reaches an untrusted root.
  auto r = same_for_every_order({leaf, self.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
  // Self-signed form and a form whose issuer is missing: the path complete in the bundle is reported
  // (CERT_AUTORITE_NON_RECONNUE before CERT_CHAINE_INCOMPLETE, as the precedence orders them).
  r = same_for_every_order({leaf, by_other.der(), self.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(self.der())}));
  // Only the form whose issuer is missing: CERT_CHAINE_INCOMPLETE naming that issuer.
  r = same_for_every_order({leaf, by_other.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertChaineIncomplete}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("« CN=Raccord Other Root CA »"), std::string::npos) << dump(r);
  // The three forms: the anchored one wins.
  r = same_for_every_order({leaf, by_other.der(), self.der(), ca.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                             fingerprint_of(pki().root_der())}));
}

TEST_F(ChainBuildingTest, F20ValidCaCertificateIsPreferredToAnExpiredOne) {
  const auto& ca = cross_ca();
  const auto old = ca.cross_signed_by(pki().root(), {"", "2020-01-01T00:00:00Z", "2024-12-31T23:59:59Z"});
  const auto self = ca.self_signed_copy();
  const std::string leaf = ca.leaf_der();
  auto r = same_for_every_order({leaf, old.der(), ca.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                             fingerprint_of(pki().root_der())}));
  r = same_for_every_order({leaf, old.der(), ca.der(), self.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  // Only an expired path reaches the anchor, beside an untrusted self-signed form: the anchored path is
  // kept and its expired CA is reported (the sender is told to add the renewed CA certificate).
  r = same_for_every_order({leaf, old.der(), self.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertExpire}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("Le certificat d'autorité « CN=Raccord Cross CA »"), std::string::npos)
      << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(old.der()),
                                                             fingerprint_of(pki().root_der())}));
}

TEST_F(ChainBuildingTest, F20NamesakeWithAnotherKeyIsNotTakenForTheIssuer) {
  // A leaf without authorityKeyIdentifier: every CA named like its issuer is a candidate.
  const auto& ca = cross_ca();
  LeafOptions o;
  o.authority_key_id = false;
  const std::string leaf = ca.leaf_der(o);
  const auto namesake_by_root = pki().root().issue_ca({"Raccord Cross CA"});  // same name, other key, anchored
  const auto namesake_self = raccord::testing::TestCa::self_signed({"Raccord Cross CA"});
  for (const auto* namesake : {&namesake_by_root, &namesake_self}) {
    auto r = same_for_every_order({leaf, namesake->der(), ca.der()});
    // The leaf lacks its authorityKeyIdentifier: an RFC 5280 profile defect, the only finding.
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertNonConforme}) << dump(r);
    EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                               fingerprint_of(pki().root_der())}));
  }
  // Only the namesake: its signature does not verify the leaf, whatever the order.
  auto r = same_for_every_order({leaf, namesake_by_root.der()});
  EXPECT_EQ(error_codes(r), (Codes{ErrorCode::CertAutoriteNonReconnue, ErrorCode::CertNonConforme})) << dump(r);
}

// why_anchor_refused: the trust store holds an authority named like the leaf's issuer, but it cannot have
// issued the leaf. Each reason gives its own message, naming the trust store's authority, and the partner
// is never asked to add a certificate the trust store holds (docs/reference.md §4, issue 17).
TEST_F(ChainBuildingTest, AnAnchorRefusedIsExplainedAndNeverAskedFor) {
  using raccord::testing::TestCa;
  const std::string name = "Raccord Refused Anchor CA";
  const TestCa issuer = TestCa::self_signed({name});
  LeafOptions without_aki;
  without_aki.authority_key_id = false;
  CaOptions no_cert_sign{name};
  no_cert_sign.key_cert_sign = false;
  const TestCa signing_only = TestCa::self_signed(no_cert_sign);
  struct Case {
    std::string what;
    std::string anchor_pem;  // the trust store's authority of that name
    std::string leaf_der;
    std::string reason;  // in the message
  };
  const std::vector<Case> cases{
      {"another key, named by the leaf's authorityKeyIdentifier", TestCa::self_signed({name}).pem(), issuer.leaf_der(),
       "l'identifiant d'autorité (authorityKeyIdentifier) du certificat désigne une autre clé"},
      {"another key, the leaf without authorityKeyIdentifier", TestCa::self_signed({name}).pem(),
       issuer.leaf_der(without_aki), "la signature du certificat ne se vérifie pas avec sa clé"},
      {"the right key, but keyUsage without keyCertSign", signing_only.pem(), signing_only.leaf_der(),
       "son usage de clé (keyUsage) n'autorise pas la signature de certificats (keyCertSign)"},
  };
  std::vector<std::string> reasons;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const auto dir = temp_dir("refused");
    write_file(dir / "anchor.pem", c.anchor_pem);
    CertificatePolicy policy;
    policy.trust_dir = dir;
    const CertificateChecker checker(policy);
    const auto r = checker.check(sheet_with({bundle({c.leaf_der})}), Protocol::Sftp, kNow);
    const Diagnostic* refused = nullptr;
    for (const auto& d : r.diagnostics) {
      if (d.code == ErrorCode::CertAutoriteNonReconnue && refused == nullptr) refused = &d;
      EXPECT_NE(d.code, ErrorCode::CertChaineIncomplete) << dump(r);
      EXPECT_EQ(d.message.find("Ajoutez"), std::string::npos) << d.message;
    }
    ASSERT_NE(refused, nullptr) << dump(r);
    EXPECT_NE(refused->message.find(c.reason), std::string::npos) << refused->message;
    EXPECT_NE(refused->message.find("« CN=" + name + " » du magasin de confiance de raccord a été trouvée"),
              std::string::npos)
        << refused->message;
    const auto at = refused->message.find(" : ", refused->message.find("a été trouvée"));
    reasons.push_back(at == std::string::npos ? std::string() : refused->message.substr(at));
    std::filesystem::remove_all(dir);
  }
  // Each reason its own message.
  std::sort(reasons.begin(), reasons.end());
  EXPECT_EQ(std::unique(reasons.begin(), reasons.end()), reasons.end());
  // A leaf whose issuer is absent from the trust store: then, and only then, the issuer is asked for.
  const auto r = check({bundle({issuer.leaf_der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertChaineIncomplete}) << dump(r);
}

TEST_F(ChainBuildingTest, F20LoopsEndAndAPathOutOfThemIsFound) {
  // A issues the leaf; A is issued by B and B by A (cross-certified), neither trusted.
  const auto a = raccord::testing::TestCa::self_signed({"Raccord Loop A CA"});
  const auto b = a.issue_ca({"Raccord Loop B CA"});
  const auto a_by_b = a.cross_signed_by(b);
  const std::string leaf = a.leaf_der();
  auto r = same_for_every_order({leaf, a_by_b.der(), b.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertChaineIncomplete}) << dump(r);
  // With A's self-signed certificate: an untrusted root.
  r = same_for_every_order({leaf, a_by_b.der(), b.der(), a.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
  // B also cross-signed by the trusted root: the way out of the loop reaches the anchor (5 certificates,
  // 120 orders).
  const auto b_by_root = b.cross_signed_by(pki().root());
  r = same_for_every_order({leaf, a_by_b.der(), b.der(), a.der(), b_by_root.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(chain_fingerprints(r),
            (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(a_by_b.der()),
                                      fingerprint_of(b_by_root.der()), fingerprint_of(pki().root_der())}));
}

TEST_F(ChainBuildingTest, F20PrecedenceStaysWithSeveralCandidates) {
  // A self-signed leaf is CERT_AUTOSIGNE alone, whatever else the bundle holds.
  const auto& ca = cross_ca();
  LeafOptions self_leaf;
  self_leaf.self_signed = true;
  auto r = same_for_every_order({ca.leaf_der(self_leaf), ca.der(), ca.self_signed_copy().der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutosigne}) << dump(r);
}

TEST_F(ChainBuildingTest, F20ManyNamesakesAreSearchedInBoundedTime) {
  // 60 self-signed namesakes of the leaf's CA (other keys) around the real one: the leaf has no
  // authorityKeyIdentifier, so all 61 are candidates; the one whose signature verifies is found.
  const auto& ca = cross_ca();
  LeafOptions o;
  o.authority_key_id = false;
  const std::string leaf = ca.leaf_der(o);
  std::vector<std::string> certs{leaf};
  for (int i = 0; i < 60; ++i) certs.push_back(raccord::testing::TestCa::self_signed({"Raccord Cross CA"}).der());
  certs.push_back(ca.der());
  std::vector<std::string> reversed(certs.rbegin(), certs.rend());
  for (const auto& order : {certs, reversed}) {
    auto r = checker_->check(sheet_with({bundle(order)}), Protocol::Sftp, kNow, true);
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertNonConforme}) << dump(r);  // no authorityKeyIdentifier
    ASSERT_EQ(r.chains.size(), 1u);
    ASSERT_EQ(r.chains[0].links.size(), 3u);
    EXPECT_EQ(r.chains[0].links[1].fingerprint_sha256, fingerprint_of(ca.der()));
  }
}

// ---------------------------------------------------------------------------------------------
// CA cache (issue 3): a CA proved once is not verified again; verdicts identical cold and warm.

/// Everything a verdict says (code, severity, field, line, message), and the chains built.
std::string full_verdict(const CertificateReport& r) {
  std::string out = dump(r);
  for (const auto& d : r.diagnostics) out += d.is_error() ? "E" : "W";
  for (const auto& c : r.chains) {
    out += "\nchain " + std::to_string(c.bundle_index) + " end=" + std::to_string(static_cast<int>(c.end)) + " " +
           c.missing_issuer + ":";
    for (const auto& l : c.links) out += " " + l.fingerprint_sha256 + (l.from_trust_store ? "*" : "");
  }
  return out;
}

struct CacheCase {
  std::string name;
  SheetOperation sheet;
  Protocol protocol;
  Instant at;
};

std::vector<CacheCase> cache_cases() {
  const auto& inter = pki().intermediate();
  const auto& expired = pki().expired_intermediate();
  const auto& sha1 = pki().sha1_intermediate();
  LeafOptions old_leaf;  // valid 2024-01-01..2030: under the expired intermediate, fine in 2024 only
  old_leaf.not_before = "2024-01-01T00:00:00Z";
  LeafOptions expired_leaf;
  expired_leaf.not_before = "2024-01-01T00:00:00Z";
  expired_leaf.not_after = "2025-12-31T23:59:59Z";
  LeafOptions server;
  server.client_auth = false;
  server.server_auth = true;
  LeafOptions weak;
  weak.rsa_bits = 1024;
  const Instant in_2024 = instant("2024-06-01T00:00:00Z");
  std::string leaf = inter.leaf_der();
  const auto& cross = cross_ca();
  const auto cross_self = cross.self_signed_copy();
  const auto cross_old = cross.cross_signed_by(pki().root(), {"", "2020-01-01T00:00:00Z", "2024-12-31T23:59:59Z"});
  const std::string cross_leaf = cross.leaf_der();
  std::vector<CacheCase> cases{
      {"valide", sheet_with({bundle({leaf, inter.der()})}), Protocol::Sftp, kNow},
      {"valide_ordre_inverse", sheet_with({bundle({pki().root_der(), inter.der(), leaf})}), Protocol::Sftp, kNow},
      {"autre_feuille", sheet_with({bundle({inter.leaf_der(), inter.der()})}), Protocol::Sftp, kNow},
      {"feuille_expiree", sheet_with({bundle({inter.leaf_der(expired_leaf), inter.der()})}), Protocol::Sftp, kNow},
      {"serveur_seul", sheet_with({bundle({inter.leaf_der(server), inter.der()})}), Protocol::Sftp, kNow},
      {"rsa_1024", sheet_with({bundle({pki().leaf_der(weak), inter.der()})}), Protocol::Sftp, kNow},
      {"feuille_seule", sheet_with({bundle({leaf})}), Protocol::Sftp, kNow},
      {"intermediaire_expire_2024", sheet_with({bundle({expired.leaf_der(old_leaf), expired.der()})}), Protocol::Sftp,
       in_2024},
      {"intermediaire_expire_2026", sheet_with({bundle({expired.leaf_der(old_leaf), expired.der()})}), Protocol::Sftp,
       kNow},
      {"intermediaire_futur",
       sheet_with({bundle({pki().future_intermediate().leaf_der(), pki().future_intermediate().der()})}),
       Protocol::Sftp, kNow},
      {"intermediaire_sha1", sheet_with({bundle({sha1.leaf_der(), sha1.der()})}), Protocol::Sftp, kNow},
      {"racine_attaquante", sheet_with({bundle({pki().attacker_root().leaf_der(), pki().attacker_root().der()})}),
       Protocol::Sftp, kNow},
      {"intermediaire_et_racine_attaquante", sheet_with({bundle({leaf, inter.der(), pki().attacker_root().der()})}),
       Protocol::Sftp, kNow},
      {"racine_inconnue",
       sheet_with({bundle(
           {pki().other_intermediate().leaf_der(), pki().other_intermediate().der(), pki().other_root().der()})}),
       Protocol::Sftp, kNow},
      {"deux_feuilles", sheet_with({bundle({leaf, inter.leaf_der(server), inter.der()})}), Protocol::Pesit, kNow},
      // F20: several certificates of one CA (the cache must not serve a chain the bundle makes ambiguous).
      {"ca_croisee_seule", sheet_with({bundle({cross_leaf, cross.der()})}), Protocol::Sftp, kNow},
      {"ca_croisee_et_autosignee", sheet_with({bundle({cross_leaf, cross_self.der(), cross.der()})}), Protocol::Sftp,
       kNow},
      {"ca_autosignee_racine_et_croisee",
       sheet_with({bundle({cross_self.der(), pki().root_der(), cross_leaf, cross.der()})}), Protocol::Sftp, kNow},
      {"ca_autosignee_seule", sheet_with({bundle({cross_leaf, cross_self.der()})}), Protocol::Sftp, kNow},
      {"ca_ancienne_et_renouvelee", sheet_with({bundle({cross_leaf, cross_old.der(), cross.der()})}), Protocol::Sftp,
       kNow},
      {"ca_ancienne_et_autosignee", sheet_with({bundle({cross_leaf, cross_old.der(), cross_self.der()})}),
       Protocol::Sftp, kNow},
  };
  return cases;
}

TEST_F(CertificatesTest, CacheGivesTheSameVerdictAsAFullVerification) {
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  CertificateChecker checker(policy);
  auto cases = cache_cases();
  // Cold: every case on an empty cache.
  std::vector<std::string> cold;
  for (const auto& c : cases) {
    checker.clear_cache();
    cold.push_back(full_verdict(checker.check(c.sheet, c.protocol, c.at, true)));
  }
  // Warm: after each case proved its authorities (at its own instant), every case again.
  std::uint64_t cached = 0;
  for (const auto& warm_up : cases) {
    checker.clear_cache();
    checker.check(warm_up.sheet, warm_up.protocol, warm_up.at);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      EXPECT_EQ(full_verdict(checker.check(cases[i].sheet, cases[i].protocol, cases[i].at, true)), cold[i])
          << "après " << warm_up.name << " : " << cases[i].name;
    }
    cached += checker.cache_stats().cached_verifications;
  }
  EXPECT_GT(cached, 0u);  // the warm path did run
}

TEST_F(CertificatesTest, ExpiredIntermediateProvedEarlierStillFails) {
  const auto& expired = pki().expired_intermediate();
  LeafOptions o;
  o.not_before = "2024-01-01T00:00:00Z";
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  CertificateChecker checker(policy);
  auto r = checker.check(sheet_with({bundle({expired.leaf_der(o), expired.der()})}), Protocol::Sftp,
                         instant("2024-06-01T00:00:00Z"));
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(checker.cache_stats().proved_authorities, 1u);
  // The intermediate was proved in 2024; in 2026 the cache serves it and it has expired.
  r = checker.check(sheet_with({bundle({expired.leaf_der(o), expired.der()})}), Protocol::Sftp, kNow);
  EXPECT_EQ(checker.cache_stats().cached_verifications, 1u);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertExpire}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=Raccord Expired Intermediate CA"), std::string::npos);
}

TEST_F(CertificatesTest, OneChainVerificationForManyLeavesUnderOneCa) {
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  CertificateChecker checker(policy);
  constexpr int kLeaves = 40;
  for (int i = 0; i < kLeaves; ++i) {
    LeafOptions o;
    o.common_name = "client" + std::to_string(i) + ".exemple.fr";
    auto r = checker.check(sheet_with({pki().bundle_base64(o)}), Protocol::Sftp, kNow);
    ASSERT_TRUE(r.diagnostics.empty()) << dump(r);
  }
  auto stats = checker.cache_stats();
  EXPECT_EQ(stats.full_verifications, 1u);
  EXPECT_EQ(stats.cached_verifications, static_cast<std::uint64_t>(kLeaves - 1));
  EXPECT_EQ(stats.proved_authorities, 1u);
  // A leaf whose chain does not verify proves nothing and is always verified in full.
  checker.clear_cache();
  for (int i = 0; i < 3; ++i) checker.check(sheet_with({bundle({pki().leaf_der()})}), Protocol::Sftp, kNow);
  EXPECT_EQ(checker.cache_stats().full_verifications, 3u);
  EXPECT_EQ(checker.cache_stats().proved_authorities, 0u);
}

// ---------------------------------------------------------------------------------------------
// build_chain: the path a check walks, each certificate followed by the one that issued it.

/// The certificates of a bundle of `ders`, decoded as a check decodes them, with their fingerprints.
struct DecodedBundle {
  std::vector<X509Ptr> certs;
  std::vector<std::string> fingerprints;
  BundleView view() const { return {&certs, &fingerprints}; }
};

DecodedBundle decoded_bundle(const std::vector<std::string>& ders) {
  DecodedBundle out;
  std::string why;
  EXPECT_TRUE(decode_certificates(bundle(ders), out.certs, why, nullptr)) << why;
  for (const auto& c : out.certs) out.fingerprints.push_back(fingerprint(c.get()));
  return out;
}

constexpr std::chrono::seconds kSkew{300};

TEST_F(CertificatesTest, BuiltPathGivesTheIssuerOfEachCertificate) {
  const LoadedTrustStore trust = load_trust_store(*trust_dir_);
  const DecodedBundle b = decoded_bundle({pki().intermediate_der(), pki().leaf_der()});
  X509* leaf = b.certs[1].get();
  ChainCounters counters;
  for (int pass = 0; pass < 2; ++pass) {  // built in full, then through the CA cache: the same path
    const BuiltChain chain = build_chain(leaf, b.view(), *trust.state, kNow, kSkew, nullptr, counters);
    EXPECT_EQ(chain.end, ChainEnd::Anchored) << pass;
    EXPECT_TRUE(chain.anchored);
    ASSERT_EQ(chain.path.size(), 3u);
    EXPECT_EQ(chain.path[0], leaf);
    EXPECT_EQ(fingerprint(chain.issuer_of(0)), fingerprint_of(pki().intermediate_der()));
    EXPECT_EQ(fingerprint(chain.issuer_of(1)), fingerprint_of(pki().root_der()));
    EXPECT_EQ(chain.issuer_of(2), nullptr);  // the anchor
    for (std::size_t i = 0; i + 1 < chain.path.size(); ++i) {
      EXPECT_EQ(chain.issuer_of(i), chain.path[i + 1]);
      EXPECT_EQ(X509_verify(chain.path[i], X509_get0_pubkey(chain.issuer_of(i))), 1) << i;
    }
  }
  EXPECT_EQ(counters.full_verifications.load(), 1u);
  EXPECT_EQ(counters.cached_verifications.load(), 1u);
}

TEST_F(CertificatesTest, BuiltPathEndsWhereTheChainStops) {
  const LoadedTrustStore trust = load_trust_store(*trust_dir_);
  ChainCounters counters;
  // The leaf alone: its issuer is missing.
  const DecodedBundle alone = decoded_bundle({pki().leaf_der()});
  BuiltChain chain = build_chain(alone.certs[0].get(), alone.view(), *trust.state, kNow, kSkew, nullptr, counters);
  EXPECT_EQ(chain.end, ChainEnd::MissingIssuer);
  ASSERT_EQ(chain.path.size(), 1u);
  EXPECT_EQ(chain.issuer_of(0), nullptr);
  ASSERT_NE(chain.first_error(ErrorClass::Incomplete), nullptr);
  EXPECT_EQ(chain.first_error(ErrorClass::Incomplete)->missing_issuer, "CN=Raccord Test Intermediate CA");
  // A self-signed leaf: not verified.
  LeafOptions o;
  o.self_signed = true;
  const DecodedBundle self = decoded_bundle({pki().leaf_der(o)});
  chain = build_chain(self.certs[0].get(), self.view(), *trust.state, kNow, kSkew, nullptr, counters);
  EXPECT_EQ(chain.end, ChainEnd::SelfSignedLeaf);
  ASSERT_EQ(chain.path.size(), 1u);
  EXPECT_EQ(chain.issuer_of(0), nullptr);
  // An untrusted root: the path reaches it, and nothing issued it.
  const auto& other = pki().other_intermediate();
  const DecodedBundle untrusted = decoded_bundle({other.leaf_der(), other.der(), pki().other_root().der()});
  chain = build_chain(untrusted.certs[0].get(), untrusted.view(), *trust.state, kNow, kSkew, nullptr, counters);
  EXPECT_EQ(chain.end, ChainEnd::UntrustedRoot);
  EXPECT_FALSE(chain.anchored);
  ASSERT_EQ(chain.path.size(), 3u);
  EXPECT_EQ(fingerprint(chain.issuer_of(0)), fingerprint_of(other.der()));
  EXPECT_EQ(fingerprint(chain.issuer_of(1)), fingerprint_of(pki().other_root().der()));
  EXPECT_EQ(chain.issuer_of(2), nullptr);
  EXPECT_EQ(counters.full_verifications.load(), 2u);  // the self-signed leaf was not verified
  EXPECT_EQ(counters.cached_verifications.load(), 0u);
}

}  // namespace
}  // namespace raccord::rules
