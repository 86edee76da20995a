#include "tests/support/postgres.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace raccord::testing {
namespace {

// One libpq connection per test process to the server of RACCORD_TEST_POSTGRES (or of the server a test
// names), opened on first use and kept (opened again for another server): each test's CREATE/DROP SCHEMA is one round
// trip, not a `psql` process (about 90 ms each, two per test) nor a new server backend. It belongs to the process that
// opened it: a forked child that reaches exit() must not end the parent's session (PQfinish sends a Terminate message
// on the shared socket), so a child opens its own and never closes the parent's. A connection the server dropped (a
// test that stops and restarts the server, MultiEngineTest) is opened again once.
struct Connection {
  PGconn* conn = nullptr;
  std::string base;  // the connection string conn was opened with
  pid_t owner = 0;
  PGconn* inherited = nullptr;  // a forked child's copy of its parent's: kept reachable, never used
  ~Connection() {
    if (conn != nullptr && owner == ::getpid()) PQfinish(conn);
  }
};

Connection& connection() {
  static Connection c;
  return c;
}

std::mutex& connection_mutex() {
  static std::mutex m;
  return m;
}

/// Runs `sql` (one or more statements) on the connection for `base`; "" when it succeeded, else the
/// server's (or libpq's) message.
std::string run_sql(const std::string& base, const std::string& sql) {
  const std::lock_guard lock(connection_mutex());
  Connection& c = connection();
  std::string error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (c.conn != nullptr && (c.owner != ::getpid() || PQstatus(c.conn) != CONNECTION_OK || c.base != base)) {
      if (c.owner == ::getpid()) {
        PQfinish(c.conn);
      } else {
        c.inherited = c.conn;  // a forked child leaves its parent's alone
      }
      c.conn = nullptr;
    }
    if (c.conn == nullptr) {
      c.conn = PQconnectdb(base.c_str());
      c.base = base;
      c.owner = ::getpid();
      if (PQstatus(c.conn) != CONNECTION_OK) {
        error = PQerrorMessage(c.conn);
        PQfinish(c.conn);
        c.conn = nullptr;
        continue;
      }
      // The tests' schemas are dropped with CASCADE: no NOTICE per dropped object on stderr.
      PQclear(PQexec(c.conn, "SET client_min_messages = warning"));
    }
    PGresult* result = PQexec(c.conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    error = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ? "" : PQresultErrorMessage(result);
    PQclear(result);
    if (error.empty() || PQstatus(c.conn) == CONNECTION_OK) return error;  // done, or the SQL itself failed
  }
  return error;
}

}  // namespace

bool postgres_requested() {
  const char* v = std::getenv("RACCORD_TEST_BACKEND");
  return v != nullptr && std::string(v) == "postgresql";
}

std::optional<std::string> create_test_schema(std::string& schema) {
  const char* base = std::getenv("RACCORD_TEST_POSTGRES");
  if (base == nullptr || *base == '\0') return std::nullopt;
  return create_test_schema(schema, base);
}

std::string create_test_schema(std::string& schema, const std::string& base) {
  static std::atomic<int> counter{0};
  schema = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string sql = "DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema;
  if (auto err = run_sql(base, sql); !err.empty()) {
    throw std::runtime_error("PostgreSQL de test (" + base + ") : " + sql + " : " + err);
  }
  return base + " search_path=" + schema;
}

void drop_test_schema(const std::string& schema, const std::string& server) {
  const char* env = std::getenv("RACCORD_TEST_POSTGRES");
  const std::string base = !server.empty() ? server : env != nullptr ? env : "";
  if (base.empty() || schema.empty()) return;
  run_sql(base, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}

}  // namespace raccord::testing
