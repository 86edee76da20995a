// raccord_bench_store: grows a SQLite store to N sheets for the nightly and export figures of bench/run
// (issue 7, figures 3 and 4), in one transaction, without going through `raccord process` (a million
// dépôt operations with a leaf certificate each would take hours).
//
// The rows are copies of real ones: the store must already hold K >= 1 template sheets, submitted by
// `raccord process` (state ENVOYEE, not deleted, with their pending version, interfaces, bundle,
// certificate facts and history exactly as the engine stores them). Sheet i (1..N) copies template
// i mod K with a new codeAppli (<prefix><code sequence + i>) and a new version id (version sequence + i),
// so the bundles are shared by CA ("one bundle per CA"), and only the state and the period differ:
//   i <= ACT             ENVOYEE, pending version, period 2026-12-02 .. 2099-06-30 (activated by the
//                        nightly run of 2026-12-02);
//   ACT < i <= ACT+DEA   ACTIVEE, active version, period 2026-11-01 .. 2026-12-01 (deactivated on
//                        2026-12-02: period ended);
//   the rest             ACTIVEE, active version, period 2026-01-05 .. 2099-06-30 (untouched).
// Each copy gets the template's submission history row, and each ACTIVEE one its activation row
// (nightly, 2026-12-01T01:00:00Z). The sequences code_appli, version and history move past the new
// rows, so the engine can go on using the store.
//
// Usage: raccord_bench_store DB N ACT DEA
// Output: "N sheets added (K templates)" on stdout. Exit 0; 1 on a SQLite error; 2 on a usage error.
#include <sqlite3.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace {

/// A whole decimal number (std::atoll would read "12x" as 12 and "x" as 0); -1 when it is not one.
std::int64_t number(std::string_view text) {
  std::int64_t value = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && end == text.data() + text.size() ? value : -1;
}

struct Db {
  sqlite3* handle = nullptr;
  ~Db() { sqlite3_close(handle); }
};

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  std::cerr << "raccord_bench_store: " << what << ": " << sqlite3_errmsg(db) << "\n";
  std::exit(1);
}

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::cerr << "raccord_bench_store: " << (error != nullptr ? error : "?") << "\n  in: " << sql << "\n";
    sqlite3_free(error);
    std::exit(1);
  }
}

/// The single integer of `sql`.
std::int64_t integer(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) fail(db, sql);
  if (sqlite3_step(st) != SQLITE_ROW) fail(db, "no row: " + sql);
  const std::int64_t value = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return value;
}

