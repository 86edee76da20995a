// Numbered schema migrations of the store (docs/reference.md §8), shared by SQLite and PostgreSQL.
#pragma once

#include <string>
#include <vector>

namespace raccord {

struct Migration {
  int version;
  std::vector<std::string> statements;
};

/// All migrations in ascending version order. Instants are TEXT "YYYY-MM-DDTHH:MM:SSZ" (UTC),
/// civil dates TEXT "YYYY-MM-DD"; booleans INTEGER 0/1.
const std::vector<Migration>& migrations();

}  // namespace raccord
