// Renders the nightly run's report (docs/reference.md §5.3) as a self-contained HTML page for support teams:
// NIGHTLY_<YYYY-MM-DD>.html next to the XML and CSV (issue 5).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/civil_date.hpp"
#include "domain/nightly_report.hpp"

namespace raccord::outbox {

/// One past run of the ledger (table nightly_runs), for the transitions chart.
struct NightlyRunPoint {
  CivilDate date{};
  std::int64_t activations = 0;
  std::int64_t deactivations = 0;
};

struct NightlyHtmlOptions {
  /// Formats an instant for display (e.g. "30/11/2026 02:00:00" in engine.timezone). Default:
  /// "YYYY-MM-DD HH:MM:SS UTC".
  std::function<std::string(Instant)> format_instant;
  /// The zone's name shown next to local times (e.g. "Europe/Paris"); empty when UTC.
  std::string zone_name;
};

/// The report as one HTML5 page (UTF-8, lang="fr"), self-contained: inline CSS, inline SVG charts,
/// no script, no external URL (no http:, https:, // or url() reference anywhere). Sections, each
/// with its id:
///   #totaux       counts: transitions, activations, désactivations, bloquées, retards, expirations,
///                 révocations, fichiers ignorés
///   #etats        <svg class="chart"> one <rect class="bar etat-CODE"> per SheetState (enum order),
///                 height on a logarithmic scale, log(1 + n) / log(1 + max), at least 6 px when n > 0
///                 (0 when absent), count written on each bar: every state stays readable when one
///                 dominates (issue 18)
///   #historique   <svg class="chart"> two bars per point (class "bar activations" / "bar
///                 desactivations"), `history` sorted by date and limited to its last 30 points
///   #transitions  <table> Code Appli, Partenaire, De, Vers, Motif (state LABELS)
///   #bloquees     <table> Code Appli, Partenaire, État, Motifs (one <li> "CODE (champ) : message")
///   #retards      <table> Code Appli, Partenaire, État, Soumise le (format_instant), Échéance (dd/mm/yyyy)
///   #expirations  <table> Code Appli, Partenaire, Sujet, Série, Fin de validité (format_instant)
///   #revocations  <table> Code Appli, Partenaire, État, Motifs
///   #fichiers-ignores <table> Chemin, Taille (octets), Modifié le (format_instant), Motif
/// Partenaire is "SIRET - RAISON SOCIALE" (partner_cell, report.partner_names).
/// An empty table holds one row "Aucune …". Every value is passed through sanitize_xml_text (control
/// characters and invalid UTF-8 become visible "\uXXXX" / "\xNN", docs/field-cases.md F16) and then
/// HTML-escaped (& < > " '), so no input can inject markup.
std::string render_nightly_report_html(const NightlyReport& report, std::vector<NightlyRunPoint> history,
                                       const NightlyHtmlOptions& options = {});

/// HTML-escapes sanitized `text` (see above): the building block of every value on the page.
std::string html_text(std::string_view text);

}  // namespace raccord::outbox
