// `raccord cert FILE [--protocole P] [--date D] [--format text|xml]` (docs/reference.md §7): inspects a PKCS#7
// bundle (or a bare certificate) and prints each certificate, the chain built for each leaf and the
// verdict of the sheet rules (docs/reference.md §3.3, §4). Opens no store and creates nothing.
#pragma once

#include <iosfwd>
#include <string>

#include "domain/civil_date.hpp"
#include "engine/config.hpp"

namespace CLI {
class App;
}

namespace raccord::app {

struct CertCommandOptions {
  std::string file;               // the certificate file (DER or PEM PKCS#7, or a bare certificate)
  std::string protocol = "SFTP";  // PESIT, SFTP, AS2 or API (case-insensitive)
  std::string date;               // YYYY-MM-DD, or empty: the business instant (--now)
  std::string format = "text";    // text or xml
};

/// Adds the `cert` subcommand to `app`, bound to `options`, and returns it (the caller adds the global
/// options --config/--now to it). Usage errors (missing or unreadable path, unknown protocol, bad date,
/// unknown format) are CLI11 parse errors, hence exit 2.
CLI::App* add_cert_command(CLI::App& app, CertCommandOptions& options);

/// Runs the command. Check instant: with --date D, D at 12:00 wall time in engine.timezone (so the civil
/// day is D in that zone whatever the offset); without --date, `now` (the business instant of --now /
/// RACCORD_NOW, else the system clock). Trust anchors: config.trust_dir only; key, warning and skew
/// settings from config. Prints the report on `out` (text, or XML with root Certificats) and problems on
/// `err`. Returns 0 when the verdict has no error (warnings allowed), 1 when it has one, 2 when the file
/// cannot be read or an option is invalid (docs/reference.md §7).
int run_cert_command(const CertCommandOptions& options, const Config& config, Instant now, std::ostream& out,
                     std::ostream& err);

/// The same on std::cout and std::cerr.
int run_cert_command(const CertCommandOptions& options, const Config& config, Instant now);

}  // namespace raccord::app
