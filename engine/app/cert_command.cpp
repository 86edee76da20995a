// `raccord cert` (docs/reference.md §7): see cert_command.hpp.
#include "engine/app/cert_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include "engine/app/terminal_text.hpp"
#include "engine/clock.hpp"
#include "outbox/acknowledgement_writer.hpp"
#include "rules/bundle_inspection.hpp"

namespace raccord::app {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return s;
}

struct ProtocolChoice {
  bool known = false;
  std::optional<Protocol> protocol;  // nullopt for API (rules::CertificateChecker::check)
};

ProtocolChoice protocol_of(const std::string& text) {
  const std::string p = upper_ascii(text);
  if (p == "API") return {true, std::nullopt};
  const auto parsed = parse<Protocol>(p);
  return {parsed.has_value(), parsed};
}

std::string french_date(std::chrono::sys_seconds t) {
  return format_french_date(CivilDate{std::chrono::floor<std::chrono::days>(t)});
}

std::string purposes(const CertificateFacts& f) {
  std::string out;
  if (f.client_auth) out = "clientAuth";
  if (f.server_auth) out += std::string(out.empty() ? "" : ", ") + "serverAuth";
  if (out.empty()) out = "aucun (ni clientAuth ni serverAuth)";
  if (!f.has_eku) out += " — pas d'extension extendedKeyUsage";
  return out;
}

std::string_view kind_text(rules::BundleKind k) {
  switch (k) {
    case rules::BundleKind::Pkcs7:
      return "PKCS#7";
    case rules::BundleKind::BareCertificates:
      return "certificats X.509 seuls, sans structure PKCS#7";
    case rules::BundleKind::Unreadable:
      return "illisible (ni PKCS#7 ni certificat)";
  }
  return "";
}

std::string_view kind_code(rules::BundleKind k) {
  switch (k) {
    case rules::BundleKind::Pkcs7:
      return "PKCS7";
    case rules::BundleKind::BareCertificates:
      return "CERTIFICATS_SEULS";
    case rules::BundleKind::Unreadable:
      return "ILLISIBLE";
  }
  return "";
}

std::string_view end_code(rules::ChainEnd e) {
  switch (e) {
    case rules::ChainEnd::Anchored:
      return "ANCREE";
    case rules::ChainEnd::SelfSignedLeaf:
      return "AUTOSIGNE";
    case rules::ChainEnd::UntrustedRoot:
      return "RACINE_NON_RECONNUE";
    case rules::ChainEnd::MissingIssuer:
      return "EMETTEUR_MANQUANT";
    case rules::ChainEnd::Invalid:
      return "INVALIDE";
  }
  return "";
}

std::string end_text(const rules::LeafChain& c) {
  switch (c.end) {
    case rules::ChainEnd::Anchored:
      return "aboutit à une autorité de confiance";
    case rules::ChainEnd::SelfSignedLeaf:
      return "rompue : le certificat est auto-signé";
    case rules::ChainEnd::UntrustedRoot:
      return "rompue : la racine n'est pas une autorité de confiance";
    case rules::ChainEnd::MissingIssuer:
      return "rompue : l'émetteur « " + c.missing_issuer +
             " » est introuvable (ni dans le fichier ni parmi les "
             "autorités de confiance)";
    case rules::ChainEnd::Invalid:
      return "rompue : vérification en échec";
  }
  return "";
}

const char* yes_no(bool b) {
  return b ? "oui" : "non";
}
const char* boolean(bool b) {
  return b ? "true" : "false";
}

