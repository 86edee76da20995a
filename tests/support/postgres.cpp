#include "tests/support/postgres.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace raccord::testing {
namespace {

std::string run_psql(const std::string& base, const std::string& sql) {
  // psql is installed with the postgresql package; the test support library links no libpq.
  const std::string command = "psql -X -q -v ON_ERROR_STOP=1 \"" + base + "\" -c \"" + sql + "\" >/dev/null 2>&1";
  return std::system(command.c_str()) == 0 ? "" : "psql failed: " + sql;
}

}  // namespace

bool postgres_requested() {
  const char* v = std::getenv("RACCORD_TEST_BACKEND");
  return v != nullptr && std::string(v) == "postgresql";
}

std::optional<std::string> create_test_schema(std::string& schema) {
  const char* base = std::getenv("RACCORD_TEST_POSTGRES");
  if (base == nullptr || *base == '\0') return std::nullopt;
  static std::atomic<int> counter{0};
  schema = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  if (auto err = run_psql(base, "DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
      !err.empty()) {
    throw std::runtime_error(err);
  }
  return std::string(base) + " search_path=" + schema;
}

void drop_test_schema(const std::string& schema) {
  const char* base = std::getenv("RACCORD_TEST_POSTGRES");
  if (base == nullptr || schema.empty()) return;
  run_psql(base, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}

}  // namespace raccord::testing
