// Engine configuration (SPEC.md §7 "Configuration keys"): an INI file, every key optional.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "domain/vocabulary.hpp"
#include "engine/database.hpp"

namespace raccord {

struct AifeConfig {
  std::string sftp_address = "192.168.131.22";  // guide's example
  int sftp_port = 6321;
  std::string as2_identifiant = "CTAIFEP";
  std::string as2_address = "93.92.105.71";
  int as2_port = 24000;
  std::string as2_path = "/";
  std::string pesit_address = "93.92.105.72";  // project default (docs/configuration.md)
  int pesit_port = 5100;
};

/// nightly.time, parsed once at load (hour 0-23, minute 0-59, local time in engine.timezone).
struct NightlyTime {
  int hour = 2;
  int minute = 0;
  friend bool operator==(const NightlyTime&, const NightlyTime&) = default;
};

struct Config {
  Environment environment = Environment::Production;  // engine.environment
  std::string code_prefix = "VFE";                    // engine.code_prefix (3 uppercase letters)
  std::string timezone = "Europe/Paris";              // engine.timezone (IANA name)
  std::filesystem::path root = "var";                 // paths.root (absolute after load)
  std::filesystem::path rules_dir;                    // paths.rules (empty: default search)
  long long settle_ms = 2000;                         // inbox.settle_ms (real time)
  long long rescan_s = 30;                            // inbox.rescan_s
  long long max_bytes = 67108864;                     // inbox.max_bytes
  Backend store_backend = Backend::Sqlite;            // store.backend: sqlite | postgresql
  std::string store_connection;                       // store.connection (empty: <root>/raccord.db)
  std::filesystem::path trust_dir;                    // certificates.trust_dir (empty: <rules>/trust)
  int min_rsa_bits = 2048;                            // certificates.min_rsa_bits
  int expiry_warning_days = 30;                       // certificates.expiry_warning_days
  int clock_skew_s = 300;                             // certificates.clock_skew_s
  NightlyTime nightly_time;                           // nightly.time (HH:MM local), parsed once
  int outbox_retention_days = 90;                     // outbox.retention_days
  int archive_retention_days = 365;                   // archive.retention_days
  unsigned file_umask = 0027;                         // files.umask (octal; never lets "others" write)
  AifeConfig aife;
  std::optional<std::filesystem::path> source;  // the INI file read, if any
  std::vector<std::string> warnings;            // unknown keys and similar, for the log

  /// store.connection, or <root>/raccord.db for SQLite when unset.
  std::string effective_connection() const;

  /// Whether the configured store exists, without opening or creating it: always for PostgreSQL (the
  /// server says otherwise when connected to), else whether the SQLite file effective_connection()
  /// exists. The commands that read the store without creating it (`check`, `search`, `show`) ask it.
  bool store_exists() const;
};

/// Thrown for a config file that cannot be read or holds an invalid value (message in French,
/// naming the key and the value).
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Loads `file` (INI) over the defaults; with no file, the defaults. Relative paths in the file
/// are relative to the file's directory; the default root "./var" is relative to `cwd`.
/// Resolves paths.rules (the installed <prefix>/share/raccord/rules, else the source tree's rules/,
/// else empty = compiled-in seed) and certificates.trust_dir (<rules>/trust).
/// Throws ConfigError on an unreadable file or an invalid value.
Config load_config(const std::optional<std::filesystem::path>& file, const std::filesystem::path& cwd);

/// Parses files.umask (issue 8): 1 to 4 octal digits (an optional leading 0 included), e.g. "0027"
/// or "027"; the value must keep the "others may write" bit (0002) set so that no file or directory
/// the engine creates is world-writable. Returns the mask (0 .. 0777); throws ConfigError (French,
/// naming the key and the raw value) for anything else: empty, non-octal digits, signs, spaces
/// inside, "0x…", more than 4 digits, above 0777, or a mask without 0002.
unsigned parse_umask(const std::string& raw);

/// The process umask for `config` (files.umask), applied with umask(2) by every command before any
/// file, directory or store is opened (engine/app/commands.cpp).
void apply_umask(const Config& config);

}  // namespace raccord
