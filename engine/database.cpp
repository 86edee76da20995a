#include "engine/database.hpp"

#include <Poco/Data/Limit.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <Poco/Nullable.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "domain/civil_date.hpp"
#include "engine/dialect.hpp"
#include "engine/migrations.hpp"

namespace raccord {
namespace {

using Poco::Data::Keywords::bind;

/// The last message of SQLite's unix VFS on this thread ("os_unix.c:N: (errno) open(<file>) -
/// <strerror>"): the one place SQLite says which file and which system error a failure of the disk
/// was. sqlite3_system_errno() is not it: it reads errno after SQLite's later calls (an EIO on
/// opening the -wal file came out as ENOENT).
thread_local std::string last_os_error;

void on_sqlite_log(void* /*unused*/, int /*code*/, const char* message) {
  if (message == nullptr || !std::string_view(message).starts_with("os_unix.c:")) return;
  last_os_error = message;
  // "os_unix.c:N: (errno) open(<file>) - " ends with an empty text in Debian's build: the errno's.
  const auto open_paren = last_os_error.find(": (");
  if (last_os_error.ends_with("- ") && open_paren != std::string::npos) {
    const long error = std::strtol(last_os_error.c_str() + open_paren + 3, nullptr, 10);
    if (error > 0) last_os_error += std::system_category().message(static_cast<int>(error));
  }
}

void register_connectors() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Before SQLite is initialised (Poco's connector does it); on a failure the messages are lost.
    (void)sqlite3_config(SQLITE_CONFIG_LOG, &on_sqlite_log, nullptr);
    Poco::Data::SQLite::Connector::registerConnector();
  });
}

/// The store's file and what the system said, when SQLite's last error on `db` is a failure of the
/// disk under it (SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_CORRUPT: SQLite reports an EIO
/// on reading as a malformed image): " (store <file> ; <os_unix message>)"; a refused lock of its -shm
/// file (SQLITE_PROTOCOL): " (store <file> : verrou du fichier <file>-shm (fcntl) refusé)"; else "". SQLite's own
/// words ("disk I/O error", "unable to open database file") name neither the file nor the system's
/// error (issue 20, fault sweep: EIO on opening the store's -wal or -shm file, on reading it).
std::string disk_failure_of(sqlite3* db) {
  std::string os_error;
  std::swap(os_error, last_os_error);
  if (db == nullptr) return {};
  const int code = sqlite3_errcode(db) & 0xff;
  const char* file = sqlite3_db_filename(db, "main");
  if (code == SQLITE_PROTOCOL) {
    // A lock of the WAL index (the -shm file) refused by the system: SQLite logs no os_unix message for
    // it and keeps no errno (sqlite3_system_errno is 0 there, measured with the fault sweep): the store and
    // its -shm file are what can be named.
    const std::string store = file == nullptr ? "" : file;
    return fmt::format(" (store {} : verrou du fichier {}-shm (fcntl) refusé)", store, store);
  }
  if (code == SQLITE_READONLY) {
    // The store, or the -wal/-shm file a crash left beside it, that SQLite could open read-only only (it
    // falls back so, silently, when opening it for writing fails: an EIO on the -wal file of a store left
    // by a crash came back as "attempt to write a readonly database" at the first write, naming nothing;
    // the fault sweep's openat:EIO:@raccord.db-wal with a crash's leftovers in its template).
    const std::string store = file == nullptr ? "" : file;
    return fmt::format(" (store {} : lui ou son fichier -wal ou -shm n'a pu être ouvert qu'en lecture{}{})", store,
                       os_error.empty() ? "" : " ; ", os_error);
  }
  if (code != SQLITE_IOERR && code != SQLITE_CANTOPEN && code != SQLITE_FULL && code != SQLITE_CORRUPT) return {};
  return fmt::format(" (store {}{}{})", file == nullptr ? "" : file, os_error.empty() ? "" : " ; ", os_error);
}

