// Tests of inbox/claimed_deposit.cpp: one claimed file handed over in one value (name, claimed
// path, identity of the open descriptor, size, SHA-256 of the bytes, the dépôt or its dépôt-level
// refusal) by its two halves, load_claimed then read_loaded, the size rule decided by is_too_large
// with refuse_too_large's one wording (F06, F07), and the check of the bytes loaded.
#include "inbox/claimed_deposit.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "inbox/deposit_reader.hpp"
#include "inbox/sha256.hpp"
#include "tests/support/files.hpp"

namespace raccord::inbox {
namespace {

namespace fs = std::filesystem;

const std::string kDepot =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Depot xmlns=\"urn:raccord:depot:1\" identifiant=\"LOT-1\" "
    "demandeur=\"j.dupont\">\n</Depot>\n";

class ClaimedDepositTest : public ::testing::Test {
 protected:
  void SetUp() override { dirs_.ensure_layout(); }

  ClaimedFile claim(const std::string& name, const std::string& bytes) {
    std::ofstream(dirs_.inbox_dir() / name, std::ios::binary) << bytes;
    auto file = dirs_.claim(name);
    EXPECT_TRUE(file.has_value());
    return std::move(*file);
  }
  static std::string identity_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }

  /// Both halves, as the engine runs them (on two threads there).
  static ClaimedDeposit read(const ClaimedFile& file, std::uint64_t max_bytes, const BytesCheck& check = {}) {
    return read_loaded(load_claimed(file, max_bytes), max_bytes, check);
  }

