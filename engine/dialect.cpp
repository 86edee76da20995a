#include "engine/dialect.hpp"

#include <cctype>
#include <string>

#include "engine/database.hpp"

namespace raccord::dialect {

std::string_view begin(Backend backend) {
  switch (backend) {
    case Backend::Sqlite:
      return "BEGIN IMMEDIATE";
    case Backend::Postgresql:
      return "BEGIN";
  }
  return "BEGIN";
}

std::string next_sequence_expression(Backend backend, const std::string& name) {
  switch (backend) {
    case Backend::Sqlite:
      return {};
    case Backend::Postgresql:
      return "nextval('raccord_seq_" + name + "')";
  }
  return {};
}

std::string_view for_update(Backend backend) {
  switch (backend) {
    case Backend::Sqlite:
      return "";
    case Backend::Postgresql:
      return " FOR UPDATE";
  }
  return "";
}

std::string_view migration_lock(Backend backend) {
  switch (backend) {
    case Backend::Sqlite:
      return "";
    case Backend::Postgresql:
      return "SELECT pg_advisory_xact_lock(7263722, hashtext(current_schema()))";
  }
  return "";
}

std::string set_based_id(Backend backend, const std::string& name, int base_param, std::string_view order) {
  switch (backend) {
    case Backend::Sqlite:
      return "$" + std::to_string(base_param) + " + ROW_NUMBER() OVER (ORDER BY " + std::string(order) + ")";
    case Backend::Postgresql:
      return "nextval('raccord_seq_" + name + "')";
  }
  return {};
}

bool sequences_in_table(Backend backend) {
  return backend == Backend::Sqlite;
}

std::string_view try_nightly_lock(Backend backend) {
  return backend == Backend::Postgresql ? "SELECT pg_try_advisory_lock(7263723, hashtext(current_schema()))" : "";
}

std::string_view release_nightly_lock(Backend backend) {
  return backend == Backend::Postgresql ? "SELECT pg_advisory_unlock(7263723, hashtext(current_schema()))" : "";
}

bool applies(Backend backend, std::string_view statement) {
  if (statement.starts_with("sqlite:")) return backend == Backend::Sqlite;
  if (statement.starts_with("postgresql:")) return backend == Backend::Postgresql;
  return true;
}

std::string strip_prefix(std::string_view statement) {
  for (std::string_view prefix : {"sqlite:", "postgresql:"}) {
    if (statement.starts_with(prefix)) return std::string(statement.substr(prefix.size()));
  }
  return std::string(statement);
}

bool is_transient(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view needle :
       {"locked", "busy", "serializ", "deadlock", "connection", "server closed", "terminating", "not connected",
        "duplicate key", "unique constraint", "could not connect", "shutting down", "not open", "starting up"}) {
    if (lower.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace raccord::dialect
