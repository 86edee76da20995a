// `raccord show` (docs/reference.md §7): see show_command.hpp.
#include "engine/app/show_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "engine/app/search_command.hpp"
#include "engine/app/terminal_text.hpp"
#include "outbox/acknowledgement_writer.hpp"

namespace raccord::app {
namespace {

std::string or_dash(std::string_view text) {
  return text.empty() ? std::string("—") : terminal_line(text);
}

std::string utc_french_date(Instant t) {
  return format_french_date(CivilDate{std::chrono::floor<std::chrono::days>(t)});
}

std::string state_text(const std::optional<SheetState>& s) {
  return s ? std::string(to_label(*s)) : std::string("(création)");
}

void print_version_text(std::ostream& out, const std::string& title, const VersionView& v, SheetKind kind,
                        const CivilZone& zone) {
  out << fmt::format("\n{} (version n° {}, « {} » par {} le {})\n", title, v.number, to_code(v.action),
                     terminal_line(v.created_by), zone.format_local(v.created_at));
  if (kind == SheetKind::Edi) {
    out << fmt::format("  Protocole : {}\n", or_dash(v.protocol));
    if (v.period_from) {
      out << fmt::format("  Période : du {} {}\n", format_french_date(*v.period_from),
                         v.period_to ? "au " + format_french_date(*v.period_to) : std::string("(sans date de fin)"));
    } else {
      out << "  Période : —\n";
    }
    out << "  Codes interface :";
    if (v.interfaces.empty()) out << " —";
    out << "\n";
    for (const auto& i : v.interfaces)
      out << fmt::format("    {:<10} {}\n", terminal_line(i.code), terminal_line(i.mode));
  }
  out << "  Certificats :";
  if (v.certificates.empty()) out << " —";
  out << "\n";
  for (const auto& c : v.certificates) {
    out << fmt::format("    {} — n° de série {} — fin de validité {}{}\n", terminal_line(c.subject),
                       terminal_line(c.serial), utc_french_date(c.not_after),
                       c.is_leaf ? " (certificat final)" : " (autorité)");
  }
  out << fmt::format("  Contact technique : {} — tél. {} — {} — fax {}\n", or_dash(v.contact_name),
                     or_dash(v.contact_phone), or_dash(v.contact_email), or_dash(v.contact_fax));
  if (!v.network_identifier.empty() || !v.network_address.empty() || !v.network_port.empty() ||
      !v.network_path.empty()) {
    out << fmt::format("  Réseau du partenaire : identifiant {} — adresse {} — port {} — chemin {}\n",
                       or_dash(v.network_identifier), or_dash(v.network_address), or_dash(v.network_port),
                       or_dash(v.network_path));
  }
  if (!v.comments.empty()) out << fmt::format("  Commentaires : {}\n", terminal_line(v.comments));
}

void print_version_xml(std::ostream& out, const char* role, const VersionView& v) {
  out << fmt::format("  <Version role=\"{}\" numero=\"{}\" id=\"{}\" action=\"{}\"", role, v.number, v.id,
                     outbox::escape_xml(to_code(v.action)));
  if (!v.protocol.empty()) out << fmt::format(" protocole=\"{}\"", outbox::escape_xml(v.protocol));
  if (v.period_from) out << fmt::format(" debut=\"{}\"", format_iso_date(*v.period_from));
  if (v.period_to) out << fmt::format(" fin=\"{}\"", format_iso_date(*v.period_to));
  out << fmt::format(" creeLe=\"{}\" creePar=\"{}\">\n", format_iso_instant(v.created_at),
                     outbox::escape_xml(v.created_by));
  out << fmt::format("    <Contact nomPrenom=\"{}\" telephone=\"{}\" email=\"{}\" fax=\"{}\"/>\n",
                     outbox::escape_xml(v.contact_name), outbox::escape_xml(v.contact_phone),
                     outbox::escape_xml(v.contact_email), outbox::escape_xml(v.contact_fax));
  if (!v.network_identifier.empty() || !v.network_address.empty() || !v.network_port.empty() ||
      !v.network_path.empty()) {
    out << fmt::format("    <Reseau identifiant=\"{}\" adresseIP=\"{}\" port=\"{}\" cheminDepot=\"{}\"/>\n",
                       outbox::escape_xml(v.network_identifier), outbox::escape_xml(v.network_address),
                       outbox::escape_xml(v.network_port), outbox::escape_xml(v.network_path));
  }
  for (const auto& i : v.interfaces) {
    out << fmt::format("    <Interface code=\"{}\" mode=\"{}\"/>\n", outbox::escape_xml(i.code),
                       outbox::escape_xml(i.mode));
  }
  for (const auto& c : v.certificates) {
    out << fmt::format(
        "    <Certificat sujet=\"{}\" emetteur=\"{}\" numeroSerie=\"{}\" debut=\"{}\" fin=\"{}\" finale=\"{}\"/>\n",
        outbox::escape_xml(c.subject), outbox::escape_xml(c.issuer), outbox::escape_xml(c.serial),
        format_iso_instant(c.not_before), format_iso_instant(c.not_after), c.is_leaf ? "true" : "false");
  }
  if (!v.comments.empty()) out << fmt::format("    <Commentaires>{}</Commentaires>\n", outbox::escape_xml(v.comments));
  out << "  </Version>\n";
}

/// The line `En attente : …` (docs/reference.md §7): the current block's codes and messages and since when,
/// or the du, or the next nightly run.
void print_waiting_text(std::ostream& out, const WaitingView& w, const CivilZone& zone) {
  if (w.block) {
    out << fmt::format("En attente : activation bloquée depuis le {} (exécution nocturne), motif(s) :\n",
                       zone.format_local(w.block->since));
    for (const auto& r : w.block->reasons) {
      out << fmt::format("  {}{} : {}\n", terminal_line(r.code),
                         r.field.empty() ? std::string() : " (" + terminal_line(r.field) + ")",
                         terminal_line(r.message));
    }
    if (w.block->reasons.empty()) out << fmt::format("  {}\n", terminal_line(w.block->reason));
  } else if (w.du) {
    out << fmt::format(
        "En attente : du {} — activée par la première exécution nocturne de cette date ou après, si ses "
        "contrôles sont bons\n",
        format_french_date(*w.du));
  } else {
    out << "En attente : la prochaine exécution nocturne, qui l'active si ses contrôles sont bons\n";
  }
}

/// `<Attente du="…"/>`, or `<Attente depuis="…"><Motif code champ>message</Motif>…</Attente>`, or
/// `<Attente/>` (the next run).
void print_waiting_xml(std::ostream& out, const WaitingView& w) {
  if (w.block) {
    out << fmt::format("  <Attente depuis=\"{}\">\n", format_iso_instant(w.block->since));
    for (const auto& r : w.block->reasons) {
      out << fmt::format("    <Motif code=\"{}\"", outbox::escape_xml(r.code));
      if (!r.field.empty()) out << fmt::format(" champ=\"{}\"", outbox::escape_xml(r.field));
      out << fmt::format(">{}</Motif>\n", outbox::escape_xml(r.message));
    }
    out << "  </Attente>\n";
  } else if (w.du) {
    out << fmt::format("  <Attente du=\"{}\"/>\n", format_iso_date(*w.du));
  } else {
    out << "  <Attente/>\n";
  }
}

}  // namespace

void print_sheet_text(std::ostream& out, const SheetView& s, const CivilZone& zone) {
  out << fmt::format("Fiche {} ({}){}\n", s.code_appli, to_code(s.kind),
                     s.deleted ? " — supprimée (brouillon supprimé, absent des recherches)" : "");
  out << fmt::format("Partenaire : {} - {}\n", s.partner_siret, or_dash(s.raison_sociale));
  out << fmt::format("Etat courant : {} ({})\n", to_label(s.state), to_code(s.state));
  out << fmt::format("Créée le : {}   Modifiée le : {}\n", zone.format_local(s.created_at),
                     zone.format_local(s.updated_at));
  out << fmt::format("Soumise le : {}\n", s.submitted_at ? zone.format_local(*s.submitted_at) : std::string("—"));
  if (s.waiting) print_waiting_text(out, *s.waiting, zone);
  if (s.active) {
    print_version_text(out, "Version activée", *s.active, s.kind, zone);
  } else {
    out << "\nVersion activée : aucune\n";
  }
  if (s.pending) {
    print_version_text(
        out, s.state == SheetState::Brouillon ? "Version en attente (brouillon)" : "Version en attente d'activation",
        *s.pending, s.kind, zone);
  } else {
    out << "\nVersion en attente : aucune\n";
  }
  out << fmt::format("\nHistorique ({} événement(s), heure locale {}) :\n", s.history.size(), zone.name());
  for (const auto& h : s.history) {
    out << fmt::format("  {}  {:<12} {} → {}{}\n", zone.format_local(h.instant), terminal_line(h.actor),
                       state_text(h.from), to_label(h.to),
                       h.reason.empty() ? std::string() : " : " + terminal_line(h.reason));
  }
}

void print_sheet_xml(std::ostream& out, const SheetView& s) {
  out << fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Fiche codeAppli=\"{}\" type=\"{}\" partenaire=\"{}\" etat=\"{}\" "
      "raisonSociale=\"{}\" libelleEtat=\"{}\" supprimee=\"{}\"",
      outbox::escape_xml(s.code_appli), to_code(s.kind), outbox::escape_xml(s.partner_siret), to_code(s.state),
      outbox::escape_xml(s.raison_sociale), outbox::escape_xml(to_label(s.state)), s.deleted ? "true" : "false");
  if (s.submitted_at) out << fmt::format(" soumis=\"{}\"", format_iso_instant(*s.submitted_at));
  out << ">\n";
  if (s.active) print_version_xml(out, "active", *s.active);
  if (s.pending) print_version_xml(out, "pending", *s.pending);
  if (s.waiting) print_waiting_xml(out, *s.waiting);
  out << "  <Historique>\n";
  for (const auto& h : s.history) {
    out << fmt::format("    <Evenement instant=\"{}\" acteur=\"{}\" de=\"{}\" vers=\"{}\" motif=\"{}\"/>\n",
                       format_iso_instant(h.instant), outbox::escape_xml(h.actor),
                       h.from ? to_code(*h.from) : std::string_view(), to_code(h.to), outbox::escape_xml(h.reason));
  }
  out << "  </Historique>\n</Fiche>\n";
}