[[noreturn]] void rethrow_as_store_error(const std::string& sql, sqlite3* db = nullptr) {
  try {
    throw;
  } catch (const StoreError&) {
    throw;
  } catch (const Poco::Exception& e) {
    const std::string text = e.displayText();
    throw StoreError(fmt::format("erreur de la base : {}{} [{}]", text, disk_failure_of(db), sql.substr(0, 120)),
                     dialect::is_transient(text));
  } catch (const std::exception& e) {
    throw StoreError(fmt::format("erreur de la base : {} [{}]", e.what(), sql.substr(0, 120)), false);
  }
}

/// The values of the current rows of `rs` (all of them: the current chunk with a limit).
template <typename OnRow>
void visit_record_set(Poco::Data::RecordSet& rs, const OnRow& on_row) {
  const std::size_t columns = rs.columnCount();
  for (std::size_t r = 0; r < rs.rowCount(); ++r) {
    std::vector<SqlValue> values;
    values.reserve(columns);
    for (std::size_t c = 0; c < columns; ++c) {
      const Poco::Dynamic::Var& v = rs.value(c, r);
      if (v.isEmpty()) {
        values.emplace_back(nullptr);
      } else if (v.isInteger()) {
        values.emplace_back(static_cast<std::int64_t>(v.convert<Poco::Int64>()));
      } else {
        values.emplace_back(v.convert<std::string>());
      }
    }
    on_row(SqlRow(std::move(values)));
  }
}

/// Marks an exception thrown by the caller's callback, so that it crosses rethrow_as_store_error unchanged.
struct CallbackFailure {
  std::exception_ptr error;
};

void bind_params(Poco::Data::Statement& st, const std::vector<SqlValue>& params) {
  for (const auto& p : params) {
    if (std::holds_alternative<std::nullptr_t>(p)) {
      st, bind(Poco::Nullable<std::string>());
    } else if (const auto* i = std::get_if<std::int64_t>(&p)) {
      st, bind(static_cast<Poco::Int64>(*i));
    } else {
      st, bind(std::get<std::string>(p));
    }
  }
}

/// SQLite statements prepared once per SQL text and kept for the session (issue 7): Poco Data
/// prepares a statement again at every execution and has no statement cache, which cost about 40 %
/// of the store's time for one sheet (~12 statements). Steps, binds and reads go through SQLite's own
/// API on Poco's connection (Poco::Data::SQLite::Utility::dbHandle); failures are raised by Poco's
/// Utility::throwException, so their messages, and whether they are transient, stay Poco's.
class SqliteStatements {
 public:
  explicit SqliteStatements(sqlite3* db) : db_(db) {}
  ~SqliteStatements() {
    for (auto& entry : cache_) sqlite3_finalize(entry.second);
  }
  SqliteStatements(const SqliteStatements&) = delete;
  SqliteStatements& operator=(const SqliteStatements&) = delete;