  testing::TempDir tmp_{"raccord-claimed"};
  InboxDirectory dirs_{tmp_.path()};
};

TEST_F(ClaimedDepositTest, HandsOverNamePathIdentitySizeSha256AndTheDeposit) {
  const ClaimedFile file = claim("lot.xml", kDepot);
  const ClaimedDeposit d = read(file, std::uint64_t{1024} * 1024);
  EXPECT_EQ(d.name, "lot.xml");
  EXPECT_EQ(d.path, dirs_.work_dir() / "lot.xml");
  EXPECT_EQ(d.identity, identity_of(dirs_.work_dir() / "lot.xml"));
  EXPECT_EQ(d.size, kDepot.size());
  EXPECT_EQ(d.sha256, sha256_hex(kDepot));
  ASSERT_TRUE(d.read.deposit.has_value());
  EXPECT_TRUE(d.read.errors.empty());
  EXPECT_EQ(d.read.deposit->identifier.value, "LOT-1");
}

TEST_F(ClaimedDepositTest, OverTheLimitIsRefusedWithTheOneWordingAndStillHashed) {  // F07
  const ClaimedFile file = claim("gros.xml", kDepot);
  const ClaimedDeposit d = read(file, kDepot.size() - 1);
  EXPECT_FALSE(d.read.deposit.has_value());
  ASSERT_EQ(d.read.errors.size(), 1U);
  EXPECT_EQ(d.read.errors[0].code, ErrorCode::FichierTropVolumineux);
  EXPECT_EQ(d.read.errors[0].message, refuse_too_large(kDepot.size(), kDepot.size() - 1).errors[0].message);
  EXPECT_EQ(d.sha256, sha256_hex(kDepot)) << "the SHA-256 of the file, streamed";
  EXPECT_EQ(d.size, kDepot.size());
  // The same refusal when the bytes are read (read_deposit): one rule, one wording.
  EXPECT_EQ(read_deposit(kDepot, kDepot.size() - 1).errors[0].message, d.read.errors[0].message);
}

TEST_F(ClaimedDepositTest, ExactlyTheLimitIsRead) {  // F07 c
  const ClaimedFile file = claim("juste.xml", kDepot);
  EXPECT_FALSE(is_too_large(kDepot.size(), kDepot.size()));
  EXPECT_TRUE(is_too_large(kDepot.size() + 1, kDepot.size()));
  EXPECT_TRUE(read(file, kDepot.size()).read.deposit.has_value());
}

TEST_F(ClaimedDepositTest, EmptyFileIsFichierVideWithTheSha256OfNothing) {  // F06
  const ClaimedFile file = claim("vide.xml", "");
  const ClaimedDeposit d = read(file, 1024);
  ASSERT_EQ(d.read.errors.size(), 1U);
  EXPECT_EQ(d.read.errors[0].code, ErrorCode::FichierVide);
  EXPECT_EQ(d.size, 0U);
  EXPECT_EQ(d.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(ClaimedDepositTest, BytesWrittenAfterTheClaimAreReadAndHashedTogether) {
  // The file grew after its claim (a writer that had not finished): what is judged and what is
  // hashed are the same bytes.
  const ClaimedFile file = claim("grandi.xml", "<Depot");
  std::ofstream(file.path(), std::ios::binary | std::ios::app) << " xmlns=\"urn:raccord:depot:1\"/>";
  const ClaimedDeposit d = read(file, 1024);
  const std::string bytes = testing::read_file(file.path());
  EXPECT_EQ(d.sha256, sha256_hex(bytes));
  EXPECT_EQ(d.size, bytes.size()) << "measured when read, not at the claim";
}

TEST_F(ClaimedDepositTest, LoadingMakesTheSystemCallsAndLeavesTheReadingToItsSecondHalf) {
  const ClaimedFile file = claim("lot.xml", kDepot);
  LoadedDeposit loaded = load_claimed(file, 1024);
  ASSERT_TRUE(loaded.bytes.has_value());
  EXPECT_EQ(*loaded.bytes, kDepot);
  EXPECT_EQ(loaded.deposit.size, kDepot.size());
  EXPECT_TRUE(loaded.deposit.sha256.empty()) << "hashed by the second half";
  EXPECT_FALSE(loaded.deposit.read.deposit.has_value());
  // Once loaded, the file is no longer needed: the second half reads the bytes it was given.
  std::ofstream(file.path(), std::ios::binary | std::ios::trunc) << "autre chose";
  const ClaimedDeposit d = read_loaded(std::move(loaded), 1024);
  EXPECT_EQ(d.sha256, sha256_hex(kDepot));
  ASSERT_TRUE(d.read.deposit.has_value());
  EXPECT_EQ(d.read.deposit->identifier.value, "LOT-1");
}

TEST_F(ClaimedDepositTest, ATooLargeFileIsNeverLoaded) {  // F07
  const ClaimedFile file = claim("gros.xml", kDepot);
  const LoadedDeposit loaded = load_claimed(file, kDepot.size() - 1);
  EXPECT_FALSE(loaded.bytes.has_value());
  EXPECT_EQ(loaded.deposit.sha256, sha256_hex(kDepot)) << "streamed from the descriptor";
  ASSERT_EQ(loaded.deposit.read.errors.size(), 1U);
  EXPECT_EQ(loaded.deposit.read.errors[0].code, ErrorCode::FichierTropVolumineux);
}

TEST_F(ClaimedDepositTest, TheCheckOfTheBytesRefusesThemBeforeTheyAreParsed) {
  const ClaimedFile file = claim("signe.xml", "<pas du XML");
  std::string seen;
  const ClaimedDeposit d = read(file, 1024, [&](std::string_view bytes) -> std::optional<Diagnostic> {
    seen = bytes;
    return Diagnostic::error(ErrorCode::SignatureInvalide, "F.xml.p7s", 0, "signature invalide");
  });
  EXPECT_EQ(seen, "<pas du XML") << "the very bytes loaded";
  ASSERT_EQ(d.read.errors.size(), 1U) << "the check's refusal only: the bytes were not parsed";
  EXPECT_EQ(d.read.errors[0].code, ErrorCode::SignatureInvalide);
  EXPECT_EQ(d.sha256, sha256_hex("<pas du XML"));
}

TEST_F(ClaimedDepositTest, AnEmptyFileIsNeverChecked) {  // FICHIER_VIDE comes first
  const ClaimedFile file = claim("vide.xml", "");
  bool checked = false;
  const ClaimedDeposit d = read(file, 1024, [&](std::string_view) -> std::optional<Diagnostic> {
    checked = true;
    return std::nullopt;
  });
  EXPECT_FALSE(checked);
  ASSERT_EQ(d.read.errors.size(), 1U);
  EXPECT_EQ(d.read.errors[0].code, ErrorCode::FichierVide);
}

TEST_F(ClaimedDepositTest, IdentityTellsTwoDropsOfTheSameBytesApart) {
  const ClaimedFile first = claim("a.xml", kDepot);
  const ClaimedFile second = claim("b.xml", kDepot);
  const ClaimedDeposit a = read(first, 1024);
  const ClaimedDeposit b = read(second, 1024);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_NE(a.identity, b.identity);
}

}  // namespace
}  // namespace raccord::inbox
