#include "engine/app/version.hpp"

#include <Poco/Environment.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "raccord_version.hpp"

namespace raccord::app {

std::string version_text() {
  // Poco packs its version as 0xAABBCCDD: major, minor, revision, beta/patch (Poco/Version.h).
  const Poco::UInt32 poco = Poco::Environment::libraryVersion();
  return fmt::format("raccord {}\n{}\nSQLite {}\nPoco {}.{}.{}", RACCORD_VERSION, OpenSSL_version(OPENSSL_VERSION),
                     sqlite3_libversion(), (poco >> 24) & 0xFFU, (poco >> 16) & 0xFFU, (poco >> 8) & 0xFFU);
}

}  // namespace raccord::app
