// PostgreSQL for tests: when RACCORD_TEST_BACKEND=postgresql, the engine fixtures run on the server
// named by RACCORD_TEST_POSTGRES (a libpq connection string), each test in a schema of its own, made
// and dropped through one libpq connection per test process (no psql process per test).
#pragma once

#include <optional>
#include <string>

namespace raccord::testing {

/// True when the tests were asked to run on PostgreSQL (RACCORD_TEST_BACKEND=postgresql).
bool postgres_requested();

/// A fresh schema on the test server: its connection string (search_path set to it), or nullopt
/// when RACCORD_TEST_POSTGRES is unset. `schema` receives its name. Throws std::runtime_error (the
/// server's message) when the server cannot be reached or the schema cannot be made.
std::optional<std::string> create_test_schema(std::string& schema);

/// The same on the server of the libpq connection string `server` (a test that needs a server of its
/// own, e.g. one it stops: RACCORD_TEST_OUTAGE_POSTGRES); never nullopt.
std::string create_test_schema(std::string& schema, const std::string& server);

/// Drops a schema made by create_test_schema (errors ignored), on RACCORD_TEST_POSTGRES's server or
/// on `server` when given.
void drop_test_schema(const std::string& schema, const std::string& server = "");

}  // namespace raccord::testing