std::string text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) fail(db, sql);
  if (sqlite3_step(st) != SQLITE_ROW) fail(db, "no row: " + sql);
  const auto* p = sqlite3_column_text(st, 0);
  std::string value = p != nullptr ? reinterpret_cast<const char*>(p) : "";
  sqlite3_finalize(st);
  return value;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: raccord_bench_store DB N ACT DEA\n";
    return 2;
  }
  const std::int64_t n = number(argv[2]);
  const std::int64_t act = number(argv[3]);
  const std::int64_t dea = number(argv[4]);
  if (n <= 0 || act < 0 || dea < 0 || act + dea > n) {
    std::cerr << "raccord_bench_store: N > 0 and ACT + DEA <= N expected\n";
    return 2;
  }
  Db db;
  if (sqlite3_open_v2(argv[1], &db.handle, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) fail(db.handle, argv[1]);
  sqlite3* h = db.handle;
  exec(h, "PRAGMA foreign_keys = ON");
  exec(h, "PRAGMA cache_size = -65536");  // 64 MiB of page cache for the bulk insert
  exec(h, "BEGIN IMMEDIATE");
  exec(h,
       "CREATE TEMP TABLE tpl AS SELECT ROW_NUMBER() OVER (ORDER BY code_appli) - 1 AS k, code_appli AS code, "
       "pending_version AS vid FROM sheets WHERE state = 'ENVOYEE' AND deleted = 0 AND pending_version IS NOT NULL");
  const std::int64_t k = integer(h, "SELECT COUNT(*) FROM tpl");
  if (k == 0) {
    std::cerr << "raccord_bench_store: no template sheet (ENVOYEE) in the store\n";
    return 1;
  }
  const std::string code = text(h, "SELECT code FROM tpl WHERE k = 0");
  const std::string prefix = code.substr(0, code.find_last_not_of("0123456789") + 1);
  const std::int64_t c0 = integer(h, "SELECT value FROM sequences WHERE name = 'code_appli'");
  const std::int64_t v0 = integer(h, "SELECT value FROM sequences WHERE name = 'version'");
  const std::int64_t h0 = integer(h, "SELECT value FROM sequences WHERE name = 'history'");
  const std::string ns = std::to_string(n);
  const std::string acts = std::to_string(act);
  const std::string last_dea = std::to_string(act + dea);
  exec(h,
       "CREATE TEMP TABLE gen (i INTEGER PRIMARY KEY, k INTEGER NOT NULL, code TEXT NOT NULL, vid INTEGER NOT "
       "NULL, state TEXT NOT NULL, pfrom TEXT NOT NULL, pto TEXT NOT NULL)");
  exec(h, "INSERT INTO gen WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + ns +
              ") SELECT i, i % " + std::to_string(k) + ", printf('%s%03d', " + quote(prefix) + ", " +
              std::to_string(c0) + " + i), " + std::to_string(v0) + " + i, CASE WHEN i <= " + acts +
              " THEN 'ENVOYEE' ELSE 'ACTIVEE' END, CASE WHEN i <= " + acts +
              " THEN '2026-12-02' WHEN i <= " + last_dea + " THEN '2026-11-01' ELSE '2026-01-05' END, CASE WHEN i > " +
              acts + " AND i <= " + last_dea + " THEN '2026-12-01' ELSE '2099-06-30' END FROM n");
  const std::string from = " FROM gen g JOIN tpl t ON t.k = g.k ";
  exec(h,
       "INSERT INTO sheets (code_appli, kind, partner_siret, state, deleted, active_version, pending_version, "
       "submitted_at, created_at, updated_at) SELECT g.code, s.kind, s.partner_siret, g.state, 0, CASE WHEN g.state "
       "= 'ACTIVEE' THEN g.vid END, CASE WHEN g.state = 'ENVOYEE' THEN g.vid END, s.submitted_at, s.created_at, "
       "s.updated_at" +
           from + "JOIN sheets s ON s.code_appli = t.code ORDER BY g.i");
  exec(h,
       "INSERT INTO sheet_versions (id, code_appli, action, protocol, period_from, period_to, contact_name, "
       "contact_phone, contact_email, contact_fax, network_identifier, network_address, network_port, network_path, "
       "comments, created_at, created_by, deposit_sha256) SELECT g.vid, g.code, v.action, v.protocol, g.pfrom, g.pto, "
       "v.contact_name, v.contact_phone, v.contact_email, v.contact_fax, v.network_identifier, v.network_address, "
       "v.network_port, v.network_path, v.comments, v.created_at, v.created_by, v.deposit_sha256" +
           from + "JOIN sheet_versions v ON v.id = t.vid ORDER BY g.i");
  exec(h, "INSERT INTO sheet_interfaces (version_id, position, code, mode) SELECT g.vid, x.position, x.code, x.mode" +
              from + "JOIN sheet_interfaces x ON x.version_id = t.vid ORDER BY g.i, x.position");
  exec(h,
       "INSERT INTO sheet_bundles (version_id, bundle_index, name, content) SELECT g.vid, x.bundle_index, x.name, "
       "x.content" +
           from + "JOIN sheet_bundles x ON x.version_id = t.vid ORDER BY g.i, x.bundle_index");
  exec(h,
       "INSERT INTO sheet_certificates (version_id, position, bundle_index, subject, subject_cn, issuer, serial, "
       "not_before, not_after, fingerprint, is_ca, is_leaf, client_auth, server_auth, has_eku, key_type, key_bits, "
       "signature_algorithm) SELECT g.vid, x.position, x.bundle_index, x.subject, x.subject_cn, x.issuer, x.serial, "
       "x.not_before, x.not_after, x.fingerprint, x.is_ca, x.is_leaf, x.client_auth, x.server_auth, x.has_eku, "
       "x.key_type, x.key_bits, x.signature_algorithm" +
           from + "JOIN sheet_certificates x ON x.version_id = t.vid ORDER BY g.i, x.position");
  // History: the template's submission row, then the activation of the ACTIVEE copies.
  const std::string hs = std::to_string(h0);
  exec(h, "INSERT INTO history (id, code_appli, instant, actor, from_state, to_state, reason, deposit_sha256) SELECT " +
              hs + " + 2 * g.i - 1, g.code, x.instant, x.actor, x.from_state, x.to_state, x.reason, x.deposit_sha256" +
              from +
              "JOIN history x ON x.id = (SELECT MIN(y.id) FROM history y WHERE y.code_appli = t.code) ORDER BY g.i");
  exec(h, "INSERT INTO history (id, code_appli, instant, actor, from_state, to_state, reason, deposit_sha256) SELECT " +
              hs +
              " + 2 * g.i, g.code, '2026-12-01T01:00:00Z', 'nightly', 'ENVOYEE', 'ACTIVEE', 'activation', NULL "
              "FROM gen g WHERE g.state = 'ACTIVEE' ORDER BY g.i");
  exec(h, "UPDATE sequences SET value = value + " + ns + " WHERE name IN ('code_appli', 'version')");
  exec(h, "UPDATE sequences SET value = value + 2 * " + ns + " WHERE name = 'history'");
  exec(h, "DROP TABLE gen");
  exec(h, "DROP TABLE tpl");
  exec(h, "COMMIT");
  exec(h, "PRAGMA wal_checkpoint(TRUNCATE)");
  std::cout << n << " sheets added (" << k << " templates)\n";
  return 0;
}
