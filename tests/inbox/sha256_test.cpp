// Tests of inbox/sha256.cpp against the FIPS 180-2 test vectors.
#include "inbox/sha256.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "tests/support/files.hpp"

namespace raccord::inbox {
namespace {

TEST(Sha256Hex, EmptyInput) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Hex, Abc) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Hex, TwoBlockMessage) {
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Hex, BinaryBytesWithNulAreHashedWhole) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(sha256_hex(with_nul), sha256_hex("a"));
  EXPECT_EQ(sha256_hex(with_nul).size(), 64U);
}

TEST(Sha256Hex, IsLowercaseHex) {
  const std::string h = sha256_hex("lot42");
  for (char c : h) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << h;
}

}  // namespace
}  // namespace raccord::inbox

namespace raccord::inbox {
namespace {

TEST(Sha256OfDescriptor, MatchesInMemoryHashAcrossChunks) {
  const testing::TempDir dir("raccord-sha");
  const std::string path = (dir.path() / "bytes").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  std::string bytes(200000, 'a');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>('a' + i % 26);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  EXPECT_EQ(sha256_hex_of_descriptor(fd), sha256_hex(bytes));
  ::close(fd);
}

}  // namespace
}  // namespace raccord::inbox
