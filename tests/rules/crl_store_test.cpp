// Tests of rules/crl_store.cpp (issue 17; docs/revocation.md): loading certificates.crl_dir (PEM, DER,
// several CRLs per file, hidden, unreadable and oversized files), the three answers — good, revoked,
// unknown — for CRLs of the test PKI that are current, stale, future, badly signed, delta, with an issuing
// distribution point, an unknown critical extension or removeFromCRL entries, the freshness settings, a
// 100,000-entry CRL, concurrent checks, and the judgement of a CRL fetched by `trust refresh`.
#include "rules/crl_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "rules/crl_store_internal.hpp"
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

constexpr const char* kNow = "2026-01-03T00:00:00Z";  // the default CrlOptions are current then

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr x509(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(x != nullptr);
  return x;
}

const TestPki& pki() {
  return TestPki::instance();
}

class CrlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "raccord-crl-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    leaf_der_ = pki().leaf_der();
    leaf_ = x509(leaf_der_);
    leaf_serial_ = TestPki::serial_hex(leaf_der_);
    root_ = x509(pki().root_der());
    intermediate_ = x509(pki().intermediate_der());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << bytes;
  }
  std::shared_ptr<const CrlStore> load() {
    log_.clear();
    return CrlStore::load(dir_, log_);
  }
  /// A store holding the given DER CRLs (one file each).
  std::shared_ptr<const CrlStore> store_of(const std::vector<std::string>& crls) {
    for (std::size_t i = 0; i < crls.size(); ++i) write("crl" + std::to_string(i) + ".der", crls[i]);
    return load();
  }
  RevocationAnswer leaf_status(const CrlStore& store, const std::string& at = kNow, const CrlSettings& s = {}) {
    return store.status(leaf_.get(), intermediate_.get(), instant(at), s);
  }
  std::string log_text() const {
    std::string t;
    for (const auto& l : log_) t += l + "\n";
    return t;
  }
  /// A CRL of the intermediate listing the leaf (keyCompromise) with `o`'s other options.
  CrlOptions listing_leaf(CrlOptions o = {}) const {
    o.entries.push_back(CrlEntry{leaf_serial_, "2025-06-01T00:00:00Z", 1});
    return o;
  }
  static CrlOptions stale() {
    CrlOptions o;
    o.this_update = "2025-11-01T00:00:00Z";
    o.next_update = "2025-11-08T00:00:00Z";
    return o;
  }

  fs::path dir_;
  std::vector<std::string> log_;
  std::string leaf_der_;
  std::string leaf_serial_;
  X509Ptr leaf_, root_, intermediate_;
};

TEST_F(CrlStoreTest, WithoutAnyCrlTheStatusIsUnknown) {
  const auto store = load();
  const auto a = leaf_status(*store);
  EXPECT_EQ(a.status, RevocationStatus::Unknown);
  EXPECT_EQ(a.cause, UnknownCause::NoCrl);
  EXPECT_FALSE(a.crl.has_value());
  EXPECT_THAT(describe(a, "CN=Raccord Test Intermediate CA", instant(kNow), {}),
              HasSubstr("aucune CRL de l'autorité « CN=Raccord Test Intermediate CA »"));
  EXPECT_THAT(log_text(), HasSubstr("aucune CRL"));
}

TEST_F(CrlStoreTest, MissingDirectoryIsLoggedNotFatal) {
  std::vector<std::string> log;
  const auto store = CrlStore::load(dir_ / "absent", log);
  EXPECT_EQ(store->size(), 0u);
  ASSERT_FALSE(log.empty());
  EXPECT_THAT(log.front(), HasSubstr("répertoire des CRL absent"));
}

TEST_F(CrlStoreTest, CurrentCrlNotListingTheLeafProvesItGood) {
  const auto store = store_of({pki().intermediate().crl_der()});
  const auto a = leaf_status(*store);
  EXPECT_EQ(a.status, RevocationStatus::Good);
  EXPECT_EQ(a.cause, UnknownCause::None);
  ASSERT_TRUE(a.crl.has_value());
  EXPECT_EQ(a.crl->issuer, "CN=Raccord Test Intermediate CA");
  EXPECT_EQ(a.crl->this_update, instant("2026-01-01T00:00:00Z"));
  EXPECT_EQ(a.crl->next_update, instant("2026-01-08T00:00:00Z"));
  EXPECT_EQ(a.crl->crl_number, "1");
  EXPECT_EQ(a.crl->file, dir_ / "crl0.der");
}

TEST_F(CrlStoreTest, CurrentCrlListingTheLeafRevokesItWithDateAndReason) {
  const auto store = store_of({pki().intermediate().crl_der(listing_leaf())});
  const auto a = leaf_status(*store);
  EXPECT_EQ(a.status, RevocationStatus::Revoked);
  EXPECT_EQ(a.revocation_date, instant("2025-06-01T00:00:00Z"));
  EXPECT_EQ(a.reason_code, 1);
  const std::string text = describe(a, "", instant(kNow), {});
  EXPECT_THAT(text, HasSubstr("révoqué le 01/06/2025 00:00 UTC (compromission de la clé)"));
  EXPECT_THAT(text, HasSubstr("la CRL de « CN=Raccord Test Intermediate CA » émise le 01/01/2026 00:00 UTC"));
  EXPECT_THAT(text, HasSubstr("prochaine mise à jour le 08/01/2026 00:00 UTC"));
  // Another leaf of the same CA stays good.
  const X509Ptr other = x509(pki().leaf_der());
  EXPECT_EQ(store->status(other.get(), intermediate_.get(), instant(kNow), {}).status, RevocationStatus::Good);
}

TEST_F(CrlStoreTest, EveryReasonButRemoveFromCrlRevokesAndAnEntryWithoutReasonToo) {
  for (int reason : {-1, 0, 1, 2, 3, 4, 5, 6, 9, 10}) {
    SCOPED_TRACE(reason);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    CrlOptions o;
    o.entries.push_back(CrlEntry{leaf_serial_, "2025-06-01T00:00:00Z", reason});
    const auto store = store_of({pki().intermediate().crl_der(o)});
    const auto a = leaf_status(*store);
    EXPECT_EQ(a.status, RevocationStatus::Revoked);
    if (reason >= 0) {
      EXPECT_EQ(a.reason_code, reason);
    } else {
      EXPECT_FALSE(a.reason_code.has_value());
    }
  }
}