CLI::App* add_show_command(CLI::App& app, ShowCommandOptions& options) {
  auto* show = app.add_subcommand(
      "show",
      "Affiche une fiche pour le support : identité, état courant, versions activée et en attente (protocole, "
      "période, codes interface et modes, certificats et leur fin de validité, contact), puis tout l'historique "
      "(instant en heure locale de engine.timezone, acteur, de, vers, motif). Pour une fiche en attente "
      "d'activation, une ligne « En attente : » dit ce qu'elle attend : son du (jj/mm/aaaa), ou les codes et "
      "messages du blocage en cours et depuis quand. Versions numérotées par fiche (1, 2, …). Les brouillons "
      "supprimés sont affichés aussi. Code 1 si la fiche est inconnue.\n"
      "Format xml : racine <Fiche codeAppli type partenaire etat raisonSociale libelleEtat supprimee [soumis]>, "
      "des <Version role=\"active|pending\" numero>, un <Attente du> ou <Attente depuis> de <Motif code champ>, "
      "puis <Historique> de <Evenement instant acteur de vers motif/> (samples/xsd/fiche.xsd).");
  show->add_option("CODE", options.code, "Code Appli partenaire de la fiche, ex. VFE042")->required();
  show->add_option("--format", options.format, "Sortie : text (défaut) ou xml")->check(CLI::IsMember({"text", "xml"}));
  return show;
}

int run_show_command(const ShowCommandOptions& options, const Config& config, std::ostream& out, std::ostream& err) {
  if (options.format != "text" && options.format != "xml") {
    err << fmt::format("Format inconnu « {} » : text ou xml.\n", options.format);
    return 2;
  }
  const CivilZone zone(config.timezone);
  const auto db = open_store_for_reading(config);
  if (!db) {
    err << fmt::format("Fiche {} inconnue : aucun store n'existe encore ({}). Lancez d'abord « raccord init ».\n",
                       options.code, config.effective_connection());
    return 1;
  }
  const auto sheet = load_sheet_view(*db, options.code);
  if (!sheet) {
    err << fmt::format("Fiche {} inconnue : aucun Code Appli partenaire de ce nom dans le store.\n", options.code);
    return 1;
  }
  if (options.format == "xml") {
    print_sheet_xml(out, *sheet);
  } else {
    print_sheet_text(out, *sheet, zone);
  }
  out.flush();
  return 0;
}

int run_show_command(const ShowCommandOptions& options, const Config& config) {
  return run_show_command(options, config, std::cout, std::cerr);
}

}  // namespace raccord::app