void print_text(std::ostream& out, const CertCommandOptions& o, const rules::BundleInspection& in,
                std::string_view protocol, Instant at, const CivilZone& zone) {
  out << fmt::format("Fichier : {}\nContenu : {} ({} certificat(s))\n", o.file, kind_text(in.kind),
                     in.certificates.size());
  int rank = 0;
  for (const auto& f : in.certificates) {
    out << fmt::format(
        "\nCertificat {}\n  Sujet : {}\n  Émetteur : {}\n  N° de série : {}\n  Validité : du {} au {} ({} → {})\n"
        "  Clé : {} {} bits\n  Signature : {}\n  Usages : {}\n  Autorité (CA) : {} ; auto-signé : {}\n"
        "  Empreinte SHA-256 : {}\n",
        ++rank, f.subject, f.issuer, f.serial, french_date(f.not_before), french_date(f.not_after),
        format_iso_instant(f.not_before), format_iso_instant(f.not_after), f.key_type, f.key_bits,
        f.signature_algorithm, purposes(f), yes_no(f.is_ca), yes_no(f.self_signed), f.fingerprint_sha256);
  }
  for (const auto& c : in.chains) {
    out << fmt::format("\nChaîne de « {} » : {}\n", c.links.empty() ? std::string() : c.links.front().subject,
                       end_text(c));
    for (std::size_t i = 0; i < c.links.size(); ++i) {
      const auto& l = c.links[i];
      out << fmt::format("  {}{} (n° de série {}){}\n", i == 0 ? "" : "→ ", l.subject, l.serial,
                         l.from_trust_store ? " [autorité de confiance]" : "");
    }
    if (c.end == rules::ChainEnd::MissingIssuer) out << fmt::format("  → ? « {} » manquant\n", c.missing_issuer);
  }
  out << fmt::format("\nVerdict {} au {} ({}) : {}\n", protocol, zone.format_local(at), zone.name(),
                     in.acceptable() ? "ACCEPTABLE" : "NON ACCEPTABLE");
  for (const auto& d : in.diagnostics) {
    out << fmt::format("  {} {} : {}\n", to_label(d.severity), to_code(d.code), d.message);
  }
  if (in.diagnostics.empty()) out << "  Aucune erreur ni aucun avertissement.\n";
}

void print_xml(std::ostream& out, const CertCommandOptions& o, const rules::BundleInspection& in,
               std::string_view protocol, Instant at) {
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<Certificats fichier=\"{}\" contenu=\"{}\">\n", outbox::escape_xml(o.file), kind_code(in.kind));
  int rank = 0;
  for (const auto& f : in.certificates) {
    out << fmt::format(
        "  <Certificat rang=\"{}\" sujet=\"{}\" emetteur=\"{}\" numeroSerie=\"{}\" debut=\"{}\" fin=\"{}\" "
        "cle=\"{}\" bits=\"{}\" signature=\"{}\" autorite=\"{}\" autoSigne=\"{}\" eku=\"{}\" clientAuth=\"{}\" "
        "serverAuth=\"{}\" empreinteSha256=\"{}\"/>\n",
        ++rank, outbox::escape_xml(f.subject), outbox::escape_xml(f.issuer), f.serial,
        format_iso_date(CivilDate{std::chrono::floor<std::chrono::days>(f.not_before)}),
        format_iso_date(CivilDate{std::chrono::floor<std::chrono::days>(f.not_after)}), outbox::escape_xml(f.key_type),
        f.key_bits, outbox::escape_xml(f.signature_algorithm), boolean(f.is_ca), boolean(f.self_signed),
        boolean(f.has_eku), boolean(f.client_auth), boolean(f.server_auth), f.fingerprint_sha256);
  }
  for (const auto& c : in.chains) {
    out << fmt::format("  <Chaine fin=\"{}\"{}>\n", end_code(c.end),
                       c.end == rules::ChainEnd::MissingIssuer
                           ? fmt::format(" emetteurManquant=\"{}\"", outbox::escape_xml(c.missing_issuer))
                           : std::string());
    for (const auto& l : c.links) {
      out << fmt::format("    <Maillon sujet=\"{}\" numeroSerie=\"{}\" empreinteSha256=\"{}\" confiance=\"{}\"/>\n",
                         outbox::escape_xml(l.subject), l.serial, l.fingerprint_sha256, boolean(l.from_trust_store));
    }
    out << "  </Chaine>\n";
  }
  out << fmt::format("  <Verdict protocole=\"{}\" instant=\"{}\" acceptable=\"{}\">\n", protocol,
                     format_iso_instant(at), boolean(in.acceptable()));
  for (const auto& d : in.diagnostics) {
    const std::string_view tag = to_code(d.severity);
    out << fmt::format("    <{} code=\"{}\">{}</{}>\n", tag, to_code(d.code), outbox::escape_xml(d.message), tag);
  }
  out << "  </Verdict>\n</Certificats>\n";
}

}  // namespace

