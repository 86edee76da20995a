// Thin SQL access over Poco Data (docs/reference.md §8): one session, `$N` placeholders (docs/toolchain.md #9),
// explicit transactions and savepoints. SQLite (WAL) now; the dialect differences sit in dialect.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/enum_table.hpp"

namespace raccord {

/// A bound SQL value: NULL, integer or text.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, std::string>;

/// One result row; columns by position.
class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}
  bool is_null(std::size_t i) const { return std::holds_alternative<std::nullptr_t>(values_.at(i)); }
  /// Text of column i ("" for NULL; integers as decimal text).
  std::string text(std::size_t i) const;
  /// Integer of column i (0 for NULL; text parsed as decimal).
  std::int64_t integer(std::size_t i) const;
  std::optional<std::string> optional_text(std::size_t i) const;
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<SqlValue> values_;
};

/// Thrown for the store's own failures (unreachable, locked, disk full, constraint violated).
/// `transient` is true for failures worth retrying (busy, serialization failure, connection lost).
struct StoreError : std::runtime_error {
  StoreError(const std::string& what, bool transient_failure)
      : std::runtime_error(what), transient(transient_failure) {}
  bool transient;
};

/// A value read from the store that must be one of an enum's codes (a state, a kind, a status):
/// `parsed` is its parse (parse<E>, domain/enum_table.hpp); when that is nullopt the store holds a value
/// no release writes (corruption, or a newer release's store) and a StoreError (not transient) names
/// the table, the row and the value: nothing is ever defaulted silently (docs/design.md "Store").
template <class T>
T stored_enum(std::optional<T> parsed, std::string_view table, std::string_view row, std::string_view raw) {
  if (parsed) return *parsed;
  throw StoreError("valeur inconnue « " + std::string(raw) + " » dans " + std::string(table) + " (" + std::string(row) +
                       ") : store corrompu ou écrit par une version plus récente",
                   false);
}

/// The codes of `values` as an SQL list for `IN`, e.g. "('ENVOYEE', 'ENVOYEE_MAJ')" ("(NULL)", which
/// nothing is IN, for none): the one way a code of ours is written into a statement's text rather
/// than bound (a set of states the nightly run starts from, the applied dépôt statuses). The codes
/// are words of [A-Za-z0-9_] (their table is checked at compile time), so nothing needs quoting.
template <TabledEnum E>
std::string sql_list(std::span<const E> values) {
  if (values.empty()) return "(NULL)";
  std::string out = "(";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += '\'';
    out += to_code(values[i]);
    out += '\'';
  }
  return out + ")";
}

/// The store's engine (config store.backend).
enum class Backend { Sqlite, Postgresql };

template <>
struct EnumTable<Backend> {
  static constexpr std::array<EnumRow<Backend>, 2> kRows{{
      {Backend::Sqlite, "sqlite"},
      {Backend::Postgresql, "postgresql"},
  }};
};

class Database {
 public:
  /// Opens the store. SQLite: `connection` is a file path (parent directory must exist); sets WAL,
  /// foreign_keys, synchronous=FULL, a busy timeout and temp_store=MEMORY.
  /// PostgreSQL: a libpq "key=value ..." string, plus an optional `search_path=SCHEMA` word (lowercase letters, digits,
  /// _) to keep the store in that schema. Throws StoreError, also when SQLite could open the file
  /// read-only only (it falls back so, silently, when opening it for writing fails: EIO, EROFS,
  /// EACCES; issue 20). A StoreError for a failure of the disk under SQLite (I/O error, cannot open,
  /// full) names the store's file and the system's error.
  Database(Backend backend, const std::string& connection);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Backend backend() const { return backend_; }

