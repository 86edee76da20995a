// Tests of outbox/nightly_report_html.cpp (docs/reference.md §5.3, issue 5; docs/field-cases.md F16): the nightly
// report as a self-contained HTML page — sections, tables, inline SVG bars, escaping.
#include "outbox/nightly_report_html.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <string>

namespace raccord::outbox {
namespace {

using namespace std::chrono;
using ::testing::HasSubstr;
using ::testing::Not;

Instant at(int y, unsigned mo, unsigned d, int h, int mi) {
  return sys_days{year(y) / month(mo) / day(d)} + hours(h) + minutes(mi);
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
  return n;
}

/// The text between `<section id="ID"` and its `</section>`.
std::string section(const std::string& html, const std::string& id) {
  const auto start = html.find("<section id=\"" + id + "\"");
  if (start == std::string::npos) return {};
  return html.substr(start, html.find("</section>", start) - start);
}

NightlyReport sample_report() {
  NightlyReport r;
  r.date = year(2026) / 11 / 30;
  r.run_instant = at(2026, 11, 30, 1, 0);
  r.started_at = at(2026, 11, 30, 1, 0);
  r.finished_at = at(2026, 11, 30, 1, 1);
  r.transitions = {{"VFE000001", "12345678200010", SheetState::Envoyee, SheetState::Activee, "activation"},
                   {"VFE000002", "12345678200010", SheetState::Activee, SheetState::Desactivee, "fin de période"}};
  BlockedActivation b{"VFE000003", "12345678200028", SheetState::EnvoyeeMaj, {}};
  b.reasons.push_back(Diagnostic::error(ErrorCode::StructureInactive, "Partenaire", 0,
                                        "La structure 12345678200028 - Société <b>Exemple</b> & fils est inactive."));
  b.reasons.push_back(Diagnostic::error(ErrorCode::PeriodeInvalide, "", 0, "Période\x01 terminée \"hier\""));
  r.blocked = {b};
  r.late = {{"VFE000004", "12345678200010", SheetState::Envoyee, at(2026, 11, 27, 9, 30), year(2026) / 11 / 28}};
  r.expiring = {{"VFE000005", "12345678200010", "CN=<script>alert(1)</script>", "0A1B", at(2026, 12, 15, 12, 0)}};
  r.sheets_by_state = {
      {SheetState::Envoyee, 2}, {SheetState::EnvoyeeMaj, 1}, {SheetState::Activee, 7}, {SheetState::Desactivee, 1}};
  r.partner_names = {{"12345678200010", "ACME Logistique SAS"}};  // 12345678200028's name unknown
  return r;
}

TEST(NightlyReportHtmlTest, SelfContainedFrenchPageWithEverySection) {
  const std::string html = render_nightly_report_html(sample_report(), {{year(2026) / 11 / 29, 3, 0}});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"fr\">", 0), 0u);
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("<title>Rapport nocturne du 30/11/2026</title>"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  // No script, no external resource of any kind.
  for (const char* forbidden : {"<script", "http:", "https:", "src=", "href=", "url(", "@import", "<link", "//"}) {
    // "//" appears nowhere either (not even in CSS comments).
    EXPECT_THAT(html, Not(HasSubstr(forbidden))) << forbidden;
  }
  for (const char* id : {"totaux", "etats", "historique", "transitions", "bloquees", "retards", "expirations",
                         "revocations", "fichiers-ignores"}) {
    EXPECT_FALSE(section(html, id).empty()) << id;
  }
  for (const char* id : {"transitions", "bloquees", "retards", "expirations", "revocations", "fichiers-ignores"}) {
    EXPECT_THAT(section(html, id), HasSubstr(std::string("<table id=\"table-") + id + "\">")) << id;
  }
  EXPECT_EQ(occurrences(html, "</html>"), 1u);
  EXPECT_EQ(occurrences(html, "<table"), occurrences(html, "</table>"));
  EXPECT_EQ(occurrences(html, "<tr>"), occurrences(html, "</tr>"));
  EXPECT_EQ(occurrences(html, "<svg"), 2u);
  EXPECT_EQ(occurrences(html, "</svg>"), 2u);
}

TEST(NightlyReportHtmlTest, TotalsTablesAndLabelsCarryTheReport) {
  NightlyHtmlOptions options;
  options.format_instant = [](Instant i) { return "local:" + format_iso_instant(i); };
  options.zone_name = "Europe/Paris";
  const std::string html = render_nightly_report_html(sample_report(), {}, options);
  const std::string totals = section(html, "totaux");
  EXPECT_THAT(totals, HasSubstr(R"(<div class="card"><div class="n">2</div><div class="l">Transitions</div>)"));
  EXPECT_THAT(totals, HasSubstr(R"(<div class="n">1</div><div class="l">Activations</div>)"));
  EXPECT_THAT(totals, HasSubstr(R"(<div class="n">1</div><div class="l">Désactivations</div>)"));
  EXPECT_THAT(totals,
              HasSubstr(R"(<div class="card alerte"><div class="n">1</div><div class="l">Activations bloquées)"));
  const std::string transitions = section(html, "transitions");
  // Partners are named by their raison sociale besides the SIRET (issue 18 item 8).
  EXPECT_THAT(transitions, HasSubstr("<tr><td>VFE000001</td><td>12345678200010 - ACME Logistique SAS</td>"
                                     "<td>Envoyée</td><td>Activée</td><td>activation</td></tr>"));
  EXPECT_THAT(transitions, HasSubstr("<td>Activée</td><td>Désactivée</td><td>fin de période</td>"));
  const std::string blocked = section(html, "bloquees");
  EXPECT_THAT(blocked, HasSubstr("<td>VFE000003</td><td>12345678200028</td><td>Envoyée MAJ</td>"));
  EXPECT_THAT(blocked, HasSubstr("<li><strong>STRUCTURE_INACTIVE</strong> (Partenaire) : La structure"));
  EXPECT_THAT(blocked, HasSubstr("<li><strong>PERIODE_INVALIDE</strong> : Période"));
  EXPECT_THAT(section(html, "retards"), HasSubstr("<td>12345678200010 - ACME Logistique SAS</td><td>Envoyée</td>"
                                                  "<td>local:2026-11-27T09:30:00Z</td><td>28/11/2026</td>"));
  EXPECT_THAT(section(html, "expirations"), HasSubstr("<td>0A1B</td><td>local:2026-12-15T12:00:00Z</td>"));
  EXPECT_THAT(html, HasSubstr("local:2026-11-30T01:00:00Z (Europe/Paris)"));
}

TEST(NightlyReportHtmlTest, EveryValueIsEscapedAndControlCharactersAreMadeVisible) {
  const std::string html = render_nightly_report_html(sample_report(), {});
  EXPECT_THAT(html, HasSubstr("Société &lt;b&gt;Exemple&lt;/b&gt; &amp; fils"));
  EXPECT_THAT(html, HasSubstr("CN=&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("Période\\u0001 terminée &quot;hier&quot;"));
  EXPECT_THAT(html, Not(HasSubstr("<b>Exemple")));
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  EXPECT_EQ(html_text("a'b\xff<"), "a&#39;b\\xFF&lt;");
}

std::map<std::string, double> state_bar_heights(const std::string& chart) {
  const std::regex bar(
      R"re(<rect class="bar etat-([A-Z_]+)" x="[0-9.]+" y="([0-9.]+)" width="[0-9.]+" height="([0-9.]+)">)re");
  std::map<std::string, double> heights;
  for (std::sregex_iterator it(chart.begin(), chart.end(), bar), end; it != end; ++it) {
    heights[(*it)[1]] = std::stod((*it)[3]);
  }
  return heights;
}

TEST(NightlyReportHtmlTest, StatesChartHasOneBarPerStateOnALogarithmicScale) {
  const std::string html = render_nightly_report_html(sample_report(), {});
  const std::string chart = section(html, "etats");
  auto heights = state_bar_heights(chart);
  ASSERT_EQ(heights.size(), 5u) << chart;
  EXPECT_EQ(heights["BROUILLON"], 0);
  EXPECT_DOUBLE_EQ(heights["ACTIVEE"], 190);  // the largest count fills the plot
  EXPECT_NEAR(heights["ENVOYEE"], 190.0 * std::log(3.0) / std::log(8.0), 0.06);
  EXPECT_NEAR(heights["DESACTIVEE"], 190.0 * std::log(2.0) / std::log(8.0), 0.06);
  EXPECT_THAT(chart, HasSubstr("<title>Activée : 7</title>"));
  EXPECT_THAT(chart, HasSubstr("Envoyée MAJ : 1"));
  EXPECT_THAT(chart, HasSubstr("échelle logarithmique"));
}

// Issue 18 item 8: 2,000 Brouillons flattened 6 Activées (0.6 px on a linear scale). Every state with
// sheets keeps a bar tall enough to see and its count written on it.
TEST(NightlyReportHtmlTest, EveryStateStaysReadableWhenOneDominates) {
  NightlyReport r = sample_report();
  r.sheets_by_state = {{SheetState::Brouillon, 2000},
                       {SheetState::Envoyee, 1},
                       {SheetState::Activee, 6},
                       {SheetState::Desactivee, 150000}};
  const std::string chart = section(render_nightly_report_html(r, {}), "etats");
  auto heights = state_bar_heights(chart);
  EXPECT_DOUBLE_EQ(heights["DESACTIVEE"], 190);
  EXPECT_EQ(heights["ENVOYEE_MAJ"], 0);
  for (const char* state : {"BROUILLON", "ENVOYEE", "ACTIVEE"}) {
    EXPECT_GE(heights[state], 6) << state;
    EXPECT_GE(heights[state], 190.0 / 20) << state << ": at least a twentieth of the plot";
  }
  EXPECT_GT(heights["ACTIVEE"], heights["ENVOYEE"]);
  EXPECT_GT(heights["BROUILLON"], heights["ACTIVEE"]);
  for (const char* count : {">2000</text>", ">6</text>", ">1</text>", ">150000</text>"}) {
    EXPECT_THAT(chart, HasSubstr(count)) << count;
  }
}

TEST(NightlyReportHtmlTest, RevocationsAndIgnoredFilesHaveTheirTables) {
  NightlyReport r = sample_report();
  r.revocations.push_back(
      {"VFE000009",
       "12345678200010",
       SheetState::Desactivee,
       {Diagnostic::error(ErrorCode::CertExpire, "Certificats/Certificat[1]", 0, "révoqué le 01/11/2026")}});
  r.ignored_files.push_back(
      {"inbox/notes.txt", 12, hours{50}, at(2026, 11, 28, 8, 0), year(2026) / 11 / 28, "pas un dépôt"});
  const std::string html = render_nightly_report_html(r, {});
  EXPECT_THAT(section(html, "revocations"),
              HasSubstr("<td>VFE000009</td><td>12345678200010 - ACME Logistique SAS</td><td>Désactivée</td>"));
  EXPECT_THAT(section(html, "fichiers-ignores"), HasSubstr("<td>inbox/notes.txt</td><td>12</td>"));
  EXPECT_THAT(section(html, "totaux"), HasSubstr(R"(<div class="n">1</div><div class="l">Fichiers ignorés</div>)"));
}

TEST(NightlyReportHtmlTest, HistoryChartShowsTheLast30RunsInDateOrder) {
  std::vector<NightlyRunPoint> history;
  const sys_days first = sys_days{year(2026) / 10 / 1};
  for (int i = 34; i >= 0; --i) {  // 35 runs, given newest first
    history.push_back(NightlyRunPoint{CivilDate{first + days{i}}, i, 1});
  }
  const std::string chart = section(render_nightly_report_html(sample_report(), history), "historique");
  EXPECT_THAT(chart, HasSubstr("Transitions des 30 dernières nuits"));
  EXPECT_EQ(occurrences(chart, "class=\"bar activations\""), 30u);
  EXPECT_EQ(occurrences(chart, "class=\"bar desactivations\""), 30u);
  // The oldest kept is 06/10/2026 (5 dropped), the newest 04/11/2026, left to right.
  EXPECT_THAT(chart, Not(HasSubstr("05/10/2026")));
  const auto oldest = chart.find("<title>06/10/2026 : 5 activation(s)</title>");
  const auto newest = chart.find("<title>04/11/2026 : 34 activation(s)</title>");
  ASSERT_NE(oldest, std::string::npos) << chart;
  ASSERT_NE(newest, std::string::npos);
  EXPECT_LT(oldest, newest);
}

TEST(NightlyReportHtmlTest, EmptyReportSaysSoInEachTable) {
  NightlyReport r;
  r.date = year(2026) / 11 / 30;
  const std::string html = render_nightly_report_html(r, {});
  EXPECT_THAT(section(html, "transitions"), HasSubstr("Aucune transition cette nuit."));
  EXPECT_THAT(section(html, "bloquees"), HasSubstr("Aucune activation bloquée."));
  EXPECT_THAT(section(html, "retards"), HasSubstr("Aucune fiche en retard."));
  EXPECT_THAT(section(html, "expirations"), HasSubstr("Aucun certificat n&#39;expire bientôt."));
  EXPECT_THAT(section(html, "historique"), HasSubstr("Aucune nuit enregistrée"));
  EXPECT_THAT(html, HasSubstr("1970-01-01 00:00:00 UTC"));  // default formatting of unset instants
}

}  // namespace
}  // namespace raccord::outbox
