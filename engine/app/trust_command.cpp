// `raccord trust audit` and `raccord trust refresh` (docs/revocation.md): see trust_command.hpp.
#include "engine/app/trust_command.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/HostEntry.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "engine/app/search_command.hpp"  // open_store_for_reading
#include "engine/app/terminal_text.hpp"
#include "engine/database.hpp"
#include "files/atomic_file.hpp"
#include "outbox/acknowledgement_writer.hpp"  // escape_xml
#include "rules/crl_store.hpp"
#include "rules/trust_inventory.hpp"

namespace raccord::app {
namespace {

namespace fs = std::filesystem;
using rules::CertificateSummary;
using rules::CrlInfo;
using rules::CrlStore;
using rules::CrlVerdict;
using rules::TrustInventory;

long days_between(Instant from, Instant to) {
  return static_cast<long>(std::chrono::floor<std::chrono::days>(to - from).count());
}

// ---------------------------------------------------------------------------------------------
// Audit.

struct ExpiringLeaf {
  std::string code_appli;
  CertificateSummary leaf;
  long days = 0;       // from the instant to notAfter (negative: already ended)
  std::string window;  // "expire", "30", "60" or "90"
};

struct RevokedSheetLink {
  std::string code_appli;
  rules::RevokedLink link;
};

struct UnverifiedChain {
  std::string code_appli;
  std::string subject;
  std::string why;
};

struct AuthorityGap {
  CertificateSummary certificate;
  std::size_t chains = 0;
  std::string why;
};

struct AuditReport {
  Instant at{};
  rules::RevocationMode mode = rules::RevocationMode::Souple;
  fs::path crl_dir;
  std::vector<CertificateSummary> anchors;
  std::vector<CrlInfo> crls;
  std::vector<CrlVerdict> verdicts;
  std::vector<bool> current;
  std::vector<AuthorityGap> gaps;
  std::vector<ExpiringLeaf> expiring;
  std::vector<RevokedSheetLink> revoked;
  std::vector<UnverifiedChain> unverified;
  std::size_t live_sheets = 0;
  bool store_present = false;

