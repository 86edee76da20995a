// `raccord search` (docs/reference.md §3.4, §5.2, §7): see search_command.hpp.
#include "engine/app/search_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <vector>

#include "engine/app/terminal_text.hpp"
#include "engine/clock.hpp"
#include "engine/search.hpp"
#include "outbox/export_writer.hpp"

namespace raccord::app {
namespace {

namespace fs = std::filesystem;

std::string date_problem(const std::string& value) {
  if (parse_iso_date(value)) return {};
  return "date invalide « " + value + " » : attendu AAAA-MM-JJ entre 1970 et 9999, ex. 2026-01-31";
}

std::string state_problem(const std::string& value) {
  if (parse_state_criterion(value)) return {};
  std::string codes, labels;
  for (const auto& row : enum_rows<SheetState>()) {
    codes += (codes.empty() ? "" : ", ") + std::string(row.code);
    labels += (labels.empty() ? "" : ", ") + std::string(to_label(row.value));
  }
  return "état inconnu « " + value + " » : un code (" + codes + ") ou un libellé (" + labels +
         "), accents et casse indifférents";
}

std::string siret_problem(const std::string& value) {
  if (value.size() == 14 && std::all_of(value.begin(), value.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return {};
  return "SIRET malformé « " + value + " » pour --partenaire : 14 chiffres attendus, ex. 12345678200010";
}

std::string protocol_problem(const std::string& value) {
  if (parse<Protocol>(upper_ascii(value))) return {};
  return "protocole inconnu « " + value + " » : PESIT, SFTP ou AS2";
}

std::string type_problem(const std::string& value) {
  if (parse<SheetKind>(upper_ascii(value))) return {};
  return "type inconnu « " + value + " » : EDI ou API";
}

std::string format_problem(const std::string& value) {
  if (value == "table" || value == "csv" || value == "xml") return {};
  return "format inconnu « " + value + " » : table, csv ou xml";
}

CLI::Validator validator(std::string (*problem)(const std::string&), const char* description, const char* name) {
  return CLI::Validator([problem](std::string& value) { return problem(value); }, description, name);
}

/// Display width of UTF-8 text in a terminal: one column per code point (no wide characters expected).
std::size_t width(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::vector<std::string> columns_of(std::string_view header) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto end = header.find(';', start);
    out.emplace_back(header.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string french(const std::optional<CivilDate>& d) {
  return d ? format_french_date(*d) : std::string();
}

std::vector<std::string> table_cells(const SearchRow& r, SheetKind kind) {
  const std::string partner = terminal_line(r.partner_siret + " - " + r.raison_sociale);
  switch (kind) {
    case SheetKind::Edi:
      return {partner,
              terminal_line(r.protocol),
              terminal_line(r.code_appli),
              terminal_line(r.interface_code),
              french(r.period_from),
              french(r.period_to),
              std::string(to_label(r.state))};
    case SheetKind::Api:
      return {partner, terminal_line(r.code_appli), std::string(to_label(r.state))};
  }
  return {};
}

void print_table(std::ostream& out, SheetKind kind, const std::vector<std::vector<std::string>>& rows) {
  const std::vector<std::string> header = columns_of(outbox::export_csv_header(kind));
  std::vector<std::size_t> widths(header.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], width(cells[i]));
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  auto print = [&out, &widths](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      text += cells[i];
      if (i + 1 < cells.size()) text += std::string(widths[i] - width(cells[i]) + 2, ' ');
    }
    out << text << "\n";
  };
  print(header);
  for (const auto& r : rows) print(r);
}

}  // namespace

std::unique_ptr<Database> open_store_for_reading(const Config& config) {
  if (!config.store_exists()) return nullptr;
  return open_database(config.store_backend, config.effective_connection());
}

CLI::App* add_search_command(CLI::App& app, SearchCommandOptions& o) {
  auto* search = app.add_subcommand(
      "search",
      "Recherche de fiches (comme une opération Recherche) limitée aux structures que le demandeur peut consulter "
      "(abonnement validé ou gestionnaire d'un espace actif ; tout pour un utilisateur support). Les brouillons "
      "supprimés n'apparaissent jamais. Lignes triées par partenaire, Code Appli, code interface. Code 2, avec la "
      "raison, pour un demandeur inconnu, un SIRET malformé, une date malformée ou un état inconnu.\n"
      "Sortie : table (défaut, colonnes de l'export), csv ou xml (les octets mêmes du fichier d'export) ; avec "
      "--export, le fichier EXPORT_<EDI|API>_<référence>_<instant> est écrit dans outbox/ (csv pour table) et son "
      "chemin est affiché.");
  search->add_option("--partenaire", o.partner, "SIRET du partenaire (14 chiffres)")
      ->check(validator(siret_problem, "SIRET", "siret"));
  search
      ->add_option("--etat", o.state,
                   "Etat courant, code ou libellé, accents et casse indifférents : BROUILLON, ENVOYEE, ENVOYEE_MAJ, "
                   "ACTIVEE, DESACTIVEE ou Brouillon, Envoyée, Envoyée MAJ, Activée, Désactivée")
      ->check(validator(state_problem, "ETAT", "etat"));
  search->add_option("--raison-sociale", o.raison_sociale,
                     "Partie de la raison sociale du partenaire, accents et casse indifférents, ex. « pro shop »");
  search->add_option("--code-appli", o.code_appli, "Code Appli partenaire, ex. VFE042");
  search->add_option("--protocole", o.protocol, "Protocole de raccordement : PESIT, SFTP ou AS2 (EDI)")
      ->check(validator(protocol_problem, "PESIT|SFTP|AS2", "protocole"));
  search->add_option("--code-interface", o.interface_code, "Code interface, ex. FSO1100A (EDI)");
  search
      ->add_option("--soumis-depuis", o.submitted_from,
                   "Soumises ce jour ou après, AAAA-MM-JJ (date civile de engine.timezone, incluse)")
      ->check(validator(date_problem, "AAAA-MM-JJ", "date"));
  search->add_option("--soumis-jusqua", o.submitted_to, "Soumises ce jour ou avant, AAAA-MM-JJ (incluse)")
      ->check(validator(date_problem, "AAAA-MM-JJ", "date"));
  search
      ->add_option("--type", o.type,
                   "EDI ou API (défaut : le type de la fiche --code-appli quand le demandeur peut la consulter, "
                   "sinon EDI)")
      ->check(validator(type_problem, "EDI|API", "type"));
  search->add_option("--format", o.format, "table (défaut), csv ou xml")
      ->check(validator(format_problem, "table|csv|xml", "format"));
  search->add_flag("--export", o.write_export, "Écrit le fichier d'export dans outbox/ et affiche son chemin");
  search->add_option("--reference", o.reference, "Référence de la recherche (nom du fichier d'export)");
  search->add_option("--demandeur", o.requester, "Identifiant (login) de l'utilisateur qui recherche")->required();
  return search;
}

int run_search_command(const SearchCommandOptions& o, const Config& config, Instant now, std::ostream& out,
                       std::ostream& err) {
  for (const std::string& problem : {date_problem(o.submitted_from.empty() ? "2000-01-01" : o.submitted_from),
                                     date_problem(o.submitted_to.empty() ? "2000-01-01" : o.submitted_to),
                                     o.partner.empty() ? std::string() : siret_problem(o.partner),
                                     o.state.empty() ? std::string() : state_problem(o.state),
                                     o.protocol.empty() ? std::string() : protocol_problem(o.protocol),
                                     o.type.empty() ? std::string() : type_problem(o.type), format_problem(o.format)}) {
    if (!problem.empty()) {
      err << "Recherche impossible : " << problem << ".\n";
      return 2;
    }
  }
  if (o.requester.empty()) {
    err << "Recherche impossible : --demandeur est obligatoire.\n";
    return 2;
  }
  SearchCriteria c;
  auto given = [](const std::string& v) { return v.empty() ? std::nullopt : std::optional<std::string>(v); };
  c.partner = given(o.partner);
  if (!o.state.empty()) c.state = std::string(to_code(*parse_state_criterion(o.state)));
  c.code_appli = given(o.code_appli);
  c.protocol = given(upper_ascii(o.protocol));
  c.interface_code = given(o.interface_code);
  c.raison_sociale = given(o.raison_sociale);
  if (!o.submitted_from.empty()) c.submitted_from = parse_iso_date(o.submitted_from);
  if (!o.submitted_to.empty()) c.submitted_to = parse_iso_date(o.submitted_to);

  const CivilZone zone(config.timezone);
  const std::unique_ptr<Database> db = open_store_for_reading(config);
  if (!db) {
    err << fmt::format(
        "Recherche impossible : demandeur inconnu « {} » : aucun store n'existe encore ({}). Lancez d'abord « raccord "
        "init », ou donnez la configuration du store réel avec --config.\n",
        o.requester, config.effective_connection());
    return 2;
  }
  if (!db->query_one("SELECT 1 FROM users WHERE login = $1", {o.requester})) {
    err << fmt::format(
        "Recherche impossible : demandeur inconnu « {} » : aucun utilisateur de ce login dans le store ({}). "
        "Vérifiez --demandeur (le login, ex. support.n1).\n",
        o.requester, config.effective_connection());
    return 2;
  }
  c.kind = o.type.empty() ? search_kind_of_code(*db, c, o.requester) : *parse<SheetKind>(upper_ascii(o.type));
  const ExportFormat file_format = o.format == "xml" ? ExportFormat::Xml : ExportFormat::Csv;
  if (o.write_export) {
    const fs::path outbox_dir = config.root / "outbox";
    fs::create_directories(outbox_dir);
    const std::string name = write_export(*db, zone, c, o.requester, file_format, o.reference, now, outbox_dir);
    out << (outbox_dir / name).string() << "\n";
    return 0;
  }
  if (o.format == "table") {
    std::vector<std::vector<std::string>> rows;
    search_sheets(*db, zone, c, o.requester,
                  [&rows, &c](const SearchRow& r) { rows.push_back(table_cells(r, c.kind)); });
    print_table(out, c.kind, rows);
  } else {
    outbox::ExportWriter writer(out, c.kind, file_format, o.reference, now);
    search_sheets(*db, zone, c, o.requester, [&writer](const SearchRow& r) { writer.row(r); });
    writer.finish();
  }
  out.flush();
  return 0;
}

int run_search_command(const SearchCommandOptions& options, const Config& config, Instant now) {
  return run_search_command(options, config, now, std::cout, std::cerr);
}

}  // namespace raccord::app
