// Renders the nightly report (docs/reference.md §5.3) with pugixml and CsvWriter, and names its files.
// acknowledgement_writer.hpp uses Instant without including its header: include it first.
// clang-format off
#include "domain/civil_date.hpp"
#include "outbox/acknowledgement_writer.hpp"
// clang-format on
#include "outbox/nightly_report_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <pugixml.hpp>
#include <sstream>

#include "outbox/csv.hpp"

namespace raccord::outbox {
namespace {

constexpr const char* kNamespace = "urn:raccord:rapport:1";

/// Every state, in enum order, for the Totaux/Etat children.
constexpr auto kAllStates = enum_values<SheetState>();  // the table's order

void set_attribute(pugi::xml_node node, const char* name, std::string_view value) {
  node.append_attribute(name).set_value(sanitize_xml_text(value).c_str());
}

void set_count(pugi::xml_node node, const char* name, std::int64_t value) {
  set_attribute(node, name, std::to_string(value));
}

void set_sheet(pugi::xml_node node, std::string_view code_appli, std::string_view partner_siret) {
  set_attribute(node, "codeAppli", code_appli);
  set_attribute(node, "partenaire", partner_siret);
}

void append_totals(pugi::xml_node root, const NightlyReport& report) {
  std::int64_t activations = 0;
  std::int64_t deactivations = 0;
  for (const NightlyTransition& t : report.transitions) {
    switch (t.to) {
      case SheetState::Activee:
        ++activations;
        break;
      case SheetState::Desactivee:
        ++deactivations;
        break;
      case SheetState::Brouillon:
      case SheetState::Envoyee:
      case SheetState::EnvoyeeMaj:
        break;
    }
  }
  pugi::xml_node totals = root.append_child("Totaux");
  set_count(totals, "transitions", static_cast<std::int64_t>(report.transitions.size()));
  set_count(totals, "activations", activations);
  set_count(totals, "desactivations", deactivations);
  set_count(totals, "bloquees", static_cast<std::int64_t>(report.blocked.size()));
  set_count(totals, "retards", static_cast<std::int64_t>(report.late.size()));
  set_count(totals, "expirationsProches", static_cast<std::int64_t>(report.expiring.size()));
  set_count(totals, "revocations", static_cast<std::int64_t>(report.revocations.size()));
  set_count(totals, "fichiersIgnores", static_cast<std::int64_t>(report.ignored_files.size()));
  for (SheetState state : kAllStates) {
    const auto found = report.sheets_by_state.find(state);
    pugi::xml_node node = totals.append_child("Etat");
    set_attribute(node, "code", to_code(state));
    set_count(node, "nombre", found == report.sheets_by_state.end() ? 0 : found->second);
  }
}

void append_reasons(pugi::xml_node node, const Diagnostics& reasons) {
  for (const Diagnostic& d : reasons) {
    pugi::xml_node reason = node.append_child("Motif");
    set_attribute(reason, "code", to_code(d.code));
    if (!d.field.empty()) set_attribute(reason, "champ", d.field);
    reason.text().set(sanitize_xml_text(d.message).c_str());
  }
}

/// "CODE (champ) : message ; CODE : message".
std::string reasons_text(const Diagnostics& reasons) {
  std::string text;
  for (const Diagnostic& d : reasons) {
    if (!text.empty()) text += " ; ";
    text += to_code(d.code);
    if (!d.field.empty()) text += " (" + d.field + ")";
    text += " : " + d.message;
  }
  return text;
}

/// "3 jour(s)" from a day on, else "5 heure(s)".
std::string age_text(std::chrono::seconds age) {
  const auto hours = std::chrono::duration_cast<std::chrono::hours>(age).count();
  if (hours >= 24) return std::to_string(hours / 24) + " jour(s)";
  return std::to_string(hours) + " heure(s)";
}

CivilDate utc_date(Instant t) {
  return CivilDate{std::chrono::floor<std::chrono::days>(t)};
}

}  // namespace

std::string partner_cell(const NightlyReport& report, const std::string& siret) {
  const auto found = report.partner_names.find(siret);
  return found == report.partner_names.end() ? siret : siret + " - " + found->second;
}

std::string render_nightly_report_xml(const NightlyReport& report) {
  pugi::xml_document doc;
  pugi::xml_node declaration = doc.append_child(pugi::node_declaration);
  declaration.append_attribute("version").set_value("1.0");
  declaration.append_attribute("encoding").set_value("UTF-8");

  pugi::xml_node root = doc.append_child("RapportNocturne");
  root.append_attribute("xmlns").set_value(kNamespace);
  set_attribute(root, "date", format_iso_date(report.date));
  set_attribute(root, "instant", format_iso_instant(report.run_instant));
  set_attribute(root, "debut", format_iso_instant(report.started_at));
  set_attribute(root, "fin", format_iso_instant(report.finished_at));

  for (const NightlyTransition& t : report.transitions) {
    pugi::xml_node node = root.append_child("Transition");
    set_sheet(node, t.code_appli, t.partner_siret);
    set_attribute(node, "de", to_code(t.from));
    set_attribute(node, "vers", to_code(t.to));
    set_attribute(node, "motif", t.reason);
  }
  for (const BlockedActivation& b : report.blocked) {
    pugi::xml_node node = root.append_child("ActivationBloquee");
    set_sheet(node, b.code_appli, b.partner_siret);
    set_attribute(node, "etat", to_code(b.state));
    append_reasons(node, b.reasons);
  }
  for (const LateSheet& l : report.late) {
    pugi::xml_node node = root.append_child("Retard");
    set_sheet(node, l.code_appli, l.partner_siret);
    set_attribute(node, "etat", to_code(l.state));
    set_attribute(node, "soumis", format_iso_instant(l.submitted_at));
    set_attribute(node, "echeance", format_iso_date(l.due));
  }
  for (const ExpiringCertificate& e : report.expiring) {
    pugi::xml_node node = root.append_child("ExpirationProche");
    set_sheet(node, e.code_appli, e.partner_siret);
    set_attribute(node, "sujet", e.subject);
    set_attribute(node, "serie", e.serial);
    set_attribute(node, "finValidite", format_iso_date(utc_date(e.not_after)));
  }
  for (const RevokedSheet& v : report.revocations) {
    pugi::xml_node node = root.append_child("Revocation");
    set_sheet(node, v.code_appli, v.partner_siret);
    set_attribute(node, "etat", to_code(v.state));
    append_reasons(node, v.reasons);
  }
  for (const IgnoredFile& f : report.ignored_files) {
    pugi::xml_node node = root.append_child("FichierIgnore");
    set_attribute(node, "chemin", f.path);
    set_attribute(node, "taille", std::to_string(f.size));
    set_attribute(node, "age", std::to_string(std::max<std::int64_t>(0, f.age.count())));
    set_attribute(node, "modifie", format_iso_instant(f.modified));
    set_attribute(node, "motif", f.why);
  }
  append_totals(root, report);

  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

std::string render_nightly_report_csv(const NightlyReport& report) {
  std::ostringstream out;
  CsvWriter csv(out);
  const std::string run_date = format_french_date(report.date);
  // Every cell through sanitize_xml_text: the file is valid UTF-8 whatever the store holds.
  auto row = [&csv](std::string_view type, std::string_view code, std::string_view partner, std::string_view from,
                    std::string_view to, std::string_view reason, std::string_view date) {
    csv.row({std::string(type), sanitize_xml_text(code), sanitize_xml_text(partner), std::string(from), std::string(to),
             sanitize_xml_text(reason), std::string(date)});
  };
  csv.row({"Type", "Code Appli partenaire", "Partenaire", "De", "Vers", "Motif", "Date"});
  for (const NightlyTransition& t : report.transitions) {
    row("Transition", t.code_appli, partner_cell(report, t.partner_siret), to_label(t.from), to_label(t.to), t.reason,
        run_date);
  }
  for (const BlockedActivation& b : report.blocked) {
    row("Blocage", b.code_appli, partner_cell(report, b.partner_siret), "", "", reasons_text(b.reasons), run_date);
  }
  for (const LateSheet& l : report.late) {
    row("Retard", l.code_appli, partner_cell(report, l.partner_siret), "", "",
        fmt::format("{}, non activée plus d'un jour après son échéance du {} (soumission, ou début de période)",
                    to_label(l.state), format_french_date(l.due)),
        format_french_date(l.due));
  }
  for (const ExpiringCertificate& e : report.expiring) {
    const std::string end = format_french_date(utc_date(e.not_after));
    row("Expiration", e.code_appli, partner_cell(report, e.partner_siret), "", "",
        fmt::format("certificat {} (n° de série {}) valable jusqu'au {}", e.subject, e.serial, end), end);
  }
  for (const RevokedSheet& v : report.revocations) {
    row("Revocation", v.code_appli, partner_cell(report, v.partner_siret), "", "", reasons_text(v.reasons), run_date);
  }
  for (const IgnoredFile& f : report.ignored_files) {
    row("FichierIgnore", "", "", "", "", fmt::format("{}, {} octet(s), {}, {}", f.path, f.size, age_text(f.age), f.why),
        format_french_date(f.modified_on));
  }
  return out.str();
}

std::string nightly_report_name(CivilDate date, std::string_view extension) {
  if (!extension.empty() && extension.front() == '.') extension.remove_prefix(1);
  return "NIGHTLY_" + format_iso_date(date) + "." + std::string(extension);
}

}  // namespace raccord::outbox