  /// Runs `sql` with `params` bound to $1..$n in order; calls on_row(values) for each result row.
  /// Returns the rows the statement inserted, updated or deleted (0 for any other statement, and
  /// for one that returns rows). Returns nullopt when `sql` holds more than one statement (the
  /// caller goes through Poco). Throws Poco::Exception (ParameterCountMismatchException
  /// when `params` are not exactly the statement's parameters: never a missing one bound as NULL).
  template <typename OnRow>
  std::optional<std::size_t> run(const std::string& sql, const std::vector<SqlValue>& params, const OnRow& on_row) {
    sqlite3_stmt* st = prepared(sql);
    if (st == nullptr) return std::nullopt;
    // Reset even when on_row or a step throws: a statement left stepping keeps its read open.
    struct Reset {
      sqlite3_stmt* st;
      ~Reset() {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
      }
    } reset{st};
    if (params.size() != static_cast<std::size_t>(sqlite3_bind_parameter_count(st))) {
      throw Poco::Data::SQLite::ParameterCountMismatchException(sql.substr(0, 120));
    }
    int index = 0;
    for (const auto& p : params) {
      ++index;
      int rc = SQLITE_OK;
      if (const auto* i = std::get_if<std::int64_t>(&p)) {
        rc = sqlite3_bind_int64(st, index, *i);
      } else if (const auto* text = std::get_if<std::string>(&p)) {
        rc = sqlite3_bind_text(st, index, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(st, index);
      }
      if (rc != SQLITE_OK) Poco::Data::SQLite::Utility::throwException(db_, rc);
    }
    const int columns = sqlite3_column_count(st);
    const long long changes_before = sqlite3_total_changes64(db_);
    for (;;) {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) Poco::Data::SQLite::Utility::throwException(db_, rc);
      std::vector<SqlValue> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(st, c)) {
          case SQLITE_NULL:
            values.emplace_back(nullptr);
            break;
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(st, c)));
            break;
          default: {  // text, blob, real: as text
            const auto* bytes = static_cast<const char*>(sqlite3_column_blob(st, c));
            values.emplace_back(
                std::string(bytes == nullptr ? "" : bytes, static_cast<std::size_t>(sqlite3_column_bytes(st, c))));
          }
        }
      }
      on_row(SqlRow(std::move(values)));
    }
    // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE through other statements.
    const bool changed = sqlite3_total_changes64(db_) != changes_before;
    return columns == 0 && changed ? static_cast<std::size_t>(sqlite3_changes64(db_)) : 0;
  }

 private:
  static constexpr std::size_t kMaxStatements = 256;  // SQL texts are the code's, a few built per search

  sqlite3_stmt* prepared(const std::string& sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    const char* tail = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1), SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(st);
      Poco::Data::SQLite::Utility::throwException(db_, rc);
    }
    if (st == nullptr || std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(st);
      return nullptr;  // empty, or several statements
    }
    if (cache_.size() >= kMaxStatements) {
      for (auto& entry : cache_) sqlite3_finalize(entry.second);
      cache_.clear();
    }
    cache_.emplace(sql, st);
    return st;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

/// PostgreSQL through libpq on a connection of our own (issue 21). Poco Data's PostgreSQL connector
/// prepares every statement again at each execution and describes and deallocates it: four round
/// trips per statement where one suffices. Here each SQL text with parameters is prepared once per
/// connection (PQprepare, named raccord_<n>, 256 texts at most) and run with PQexecPrepared (one round
/// trip); a text without parameters goes through the simple protocol (PQexec: one round trip, and
/// several statements allowed, as the migrations have). Statements whose answer nothing waits for
/// (savepoints, writes whose count is not read) are deferred: queued, then sent with the next
/// statement in libpq's pipeline mode, one sync for all, one round trip. Parameters are sent as text
/// with their types left to the server, as Poco did; integer columns (int2, int4, int8, oid) come back
/// as integers, the rest as text. A failure is a StoreError with PostgreSQL's message; it is transient
/// under dialect::is_transient, or when the connection is lost.
class PgStatements {
 public:
  /// Connects with the libpq string `conninfo`. Throws StoreError.
  explicit PgStatements(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (conn_ == nullptr) throw StoreError("erreur de la base : connexion PostgreSQL impossible (mémoire)", true);
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = trimmed(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw StoreError("erreur de la base : connexion PostgreSQL impossible : " + message,
                       dialect::is_transient("connection " + message));
    }
  }
  ~PgStatements() { PQfinish(conn_); }
  PgStatements(const PgStatements&) = delete;
  PgStatements& operator=(const PgStatements&) = delete;

  /// Queues `sql` with `params`, one statement whose answer nothing waits for (SAVEPOINT, RELEASE,
  /// ROLLBACK TO, a write whose count is not read), to go to the server in the round trip of the next
  /// statement run (issue 21). Its failure is raised by that next statement, which then is not run.
  void defer(std::string sql, std::vector<SqlValue> params) {
    pending_.push_back(Deferred{std::move(sql), std::move(params)});
  }

  /// Round trips to the server so far: statements (the deferred ones riding on the next), preparations.
  std::uint64_t round_trips() const { return round_trips_; }

