// Where SQLite and PostgreSQL differ (docs/design.md "The store": the differences sit in this one file).
// Everything else is the same `$N` SQL text for both backends.
#pragma once

#include <string>
#include <string_view>

namespace raccord {

enum class Backend;

namespace dialect {

/// Starts a write transaction. SQLite: BEGIN IMMEDIATE (the writer lock is taken at once, so the busy
/// timeout applies; docs/toolchain.md #8). PostgreSQL: BEGIN (READ COMMITTED; rows are locked explicitly).
std::string_view begin(Backend backend);

/// An SQL expression drawing the next value of sequence `name`, or "" when the backend keeps
/// sequences in the `sequences` table (SQLite: Database::next_sequence_value updates it inside the
/// transaction). PostgreSQL: nextval() of `raccord_seq_<name>`, never rolled back, unique across
/// engines; usable in a SELECT list or an INSERT's VALUES.
std::string next_sequence_expression(Backend backend, const std::string& name);

/// Suffix of a SELECT that reads a row the transaction will change: " FOR UPDATE" on PostgreSQL (no
/// lost update when two engines change one sheet at once), "" on SQLite (one writer at a time).
std::string_view for_update(Backend backend);

/// Statement that serialises migrations among engines starting together, run first in the migration
/// transaction ("" on SQLite, where BEGIN IMMEDIATE already does it). PostgreSQL advisory locks are
/// keyed by the current schema, so stores in separate schemas of one database never contend.
std::string_view migration_lock(Backend backend);

/// Id expression for rows inserted set-based (INSERT ... SELECT) into a table whose ids come from
/// sequence `name`: PostgreSQL nextval(); SQLite `$<base_param> + ROW_NUMBER() OVER (ORDER BY <order>)`,
/// where the caller binds the current table value as base and adds the row count afterwards.
std::string set_based_id(Backend backend, const std::string& name, int base_param, std::string_view order);

/// Whether sequences live in the `sequences` table (SQLite) rather than in the backend (PostgreSQL).
bool sequences_in_table(Backend backend);

/// Session-level advisory lock for the nightly run on PostgreSQL: released by the server if the
/// engine dies (SQLite uses the `locks` table, stolen from dead processes). Queries return one boolean.
std::string_view try_nightly_lock(Backend backend);
std::string_view release_nightly_lock(Backend backend);

/// Whether a migration statement applies to `backend`: statements prefixed "sqlite:" or
/// "postgresql:" apply to that backend only (the prefix is removed by strip_prefix).
bool applies(Backend backend, std::string_view statement);
std::string strip_prefix(std::string_view statement);

/// Whether a store error text is worth retrying the whole transaction: busy/locked, serialization
/// failure, deadlock, lost connection, and unique violations (another engine inserted the same row
/// first; the retry sees it).
bool is_transient(std::string_view error_text);

}  // namespace dialect
}  // namespace raccord