  bool anchor_ends_soon(const CertificateSummary& a) const { return days_between(at, a.not_after) < 30; }
  std::vector<std::string> problems() const {
    std::vector<std::string> out;
    for (const auto& a : anchors) {
      if (anchor_ends_soon(a))
        out.push_back(fmt::format("l'autorité de confiance « {} » {}", a.subject,
                                  a.not_after <= at ? "a expiré" : "expire dans moins de 30 jours"));
    }
    for (std::size_t i = 0; i < crls.size(); ++i) {
      if (verdicts[i] == CrlVerdict::BadSignature) {
        out.push_back(fmt::format("la CRL {} de « {} » est mal signée", crls[i].file.string(), crls[i].issuer));
      }
    }
    for (const auto& g : gaps)
      out.push_back(fmt::format("l'autorité « {} » n'a pas de CRL à jour", g.certificate.subject));
    return out;
  }
};

std::string verdict_text(CrlVerdict v) {
  switch (v) {
    case CrlVerdict::Verified:
      return "signature vérifiée";
    case CrlVerdict::BadSignature:
      return "SIGNATURE INVALIDE (ignorée)";
    case CrlVerdict::UnknownIssuer:
      return "émetteur inconnu (non vérifiable, inutilisée)";
  }
  return {};
}

std::string_view verdict_code(CrlVerdict v) {
  switch (v) {
    case CrlVerdict::Verified:
      return "verifiee";
    case CrlVerdict::BadSignature:
      return "invalide";
    case CrlVerdict::UnknownIssuer:
      return "emetteur_inconnu";
  }
  return {};
}

std::string crl_kind(const CrlInfo& c) {
  std::vector<std::string> kinds;
  if (c.delta) kinds.emplace_back("delta");
  if (c.issuing_distribution_point) kinds.emplace_back("partielle (point de distribution)");
  if (c.unknown_critical_extension) kinds.emplace_back("extension critique inconnue");
  std::string out;
  for (const auto& k : kinds) out += (out.empty() ? "" : ", ") + k;
  return out;
}

/// Why an authority has no current CRL, from the newest complete CRL of it (if any).
std::string gap_reason(const std::optional<CrlInfo>& newest, Instant at, const rules::CrlSettings& settings) {
  if (!newest) return "aucune CRL complète vérifiée de cette autorité";
  rules::RevocationAnswer a;
  a.status = rules::RevocationStatus::Unknown;
  a.cause = rules::UnknownCause::Stale;
  a.crl = newest;
  return rules::describe(a, newest->issuer, at, settings);
}

AuditReport build_audit(const Config& config, Instant now, std::ostream& err) {
  AuditReport r;
  r.at = now;
  r.mode = config.revocation;
  r.crl_dir = config.effective_crl_dir();
  const rules::CrlSettings settings = config.crl_settings();
  std::vector<std::string> log;
  TrustInventory inventory(config.trust_dir, log);
  const auto crls = CrlStore::load(r.crl_dir, log);
  for (const auto& l : log) err << "note : " << l << "\n";
  for (const auto& c : inventory.trust_certificates()) {
    if (c.self_signed) r.anchors.push_back(c);
  }
  std::set<std::string> live_codes;
  if (auto db = open_store_for_reading(config)) {
    r.store_present = true;
    db->for_each_row(
        "SELECT s.code_appli, b.content FROM sheets s JOIN sheet_bundles b "
        "ON (b.version_id = s.active_version OR b.version_id = s.pending_version) "
        "WHERE s.deleted = 0 AND s.state IN " +
            sql_list<SheetState>(std::vector{SheetState::Activee, SheetState::Envoyee, SheetState::EnvoyeeMaj}) +
            " "
            "ORDER BY s.code_appli, b.version_id, b.bundle_index",
        {}, [&](const SqlRow& row) {
          const std::string code = row.text(0);
          live_codes.insert(code);
          for (auto& f : inventory.add_bundle(row.text(1), true, crls.get(), now, settings)) {
            const long days = days_between(now, f.leaf.not_after);
            if (days < 90 || f.leaf.not_after <= now) {
              const std::string window = f.leaf.not_after <= now ? "expire"
                                         : days < 30             ? "30"
                                         : days < 60             ? "60"
                                                                 : "90";
              r.expiring.push_back(ExpiringLeaf{code, f.leaf, days, window});
            }
            if (!f.verified) r.unverified.push_back(UnverifiedChain{code, f.leaf.subject, f.why_not});
            for (auto& link : f.revoked) r.revoked.push_back(RevokedSheetLink{code, std::move(link)});
          }
        });
  }
  r.live_sheets = live_codes.size();
  const auto& authorities = inventory.authorities();
  for (std::size_t i = 0; i < authorities.size(); ++i) {
    if (authorities[i].live_chains == 0 || inventory.has_current_crl(i, *crls, now, settings)) continue;
    r.gaps.push_back(AuthorityGap{authorities[i].certificate, authorities[i].live_chains,
                                  gap_reason(inventory.newest_complete_crl(i, *crls), now, settings)});
  }
  for (std::size_t i = 0; i < crls->size(); ++i) {
    r.crls.push_back(crls->info(i));
    r.verdicts.push_back(inventory.crl_verdict(*crls, i));
    r.current.push_back(rules::is_current(crls->info(i), now, settings) && rules::can_prove_good(crls->info(i)));
  }
  std::sort(r.expiring.begin(), r.expiring.end(), [](const ExpiringLeaf& a, const ExpiringLeaf& b) {
    return std::tie(a.leaf.not_after, a.code_appli) < std::tie(b.leaf.not_after, b.code_appli);
  });
  return r;
}

void print_audit_text(std::ostream& out, const AuditReport& r) {
  out << fmt::format("Audit du magasin de confiance au {} (révocation : {})\n", rules::format_crl_instant(r.at),
                     rules::to_string(r.mode));
  out << fmt::format("\nAutorités de confiance ({}) :\n", r.anchors.size());
  if (r.anchors.empty()) out << "  aucune (certificates.trust_dir vide ou absent)\n";
  for (const auto& a : r.anchors) {
    out << fmt::format("  {}\n    validité : du {} au {}{}\n    empreinte SHA-256 : {}\n", terminal_line(a.subject),
                       rules::format_crl_instant(a.not_before), rules::format_crl_instant(a.not_after),
                       r.anchor_ends_soon(a) ? (a.not_after <= r.at ? " — EXPIRÉE" : " — EXPIRE DANS MOINS DE 30 JOURS")
                                             : std::string(),
                       a.fingerprint_sha256);
  }
  out << fmt::format("\nCRL ({}) dans {} :\n", r.crls.size(), r.crl_dir.string());
  if (r.crls.empty()) out << "  aucune\n";
  for (std::size_t i = 0; i < r.crls.size(); ++i) {
    const CrlInfo& c = r.crls[i];
    const std::string kind = crl_kind(c);
    out << fmt::format(
        "  {}\n    émise le {}, prochaine mise à jour {}, âge {} jour(s), {} entrée(s){}\n    {}, {}\n    fichier : "
        "{}\n",
        terminal_line(c.issuer), rules::format_crl_instant(c.this_update),
        c.next_update ? "le " + rules::format_crl_instant(*c.next_update) : std::string("non indiquée"),
        days_between(c.this_update, r.at), c.entries, kind.empty() ? std::string() : ", " + kind,
        verdict_text(r.verdicts[i]), r.current[i] ? "à jour" : "pas à jour", c.file.string());
  }
  if (!r.store_present) {
    out << "\nAucun store : pas de fiche à auditer.\n";
  } else {
    out << fmt::format("\nAutorités des fiches actives ou envoyées ({} fiche(s)) sans CRL à jour ({}) :\n",
                       r.live_sheets, r.gaps.size());
    if (r.gaps.empty()) out << "  aucune\n";
    for (const auto& g : r.gaps) {
      out << fmt::format("  {} ({} chaîne(s)) : {}\n", terminal_line(g.certificate.subject), g.chains,
                         terminal_line(g.why));
    }
    out << fmt::format("\nCertificats finaux de ces fiches expirant sous 30, 60 et 90 jours ({}) :\n",
                       r.expiring.size());
    if (r.expiring.empty()) out << "  aucun\n";
    for (const auto& e : r.expiring) {
      out << fmt::format("  {:<10} {} — n° de série {} — fin {} — {}\n", e.code_appli, terminal_line(e.leaf.subject),
                         e.leaf.serial, rules::format_crl_instant(e.leaf.not_after),
                         e.window == "expire" ? std::string("déjà expiré")
                                              : fmt::format("dans {} jour(s) (≤ {} jours)", e.days, e.window));
    }
    out << fmt::format("\nCertificats révoqués de ces fiches ({}) :\n", r.revoked.size());
    if (r.revoked.empty()) out << "  aucun\n";
    for (const auto& v : r.revoked) {
      out << fmt::format("  {:<10} {} — n° de série {} : {}\n", v.code_appli, terminal_line(v.link.certificate.subject),
                         v.link.certificate.serial,
                         terminal_line(rules::describe(v.link.answer, v.link.issuer, r.at, {})));
    }
    if (!r.unverified.empty()) {
      out << fmt::format("\nChaînes qui ne se vérifient pas jusqu'à une autorité de confiance ({}) :\n",
                         r.unverified.size());
      for (const auto& u : r.unverified) {
        out << fmt::format("  {:<10} {} : {}\n", u.code_appli, terminal_line(u.subject), terminal_line(u.why));
      }
    }
  }
  const auto problems = r.problems();
  if (problems.empty()) {
    out << "\nBilan : tout est à jour.\n";
  } else {
    out << fmt::format("\nBilan : {} point(s) à corriger :\n", problems.size());
    for (const auto& p : problems) out << "  - " << terminal_line(p) << "\n";
    out << "  (rafraîchissez les CRL avec « raccord trust refresh » ou déposez-les dans " << r.crl_dir.string()
        << " ; renouvelez les autorités qui expirent)\n";
  }
}

void print_audit_xml(std::ostream& out, const AuditReport& r) {
  const bool ok = r.problems().empty();
  out << fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AuditConfiance instant=\"{}\" revocation=\"{}\" "
      "repertoireCrl=\"{}\" statut=\"{}\">\n",
      format_iso_instant(r.at), rules::to_string(r.mode), outbox::escape_xml(r.crl_dir.string()),
      ok ? "A_JOUR" : "A_CORRIGER");
  for (const auto& a : r.anchors) {
    out << fmt::format("  <Ancre sujet=\"{}\" debut=\"{}\" fin=\"{}\" empreinte=\"{}\" expireSous30Jours=\"{}\"/>\n",
                       outbox::escape_xml(a.subject), format_iso_instant(a.not_before), format_iso_instant(a.not_after),
                       a.fingerprint_sha256, r.anchor_ends_soon(a) ? "true" : "false");
  }
  for (std::size_t i = 0; i < r.crls.size(); ++i) {
    const CrlInfo& c = r.crls[i];
    out << fmt::format("  <Crl emetteur=\"{}\" fichier=\"{}\" emission=\"{}\"", outbox::escape_xml(c.issuer),
                       outbox::escape_xml(c.file.string()), format_iso_instant(c.this_update));
    if (c.next_update) out << fmt::format(" prochaineMiseAJour=\"{}\"", format_iso_instant(*c.next_update));
    if (!c.crl_number.empty()) out << fmt::format(" numero=\"{}\"", c.crl_number);
    out << fmt::format(
        " ageJours=\"{}\" entrees=\"{}\" signature=\"{}\" aJour=\"{}\" delta=\"{}\" partielle=\"{}\" "
        "extensionCritiqueInconnue=\"{}\"/>\n",
        days_between(c.this_update, r.at), c.entries, verdict_code(r.verdicts[i]), r.current[i] ? "true" : "false",
        c.delta ? "true" : "false", c.issuing_distribution_point ? "true" : "false",
        c.unknown_critical_extension ? "true" : "false");
  }
  for (const auto& g : r.gaps) {
    out << fmt::format("  <AutoriteSansCrlAJour sujet=\"{}\" empreinte=\"{}\" chaines=\"{}\" motif=\"{}\"/>\n",
                       outbox::escape_xml(g.certificate.subject), g.certificate.fingerprint_sha256, g.chains,
                       outbox::escape_xml(g.why));
  }
  for (const auto& e : r.expiring) {
    out << fmt::format(
        "  <CertificatExpirant fiche=\"{}\" sujet=\"{}\" numeroSerie=\"{}\" fin=\"{}\" jours=\"{}\" "
        "echeance=\"{}\"/>\n",
        outbox::escape_xml(e.code_appli), outbox::escape_xml(e.leaf.subject), e.leaf.serial,
        format_iso_instant(e.leaf.not_after), e.days, e.window);
  }
  for (const auto& v : r.revoked) {
    out << fmt::format("  <CertificatRevoque fiche=\"{}\" sujet=\"{}\" numeroSerie=\"{}\" emetteur=\"{}\"",
                       outbox::escape_xml(v.code_appli), outbox::escape_xml(v.link.certificate.subject),
                       v.link.certificate.serial, outbox::escape_xml(v.link.issuer));
    if (v.link.answer.revocation_date)
      out << fmt::format(" revocation=\"{}\"", format_iso_instant(*v.link.answer.revocation_date));
    if (v.link.answer.reason_code)
      out << fmt::format(" motif=\"{}\"", outbox::escape_xml(rules::reason_label(*v.link.answer.reason_code)));
    if (v.link.answer.crl)
      out << fmt::format(" crlEmission=\"{}\"", format_iso_instant(v.link.answer.crl->this_update));
    out << "/>\n";
  }
  for (const auto& u : r.unverified) {
    out << fmt::format("  <ChaineNonVerifiee fiche=\"{}\" sujet=\"{}\" motif=\"{}\"/>\n",
                       outbox::escape_xml(u.code_appli), outbox::escape_xml(u.subject), outbox::escape_xml(u.why));
  }
  out << "</AuditConfiance>\n";
}

// ---------------------------------------------------------------------------------------------
// Refresh: downloads.

/// True for an address `trust refresh` never contacts unless certificates.crl_allow_private: unspecified,
/// loopback, private (RFC 1918, RFC 4193), shared (RFC 6598), link-local, multicast, reserved or
/// benchmarking ranges, and IPv4 addresses embedded in IPv6 (mapped, NAT64) of those kinds.
bool non_public(const Poco::Net::IPAddress& address) {
  auto v4 = [](const unsigned char* b) {
    return b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 100 && (b[1] & 0xC0) == 64) ||  // RFC 6598
           (b[0] == 169 && b[1] == 254) || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) || (b[0] == 198 && (b[1] & 0xFE) == 18) ||
           (b[0] == 198 && b[1] == 51 && b[2] == 100) || (b[0] == 203 && b[1] == 0 && b[2] == 113) || b[0] >= 224;
  };
  const auto* bytes = static_cast<const unsigned char*>(address.addr());
  if (address.family() == Poco::Net::IPAddress::IPv4) return v4(bytes);
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  static const unsigned char kNat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::equal(kMapped, kMapped + 12, bytes) || std::equal(kNat64, kNat64 + 12, bytes)) return v4(bytes + 12);
  if (std::all_of(bytes, bytes + 12, [](unsigned char b) { return b == 0; })) return true;  // ::, ::1, ::a.b.c.d
  if (bytes[0] == 0xFF) return true;                                                        // multicast
  if ((bytes[0] & 0xFE) == 0xFC) return true;                                               // fc00::/7 unique local
  if (bytes[0] == 0xFE && (bytes[1] & 0x80) == 0x80) return true;  // fe80::/10 link-local, fec0::/10 site-local
  return bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8;  // 2001:db8::/32
}

