// `raccord trust audit [--format text|xml]` and `raccord trust refresh` (docs/revocation.md): the health of
// the trust store at the business instant, and the download of the CRLs named by the trust anchors and by
// the certificates of stored sheets whose chain verifies to a trust anchor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "domain/civil_date.hpp"
#include "engine/config.hpp"

namespace CLI {
class App;
}

namespace raccord::app {

struct TrustCommandOptions {
  std::string format = "text";  // audit: text or xml
};

/// The subcommands added by add_trust_command.
struct TrustCommands {
  CLI::App* trust = nullptr;
  CLI::App* audit = nullptr;
  CLI::App* refresh = nullptr;
};

/// Adds `trust` with its subcommands `audit` and `refresh` to `app`, bound to `options` (the caller adds the
/// global options --config/--now to the three). `trust` alone, an unknown subcommand or format is a CLI11
/// parse error (exit 2).
TrustCommands add_trust_command(CLI::App& app, TrustCommandOptions& options);

/// `trust audit` at instant `now` (the business instant): each trust anchor (subject, validity, SHA-256
/// fingerprint), each CRL of certificates.crl_dir (issuer, thisUpdate, nextUpdate, age, entries, whether its
/// signature verifies with a known authority), the authorities (anchors included) of the verified chains of
/// the stored ACTIVEE / ENVOYEE / ENVOYEE_MAJ sheets that have no current CRL, those sheets' leaves expiring
/// within 30, 60 and 90 days, the revoked certificates of their chains, and the chains that do not verify.
/// Text, or XML (root AuditConfiance, samples/xsd/audit.xsd) on `out`; load notes on `err`. Without a store,
/// only the anchors and CRLs. Returns 0 when all is current; 1 when an authority of those sheets has no
/// current CRL, a CRL is badly signed, or an anchor ends within 30 days (or has ended); 2 for an unknown
/// format. Store failures throw StoreError.
int run_trust_audit(const TrustCommandOptions& options, const Config& config, Instant now, std::ostream& out,
                    std::ostream& err);

/// Limits of `trust refresh` (the defaults are the command's; the tests shorten the timeouts).
struct TrustRefreshLimits {
  std::chrono::milliseconds timeout{30'000};         // connect, send and each receive
  std::chrono::milliseconds total_timeout{120'000};  // a whole download, redirects included
  std::uintmax_t max_bytes = rules::kMaxCrlBytes;    // 50 MiB: a larger body is abandoned
  int max_redirects = 3;                             // to the same scheme and host only
  std::size_t max_urls_per_issuer = 4;
};

/// `trust refresh`: collects the CRL distribution points (http and https URIs) of the trust anchors and of the
/// certificates of the stored sheets (not deleted; active and pending versions) whose chain verifies to a
/// trust anchor, grouped by the authority whose CRL they name, at most `limits.max_urls_per_issuer` per
/// authority (the others are listed as ignored). Each URL is downloaded (Poco::Net; http or https only, no
/// redirect to another scheme or host, never to a loopback, link-local, private or otherwise non-public
/// address unless certificates.crl_allow_private), kept only when it is one complete CRL of that authority
/// whose signature verifies with its key and newer (thisUpdate, then CRL Number) than the one in use, and
/// written atomically to certificates.crl_dir as "<issuer hash>.crl" (PEM). One line per URL on `out`
/// ("MISE A JOUR", "INCHANGEE", "ECHEC", "IGNOREE" with the reason). A failed download never removes nor
/// replaces a CRL in use. Returns 0 when every URL was fetched (updated or unchanged), 1 when any failed.
int run_trust_refresh(const Config& config, Instant now, std::ostream& out, std::ostream& err,
                      const TrustRefreshLimits& limits = {});

}  // namespace raccord::app