  /// Runs `sql` with `params` bound to $1..$n, after the deferred statements, in one round trip;
  /// calls on_row(row) for each result row. `keep`: a text with parameters is prepared once and kept
  /// (false for texts that change at each call). Returns the rows an INSERT, UPDATE or DELETE without
  /// RETURNING changed, else 0. Throws StoreError (also when `params` are not exactly the statement's
  /// parameters: the server refuses the Bind; also for the first deferred statement that failed). After
  /// deferred statements `sql` must be one statement (the extended protocol's rule); a `ROLLBACK`
  /// drops them instead (it undoes them, and one failing would stop it).
  template <typename OnRow>
  std::size_t run(const std::string& sql, const std::vector<SqlValue>& params, const OnRow& on_row, bool keep = true) {
    const Bound bound(params);
    Result result;
    if (sql == "ROLLBACK") pending_.clear();  // undone by it, and one failing would stop it
    if (!pending_.empty()) {
      result = pipelined(sql, bound, keep);
    } else if (params.empty()) {
      ++round_trips_;
      result.reset(PQexec(conn_, sql.c_str()));
    } else if (!keep) {
      ++round_trips_;
      result.reset(PQexecParams(conn_, sql.c_str(), bound.count(), nullptr, bound.values(), nullptr, nullptr, 0));
    } else {
      const std::string& name = prepared(sql);
      ++round_trips_;
      result.reset(PQexecPrepared(conn_, name.c_str(), bound.count(), bound.values(), nullptr, nullptr, 0));
    }
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY) {
      const char* changed = PQcmdTuples(result.get());
      return changed == nullptr || *changed == '\0' ? 0 : static_cast<std::size_t>(std::strtoull(changed, nullptr, 10));
    }
    if (status != PGRES_TUPLES_OK) fail(result.get(), sql);
    const int rows = PQntuples(result.get());
    const int columns = PQnfields(result.get());
    std::vector<bool> integer(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      const Oid type = PQftype(result.get(), c);
      integer[static_cast<std::size_t>(c)] = type == 20 || type == 21 || type == 23 || type == 26;  // int8/2/4, oid
    }
    for (int r = 0; r < rows; ++r) {
      std::vector<SqlValue> row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result.get(), r, c) != 0) {
          row.emplace_back(nullptr);
        } else if (integer[static_cast<std::size_t>(c)]) {
          row.emplace_back(static_cast<std::int64_t>(std::strtoll(PQgetvalue(result.get(), r, c), nullptr, 10)));
        } else {
          row.emplace_back(
              std::string(PQgetvalue(result.get(), r, c), static_cast<std::size_t>(PQgetlength(result.get(), r, c))));
        }
      }
      on_row(SqlRow(std::move(row)));
    }
    return 0;
  }

 private:
  struct ClearResult {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  using Result = std::unique_ptr<PGresult, ClearResult>;
  static constexpr std::size_t kMaxStatements = 256;  // SQL texts are the code's, a few built per search

  struct Deferred {
    std::string sql;
    std::vector<SqlValue> params;
  };

  /// Parameters as libpq wants them: texts, null pointers for NULL.
  class Bound {
   public:
    explicit Bound(const std::vector<SqlValue>& params) {
      texts_.reserve(params.size());
      for (const auto& p : params) {
        if (const auto* i = std::get_if<std::int64_t>(&p)) {
          texts_.push_back(std::to_string(*i));
        } else if (const auto* text = std::get_if<std::string>(&p)) {
          texts_.push_back(*text);
        } else {
          texts_.emplace_back();
        }
      }
      values_.reserve(params.size());
      for (std::size_t i = 0; i < params.size(); ++i) {
        values_.push_back(std::holds_alternative<std::nullptr_t>(params[i]) ? nullptr : texts_[i].c_str());
      }
    }
    Bound(const Bound&) = delete;
    Bound& operator=(const Bound&) = delete;
    int count() const { return static_cast<int>(values_.size()); }
    const char* const* values() const { return values_.data(); }

   private:
    std::vector<std::string> texts_;
    std::vector<const char*> values_;
  };

  static std::string trimmed(const char* text) {
    std::string out = text == nullptr ? "" : text;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  [[noreturn]] void fail(const PGresult* result, const std::string& sql) const {
    std::string message = trimmed(result != nullptr ? PQresultErrorMessage(result) : nullptr);
    if (message.empty()) message = trimmed(PQerrorMessage(conn_));
    const bool lost = PQstatus(conn_) != CONNECTION_OK;
    throw StoreError(fmt::format("erreur de la base : PostgreSQL : {} [{}]", message, sql.substr(0, 120)),
                     lost || dialect::is_transient(message));
  }

  /// Sends one statement of a pipeline: prepared (`name`) or by its text (`name` null).
  bool send(const std::string& sql, const std::string* name, const Bound& bound) {
    if (name != nullptr) {
      return PQsendQueryPrepared(conn_, name->c_str(), bound.count(), bound.values(), nullptr, nullptr, 0) == 1;
    }
    return PQsendQueryParams(conn_, sql.c_str(), bound.count(), nullptr, bound.values(), nullptr, nullptr, 0) == 1;
  }

  /// The deferred statements then `sql` in pipeline mode with one sync: one round trip (the texts with
  /// parameters first prepared, once per connection, as run does). The result of `sql`; throws
  /// StoreError for the first deferred statement that failed (the server skips the rest up to the sync).
  Result pipelined(const std::string& sql, const Bound& bound, bool keep) {
    std::vector<Deferred> pending;
    std::swap(pending, pending_);
    // Every name is known before the pipeline starts; preparing a text may empty the cache (DEALLOCATE
    // ALL), and then the names are taken again.
    std::vector<const std::string*> names(pending.size() + 1, nullptr);
    for (std::uint64_t generation = deallocations_ + 1; generation != deallocations_;) {
      generation = deallocations_;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        if (!pending[i].params.empty()) names[i] = &prepared(pending[i].sql);
      }
      if (keep && bound.count() > 0) names.back() = &prepared(sql);
      if (pending.size() + 1 > kMaxStatements) break;  // could never all be kept at once: those last named
    }
    if (pending.size() + 1 > kMaxStatements) std::fill(names.begin(), names.end(), nullptr);
    ++round_trips_;
    if (PQenterPipelineMode(conn_) != 1) fail(nullptr, sql);
    bool sent = true;
    for (std::size_t i = 0; sent && i < pending.size(); ++i) {
      const Bound deferred(pending[i].params);
      sent = send(pending[i].sql, names[i], deferred);
    }
    sent = sent && send(sql, names.back(), bound) && PQpipelineSync(conn_) == 1;
    // Every answer is read (each statement's result then a null, the sync's last) so that the
    // connection leaves pipeline mode after a failure too.
    Result failed;
    std::string failed_sql;
    Result last;
    for (std::size_t i = 0; sent && i <= pending.size(); ++i) {
      Result answer(PQgetResult(conn_));
      if (!answer) break;  // the connection is gone
      while (PGresult* more = PQgetResult(conn_)) PQclear(more);
      if (i == pending.size()) {
        last = std::move(answer);
      } else if (!failed && PQresultStatus(answer.get()) == PGRES_FATAL_ERROR) {
        failed = std::move(answer);
        failed_sql = pending[i].sql;
      }
    }
    if (sent) {
      const Result sync(PQgetResult(conn_));  // PGRES_PIPELINE_SYNC
    }
    const bool left = PQexitPipelineMode(conn_) == 1;
    if (failed) fail(failed.get(), failed_sql);
    if (!sent || !left) fail(nullptr, sql);
    return last;
  }

  const std::string& prepared(const std::string& sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxStatements) {
      ++round_trips_;
      Result result(PQexec(conn_, "DEALLOCATE ALL"));
      if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) fail(result.get(), "DEALLOCATE ALL");
      cache_.clear();
      ++deallocations_;
    }
    std::string name = fmt::format("raccord_{}", ++prepared_count_);
    ++round_trips_;
    Result result(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) fail(result.get(), sql);
    return cache_.emplace(sql, std::move(name)).first->second;
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> cache_;  // SQL text -> prepared statement's name
  std::uint64_t prepared_count_ = 0;
  std::uint64_t deallocations_ = 0;  // of the whole cache (names taken before are void)
  std::vector<Deferred> pending_;    // deferred statements, in order
  std::uint64_t round_trips_ = 0;
};

}  // namespace