TEST_F(CrlStoreTest, StaleCrlStillRevokesButNeverProvesGood) {
  {
    const auto store = store_of({pki().intermediate().crl_der(listing_leaf(stale()))});
    EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const auto store = store_of({pki().intermediate().crl_der(stale())});
  const auto a = leaf_status(*store);
  EXPECT_EQ(a.status, RevocationStatus::Unknown);
  EXPECT_EQ(a.cause, UnknownCause::Stale);
  ASSERT_TRUE(a.crl.has_value());
  EXPECT_THAT(describe(a, "", instant(kNow), {}), HasSubstr("est périmée"));
}

TEST_F(CrlStoreTest, FutureCrlIsNotYetInForceBeyondTheClockSkew) {
  CrlOptions future;
  future.this_update = "2026-02-01T00:00:00Z";
  future.next_update = "2026-02-08T00:00:00Z";
  {
    const auto store = store_of({pki().intermediate().crl_der(future)});
    const auto a = leaf_status(*store);
    EXPECT_EQ(a.status, RevocationStatus::Unknown);
    EXPECT_EQ(a.cause, UnknownCause::Stale);
    EXPECT_THAT(describe(a, "", instant(kNow), {}), HasSubstr("n'est pas encore en vigueur"));
  }
  // Listed in a future CRL: revoked whatever its dates.
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  {
    const auto store = store_of({pki().intermediate().crl_der(listing_leaf(future))});
    EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  }
  // thisUpdate 200 s ahead of the instant: within clock_skew_s (300), good; with a skew of 100, not yet.
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  CrlOptions ahead;
  ahead.this_update = "2026-01-03T00:03:20Z";
  ahead.next_update = "2026-01-10T00:00:00Z";
  const auto store = store_of({pki().intermediate().crl_der(ahead)});
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Good);
  CrlSettings tight;
  tight.clock_skew_s = 100;
  EXPECT_EQ(leaf_status(*store, kNow, tight).cause, UnknownCause::Stale);
}

TEST_F(CrlStoreTest, MaximumAgeCountsFromThisUpdate) {
  CrlOptions old;  // nextUpdate far ahead, but issued 14 days before the instant
  old.this_update = "2025-12-20T00:00:00Z";
  old.next_update = "2026-03-01T00:00:00Z";
  const auto store = store_of({pki().intermediate().crl_der(old)});
  const auto a = leaf_status(*store);
  EXPECT_EQ(a.cause, UnknownCause::Stale);
  EXPECT_THAT(describe(a, "", instant(kNow), {}), HasSubstr("trop ancienne (plus de 10 jours)"));
  CrlSettings lenient;
  lenient.max_age_days = 14;
  EXPECT_EQ(leaf_status(*store, kNow, lenient).status, RevocationStatus::Good);
  lenient.max_age_days = 13;
  EXPECT_EQ(leaf_status(*store, kNow, lenient).status, RevocationStatus::Unknown);
}

TEST_F(CrlStoreTest, GraceAfterNextUpdate) {
  CrlOptions late;
  late.this_update = "2025-12-26T00:00:00Z";
  late.next_update = "2026-01-02T12:00:00Z";  // 12 h before the instant
  const auto store = store_of({pki().intermediate().crl_der(late)});
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Good);  // crl_grace_h 24
  CrlSettings s;
  s.grace_h = 12;
  EXPECT_EQ(leaf_status(*store, kNow, s).status, RevocationStatus::Good);  // exactly at the limit
  s.grace_h = 11;
  EXPECT_EQ(leaf_status(*store, kNow, s).cause, UnknownCause::Stale);
}

TEST_F(CrlStoreTest, CrlWithoutNextUpdateIsBoundedByItsAgeOnly) {
  CrlOptions o;
  o.next_update.clear();
  const auto store = store_of({pki().intermediate().crl_der(o)});
  const auto a = leaf_status(*store);
  EXPECT_EQ(a.status, RevocationStatus::Good);
  EXPECT_FALSE(a.crl->next_update.has_value());
  EXPECT_EQ(leaf_status(*store, "2026-01-12T00:00:00Z").cause, UnknownCause::Stale);
}

TEST_F(CrlStoreTest, BadlySignedCrlIsNeverUsedNeitherForRevokedNorForGood) {
  CrlOptions o = listing_leaf();
  o.stranger_key = true;
  {
    const auto store = store_of({pki().intermediate().crl_der(o)});
    const auto a = leaf_status(*store);
    EXPECT_EQ(a.status, RevocationStatus::Unknown);
    EXPECT_EQ(a.cause, UnknownCause::BadSignature);
    EXPECT_THAT(describe(a, "CN=Raccord Test Intermediate CA", instant(kNow), {}),
                HasSubstr("ne sont pas signées par sa clé"));
    const auto lines = store->take_log();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_THAT(lines.front(), HasSubstr("ne se vérifie pas avec la clé"));
    EXPECT_TRUE(store->take_log().empty());
    (void)leaf_status(*store);  // cached: not logged again
    EXPECT_TRUE(store->take_log().empty());
  }
  // A badly signed CRL beside a good current one: the good one answers.
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const auto store = store_of({pki().intermediate().crl_der(o), pki().intermediate().crl_der()});
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Good);
}

TEST_F(CrlStoreTest, CrlOfAnImpostorBearingTheIssuerNameIsBadlySigned) {
  // attacker_root has the test root's name and its own key: its CRL listing the intermediate is ignored.
  CrlOptions o;
  o.entries.push_back(CrlEntry{TestPki::serial_hex(pki().intermediate_der()), "2025-06-01T00:00:00Z", 2});
  const auto store = store_of({pki().attacker_root().crl_der(o)});
  const auto a = store->status(intermediate_.get(), root_.get(), instant(kNow), {});
  EXPECT_EQ(a.status, RevocationStatus::Unknown);
  EXPECT_EQ(a.cause, UnknownCause::BadSignature);
}

TEST_F(CrlStoreTest, IntermediateListedInTheRootCrlIsRevoked) {
  CrlOptions o;
  o.entries.push_back(CrlEntry{TestPki::serial_hex(pki().intermediate_der()), "2025-09-01T00:00:00Z", 2});
  const auto store = store_of({pki().root().crl_der(o), pki().intermediate().crl_der()});
  const auto a = store->status(intermediate_.get(), root_.get(), instant(kNow), {});
  EXPECT_EQ(a.status, RevocationStatus::Revoked);
  EXPECT_EQ(a.reason_code, 2);
  EXPECT_EQ(a.crl->issuer, "CN=Raccord Test Root CA");
  // The leaf itself is good in its issuer's CRL; the chain's verdict is the caller's (each link checked).
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Good);
  // The root's CRL says nothing about the leaf: given the wrong issuer, nothing verifies.
  EXPECT_EQ(store->status(leaf_.get(), root_.get(), instant(kNow), {}).status, RevocationStatus::Unknown);
}

