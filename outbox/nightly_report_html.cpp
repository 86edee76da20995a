// The nightly report as a self-contained HTML page (docs/reference.md §5.3, issue 5): inline CSS and SVG, no
// script, every value sanitized then escaped.
// acknowledgement_writer.hpp uses Instant without including its header: include it first.
// clang-format off
#include "domain/civil_date.hpp"
#include "outbox/acknowledgement_writer.hpp"
// clang-format on
#include "outbox/nightly_report_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>

#include "outbox/nightly_report_writer.hpp"

namespace raccord::outbox {
namespace {

constexpr std::size_t kHistoryPoints = 30;
constexpr auto kAllStates = enum_values<SheetState>();  // the table's order

constexpr std::string_view kStyle = R"(
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:24px;color:#1b1b1b;background:#fff;font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #000091;padding-bottom:4px}
p.meta{color:#555;margin:0 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #ccc;border-radius:6px;padding:8px 14px;min-width:120px;background:#f6f6f6}
.card .n{font-size:24px;font-weight:bold}.card .l{color:#444}
.card.alerte{background:#fff4e5;border-color:#e0a040}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#e8e8f4}tr:nth-child(even) td{background:#fafafa}
td.vide{color:#666;font-style:italic;text-align:center}
ul.motifs{margin:0;padding-left:18px}
svg.chart{display:block;max-width:100%;height:auto;border:1px solid #ddd;background:#fff}
svg text{font-family:"DejaVu Sans",Arial,sans-serif;font-size:12px;fill:#1b1b1b}
svg text.petit{font-size:10px}
.etat-BROUILLON{fill:#9e9e9e}.etat-ENVOYEE{fill:#1f77b4}.etat-ENVOYEE_MAJ{fill:#6baed6}
.etat-ACTIVEE{fill:#2ca02c}.etat-DESACTIVEE{fill:#d62728}
.activations{fill:#2ca02c}.desactivations{fill:#d62728}
.axe{stroke:#444;stroke-width:1}
footer{margin-top:28px;color:#666;font-size:12px}
)";

std::string default_format(Instant instant) {
  std::string iso = format_iso_instant(instant);  // YYYY-MM-DDTHH:MM:SSZ
  if (iso.size() == 20) iso = iso.substr(0, 10) + " " + iso.substr(11, 8) + " UTC";
  return iso;
}

std::string_view state_class(SheetState s) {
  return to_code(s);
}

std::string num(double v) {
  return fmt::format("{:.1f}", v);
}

std::string count_of(const std::map<SheetState, std::int64_t>& m, SheetState s) {
  const auto found = m.find(s);
  return std::to_string(found == m.end() ? 0 : found->second);
}

std::int64_t value_of(const std::map<SheetState, std::int64_t>& m, SheetState s) {
  const auto found = m.find(s);
  return found == m.end() ? 0 : found->second;
}

void card(std::string& out, std::int64_t n, std::string_view label, bool alert) {
  out += fmt::format(R"(<div class="card{}"><div class="n">{}</div><div class="l">{}</div></div>)",
                     alert && n > 0 ? " alerte" : "", n, html_text(label));
}

/// Height of the bar of `n` sheets in a plot `plot` high whose tallest bar holds `max`: a
/// logarithmic scale (issue 18: 2,000 Brouillons flattened 6 Activées on a linear one), log(1 + n) /
/// log(1 + max), and never under kMinBar for a state that has sheets, so every state stays visible
/// next to a dominant one (its exact count is written on the bar).
double state_bar_height(std::int64_t n, std::int64_t max, double plot) {
  constexpr double kMinBar = 6;
  if (n <= 0) return 0;
  const double h = plot * std::log1p(static_cast<double>(n)) / std::log1p(static_cast<double>(std::max(max, n)));
  return std::max(h, kMinBar);
}

/// Bars of sheets by state, on a logarithmic scale.
void states_chart(std::string& out, const NightlyReport& report) {
  constexpr double kWidth = 640, kHeight = 280, kLeft = 50, kTop = 40, kPlot = 190;  // kTop: room for the caption
  std::int64_t max = 1;
  for (SheetState s : kAllStates) max = std::max(max, value_of(report.sheets_by_state, s));
  out += fmt::format(R"(<svg class="chart" width="{0}" height="{1}" viewBox="0 0 {0} {1}" )"
                     R"(role="img" aria-labelledby="etats-titre"><title id="etats-titre">Fiches par état )"
                     R"((échelle logarithmique)</title>)",
                     kWidth, kHeight);
  out += fmt::format(
      R"(<text class="petit" x="{}" y="16">échelle logarithmique : chaque barre porte son nombre</text>)", kLeft);
  out +=
      fmt::format(R"(<line class="axe" x1="{0}" y1="{1}" x2="{2}" y2="{1}"/>)", kLeft, num(kTop + kPlot), kWidth - 10);
  const double slot = (kWidth - kLeft - 10) / static_cast<double>(kAllStates.size());
  for (std::size_t i = 0; i < kAllStates.size(); ++i) {
    const SheetState s = kAllStates[i];
    const std::int64_t n = value_of(report.sheets_by_state, s);
    const double h = state_bar_height(n, max, kPlot);
    const double x = kLeft + slot * static_cast<double>(i) + slot * 0.2;
    const double w = slot * 0.6;
    out +=
        fmt::format(R"(<rect class="bar etat-{}" x="{}" y="{}" width="{}" height="{}"><title>{} : {}</title></rect>)",
                    state_class(s), num(x), num(kTop + kPlot - h), num(w), num(h), html_text(to_label(s)), n);
    out += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">{}</text>)", num(x + w / 2),
                       num(kTop + kPlot - h - 6), n);
    out += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">{}</text>)", num(x + w / 2), num(kTop + kPlot + 20),
                       html_text(to_label(s)));
  }
  out += "</svg>\n";
}

/// Activations and deactivations per run date.
void history_chart(std::string& out, const std::vector<NightlyRunPoint>& points) {
  constexpr double kWidth = 900, kHeight = 300, kLeft = 50, kTop = 40, kPlot = 190;
  std::int64_t max = 1;
  for (const auto& p : points) max = std::max({max, p.activations, p.deactivations});
  out += fmt::format(
      R"(<svg class="chart" width="{0}" height="{1}" viewBox="0 0 {0} {1}" )"
      R"(role="img" aria-labelledby="historique-titre"><title id="historique-titre">Transitions des {2} dernières )"
      R"(nuits</title>)",
      kWidth, kHeight, points.size());
  // Legend and axes.
  out +=
      R"(<rect class="activations" x="560" y="10" width="12" height="12"/><text x="578" y="21">Activations</text>)"
      R"(<rect class="desactivations" x="690" y="10" width="12" height="12"/><text x="708" y="21">Désactivations</text>)";
  out +=
      fmt::format(R"(<line class="axe" x1="{0}" y1="{1}" x2="{2}" y2="{1}"/>)", kLeft, num(kTop + kPlot), kWidth - 10);
  out += fmt::format(R"(<line class="axe" x1="{0}" y1="{1}" x2="{0}" y2="{2}"/>)", kLeft, kTop, num(kTop + kPlot));
  out += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>)",
                     kLeft - 6, kTop + 4, max, kLeft - 6, num(kTop + kPlot + 4));
  if (points.empty()) {
    out += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">Aucune nuit enregistrée</text>)", kWidth / 2,
                       kTop + kPlot / 2);
  }
  // At most 60 px per night, so that a short history keeps slim bars (30 nights fill the plot).
  const double slot =
      std::min(60.0, (kWidth - kLeft - 10) / static_cast<double>(std::max<std::size_t>(points.size(), 1)));
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const double x0 = kLeft + slot * static_cast<double>(i) + slot * 0.1;
    const double w = slot * 0.38;
    const std::string label = format_french_date(p.date);
    for (int k = 0; k < 2; ++k) {
      const std::int64_t n = k == 0 ? p.activations : p.deactivations;
      const double h = kPlot * static_cast<double>(n) / static_cast<double>(max);
      const double x = x0 + w * k;
      out +=
          fmt::format(R"(<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"><title>{} : {} {}</title></rect>)",
                      k == 0 ? "activations" : "desactivations", num(x), num(kTop + kPlot - h), num(w), num(h), label,
                      n, k == 0 ? "activation(s)" : "désactivation(s)");
    }
    const double cx = x0 + w;
    const double ly = kTop + kPlot + 12;
    out += fmt::format(
        R"x(<text class="petit" x="{0}" y="{1}" text-anchor="end" transform="rotate(-50 {0} {1})">{2}</text>)x",
        num(cx), num(ly), label.substr(0, 5));
  }
  out += "</svg>\n";
}

void table_start(std::string& out, std::string_view id, std::initializer_list<std::string_view> headers) {
  out += fmt::format(R"(<table id="table-{}"><thead><tr>)", id);
  for (auto h : headers) out += "<th>" + html_text(h) + "</th>";
  out += "</tr></thead><tbody>\n";
}

void empty_row(std::string& out, int columns, std::string_view text) {
  out += fmt::format(R"(<tr><td class="vide" colspan="{}">{}</td></tr>)", columns, html_text(text)) + "\n";
}

void cell(std::string& out, std::string_view text) {
  out += "<td>" + html_text(text) + "</td>";
}

/// One <li> "CODE (champ) : message" per reason.
void reasons_cell(std::string& out, const Diagnostics& reasons) {
  out += "<td><ul class=\"motifs\">";
  for (const auto& d : reasons) {
    out += "<li><strong>" + html_text(to_code(d.code)) + "</strong>";
    if (!d.field.empty()) out += " (" + html_text(d.field) + ")";
    out += " : " + html_text(d.message) + "</li>";
  }
  out += "</ul></td>";
}

}  // namespace

std::string html_text(std::string_view text) {
  std::string out;
  for (char c : escape_xml(text)) {
    if (c == '\'') {
      out += "&#39;";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_nightly_report_html(const NightlyReport& report, std::vector<NightlyRunPoint> history,
                                       const NightlyHtmlOptions& options) {
  const auto when = [&](Instant i) { return options.format_instant ? options.format_instant(i) : default_format(i); };
  std::sort(history.begin(), history.end(), [](const auto& a, const auto& b) { return a.date < b.date; });
  if (history.size() > kHistoryPoints) {
    history.erase(history.begin(), history.end() - static_cast<std::ptrdiff_t>(kHistoryPoints));
  }
  std::int64_t activations = 0;
  std::int64_t deactivations = 0;
  for (const auto& t : report.transitions) {
    activations += t.to == SheetState::Activee ? 1 : 0;
    deactivations += t.to == SheetState::Desactivee ? 1 : 0;
  }
  const std::string date = format_french_date(report.date);
  const std::string zone = options.zone_name.empty() ? std::string() : " (" + html_text(options.zone_name) + ")";

  std::string out;
  out.reserve(16384);
  out += "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>Rapport nocturne du {}</title>\n<style>{}</style>\n</head>\n<body>\n", date, kStyle);
  out += fmt::format("<header><h1>Rapport nocturne du {}</h1>\n", date);
  out += fmt::format(
      "<p class=\"meta\">Date métier {} — instant du traitement : {}{} ; exécution (horloge réelle) du {} au "
      "{}.</p></header>\n",
      date, html_text(when(report.run_instant)), zone, html_text(when(report.started_at)),
      html_text(when(report.finished_at)));

  out += "<section id=\"totaux\"><h2>Totaux</h2><div class=\"cards\">";
  card(out, static_cast<std::int64_t>(report.transitions.size()), "Transitions", false);
  card(out, activations, "Activations", false);
  card(out, deactivations, "Désactivations", false);
  card(out, static_cast<std::int64_t>(report.blocked.size()), "Activations bloquées", true);
  card(out, static_cast<std::int64_t>(report.late.size()), "Fiches en retard", true);
  card(out, static_cast<std::int64_t>(report.expiring.size()), "Certificats bientôt expirés", true);
  card(out, static_cast<std::int64_t>(report.revocations.size()), "Révocations", true);
  card(out, static_cast<std::int64_t>(report.ignored_files.size()), "Fichiers ignorés", true);
  out += "</div></section>\n";

  out += "<section id=\"etats\"><h2>Fiches par état après le traitement</h2>\n";
  states_chart(out, report);
  out += "<p class=\"meta\">";
  for (std::size_t i = 0; i < kAllStates.size(); ++i) {
    out += fmt::format("{}{} : {}", i == 0 ? "" : " · ", html_text(to_label(kAllStates[i])),
                       count_of(report.sheets_by_state, kAllStates[i]));
  }
  out += "</p></section>\n";

  out += fmt::format("<section id=\"historique\"><h2>Transitions des {} dernières nuits</h2>\n", history.size());
  history_chart(out, history);
  out += "</section>\n";

  out += "<section id=\"transitions\"><h2>Transitions de la nuit</h2>\n";
  table_start(out, "transitions", {"Code Appli", "Partenaire", "De", "Vers", "Motif"});
  if (report.transitions.empty()) empty_row(out, 5, "Aucune transition cette nuit.");
  for (const auto& t : report.transitions) {
    out += "<tr>";
    cell(out, t.code_appli);
    cell(out, partner_cell(report, t.partner_siret));
    cell(out, to_label(t.from));
    cell(out, to_label(t.to));
    cell(out, t.reason);
    out += "</tr>\n";
  }
  out += "</tbody></table></section>\n";

  out += "<section id=\"bloquees\"><h2>Activations bloquées</h2>\n";
  table_start(out, "bloquees", {"Code Appli", "Partenaire", "État", "Motifs"});
  if (report.blocked.empty()) empty_row(out, 4, "Aucune activation bloquée.");
  for (const auto& b : report.blocked) {
    out += "<tr>";
    cell(out, b.code_appli);
    cell(out, partner_cell(report, b.partner_siret));
    cell(out, to_label(b.state));
    reasons_cell(out, b.reasons);
    out += "</tr>\n";
  }
  out += "</tbody></table></section>\n";

  out +=
      "<section id=\"retards\"><h2>Fiches en retard (non activées plus d'un jour après leur échéance : l'envoi, "
      "ou le début de période quand il est plus tard)</h2>\n";
  table_start(out, "retards", {"Code Appli", "Partenaire", "État", "Soumise le", "Échéance"});
  if (report.late.empty()) empty_row(out, 5, "Aucune fiche en retard.");
  for (const auto& l : report.late) {
    out += "<tr>";
    cell(out, l.code_appli);
    cell(out, partner_cell(report, l.partner_siret));
    cell(out, to_label(l.state));
    cell(out, when(l.submitted_at));
    cell(out, format_french_date(l.due));
    out += "</tr>\n";
  }
  out += "</tbody></table></section>\n";

  out += "<section id=\"expirations\"><h2>Certificats bientôt expirés</h2>\n";
  table_start(out, "expirations", {"Code Appli", "Partenaire", "Sujet", "Série", "Fin de validité"});
  if (report.expiring.empty()) empty_row(out, 5, "Aucun certificat n'expire bientôt.");
  for (const auto& e : report.expiring) {
    out += "<tr>";
    cell(out, e.code_appli);
    cell(out, partner_cell(report, e.partner_siret));
    cell(out, e.subject);
    cell(out, e.serial);
    cell(out, when(e.not_after));
    out += "</tr>\n";
  }
  out += "</tbody></table></section>\n";
  out += "<section id=\"revocations\"><h2>Révocations</h2>\n";
  table_start(out, "revocations", {"Code Appli", "Partenaire", "État", "Motifs"});
  if (report.revocations.empty()) empty_row(out, 4, "Aucune révocation.");
  for (const auto& v : report.revocations) {
    out += "<tr>";
    cell(out, v.code_appli);
    cell(out, partner_cell(report, v.partner_siret));
    cell(out, to_label(v.state));
    reasons_cell(out, v.reasons);
    out += "</tr>\n";
  }
  out += "</tbody></table></section>\n";

  out += "<section id=\"fichiers-ignores\"><h2>Fichiers ignorés dans inbox/</h2>\n";
  table_start(out, "fichiers-ignores", {"Chemin", "Taille (octets)", "Modifié le", "Motif"});
  if (report.ignored_files.empty()) empty_row(out, 4, "Aucun fichier ignoré.");
  for (const auto& f : report.ignored_files) {
    out += "<tr>";
    cell(out, f.path);
    cell(out, std::to_string(f.size));
    cell(out, when(f.modified));
    cell(out, f.why);
    out += "</tr>\n";
  }
  out += "</tbody></table></section>\n";
  out += fmt::format(
      "<footer>Rapport généré par raccord pour la nuit du {} — mêmes données que NIGHTLY_{}.xml.</footer>\n", date,
      format_iso_date(report.date));
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace raccord::outbox
