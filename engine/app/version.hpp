// `raccord --version` (README "Commands"): the project's version and the versions of the libraries
// that the running process actually loaded, which may differ from the ones it was built with after a
// security update of OpenSSL, SQLite or Poco.
#pragma once

#include <string>

namespace raccord::app {

/// The version text, one item per line, each line "NAME VERSION":
///   raccord <project(VERSION) of CMakeLists.txt, through the generated raccord_version.hpp>
///   <OpenSSL_version(OPENSSL_VERSION) as is, e.g. "OpenSSL 3.0.17 1 Jul 2025">
///   SQLite <sqlite3_libversion()>
///   Poco <major.minor.patch of Poco::Environment::libraryVersion()>
/// No newline after the last line. All read at run time from the loaded libraries. Raises nothing.
std::string version_text();

}  // namespace raccord::app
