// The nightly report's HTML page in a real browser (issue 5): a page produced by the engine's
// nightly run (blocked activation, late sheet, expiring certificate, two nights of history) is
// rendered by headless Chromium (Debian's `chromium`, installed by scripts/test.sh's
// TEST_PACKAGES). The dumped DOM must hold the four tables and the two SVG charts with their bars,
// and the screenshot must be a real, non-blank PNG. Skipped when /usr/bin/chromium is absent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <regex>

#include "engine/nightly.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kChromium = "/usr/bin/chromium";

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// Big-endian 32-bit integer at `offset` of `bytes`.
std::uint32_t be32(const std::string& bytes, std::size_t offset) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes.at(offset + i));
  return v;
}

class ReportBrowserTest : public EngineTest {
 protected:
  Engine& at(std::string_view now) {
    engine_.reset();
    engine_ = std::make_unique<Engine>(config_, BusinessClock(instant(now)));
    engine_->open();
    return *engine_;
  }

  std::string submit(SheetSpec spec) {
    ++n_;
    const ParsedAck ack = process("fiche_" + std::to_string(n_) + ".xml",
                                  depot_xml(sheet_xml(spec), "identifiant=\"WEB-" + std::to_string(n_) + "\""));
    EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
    return ack.operations.empty() ? std::string() : ack.operations[0].code_appli;
  }

  static SheetSpec sheet(std::string du, std::string leaf_not_after = "2030-12-31T23:59:59Z") {
    SheetSpec s = sftp_sheet();
    s.period_from = std::move(du);
    LeafOptions leaf;
    leaf.common_name = "sftp.acme-logistique.fr";
    leaf.not_after = std::move(leaf_not_after);
    s.certificates = {TestPki::instance().bundle_base64(leaf)};
    return s;
  }

  /// Runs `chromium ARGS` with the flags of a quiet, offline headless run; returns its exit code.
  int chromium(const std::string& args, const std::string& redirect) {
    const fs::path profile = tmp_ / "chromium-profile";
    const std::string command =
        std::string("HOME=") + quote(tmp_.string()) + " timeout 120 " + kChromium +
        " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
        " --disable-component-update --disable-sync --disable-dev-shm-usage --user-data-dir=" +
        quote(profile.string()) + " " + args + " " + redirect;
    return std::system(command.c_str());
  }

  int n_ = 0;
};