TEST_F(CrlStoreTest, DeltaCrlRevokesButNeverProvesGood) {
  CrlOptions delta;
  delta.crl_number = 2;
  delta.delta_base = 1;
  {
    const auto store = store_of({pki().intermediate().crl_der(listing_leaf(delta))});
    EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  {
    const auto store = store_of({pki().intermediate().crl_der(delta)});
    const auto a = leaf_status(*store);
    EXPECT_EQ(a.status, RevocationStatus::Unknown);
    EXPECT_EQ(a.cause, UnknownCause::CannotProveGood);
    EXPECT_TRUE(a.crl->delta);
  }
  // A delta beside a stale complete CRL: the complete one is what is missing (stale).
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  {
    const auto store = store_of({pki().intermediate().crl_der(delta), pki().intermediate().crl_der(stale())});
    EXPECT_EQ(leaf_status(*store).cause, UnknownCause::Stale);
  }
  // A delta beside a current complete CRL: good.
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const auto store = store_of({pki().intermediate().crl_der(delta), pki().intermediate().crl_der()});
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Good);
}

TEST_F(CrlStoreTest, RemoveFromCrlEntryIsIgnored) {
  CrlOptions delta;
  delta.crl_number = 2;
  delta.delta_base = 1;
  delta.entries.push_back(CrlEntry{leaf_serial_, "2025-06-01T00:00:00Z", 8});
  const auto store = store_of({pki().intermediate().crl_der(delta), pki().intermediate().crl_der()});
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Good);
  EXPECT_FALSE(store->listed("CN=Raccord Test Intermediate CA", leaf_serial_));
}

