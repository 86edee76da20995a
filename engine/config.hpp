// Engine configuration (docs/reference.md §7 "Configuration keys"): an INI file, every key optional.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "domain/sender_account.hpp"
#include "domain/vocabulary.hpp"
#include "engine/database.hpp"
#include "rules/crl_store.hpp"

namespace raccord {

/// The AIFE side of each protocol, copied into the accusé of every accepted EDI sheet (ParametresAIFE).
/// The defaults are example values (docs/design.md "AIFE example values"): SFTP and AS2 are the guide's
/// example, PeSIT is made up by the project (the guide gives none).
struct AifeConfig {
  std::string sftp_address = "192.168.131.22";  // guide's example
  int sftp_port = 6321;                         // guide's example
  std::string as2_identifiant = "CTAIFEP";      // guide's example
  std::string as2_address = "93.92.105.71";     // guide's example
  int as2_port = 24000;                         // guide's example
  std::string as2_path = "/";                   // guide's example
  std::string pesit_address = "93.92.105.72";   // made up by the project
  int pesit_port = 5100;                        // made up by the project
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
  std::filesystem::path crl_dir;                      // certificates.crl_dir (empty: <root>/crl, effective_crl_dir)
  bool crl_allow_private = false;                     // certificates.crl_allow_private (trust refresh only)
  rules::RevocationMode revocation = rules::RevocationMode::Souple;  // certificates.revocation
  int crl_max_age_days = 10;                                         // certificates.crl_max_age_days
  int crl_grace_h = 24;                                              // certificates.crl_grace_h
  NightlyTime nightly_time;                                          // nightly.time (HH:MM local), parsed once
  int outbox_retention_days = 90;                                    // outbox.retention_days
  int archive_retention_days = 365;                                  // archive.retention_days
  unsigned file_umask = 0027;                                        // files.umask (octal; never lets "others" write)
  AifeConfig aife;
  /// [compte.NAME] sections (docs/accounts.md), validated, sorted by name. Empty: inbox/ is the only
  /// channel.
  std::vector<SenderAccount> accounts;
  std::optional<std::filesystem::path> source;  // the INI file read, if any
  std::vector<std::string> warnings;            // unknown keys and similar, for the log
  std::set<std::string> written_keys;           // known keys written in the file ("section.key", lower case)

  /// store.connection, or <root>/raccord.db for SQLite when unset.
  std::string effective_connection() const;
  /// certificates.crl_dir, or <root>/crl when unset (docs/revocation.md): the CRL files, the one directory
  /// `raccord trust refresh` writes to.
  std::filesystem::path effective_crl_dir() const;
  /// The CRL freshness settings (certificates.clock_skew_s, crl_max_age_days, crl_grace_h).
  rules::CrlSettings crl_settings() const;

  /// Whether the configured store exists, without opening or creating it: always for PostgreSQL (the
  /// server says otherwise when connected to), else whether the SQLite file effective_connection()
  /// exists. The commands that read the store without creating it (`check`, `search`, `show`) ask it.
  bool store_exists() const;

  /// The account named `name`, or nullptr.
  const SenderAccount* account(std::string_view name) const;
};

/// Thrown for a config file that cannot be read or holds an invalid value (message in French,
/// naming the key and the value).
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// An invalid [compte.NAME] section (its name or a key's value; the key named): unlike the other
/// configuration errors (exit 2), it stops init, process and daemon with exit 1 (docs/accounts.md).
/// A SIGHUP reload that meets one keeps the previous configuration.
struct AccountConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Loads `file` (INI) over the defaults; with no file, the defaults. Relative paths in the file
/// are relative to the file's directory; the default root "./var" is relative to `cwd`.
/// Resolves paths.rules (the installed <prefix>/share/raccord/rules, else the source tree's rules/,
/// else empty = compiled-in seed) and certificates.trust_dir (<rules>/trust).
/// Throws ConfigError on a file that is missing or that the engine may not open (permissions) and on
/// an invalid value (an account section with an invalid NAME, a missing `logins`, an unknown key, a
/// `proprietaire` that is no user or is 0 or 65534, a bad `signature`, a missing `signataires` with
/// `obligatoire` or a `signataires` that is no regular file: the message names the key,
/// docs/accounts.md); std::system_error naming the file when opening or reading it fails otherwise
/// (EIO...: a failure of the machine, exit 1, docs/design.md "Failures of the machine under the engine").
Config load_config(const std::optional<std::filesystem::path>& file, const std::filesystem::path& cwd);

/// The warnings of docs/reference.md §7 "Configuration keys" on the AIFE side (docs/design.md "AIFE example
/// values"): an `aife.*` key not written in the configuration keeps its default, an example value that
/// every accusé of an accepted EDI sheet would carry as if it were real. One French line per protocol
/// (PESIT, SFTP, AS2, in that order) with at least one such key: it names those keys with their example
/// values, says where the values come from (the guide's example, or made up by the project for PeSIT)
/// and what to do (write the values the AIFE gave in [aife] of the configuration file). A key written
/// with the same value as its default counts as configured (the operator confirmed it). Empty when
/// every side is configured. `init`, `process` and `daemon` log these once at start (engine/app).
std::vector<std::string> aife_example_warnings(const Config& config);

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