TEST_F(ReportBrowserTest, ChromiumRendersTheTablesAndTheCharts) {
  if (!fs::exists(kChromium)) GTEST_SKIP() << kChromium << " absent (installed by scripts/test.sh)";
  start();  // 2026-11-29T10:00:00Z
  setup_world();
  // Issue 18 item 8: a store where one state dominates, 2,000 drafts (one dépôt) beside a few sheets.
  std::string drafts;
  for (int i = 0; i < 2000; ++i) {
    SheetSpec draft = sftp_sheet();
    draft.action = "enregistrer";
    draft.certificates_element = false;  // a draft may lack them (warnings only)
    draft.reference = "brouillon-" + std::to_string(i);
    drafts += sheet_xml(draft);
  }
  const ParsedAck many = process("brouillons.xml", depot_xml(drafts, "identifiant=\"WEB-BROUILLONS\""));
  ASSERT_EQ(many.statut, "INTEGRE");
  ASSERT_EQ(many.operations.size(), 2000u);
  submit(sheet("2026-11-29", "2026-12-20T12:00:00Z"));  // activated on the 30th, then expiring soon
  submit(sheet("2026-12-15"));                          // waits for its date: never late before it
  submit(sheet("2026-11-29", "2026-11-30T00:30:00Z"));  // leaf expired at the run: blocked, late on the 1st
  ASSERT_EQ(run_nightly(at("2026-11-30T07:00:00Z"), *parse_iso_date("2026-11-30")).status, NightlyStatus::Ran);
  submit(sheet("2026-11-30"));  // activated on the 1st
  const NightlyResult run = run_nightly(at("2026-12-01T07:00:00Z"), *parse_iso_date("2026-12-01"));
  ASSERT_EQ(run.status, NightlyStatus::Ran);
  ASSERT_EQ(run.reports.size(), 1u);
  EXPECT_EQ(run.reports[0].transitions.size(), 1u);
  EXPECT_EQ(run.reports[0].blocked.size(), 1u);
  EXPECT_EQ(run.reports[0].late.size(), 1u);
  EXPECT_EQ(run.reports[0].sheets_by_state.at(SheetState::Brouillon), 2000);
  EXPECT_EQ(run.reports[0].sheets_by_state.at(SheetState::Activee), 2);
  EXPECT_EQ(run.reports[0].expiring.size(), 1u);

  const fs::path page = outbox() / "NIGHTLY_2026-12-01.html";
  ASSERT_TRUE(fs::exists(page));
  const fs::path dom_file = tmp_ / "dom.html";
  ASSERT_EQ(
      chromium("--dump-dom " + quote("file://" + page.string()), "> " + quote(dom_file.string()) + " 2>/dev/null"), 0);
  const std::string dom = read_file(dom_file);
  ASSERT_THAT(dom, HasSubstr("Rapport nocturne du 01/12/2026"));
  for (const char* id : {"table-transitions", "table-bloquees", "table-retards", "table-expirations"}) {
    EXPECT_THAT(dom, HasSubstr(std::string("<table id=\"") + id + "\">")) << id;
  }
  EXPECT_THAT(dom, HasSubstr("CERT_"));                    // the blocked activation's reason
  EXPECT_THAT(dom, HasSubstr("sftp.acme-logistique.fr"));  // the expiring leaf's subject
  EXPECT_THAT(dom, HasSubstr("Transitions des 2 dernières nuits"));
  const std::regex svg("<svg[^>]*class=\"chart\"");
  EXPECT_EQ(std::distance(std::sregex_iterator(dom.begin(), dom.end(), svg), std::sregex_iterator()), 2);
  const std::regex bar(
      "<rect class=\"bar [^\"]+\" x=\"[0-9.]+\" y=\"[0-9.]+\" width=\"[0-9.]+\" height=\"[1-9][0-9.]*\"");
  EXPECT_GE(std::distance(std::sregex_iterator(dom.begin(), dom.end(), bar), std::sregex_iterator()), 4)
      << "bars with a height: sheets by state and activations per night";
  // Every state with sheets keeps a readable bar beside the 2,000 drafts, its count written on it.
  const std::regex state_bar(R"re(<rect class="bar etat-([A-Z_]+)" x="[0-9.]+" y="[0-9.]+" width="[0-9.]+" )re"
                             R"re(height="([0-9.]+)"><title>[^<]+ : ([0-9]+)</title>)re");
  std::map<std::string, std::pair<double, int>> states;
  for (std::sregex_iterator it(dom.begin(), dom.end(), state_bar), end; it != end; ++it) {
    states[(*it)[1]] = {std::stod((*it)[2]), std::stoi((*it)[3])};
  }
  ASSERT_EQ(states.size(), 5u) << dom;
  EXPECT_EQ(states["BROUILLON"].second, 2000);
  EXPECT_EQ(states["ACTIVEE"].second, 2);
  for (const auto& [state, bar_and_count] : states) {
    if (bar_and_count.second == 0) continue;
    EXPECT_GE(bar_and_count.first, states["BROUILLON"].first / 10) << state << " flattened by the 2,000 drafts";
    EXPECT_THAT(dom, HasSubstr(">" + std::to_string(bar_and_count.second) + "</text>")) << state;
  }
  EXPECT_THAT(dom, HasSubstr("échelle logarithmique"));
  // Partners are named by their raison sociale besides the SIRET.
  EXPECT_THAT(dom, HasSubstr("<td>12345678200010 - ACME Logistique SAS</td>"));
  EXPECT_THAT(dom, Not(HasSubstr("<script")));

  const fs::path shot = tmp_ / "shot.png";
  ASSERT_EQ(
      chromium("--screenshot=" + quote(shot.string()) + " --window-size=1200,1600 " + quote("file://" + page.string()),
               "> /dev/null 2>&1"),
      0);
  const std::string png = read_file(shot);
  ASSERT_GE(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(be32(png, 16), 1200u);  // IHDR width
  EXPECT_EQ(be32(png, 20), 1600u);  // IHDR height
  // A blank 1200x1600 page compresses to a few kB; text, tables and coloured bars do not.
  EXPECT_GT(png.size(), 30000u);
  if (const char* keep = std::getenv("RACCORD_KEEP_SCREENSHOT"))
    fs::copy_file(shot, keep, fs::copy_options::overwrite_existing);
}

}  // namespace
}  // namespace raccord::testing