TEST_F(CrlStoreTest, CrlWithAnIssuingDistributionPointRevokesButNeverProvesGood) {
  CrlOptions idp;
  idp.idp_uri = "http://crl.exemple.fr/partielle.crl";
  {
    const auto store = store_of({pki().intermediate().crl_der(listing_leaf(idp))});
    EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const auto store = store_of({pki().intermediate().crl_der(idp)});
  const auto a = leaf_status(*store);
  EXPECT_EQ(a.cause, UnknownCause::CannotProveGood);
  EXPECT_TRUE(a.crl->issuing_distribution_point);
  EXPECT_THAT(describe(a, "", instant(kNow), {}), HasSubstr("ne peut pas établir qu'il n'est pas révoqué"));
}

TEST_F(CrlStoreTest, CrlWithAnUnknownCriticalExtensionRevokesButNeverProvesGood) {
  CrlOptions odd;
  odd.unknown_critical_extension = true;
  {
    const auto store = store_of({pki().intermediate().crl_der(listing_leaf(odd))});
    EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const auto store = store_of({pki().intermediate().crl_der(odd)});
  const auto a = leaf_status(*store);
  EXPECT_EQ(a.cause, UnknownCause::CannotProveGood);
  EXPECT_TRUE(a.crl->unknown_critical_extension);
}

TEST_F(CrlStoreTest, LoadsPemAndDerFilesWithSeveralCrlsEachAndSkipsTheRest) {
  const std::string root_crl = pki().root().crl_der();
  const std::string inter_crl = pki().intermediate().crl_der(listing_leaf());
  write("both.pem", "texte avant\n" + TestPki::crl_pem({root_crl, inter_crl}) + pki().root_pem());
  write("both.der", root_crl + inter_crl);
  write(".cache.crl", "pas une CRL");                        // hidden: never read
  write("notes.txt", "pas une CRL");                         // not a CRL: logged and skipped
  write("tronque.der", root_crl + inter_crl.substr(0, 40));  // a CRL then garbage: skipped whole
  fs::create_directories(dir_ / "sous-dossier");             // not a regular file
  fs::create_symlink(dir_ / "both.der", dir_ / "lien.der");  // followed
  const auto store = load();
  EXPECT_EQ(store->size(), 6u) << log_text();
  const std::string log = log_text();
  EXPECT_THAT(log, HasSubstr("both.pem : 2 CRL (blocs PEM ignorés : « CERTIFICATE »)"));
  EXPECT_THAT(log, HasSubstr("both.der : 2 CRL"));
  EXPECT_THAT(log, HasSubstr("lien.der : 2 CRL"));
  EXPECT_THAT(log, HasSubstr("notes.txt ignoré, illisible"));
  EXPECT_THAT(log, HasSubstr("tronque.der ignoré, illisible"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr(".cache.crl")));
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  EXPECT_EQ(store->status(intermediate_.get(), root_.get(), instant(kNow), {}).status, RevocationStatus::Good);
}

TEST_F(CrlStoreTest, FilesOverFiftyMebibytesAreSkippedAndLogged) {
  write("big.crl", pki().intermediate().crl_der(listing_leaf()));
  fs::resize_file(dir_ / "big.crl", kMaxCrlBytes + 1);  // sparse: nothing written
  write("limite.crl", pki().intermediate().crl_der());
  const auto store = load();
  EXPECT_EQ(store->size(), 1u);
  EXPECT_THAT(log_text(), HasSubstr("big.crl ignoré, 52428801 octets dépassent la limite de 52428800 octets"));
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Good);
}

TEST_F(CrlStoreTest, LargeCrlOfOneHundredThousandEntries) {
  CrlOptions big = listing_leaf();
  big.filler_entries = 100'000;
  const std::string der = pki().intermediate().crl_der(big);
  write("grande.crl", der);
  const auto store = load();
  ASSERT_EQ(store->size(), 1u);
  EXPECT_EQ(store->info(0).entries, 100'001u);
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  const X509Ptr other = x509(pki().leaf_der());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(store->status(other.get(), intermediate_.get(), instant(kNow), {}).status, RevocationStatus::Good);
  }
  EXPECT_TRUE(store->listed("CN=Raccord Test Intermediate CA", "7F000000"));
  EXPECT_TRUE(store->listed("CN=Raccord Test Intermediate CA", "7F01869F"));  // 0x7F000000 + 99,999
  EXPECT_FALSE(store->listed("CN=Raccord Test Intermediate CA", "7F0186A0"));
  EXPECT_FALSE(store->listed("CN=Raccord Test Root CA", "7F000000"));
  std::size_t n = 0;
  store->for_each_entry([&](std::string_view issuer, std::string_view) {
    EXPECT_EQ(issuer, "CN=Raccord Test Intermediate CA");
    ++n;
  });
  EXPECT_EQ(n, 100'001u);
}

#if defined(__SANITIZE_ADDRESS__)
// ASan's allocator (sanitizer/allocator_interface.h, a header GCC does not install).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();  // NOLINT(bugprone-reserved-identifier)
#endif

/// Bytes currently allocated on the heap by the whole process.
std::size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

// The kind of figure 8's cost (issue 17): OpenSSL's d2i_X509_CRL allocates about ten objects per entry
// (~400 bytes each, 0.5 s for 100,000); the store keeps a CRL in about its own size, its entries as offsets.
TEST_F(CrlStoreTest, LargeCrlIsHeldInAboutItsOwnSize) {
  CrlOptions big = listing_leaf();
  big.filler_entries = 100'000;
  const std::string der = pki().intermediate().crl_der(big);
  write("grande.crl", der);
  write("grande.pem", TestPki::crl_pem({der}));
  std::vector<std::string> log;
  const std::size_t before = heap_in_use();
  const auto store = CrlStore::load(dir_, log);
  const std::size_t held = heap_in_use() - before;
  ASSERT_EQ(store->size(), 2u);
  EXPECT_LT(held, std::size_t{6} * der.size())
      << "held " << held << " bytes for two CRLs of " << der.size() << " bytes";
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  EXPECT_EQ(store->info(1).entries, 100'001u);
}

// The serials are compared as integers whatever their length and first bit (DER adds a 0x00 before a first
// byte >= 0x80; zero is one 0x00 byte).
TEST_F(CrlStoreTest, SerialsOfEveryLengthAreFoundAndNoOthers) {
  const std::vector<std::string> listed = {"0", "7F", "80", "FF", "0100", "8000", "7F100001", "80000000000000000001"};
  const std::vector<std::string> unlisted = {"1", "7E", "81", "FE", "0101", "80000000000000000000", "7FFF"};
  CrlOptions o;
  o.filler_entries = 1000;
  for (const auto& serial : listed) o.entries.push_back(CrlEntry{serial, "2025-06-01T00:00:00Z", 1});
  const auto store = store_of({pki().intermediate().crl_der(o)});
  ASSERT_EQ(store->size(), 1u);
  for (const auto& serial : listed) {
    LeafOptions leaf;
    leaf.serial_hex = serial;
    const X509Ptr cert = x509(pki().leaf_der(leaf));
    const auto a = store->status(cert.get(), intermediate_.get(), instant(kNow), {});
    EXPECT_EQ(a.status, RevocationStatus::Revoked) << serial;
    EXPECT_EQ(a.reason_code, 1) << serial;
    EXPECT_EQ(a.revocation_date, instant("2025-06-01T00:00:00Z")) << serial;
    EXPECT_TRUE(store->listed("CN=Raccord Test Intermediate CA", TestPki::serial_hex(pki().leaf_der(leaf)))) << serial;
  }
  for (const auto& serial : unlisted) {
    LeafOptions leaf;
    leaf.serial_hex = serial;
    const X509Ptr cert = x509(pki().leaf_der(leaf));
    EXPECT_EQ(store->status(cert.get(), intermediate_.get(), instant(kNow), {}).status, RevocationStatus::Good)
        << serial;
  }
  std::set<std::string> entries;
  store->for_each_entry([&](std::string_view, std::string_view serial) { entries.emplace(serial); });
  EXPECT_EQ(entries.size(), 1008u);
  for (const auto& serial : {"0", "7F", "80", "FF", "0100", "8000", "7F100001", "80000000000000000001"}) {
    EXPECT_TRUE(entries.contains(serial)) << serial;
  }
}

// The signature covers the entries: a CRL whose entry was changed after signing is never used, neither for
// revoked nor for good.
TEST_F(CrlStoreTest, EntryChangedAfterSigningMakesTheCrlBadlySigned) {
  CrlOptions o = listing_leaf();
  o.filler_entries = 10;
  std::string der = pki().intermediate().crl_der(o);
  const std::string filler("\x02\x04\x7F\x00\x00\x05", 6);  // serial 0x7F000005
  const auto at = der.find(filler);
  ASSERT_NE(at, std::string::npos);
  der[at + 5] = '\x06';  // now 0x7F000006 twice
  const auto store = store_of({der});
  ASSERT_EQ(store->size(), 1u);
  EXPECT_EQ(leaf_status(*store).cause, UnknownCause::BadSignature);
  EXPECT_FALSE(store->has_current_crl(intermediate_.get(), instant(kNow), {}));
}

// CRLs signed with other digests verify too, and an entry with a negative serial (which the store leaves to
// OpenSSL's whole reading) gives the same answers.
TEST_F(CrlStoreTest, OtherDigestsAndNegativeSerialsGiveTheSameAnswers) {
  for (const char* digest : {"sha1", "sha384", "sha512"}) {
    CrlOptions o = listing_leaf();
    o.digest = digest;
    const auto store = store_of({pki().intermediate().crl_der(o)});
    EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked) << digest;
  }
  CrlOptions o = listing_leaf();
  o.entries.push_back(CrlEntry{"-05", "2025-06-01T00:00:00Z", 4});
  o.filler_entries = 10;
  const auto store = store_of({pki().intermediate().crl_der(o)});
  EXPECT_EQ(store->info(0).entries, 12u);
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  EXPECT_TRUE(store->listed("CN=Raccord Test Intermediate CA", "-05"));
  EXPECT_TRUE(store->listed("CN=Raccord Test Intermediate CA", "7F000009"));
  const X509Ptr other = x509(pki().leaf_der());
  EXPECT_EQ(store->status(other.get(), intermediate_.get(), instant(kNow), {}).status, RevocationStatus::Good);
}

// Both readings of a CRL file (the fast one, entries walked in the DER, and OpenSSL's whole reading) must
// give the same outcome (fuzz/crl_fuzzer.cpp). `bytes` read through CrlStore::add and compared both ways.
::testing::AssertionResult readings_agree(const std::string& bytes, const X509* issuer) {
  std::string why;
  if (!internal::fast_and_openssl_agree(bytes, {issuer}, why)) return ::testing::AssertionFailure() << why;
  return ::testing::AssertionSuccess();
}

// PEM framing is decided by OpenSSL's PEM reader for both readings (crl_fuzzer reproducer: a sample CRL
// whose END line ended in "/" instead of a newline was taken by the fast reading, refused by OpenSSL).
TEST_F(CrlStoreTest, PemFramingOpenSslRefusesIsRefusedWhateverTheReading) {
  const std::string pem = TestPki::crl_pem({pki().intermediate().crl_der(listing_leaf())});
  ASSERT_EQ(pem.back(), '\n');
  const std::string end = "-----END X509 CRL-----";
  const std::string begin = "-----BEGIN X509 CRL-----";
  std::string slash = pem;
  slash.back() = '/';  // the reproducer's shape
  std::string trailing_dash = pem;
  trailing_dash.insert(pem.rfind(end) + end.size(), "-");
  std::string other_end = pem;
  other_end.replace(pem.rfind(end), end.size(), "-----END X509 CRLS-----");
  std::string begin_junk = pem;
  begin_junk.insert(begin.size(), "x");
  std::string no_end = pem.substr(0, pem.rfind(end));
  for (const std::string& bytes : {slash, trailing_dash, other_end, begin_junk, no_end, slash + pem}) {
    CrlStore store;
    std::string why;
    EXPECT_FALSE(store.add(bytes, "x.crl", why)) << bytes;
    EXPECT_THAT(why, HasSubstr("PEM")) << bytes;
    EXPECT_TRUE(readings_agree(bytes, intermediate_.get())) << bytes;
  }
  // What OpenSSL takes, both readings take alike: CRLF line ends, text around the blocks, two blocks.
  std::string crlf;
  for (const char c : pem) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  for (const std::string& bytes : {pem, crlf, "texte avant\n" + pem + "texte après\n", pem + pem}) {
    CrlStore store;
    std::string why;
    EXPECT_TRUE(store.add(bytes, "x.crl", why)) << why;
    EXPECT_TRUE(readings_agree(bytes, intermediate_.get())) << bytes;
  }
}

/// `der` as one PEM block named `name`, as OpenSSL writes it (PEM_write_bio).
std::string pem_block(const std::string& name, const std::string& der) {
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (PEM_write_bio(bio.get(), name.c_str(), "", reinterpret_cast<const unsigned char*>(der.data()),
                    static_cast<long>(der.size())) <= 0) {
    ADD_FAILURE() << "PEM_write_bio";
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// Figure 8's profile (issue 17): PEM_read_bio took 0.25 s of the 0.32 s spent loading four 5 MB PEM CRLs.
// The PEM OpenSSL writes (64-digit lines, LF, "X509 CRL" blocks only) is decoded by the store itself, to the
// bytes PEM_read_bio gives, for every length of the last line (1 to 64 digits, 0 to 2 "=" of padding); any
// other shape is left to PEM_read_bio, and both readings of the file then agree.
TEST_F(CrlStoreTest, PemAsOpenSslWritesItIsDecodedByTheStoreAndOtherShapesByOpenSsl) {
  const std::string der = pki().intermediate().crl_der(listing_leaf());
  for (std::size_t extra = 0; extra < 49; ++extra) {  // every remainder of 48 bytes (one 64-digit line)
    const std::string bytes = der + std::string(extra, static_cast<char>(0xA5 + extra));
    const auto blocks = internal::canonical_pem_blocks(pem_block("X509 CRL", bytes) + pem_block("X509 CRL", der));
    ASSERT_TRUE(blocks.has_value()) << extra;
    EXPECT_EQ(*blocks, (std::vector<std::string>{bytes, der})) << extra;
  }
  for (const std::string& short_der :
       {std::string("\x30", 1), std::string("\x30\x00", 2), std::string("\x30\x01\xFF", 3)}) {
    const auto blocks = internal::canonical_pem_blocks(pem_block("X509 CRL", short_der));
    ASSERT_TRUE(blocks.has_value());
    EXPECT_EQ(*blocks, std::vector<std::string>{short_der});
  }
  const std::string pem = TestPki::crl_pem({der});
  ASSERT_TRUE(internal::canonical_pem_blocks(pem).has_value());
  bool fast = false;
  std::string why;
  EXPECT_TRUE(internal::fast_and_openssl_agree(pem + pem, {intermediate_.get()}, why, &fast)) << why;
  EXPECT_TRUE(fast);
  // Other shapes: OpenSSL's reading (which takes some of them), the same answers whatever the reading.
  std::string crlf;
  for (const char c : pem) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  std::string long_lines = pem;  // one 76-digit line: the first line joined with most of the second
  long_lines.erase(long_lines.find('\n', long_lines.find('\n') + 1), 1);
  std::string padded_early = pem;  // "=" in a line that is not the last
  padded_early[pem.find('\n') + 10] = '=';
  std::string not_base64 = pem;
  not_base64[pem.find('\n') + 10] = '*';
  std::string nonzero_bits = pem_block("X509 CRL", der.size() % 3 == 0 ? der + "x" : der);
  nonzero_bits[nonzero_bits.find('=') - 1] = '/';  // the digit before "=" with bits that the padding drops
  for (const std::string& bytes :
       {crlf, "texte\n" + pem, pem + "texte\n", pem.substr(0, pem.size() - 1), long_lines, padded_early, not_base64,
        nonzero_bits, std::string("-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n"), pem_block("CRL", der),
        pem + pki().root_pem()}) {
    EXPECT_FALSE(internal::canonical_pem_blocks(bytes).has_value()) << bytes;
    EXPECT_TRUE(readings_agree(bytes, intermediate_.get())) << bytes;
  }
  // The store answers alike from the PEM read here and from the DER.
  write("intermediaire.pem", pem);
  const auto store = load();
  ASSERT_EQ(store->size(), 1u) << log_text();
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  EXPECT_TRUE(store->verifies(0, intermediate_.get()));
}

// Figure 8's profile (issue 17): the signature of a fast-read CRL is verified over its tbsCertList bytes
// where they lie (EVP_DigestVerify), not over two copies of them; it verifies exactly when OpenSSL's
// X509_CRL_verify of the whole CRL does: each digest, a byte of the tbsCertList changed, another key, a
// signature with unused bits, the key of another authority.
TEST_F(CrlStoreTest, SignatureOverTheCrlBytesVerifiesAsOpenSslVerifiesTheWholeCrl) {
  for (const char* digest : {"sha1", "sha256", "sha384", "sha512"}) {
    CrlOptions o = listing_leaf();
    o.digest = digest;
    o.filler_entries = 3;
    const std::string der = pki().intermediate().crl_der(o);
    std::string flipped = der;
    const auto filler = flipped.find(std::string("\x02\x04\x7F\x00\x00\x01", 6));
    ASSERT_NE(filler, std::string::npos);
    flipped[filler + 2] = '\x7E';  // an entry's serial (0x7F000001 → 0x7E000001), after signing
    std::string bits_left = der;   // the signature BIT STRING with one unused bit
    std::size_t bit_string = der.size() - 2;
    while (bit_string > 0 && !(der[bit_string] == '\x03' &&
                               bit_string + 2 + static_cast<unsigned char>(der[bit_string + 1]) == der.size())) {
      --bit_string;
    }
    ASSERT_GT(bit_string, 0u);
    ASSERT_EQ(der[bit_string + 2], '\0');
    bits_left[bit_string + 2] = '\x01';
    CrlOptions s = o;
    s.stranger_key = true;
    const std::string stranger = pki().intermediate().crl_der(s);
    for (const auto& [name, bytes, verifies] :
         std::vector<std::tuple<std::string, std::string, bool>>{{"signed", der, true},
                                                                 {"serial changed", flipped, false},
                                                                 {"unused bits", bits_left, false},
                                                                 {"another key", stranger, false}}) {
      bool fast = false;
      std::string why;
      EXPECT_TRUE(internal::fast_and_openssl_agree(bytes, {intermediate_.get(), root_.get()}, why, &fast))
          << digest << " " << name << ": " << why;
      EXPECT_TRUE(fast) << digest << " " << name;
      CrlStore store;
      ASSERT_TRUE(store.add(bytes, "x.crl", why)) << why;
      EXPECT_EQ(store.verifies(0, intermediate_.get()), verifies) << digest << " " << name;
      EXPECT_FALSE(store.verifies(0, root_.get())) << digest << " " << name;
    }
  }
}

// An entry's extension OID that OpenSSL's decoder refuses (crl_fuzzer reproducer: the last byte of the
// crlReason OID with its continuation bit set; and a subidentifier padded with 0x80) makes the file refused
// whatever the reading, as OpenSSL refuses the whole CRL.
TEST_F(CrlStoreTest, EntryExtensionOidOpenSslRefusesIsRefusedWhateverTheReading) {
  const std::string der = pki().intermediate().crl_der(listing_leaf());
  const std::string reason_oid("\x06\x03\x55\x1D\x15", 5);
  const auto at = der.find(reason_oid);
  ASSERT_NE(at, std::string::npos);
  for (const std::string& oid :
       {std::string("\x55\x1D\x95", 3), std::string("\x55\x80\x15", 3), std::string("\x80\x1D\x15", 3)}) {
    std::string bytes = der;
    bytes.replace(at + 2, 3, oid);
    CrlStore store;
    std::string why;
    EXPECT_FALSE(store.add(bytes, "x.crl", why));
    EXPECT_THAT(why, HasSubstr("ni PEM ni CRL DER"));
    EXPECT_TRUE(readings_agree(bytes, intermediate_.get()));
    EXPECT_TRUE(readings_agree("-----BEGIN X509 CRL-----\n" + TestPki::base64(bytes) + "-----END X509 CRL-----\n",
                               intermediate_.get()));
  }
  // A valid OID of another extension (unknown, not critical) is taken alike.
  std::string other = der;
  other.replace(at + 2, 3, std::string("\x55\x1D\x7F", 3));
  EXPECT_TRUE(readings_agree(other, intermediate_.get()));
}

// An entry carrying crlReason twice (found by probing crl_fuzzer's differential): OpenSSL reads neither,
// and stops reading the reasons of the entries after it (a removeFromCRL there no longer counts); the fast
// reading took the last one. The file is now left to OpenSSL whole: the same answers whatever the reading.
TEST_F(CrlStoreTest, EntryWithAnExtensionTwiceGivesOpenSslsAnswers) {
  for (const auto& [first, second] : {std::pair{8, 8}, std::pair{1, 8}, std::pair{8, 1}, std::pair{4, 4}}) {
    CrlOptions o;
    o.entries.push_back(CrlEntry{"10", "2025-06-01T00:00:00Z", first, second});
    o.entries.push_back(CrlEntry{"11", "2025-06-01T00:00:00Z", 8});
    o.entries.push_back(CrlEntry{"12", "2025-06-01T00:00:00Z", 1});
    const std::string der = pki().intermediate().crl_der(o);
    EXPECT_TRUE(readings_agree(der, intermediate_.get())) << first << " " << second;
    EXPECT_TRUE(readings_agree(TestPki::crl_pem({der}), intermediate_.get())) << first << " " << second;
    CrlStore store;
    std::string why;
    ASSERT_TRUE(store.add(der, "x.crl", why)) << why;
    EXPECT_TRUE(store.listed("CN=Raccord Test Intermediate CA", "10")) << first << " " << second;
    EXPECT_TRUE(store.verifies(0, intermediate_.get()));
  }
}

// A serial listed twice, with other dates and reasons: which entry answers depended on the stability of
// OpenSSL's sort (glibc's qsort, stable up to 2.36 only), the fast reading's on std::stable_sort. Such a
// CRL is now read by OpenSSL whole: one answer, whatever the C library.
TEST_F(CrlStoreTest, SerialListedTwiceIsReadByOpenSslWhole) {
  for (const auto& [first, second] : {std::pair{1, 8}, std::pair{8, 1}, std::pair{-1, 4}}) {
    CrlOptions o;
    o.entries.push_back(CrlEntry{"10", "2025-06-01T00:00:00Z", first});
    o.entries.push_back(CrlEntry{"11", "2025-06-02T00:00:00Z", 1});
    o.entries.push_back(CrlEntry{"10", "2025-07-01T00:00:00Z", second});
    const std::string der = pki().intermediate().crl_der(o);
    std::string why;
    bool fast_taken = true;
    EXPECT_TRUE(internal::fast_and_openssl_agree(der, {intermediate_.get()}, why, &fast_taken)) << why;
    EXPECT_FALSE(fast_taken) << first << " " << second;
    EXPECT_TRUE(readings_agree(TestPki::crl_pem({der}), intermediate_.get())) << first << " " << second;
  }
}

/// `der` (one CRL) with its signatureAlgorithm (the last `from` in it) replaced by `to`, the outer length
/// re-encoded.
std::string with_outer_algorithm(const std::string& der, const std::string& from, const std::string& to) {
  const std::size_t header = 2 + ((static_cast<unsigned char>(der[1]) & 0x80) != 0 ? (der[1] & 0x7F) : 0);
  std::string body = der.substr(header);
  const auto at = body.rfind(from);
  if (at == std::string::npos) return {};
  body.replace(at, from.size(), to);
  std::string length;
  for (std::size_t n = body.size(); n != 0; n >>= 8) length.insert(length.begin(), static_cast<char>(n & 0xFF));
  return std::string("\x30", 1) + static_cast<char>(0x80 | length.size()) + length + body;
}

// signatureAlgorithm in other bytes than the tbsCertList's signature field (NULL parameters added, a long
// length form; found by probing crl_fuzzer's differential): OpenSSL's X509_CRL_verify compares neither and
// verifies the CRL, the fast reading said "badly signed". Such a CRL is now left to OpenSSL whole.
TEST_F(CrlStoreTest, SignatureAlgorithmInOtherBytesVerifiesAsOpenSslSays) {
  const std::string der = pki().intermediate().crl_der(listing_leaf());
  const std::string ecdsa_sha256("\x30\x0A\x06\x08\x2A\x86\x48\xCE\x3D\x04\x03\x02", 12);
  for (const std::string& other : {std::string("\x30\x0C", 2) + ecdsa_sha256.substr(2) + std::string("\x05\x00", 2),
                                   std::string("\x30\x81\x0A", 3) + ecdsa_sha256.substr(2)}) {
    const std::string bytes = with_outer_algorithm(der, ecdsa_sha256, other);
    ASSERT_FALSE(bytes.empty());
    EXPECT_TRUE(readings_agree(bytes, intermediate_.get()));
    const auto store = store_of({bytes});
    ASSERT_EQ(store->size(), 1u);
    EXPECT_TRUE(store->verifies(0, intermediate_.get()));
    EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Revoked);
  }
}

TEST_F(CrlStoreTest, ConcurrentChecksAgree) {
  CrlOptions big = listing_leaf();
  big.filler_entries = 20'000;
  const auto store = store_of({pki().intermediate().crl_der(big), pki().root().crl_der()});
  std::vector<X509Ptr> leaves;
  leaves.reserve(4);
  for (int i = 0; i < 4; ++i) leaves.push_back(x509(pki().leaf_der()));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const X509* cert = leaves[static_cast<std::size_t>((t + i) % 4)].get();
        if (store->status(cert, intermediate_.get(), instant(kNow), {}).status != RevocationStatus::Good) ++wrong;
        if (store->status(leaf_.get(), intermediate_.get(), instant(kNow), {}).status != RevocationStatus::Revoked)
          ++wrong;
        if (!store->has_current_crl(root_.get(), instant(kNow), {})) ++wrong;
        if (!store->listed("CN=Raccord Test Intermediate CA", leaf_serial_)) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(CrlStoreTest, HasCurrentCrlAndNewestCompleteCrl) {
  CrlOptions newer;
  newer.this_update = "2026-01-02T00:00:00Z";
  newer.next_update = "2026-01-09T00:00:00Z";
  newer.crl_number = 7;
  CrlOptions delta;
  delta.this_update = "2026-01-02T12:00:00Z";
  delta.crl_number = 8;
  delta.delta_base = 7;
  CrlOptions forged = newer;
  forged.this_update = "2026-01-02T18:00:00Z";
  forged.stranger_key = true;
  const auto store = store_of({pki().intermediate().crl_der(), pki().intermediate().crl_der(newer),
                               pki().intermediate().crl_der(delta), pki().intermediate().crl_der(forged),
                               pki().root().crl_der(stale())});
  EXPECT_TRUE(store->has_current_crl(intermediate_.get(), instant(kNow), {}));
  EXPECT_FALSE(store->has_current_crl(root_.get(), instant(kNow), {}));
  const auto newest = store->newest_complete_crl(intermediate_.get());
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(newest->crl_number, "7");
  EXPECT_FALSE(store->newest_complete_crl(x509(pki().other_intermediate().der()).get()).has_value());
  EXPECT_TRUE(store->verifies(0, intermediate_.get()));
  EXPECT_FALSE(store->verifies(0, root_.get()));
  EXPECT_FALSE(store->verifies(3, intermediate_.get()));
}

// metrics.prom's CRL ages (docs/reference.md §5.4): per known issuer certificate, the newest complete CRL that
// verifies with its key; a key a check gave status() does not count.
TEST_F(CrlStoreTest, NewestVerifiedCrlsNameEachKnownIssuerOnceWithItsNewestCompleteVerifiedCrl) {
  CrlOptions newer;
  newer.this_update = "2026-01-02T00:00:00Z";
  newer.crl_number = 7;
  CrlOptions delta;  // newer still, but a delta never proves good
  delta.this_update = "2026-01-02T12:00:00Z";
  delta.crl_number = 8;
  delta.delta_base = 7;
  CrlOptions forged = newer;  // the newest of all, badly signed
  forged.this_update = "2026-01-02T18:00:00Z";
  forged.stranger_key = true;
  const auto store = store_of({pki().intermediate().crl_der(), pki().intermediate().crl_der(newer),
                               pki().intermediate().crl_der(delta), pki().intermediate().crl_der(forged),
                               pki().root().crl_der(stale()), pki().other_intermediate().crl_der(newer)});
  const auto newest = [&](const std::vector<const X509*>& known) {
    std::vector<std::string> out;
    for (const auto& [issuer, crl] : store->newest_verified_crls(known, instant(kNow), {})) {
      out.push_back(issuer + " " + format_crl_instant(crl.this_update) + " n°" + crl.crl_number);
    }
    return out;
  };
  EXPECT_TRUE(newest({}).empty());
  // The root's (stale: no date is judged) verifies with the root's key; the intermediate's are checked by a
  // check with the intermediate's key, which does not make them count: a sender chooses the keys of its bundle.
  EXPECT_EQ(leaf_status(*store).status, RevocationStatus::Good);
  EXPECT_THAT(newest({root_.get()}), ElementsAre("CN=Raccord Test Root CA 01/11/2025 00:00 UTC n°1"));
  // Known, the intermediate gets its newest complete verified CRL (neither the delta nor the forged one), sorted
  // by subject; a known certificate twice counts once; the other intermediate's CRL is nobody's known.
  EXPECT_THAT(newest({root_.get(), intermediate_.get(), root_.get()}),
              ElementsAre("CN=Raccord Test Intermediate CA 02/01/2026 00:00 UTC n°7",
                          "CN=Raccord Test Root CA 01/11/2025 00:00 UTC n°1"));
}

// A CRL not yet in force (thisUpdate beyond the clock skew) is not the one checks use: the newest in force is
// shown while there is one; alone, it is shown (with a negative age at the caller's).
TEST_F(CrlStoreTest, NewestVerifiedCrlsPreferACrlInForce) {
  CrlOptions future;
  future.this_update = "2026-01-05T00:00:00Z";
  future.next_update = "2026-01-12T00:00:00Z";
  future.crl_number = 9;
  {
    const auto store = store_of({pki().intermediate().crl_der(), pki().intermediate().crl_der(future)});
    const auto crls = store->newest_verified_crls({intermediate_.get()}, instant(kNow), {});
    ASSERT_EQ(crls.size(), 1u);
    EXPECT_EQ(crls[0].crl.crl_number, "1");
    EXPECT_EQ(store->newest_verified_crls({intermediate_.get()}, instant("2026-01-05T00:00:00Z"), {})[0].crl.crl_number,
              "9");
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const auto store = store_of({pki().intermediate().crl_der(future)});
  const auto crls = store->newest_verified_crls({intermediate_.get()}, instant(kNow), {});
  ASSERT_EQ(crls.size(), 1u);
  EXPECT_EQ(crls[0].crl.crl_number, "9");
}

// Two keys under one name (a CA renewed with a new key): one entry, the key whose newest CRL is the oldest.
TEST_F(CrlStoreTest, NewestVerifiedCrlsShowTheOldestOfTheKeysOfOneName) {
  CaOptions same_name;
  same_name.common_name = "Raccord Test Root CA";
  const TestCa renewed = TestCa::self_signed(same_name);
  const auto renewed_cert = x509(renewed.der());
  const auto store = store_of({pki().root().crl_der(), renewed.crl_der(stale())});
  const auto crls = store->newest_verified_crls({root_.get(), renewed_cert.get()}, instant(kNow), {});
  ASSERT_EQ(crls.size(), 1u);
  EXPECT_EQ(crls[0].issuer, "CN=Raccord Test Root CA");
  EXPECT_EQ(format_crl_instant(crls[0].crl.this_update), "01/11/2025 00:00 UTC");
  EXPECT_EQ(format_crl_instant(store->newest_verified_crls({root_.get()}, instant(kNow), {})[0].crl.this_update),
            "01/01/2026 00:00 UTC");
  // The old certificate expired (left in trust_dir beside its successor): its last CRL no longer counts.
  CaOptions expired = same_name;
  expired.not_after = "2025-12-31T23:59:59Z";
  const TestCa retired = TestCa::self_signed(expired);
  const auto retired_cert = x509(retired.der());
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const auto later = store_of({pki().root().crl_der(), retired.crl_der(stale())});
  const auto shown = later->newest_verified_crls({retired_cert.get(), root_.get()}, instant(kNow), {});
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(format_crl_instant(shown[0].crl.this_update), "01/01/2026 00:00 UTC");
}

// An issuer whose only verified CRLs are deltas or partial has no entry (they never prove good).
TEST_F(CrlStoreTest, NewestVerifiedCrlsLeaveOutAnIssuerWithOnlyDeltaOrPartialCrls) {
  CrlOptions delta;
  delta.crl_number = 2;
  delta.delta_base = 1;
  CrlOptions partial;
  partial.idp_uri = "http://crl.exemple.fr/partie1.crl";
  CrlOptions unknown_critical;
  unknown_critical.unknown_critical_extension = true;
  const auto store = store_of({pki().intermediate().crl_der(delta), pki().intermediate().crl_der(partial),
                               pki().intermediate().crl_der(unknown_critical)});
  EXPECT_TRUE(store->newest_verified_crls({intermediate_.get()}, instant(kNow), {}).empty());
  EXPECT_TRUE(store->verifies(0, intermediate_.get()));
}

TEST(CrlRulesTest, IsNewerComparesThisUpdateThenCrlNumber) {
  CrlInfo a, b;
  a.this_update = b.this_update = instant("2026-01-01T00:00:00Z");
  a.crl_number = "10";
  b.crl_number = "9";
  EXPECT_TRUE(is_newer(a, b));
  EXPECT_FALSE(is_newer(b, a));
  b.crl_number = "10";
  EXPECT_FALSE(is_newer(a, b));
  b.crl_number.clear();
  EXPECT_TRUE(is_newer(a, b));
  EXPECT_FALSE(is_newer(b, a));
  b.this_update = instant("2026-01-01T00:00:01Z");
  EXPECT_TRUE(is_newer(b, a));
  a.crl_number = "123456789012345678901234567890";
  b.crl_number = "99";
  b.this_update = a.this_update;
  EXPECT_TRUE(is_newer(a, b));
}

TEST(CrlRulesTest, CurrentAndProvingCrls) {
  CrlInfo c;
  c.this_update = instant("2026-01-01T00:00:00Z");
  c.next_update = instant("2026-01-08T00:00:00Z");
  EXPECT_TRUE(is_current(c, instant("2026-01-01T00:00:00Z"), {}));
  EXPECT_TRUE(is_current(c, instant("2025-12-31T23:55:00Z"), {}));  // skew 300 s
  EXPECT_FALSE(is_current(c, instant("2025-12-31T23:54:59Z"), {}));
  EXPECT_TRUE(is_current(c, instant("2026-01-09T00:00:00Z"), {}));  // grace 24 h
  EXPECT_FALSE(is_current(c, instant("2026-01-09T00:00:01Z"), {}));
  EXPECT_TRUE(can_prove_good(c));
  c.delta = true;
  EXPECT_FALSE(can_prove_good(c));
  EXPECT_EQ(parse_revocation_mode("aucune"), RevocationMode::Aucune);
  EXPECT_EQ(parse_revocation_mode("souple"), RevocationMode::Souple);
  EXPECT_EQ(parse_revocation_mode("stricte"), RevocationMode::Stricte);
  EXPECT_FALSE(parse_revocation_mode("Stricte").has_value());
  EXPECT_FALSE(parse_revocation_mode("").has_value());
  for (auto m : {RevocationMode::Aucune, RevocationMode::Souple, RevocationMode::Stricte}) {
    EXPECT_EQ(parse_revocation_mode(to_string(m)), m);
  }
  EXPECT_EQ(reason_label(1), "compromission de la clé");
  EXPECT_EQ(reason_label(7), "motif inconnu (7)");
}

TEST_F(CrlStoreTest, FetchedCrlIsAcceptedOnlyFromItsIssuerAndComplete) {
  const std::string good = pki().intermediate().crl_der();
  const FetchedCrl ok = judge_fetched_crl(good, intermediate_.get());
  EXPECT_TRUE(ok.accepted) << ok.why;
  EXPECT_THAT(ok.pem, HasSubstr("-----BEGIN X509 CRL-----"));
  EXPECT_EQ(ok.info.issuer, "CN=Raccord Test Intermediate CA");
  EXPECT_TRUE(judge_fetched_crl(TestPki::crl_pem({good}), intermediate_.get()).accepted);

  CrlOptions forged;
  forged.stranger_key = true;
  const FetchedCrl bad = judge_fetched_crl(pki().intermediate().crl_der(forged), intermediate_.get());
  EXPECT_FALSE(bad.accepted);
  EXPECT_THAT(bad.why, HasSubstr("signature"));
  const FetchedCrl other = judge_fetched_crl(pki().root().crl_der(), intermediate_.get());
  EXPECT_FALSE(other.accepted);
  EXPECT_THAT(other.why, HasSubstr("émise par « CN=Raccord Test Root CA »"));
  CrlOptions delta;
  delta.delta_base = 1;
  EXPECT_THAT(judge_fetched_crl(pki().intermediate().crl_der(delta), intermediate_.get()).why, HasSubstr("delta"));
  EXPECT_THAT(judge_fetched_crl("<html>404</html>", intermediate_.get()).why, HasSubstr("n'est pas une CRL"));
  EXPECT_THAT(judge_fetched_crl(good + good, intermediate_.get()).why, HasSubstr("2 CRL au lieu d'une"));

  const std::string name = crl_file_name(intermediate_.get());
  EXPECT_TRUE(std::regex_match(name, std::regex("[0-9a-f]{8}\\.crl"))) << name;
  char expected[16];
  std::snprintf(expected, sizeof expected, "%08lx", X509_subject_name_hash(intermediate_.get()));
  EXPECT_EQ(name, std::string(expected) + ".crl");
  EXPECT_NE(name, crl_file_name(root_.get()));
}

}  // namespace
}  // namespace raccord::rules