  /// Executes one statement with `$1..$n` parameters (in ascending order, each once). Returns the
  /// number of rows it inserted, updated or deleted. Throws StoreError, also when `params` are not
  /// exactly the statement's parameters. SQLite: each statement text is prepared once and kept for
  /// the session (issue 7; Poco Data prepares again at every execution).
  std::size_t execute(const std::string& sql, const std::vector<SqlValue>& params = {});
  /// Executes one statement whose answer nothing reads (a write whose row count is not wanted).
  /// SQLite, or outside a transaction: at once, as execute. PostgreSQL, inside a transaction (begin,
  /// or a stream's own): queued and sent with the next statement, in its round
  /// trip (libpq pipeline mode, one sync; issue 21); a failure of it is the StoreError of that next
  /// statement (or of commit), which then is not run; rollback() forgets the queue. The statement after
  /// a deferred one must be a single statement. Throws StoreError (SQLite).
  void execute_deferred(std::string sql, std::vector<SqlValue> params);
  /// Runs a query and returns all rows.
  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params = {});
  /// The first row, or nullopt.
  std::optional<SqlRow> query_one(const std::string& sql, const std::vector<SqlValue>& params = {});

  /// Number of rows for_each_row holds in memory at a time (unless told otherwise).
  static constexpr std::size_t kStreamChunkRows = 1000;

  /// Runs a query and calls `on_row` for each row, in order, holding at most `chunk_rows` rows in
  /// memory at once (peak memory independent of the result size: issue 7, figure 4). SQLite: one
  /// statement stepped `chunk_rows` at a time (Poco `limit`). PostgreSQL: a server-side cursor
  /// (`DECLARE ... NO SCROLL CURSOR`, `FETCH FORWARD chunk_rows`, `CLOSE`), inside the current
  /// transaction, or inside a transaction of its own (committed at the end) when none is open;
  /// libpq would otherwise receive the whole result before the first row.
  /// `on_row` may run other queries and statements on this Database but must not begin, commit or
  /// roll back a transaction. An exception thrown by `on_row` stops the query (the cursor and the
  /// transaction of its own are closed / rolled back) and propagates unchanged. Store failures
  /// throw StoreError. `chunk_rows` 0 is taken as 1.
  void for_each_row(const std::string& sql, const std::vector<SqlValue>& params,
                    const std::function<void(const SqlRow&)>& on_row, std::size_t chunk_rows = kStreamChunkRows);

  /// Starts a write transaction (SQLite: BEGIN IMMEDIATE, so the busy timeout applies; docs/toolchain.md #8).
  void begin();
  void commit();
  void rollback();
  bool in_transaction() const { return in_transaction_; }
  /// SAVEPOINT, RELEASE SAVEPOINT and ROLLBACK TO SAVEPOINT `name`, inside a transaction, through
  /// execute_deferred: on PostgreSQL in the round trip of the next statement (an unknown savepoint is
  /// that statement's StoreError). Throws StoreError (SQLite).
  void savepoint(const std::string& name);
  void release(const std::string& name);
  void rollback_to(const std::string& name);

  /// Round trips to the PostgreSQL server so far on this connection (statements, preparations; the
  /// savepoint statements riding on the next one count with it); 0 on SQLite. For the tests and the
  /// profile of bench/README.md "Figure 9".
  std::uint64_t round_trips() const;

  /// Next value of a named sequence (codeAppli, ABO-, row ids), inside the current transaction.
  /// A committed value is never drawn again; a value drawn in a transaction or savepoint that is
  /// rolled back may be drawn again (it was never shown: codes are drawn only for accepted
  /// operations).
  std::int64_t next_sequence_value(const std::string& name);
  /// The next values of the sequences `names`, in that order, drawn as next_sequence_value draws
  /// each: by one round trip on PostgreSQL (one SELECT of their nextval; issue 21), one statement
  /// each on SQLite. Throws StoreError (an unknown sequence included).
  std::vector<std::int64_t> next_sequence_values(const std::vector<std::string>& names);

  /// Applies the numbered migrations not yet applied (table schema_migrations). Throws StoreError.
  void migrate();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Backend backend_;
  bool in_transaction_ = false;
  std::int64_t cursor_count_ = 0;  // names of PostgreSQL cursors (nested for_each_row calls)
};

/// Opens a store of `backend` at `connection` (Database's constructor). Throws StoreError.
std::unique_ptr<Database> open_database(Backend backend, const std::string& connection);

/// RAII transaction: begins on construction, rolls back on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) { db_.begin(); }
  ~Transaction() {
    if (!done_) {
      try {
        db_.rollback();
      } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more can be done while unwinding
      }
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.commit();
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace raccord