CLI::App* add_cert_command(CLI::App& app, CertCommandOptions& options) {
  auto* cert = app.add_subcommand(
      "cert",
      "Inspecte un fichier PKCS#7 (.p7b, DER ou PEM) ou un certificat seul : pour chaque certificat, sujet, "
      "émetteur, n° de série, validité, clé, signature, usages, empreinte SHA-256 ; la chaîne construite pour "
      "chaque certificat final ; puis le verdict des règles de la fiche pour le protocole (code 0 acceptable, "
      "1 non acceptable, 2 erreur d'usage). N'ouvre aucun store et ne crée rien.\n"
      "Date de contrôle : --date J vaut J à 12:00, heure de engine.timezone ; sans --date, l'instant métier "
      "(--now, sinon l'horloge).\n"
      "Format xml : racine <Certificats fichier contenu=\"PKCS7|CERTIFICATS_SEULS|ILLISIBLE\"> ; un "
      "<Certificat rang sujet emetteur numeroSerie debut fin cle bits signature autorite autoSigne eku "
      "clientAuth serverAuth empreinteSha256/> par certificat ; une <Chaine fin=\"ANCREE|AUTOSIGNE|"
      "RACINE_NON_RECONNUE|EMETTEUR_MANQUANT|INVALIDE\" [emetteurManquant]> de <Maillon sujet numeroSerie "
      "empreinteSha256 confiance/> par certificat final ; enfin <Verdict protocole instant acceptable> avec "
      "des <Erreur code> et <Avertissement code> (message en texte).");
  cert->add_option("FILE", options.file, "Fichier du certificat (.p7b DER ou PEM, ou certificat seul)")
      ->required()
      ->check(CLI::ExistingFile);
  cert->add_option("--protocole", options.protocol, "Protocole de la fiche : PESIT, SFTP (défaut), AS2 ou API")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (protocol_of(value).known) return {};
            return "protocole inconnu « " + value + " » : PESIT, SFTP, AS2 ou API";
          },
          "PESIT|SFTP|AS2|API", "protocole"));
  cert->add_option("--date", options.date, "Date du contrôle AAAA-MM-JJ (à 12:00, heure de engine.timezone)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (parse_iso_date(value)) return {};
            return "date invalide « " + value + " » : attendu AAAA-MM-JJ, ex. 2026-06-10";
          },
          "AAAA-MM-JJ", "date"));
  cert->add_option("--format", options.format, "Sortie : text (défaut) ou xml")->check(CLI::IsMember({"text", "xml"}));
  return cert;
}

int run_cert_command(const CertCommandOptions& options, const Config& config, Instant now, std::ostream& out,
                     std::ostream& err) {
  const ProtocolChoice protocol = protocol_of(options.protocol);
  if (!protocol.known) {
    err << fmt::format("Protocole inconnu « {} » : PESIT, SFTP, AS2 ou API.\n", options.protocol);
    return 2;
  }
  const std::string format = lower(options.format);
  if (format != "text" && format != "xml") {
    err << fmt::format("Format inconnu « {} » : text ou xml.\n", options.format);
    return 2;
  }
  const CivilZone zone(config.timezone);
  Instant at = now;
  if (!options.date.empty()) {
    const auto date = parse_iso_date(options.date);
    if (!date) {
      err << fmt::format("Date invalide « {} » : attendu AAAA-MM-JJ.\n", options.date);
      return 2;
    }
    at = zone.instant_of(*date, 12, 0);
  }
  std::ifstream in(options.file, std::ios::binary);
  std::string bytes;
  if (in) bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in || in.bad()) {
    err << fmt::format("Impossible de lire le fichier « {} ».\n", options.file);
    return 2;
  }
  // `raccord cert` checks no revocation (it reads no CRL): policy.revocation stays aucune.
  rules::CertificatePolicy policy;
  policy.trust_dir = config.trust_dir;
  policy.min_rsa_bits = config.min_rsa_bits;
  policy.expiry_warning_days = config.expiry_warning_days;
  policy.clock_skew_s = config.clock_skew_s;
  const rules::CertificateChecker checker(policy);
  for (const auto& line : checker.trust_store_log()) {
    if (checker.trust_anchor_count() == 0) err << line.text << "\n";  // only when it explains the verdict
  }
  const std::string label = upper_ascii(options.protocol);
  const rules::BundleInspection inspection = rules::inspect_bundle(bytes, checker, protocol.protocol, at);
  if (format == "xml") {
    print_xml(out, options, inspection, label, at);
  } else {
    print_text(out, options, inspection, label, at, zone);
  }
  out.flush();
  return inspection.acceptable() ? 0 : 1;
}

int run_cert_command(const CertCommandOptions& options, const Config& config, Instant now) {
  return run_cert_command(options, config, now, std::cout, std::cerr);
}

}  // namespace raccord::app