struct Download {
  bool ok = false;
  std::string bytes;
  std::string why;  // French, when not ok
};

Poco::Net::Context::Ptr tls_context() {
  static std::once_flag once;
  static Poco::Net::Context::Ptr context;
  std::call_once(once, [] {
    Poco::Net::initializeSSL();
    context =
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_RELAXED, 9, true);
    Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject = new Poco::Net::RejectCertificateHandler(false);
    Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, context);
  });
  return context;
}

/// Downloads `url` (see run_trust_refresh). Never throws.
Download download(const std::string& url, bool allow_private, const TrustRefreshLimits& limits) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + limits.total_timeout;
  Download d;
  try {
    Poco::URI uri(url);
    std::string scheme = uri.getScheme();
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string first_scheme = scheme;
    std::string first_host = uri.getHost();
    std::transform(first_host.begin(), first_host.end(), first_host.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    for (int hop = 0;; ++hop) {
      if (scheme != "http" && scheme != "https") {
        d.why = fmt::format("schéma « {} » refusé (http ou https seulement)", scheme);
        return d;
      }
      const std::string host = uri.getHost();
      if (host.empty()) {
        d.why = "adresse sans hôte";
        return d;
      }
      // Every address of the host is checked before any connection; the connection goes to the first one
      // checked (never a second resolution that could answer otherwise).
      std::vector<Poco::Net::IPAddress> addresses;
      Poco::Net::IPAddress literal;
      if (Poco::Net::IPAddress::tryParse(host, literal)) {
        addresses.push_back(literal);
      } else {
        addresses = Poco::Net::DNS::resolve(host).addresses();
      }
      if (addresses.empty()) {
        d.why = fmt::format("l'hôte « {} » n'a pas d'adresse", host);
        return d;
      }
      if (!allow_private) {
        for (const auto& a : addresses) {
          if (non_public(a)) {
            d.why = fmt::format(
                "adresse {} de « {} » refusée : locale, privée ou réservée (certificates.crl_allow_private = true pour "
                "l'autoriser)",
                a.toString(), host);
            return d;
          }
        }
      }
      const Poco::Net::SocketAddress target(addresses.front(), uri.getPort());
      std::unique_ptr<Poco::Net::HTTPClientSession> session;
      if (scheme == "https") {
        Poco::Net::SecureStreamSocket socket(tls_context());
        socket.setPeerHostName(host);  // SNI and certificate name check against the host, not the address
        auto s = std::make_unique<Poco::Net::HTTPSClientSession>(socket);
        s->setHost(target.host().toString());
        s->setPort(target.port());
        session = std::move(s);
      } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(target);
      }
      const Poco::Timespan timeout(std::chrono::duration_cast<std::chrono::microseconds>(limits.timeout).count());
      session->setTimeout(timeout, timeout, timeout);
      std::string target_path = uri.getPathEtc();
      if (target_path.empty()) target_path = "/";
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, target_path, Poco::Net::HTTPMessage::HTTP_1_1);
      request.setHost(host, uri.getPort());
      request.set("User-Agent", "raccord-trust-refresh");
      request.set("Accept", "application/pkix-crl, application/x-pkcs7-crl, */*");
      session->sendRequest(request);
      Poco::Net::HTTPResponse response;
      std::istream& body = session->receiveResponse(response);
      const int status = static_cast<int>(response.getStatus());
      if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
        if (!response.has("Location")) {
          d.why = fmt::format("redirection HTTP {} sans adresse", status);
          return d;
        }
        Poco::URI next(uri, response.get("Location"));
        std::string next_scheme = next.getScheme();
        std::string next_host = next.getHost();
        std::transform(next_scheme.begin(), next_scheme.end(), next_scheme.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        std::transform(next_host.begin(), next_host.end(), next_host.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        if (next_scheme != first_scheme || next_host != first_host) {
          d.why = fmt::format("redirection vers {} refusée (autre hôte ou autre schéma)", next.toString());
          return d;
        }
        if (hop + 1 > limits.max_redirects) {
          d.why = fmt::format("plus de {} redirections", limits.max_redirects);
          return d;
        }
        uri = next;
        scheme = next_scheme;
        continue;
      }
      if (status != 200) {
        d.why = fmt::format("réponse HTTP {} {}", status, response.getReason());
        return d;
      }
      if (response.hasContentLength() && response.getContentLength64() >= 0 &&
          static_cast<std::uintmax_t>(response.getContentLength64()) > limits.max_bytes) {
        d.why = fmt::format("réponse de {} octets : plus que la limite de {} octets", response.getContentLength64(),
                            limits.max_bytes);
        return d;
      }
      std::vector<char> chunk(std::size_t{64} * 1024);
      while (body) {
        body.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        d.bytes.append(chunk.data(), static_cast<std::size_t>(body.gcount()));
        if (d.bytes.size() > limits.max_bytes) {
          d.why = fmt::format("réponse de plus de {} octets : abandonnée", limits.max_bytes);
          d.bytes.clear();
          return d;
        }
        if (Clock::now() > deadline) {
          d.why = "téléchargement trop long : abandonné";
          d.bytes.clear();
          return d;
        }
      }
      if (body.bad()) {
        d.why = "réponse interrompue";
        d.bytes.clear();
        return d;
      }
      d.ok = true;
      return d;
    }
  } catch (const Poco::TimeoutException&) {
    d.why = fmt::format("pas de réponse en {} ms", limits.timeout.count());
  } catch (const Poco::Exception& e) {
    d.why = e.displayText();
  } catch (const std::exception& e) {
    d.why = e.what();
  }
  d.bytes.clear();
  return d;
}