std::string SqlRow::text(std::size_t i) const {
  const auto& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  return {};
}

std::int64_t SqlRow::integer(std::size_t i) const {
  const auto& v = values_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* s = std::get_if<std::string>(&v)) {
    try {
      return std::stoll(*s);
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

std::optional<std::string> SqlRow::optional_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

struct Database::Impl {
  std::unique_ptr<Poco::Data::Session> session;
  std::unique_ptr<SqliteStatements> statements;  // SQLite only; finalized before the session closes
  sqlite3* sqlite = nullptr;                     // SQLite only: the session's connection
  std::unique_ptr<PgStatements> pg;              // PostgreSQL only (no Poco session then)
};

Database::Database(Backend backend, const std::string& connection)
    : impl_(std::make_unique<Impl>()), backend_(backend) {
  register_connectors();
  if (backend == Backend::Sqlite && connection != ":memory:" && connection.rfind("file:", 0) != 0) {
    // Poco's SQLite open only gives up on a missing directory after its whole login timeout (30 s).
    const std::filesystem::path parent = std::filesystem::path(connection).parent_path();
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
      throw StoreError(fmt::format("le dossier {} du store SQLite n'existe pas : lancez raccord init ou corrigez "
                                   "store.connection.",
                                   parent.string()),
                       false);
    }
  }
  try {
    if (backend == Backend::Sqlite) {
      impl_->session = std::make_unique<Poco::Data::Session>("SQLite", connection, 30);
    } else {
      // Poco rebuilds the libpq string from key=value words and cannot carry options='-c ...':
      // a `search_path=SCHEMA` word is ours, applied after connecting (one store per schema).
      std::string libpq;
      std::string search_path;
      std::istringstream words(connection);
      for (std::string word; words >> word;) {
        if (word.rfind("search_path=", 0) == 0) {
          search_path = word.substr(12);
        } else {
          libpq += (libpq.empty() ? "" : " ") + word;
        }
      }
      // A server that does not answer is reported before Poco tries: Poco 1.11's connect() leaks
      // its PGconn when the connection fails (found by LeakSanitizer: a daemon retrying through a
      // long outage would grow by ~17 KB per attempt).
      if (PQping(libpq.c_str()) == PQPING_NO_RESPONSE) {
        throw StoreError("erreur de la base : le serveur PostgreSQL ne répond pas (connexion impossible)", true);
      }
      if (!search_path.empty() &&
          search_path.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
        throw StoreError("store.connection : search_path invalide « " + search_path + " »", false);
      }
      if (libpq.find("connect_timeout=") == std::string::npos)
        libpq += " connect_timeout=30";  // as Poco's login timeout
      impl_->pg = std::make_unique<PgStatements>(libpq);
      if (!search_path.empty()) impl_->pg->run("SET search_path TO " + search_path, {}, [](const SqlRow&) {});
    }
  } catch (...) {
    rethrow_as_store_error("open " + (backend == Backend::Sqlite ? connection : std::string("postgresql")));
  }
  if (backend == Backend::Sqlite) {
    sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(*impl_->session);
    // SQLite opens the file read-only, without a word, when opening it for writing fails for any
    // reason (unixOpen: EIO, EROFS, EACCES...); every write then failed with "attempt to write a
    // readonly database", naming neither the store nor the cause, dépôt after dépôt (issue 20, fault
    // sweep: EIO on the store's openat). The engine only writes: such a store is a failure to open it.
    if (sqlite3_db_readonly(db, "main") == 1) {
      const char* file = sqlite3_db_filename(db, "main");
      throw StoreError(fmt::format("erreur de la base : ouverture impossible en écriture du store {} (le système "
                                   "l'a refusée : disque en lecture seule, droits ou erreur d'entrée-sortie) ; "
                                   "corrigez le disque ou les droits puis relancez",
                                   file == nullptr || *file == '\0' ? connection : std::string(file)),
                       false);
    }
    impl_->statements = std::make_unique<SqliteStatements>(db);
    impl_->sqlite = db;
    query("PRAGMA journal_mode=WAL");
    execute("PRAGMA foreign_keys=ON");
    execute("PRAGMA synchronous=FULL");
    execute("PRAGMA busy_timeout=30000");
    // Savepoint and statement journals in memory, not in temporary files (issue 7: a per-operation
    // savepoint wrote ~35 pages of a temporary file per dépôt). The page cache keeps SQLite's
    // default (2 MiB): a larger one only made a long-running daemon's RSS grow until it was full.
    execute("PRAGMA temp_store=MEMORY");
  }
}

Database::~Database() {
  if (in_transaction_) {
    try {
      rollback();
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
  }
}

std::size_t Database::execute(const std::string& sql, const std::vector<SqlValue>& params) {
  last_os_error.clear();
  try {
    if (impl_->pg) return impl_->pg->run(sql, params, [](const SqlRow&) {});
    if (impl_->statements) {
      if (auto changed = impl_->statements->run(sql, params, [](const SqlRow&) {})) return *changed;
    }
    Poco::Data::Statement st(*impl_->session);
    st << sql;
    bind_params(st, params);
    return st.execute();
  } catch (...) {
    rethrow_as_store_error(sql, impl_->sqlite);
  }
}

std::vector<SqlRow> Database::query(const std::string& sql, const std::vector<SqlValue>& params) {
  last_os_error.clear();
  try {
    if (impl_->pg) {
      std::vector<SqlRow> rows;
      impl_->pg->run(sql, params, [&rows](SqlRow row) { rows.push_back(std::move(row)); });
      return rows;
    }
    if (impl_->statements) {
      std::vector<SqlRow> rows;
      if (impl_->statements->run(sql, params, [&rows](SqlRow row) { rows.push_back(std::move(row)); })) return rows;
    }
    Poco::Data::Statement st(*impl_->session);
    st << sql;
    bind_params(st, params);
    st.execute();
    Poco::Data::RecordSet rs(st);
    std::vector<SqlRow> rows;
    rows.reserve(rs.rowCount());
    visit_record_set(rs, [&rows](SqlRow row) { rows.push_back(std::move(row)); });
    return rows;
  } catch (...) {
    rethrow_as_store_error(sql, impl_->sqlite);
  }
}

void Database::for_each_row(const std::string& sql, const std::vector<SqlValue>& params,
                            const std::function<void(const SqlRow&)>& on_row, std::size_t chunk_rows) {
  last_os_error.clear();
  chunk_rows = std::max<std::size_t>(chunk_rows, 1);
  auto call = [&on_row](const SqlRow& row) {
    try {
      on_row(row);
    } catch (...) {
      throw CallbackFailure{std::current_exception()};
    }
  };
  try {
    switch (backend_) {
      case Backend::Sqlite: {
        Poco::Data::Statement st(*impl_->session);
        st << sql;
        bind_params(st, params);
        st, Poco::Data::Limit(static_cast<Poco::Data::Limit::SizeT>(chunk_rows));
        do {
          st.execute();
          Poco::Data::RecordSet rs(st);
          visit_record_set(rs, call);
        } while (!st.done());
        return;
      }
      case Backend::Postgresql: {
        const bool own_transaction = !in_transaction_;
        const std::string cursor = fmt::format("raccord_stream_{}", ++cursor_count_);
        if (own_transaction) {
          execute("BEGIN");
          in_transaction_ = true;  // a nested for_each_row from on_row joins it
        }
        try {
          // The cursor's name changes at each call: its DECLARE is not kept prepared.
          impl_->pg->run(
              fmt::format("DECLARE {} NO SCROLL CURSOR FOR {}", cursor, sql), params, [](const SqlRow&) {}, false);
          const std::string fetch = fmt::format("FETCH FORWARD {} FROM {}", chunk_rows, cursor);
          for (;;) {
            std::size_t fetched = 0;
            impl_->pg->run(fetch, {}, [&](const SqlRow& row) {
              ++fetched;
              call(row);
            });
            if (fetched < chunk_rows) break;
          }
          execute("CLOSE " + cursor);
          if (own_transaction) {
            in_transaction_ = false;
            execute("COMMIT");
          }
        } catch (...) {
          if (own_transaction) in_transaction_ = false;
          try {
            execute(own_transaction ? std::string("ROLLBACK") : "CLOSE " + cursor);
          } catch (...) {  // NOLINT(bugprone-empty-catch): the first failure is the one to report
          }
          throw;
        }
        return;
      }
    }
  } catch (const CallbackFailure& failure) {
    std::rethrow_exception(failure.error);
  } catch (...) {
    rethrow_as_store_error(sql, impl_->sqlite);
  }
}

std::optional<SqlRow> Database::query_one(const std::string& sql, const std::vector<SqlValue>& params) {
  auto rows = query(sql, params);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

void Database::begin() {
  execute(std::string(dialect::begin(backend_)));
  in_transaction_ = true;
}

void Database::commit() {
  execute("COMMIT");
  in_transaction_ = false;
}

void Database::rollback() {
  in_transaction_ = false;
  execute("ROLLBACK");  // on PostgreSQL the deferred statements are dropped, not sent
}

void Database::savepoint(const std::string& name) {
  execute_deferred("SAVEPOINT " + name, {});
}
void Database::release(const std::string& name) {
  execute_deferred("RELEASE SAVEPOINT " + name, {});
}
void Database::rollback_to(const std::string& name) {
  execute_deferred("ROLLBACK TO SAVEPOINT " + name, {});
}

void Database::execute_deferred(std::string sql, std::vector<SqlValue> params) {
  if (!impl_->pg || !in_transaction_) {  // outside a transaction a statement may be the last one
    execute(sql, params);
    return;
  }
  impl_->pg->defer(std::move(sql), std::move(params));
}

std::uint64_t Database::round_trips() const {
  return impl_->pg ? impl_->pg->round_trips() : 0;
}

std::int64_t Database::next_sequence_value(const std::string& name) {
  return next_sequence_values({name}).front();
}

std::vector<std::int64_t> Database::next_sequence_values(const std::vector<std::string>& names) {
  std::vector<std::int64_t> values;
  values.reserve(names.size());
  if (backend_ == Backend::Postgresql) {
    std::string sql;
    for (const auto& name : names) {  // one expression each of a single SELECT
      sql += (sql.empty() ? "SELECT " : ", ") + dialect::next_sequence_expression(backend_, name);
    }
    auto row = query_one(sql);  // an unknown sequence is PostgreSQL's error
    if (!row) throw StoreError("aucune valeur rendue par " + sql, false);
    for (std::size_t i = 0; i < names.size(); ++i) values.push_back(row->integer(i));
    return values;
  }
  // SQLite 3.35+: one statement draws the value and returns it (issue 7: three draws per sheet).
  for (const auto& name : names) {
    auto row = query_one("UPDATE sequences SET value = value + 1 WHERE name = $1 RETURNING value", {name});
    if (!row) throw StoreError("séquence inconnue : " + name, false);
    values.push_back(row->integer(0));
  }
  return values;
}

void Database::migrate() {
  Transaction tx(*this);
  if (const auto lock = dialect::migration_lock(backend_); !lock.empty()) query(std::string(lock));
  execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  const auto applied = query("SELECT version FROM schema_migrations");
  auto is_applied = [&](int v) {
    for (const auto& r : applied) {
      if (r.integer(0) == v) return true;
    }
    return false;
  };
  for (const auto& m : migrations()) {
    if (is_applied(m.version)) continue;
    for (const auto& statement : m.statements) {
      if (dialect::applies(backend_, statement)) execute(dialect::strip_prefix(statement));
    }
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            {static_cast<std::int64_t>(m.version), format_iso_instant(now)});
  }
  tx.commit();
}

std::unique_ptr<Database> open_database(Backend backend, const std::string& connection) {
  return std::make_unique<Database>(backend, connection);
}

}  // namespace raccord