/// The URL's scheme in lowercase ("" when it has none).
std::string scheme_of(const std::string& url) {
  const auto colon = url.find(':');
  if (colon == std::string::npos) return {};
  std::string s = url.substr(0, colon);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

TrustCommands add_trust_command(CLI::App& app, TrustCommandOptions& options) {
  TrustCommands c;
  c.trust = app.add_subcommand(
      "trust",
      "Magasin de confiance : « trust audit » (état des autorités, des CRL et des certificats des fiches) et "
      "« trust refresh » (téléchargement des CRL)");
  c.trust->require_subcommand(1);
  c.audit = c.trust->add_subcommand(
      "audit",
      "Etat du magasin de confiance à l'instant métier : autorités de confiance (sujet, validité, empreinte), CRL "
      "(émetteur, émission, prochaine mise à jour, âge, entrées, signature vérifiée ou non), autorités des fiches "
      "ACTIVEE, ENVOYEE et ENVOYEE_MAJ sans CRL à jour, certificats finaux de ces fiches expirant sous 30, 60 et 90 "
      "jours, certificats révoqués. Code 0 si tout est à jour ; 1 si une autorité de ces fiches n'a pas de CRL à "
      "jour, si une CRL est mal signée ou si une autorité de confiance expire sous 30 jours.\n"
      "Format xml : racine <AuditConfiance> (samples/xsd/audit.xsd).");
  c.audit->add_option("--format", options.format, "Sortie : text (défaut) ou xml")
      ->check(CLI::IsMember({"text", "xml"}));
  c.refresh = c.trust->add_subcommand(
      "refresh",
      "Télécharge les CRL nommées par les points de distribution des autorités de confiance et des certificats "
      "des fiches dont la chaîne se vérifie jusqu'à une autorité de confiance (http ou https, au plus 4 adresses par "
      "autorité, jamais d'adresse locale ou privée sauf certificates.crl_allow_private = true) ; garde une CRL "
      "seulement si elle est signée par son autorité et plus récente que celle en usage, et l'écrit dans "
      "certificates.crl_dir sous <empreinte de l'émetteur>.crl. Une ligne par adresse. Code 0 si tout a été "
      "téléchargé ou était à jour, 1 si un téléchargement a échoué (les CRL en usage restent).");
  return c;
}

int run_trust_audit(const TrustCommandOptions& options, const Config& config, Instant now, std::ostream& out,
                    std::ostream& err) {
  if (options.format != "text" && options.format != "xml") {
    err << fmt::format("Format inconnu « {} » : text ou xml.\n", options.format);
    return 2;
  }
  const AuditReport report = build_audit(config, now, err);
  if (options.format == "xml") {
    print_audit_xml(out, report);
  } else {
    print_audit_text(out, report);
  }
  out.flush();
  return report.problems().empty() ? 0 : 1;
}

int run_trust_refresh(const Config& config, Instant now, std::ostream& out, std::ostream& err,
                      const TrustRefreshLimits& limits) {
  (void)now;  // the CRLs kept are judged by their own dates, not by the instant
  std::vector<std::string> log;
  TrustInventory inventory(config.trust_dir, log);
  const fs::path crl_dir = config.effective_crl_dir();
  const auto in_use = CrlStore::load(crl_dir, log);
  for (const auto& l : log) err << "note : " << l << "\n";
  if (auto db = open_store_for_reading(config)) {
    db->for_each_row(
        "SELECT b.content FROM sheets s JOIN sheet_bundles b "
        "ON (b.version_id = s.active_version OR b.version_id = s.pending_version) WHERE s.deleted = 0 "
        "ORDER BY s.code_appli, b.version_id, b.bundle_index",
        {}, [&](const SqlRow& row) { (void)inventory.add_bundle(row.text(0), false, nullptr, Instant{}, {}); });
  }
  int urls = 0;
  bool failed = false;
  const auto& authorities = inventory.authorities();
  for (std::size_t i = 0; i < authorities.size(); ++i) {
    const auto& authority = authorities[i];
    std::optional<CrlInfo> newest = inventory.newest_complete_crl(i, *in_use);
    std::size_t tried = 0;
    for (const auto& url : authority.crl_urls) {
      ++urls;
      const std::string shown = terminal_line(url);
      const std::string scheme = scheme_of(url);
      if (scheme != "http" && scheme != "https") {
        out << fmt::format("IGNORÉE     {} : schéma « {} » (http ou https seulement) — autorité « {} »\n", shown,
                           terminal_line(scheme), terminal_line(authority.certificate.subject));
        continue;
      }
      if (tried == limits.max_urls_per_issuer) {
        out << fmt::format("IGNORÉE     {} : au plus {} adresses par autorité — autorité « {} »\n", shown,
                           limits.max_urls_per_issuer, terminal_line(authority.certificate.subject));
        continue;
      }
      ++tried;
      const Download d = download(url, config.crl_allow_private, limits);
      if (!d.ok) {
        failed = true;
        out << fmt::format("ÉCHEC       {} : {} — la CRL en usage reste\n", shown, terminal_line(d.why));
        continue;
      }
      const rules::FetchedCrl crl = inventory.judge_fetched_crl(i, d.bytes);
      if (!crl.accepted) {
        failed = true;
        out << fmt::format("ÉCHEC       {} : {} — la CRL en usage reste\n", shown, terminal_line(crl.why));
        continue;
      }
      if (newest && !rules::is_newer(crl.info, *newest)) {
        out << fmt::format("INCHANGÉE   {} : CRL de « {} » émise le {}, pas plus récente que celle en usage\n", shown,
                           terminal_line(crl.info.issuer), rules::format_crl_instant(crl.info.this_update));
        continue;
      }
      const std::string name = inventory.crl_file_name(i);
      try {
        fs::create_directories(crl_dir);
        files::write_file_atomically(crl_dir, name, crl.pem);
      } catch (const std::exception& e) {
        failed = true;
        out << fmt::format("ÉCHEC       {} : écriture de {} impossible : {}\n", shown, (crl_dir / name).string(),
                           e.what());
        continue;
      }
      newest = crl.info;
      out << fmt::format(
          "MISE À JOUR {} → {} : CRL de « {} » émise le {}{}, {} entrée(s)\n", shown, (crl_dir / name).string(),
          terminal_line(crl.info.issuer), rules::format_crl_instant(crl.info.this_update),
          crl.info.next_update ? ", prochaine mise à jour le " + rules::format_crl_instant(*crl.info.next_update)
                               : std::string(),
          crl.info.entries);
    }
  }
  if (urls == 0) {
    out << "Aucun point de distribution de CRL à consulter (autorités de confiance et certificats des fiches).\n";
  }
  out.flush();
  return failed ? 1 : 0;
}

}  // namespace raccord::app
