// Tests of outbox/metrics_writer.cpp (docs/reference.md §5.4): metrics.prom in the Prometheus text exposition
// format, read back by a small strict parser.
#include "outbox/metrics_writer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace raccord::outbox {
namespace {

using ::testing::ElementsAre;

/// A parsed exposition: samples as "name{labels}" → value, with each metric's type.
struct Exposition {
  std::map<std::string, std::string> types;  // metric name → counter | gauge
  std::map<std::string, std::string> helps;  // metric name → help text
  std::map<std::string, double> samples;     // "name{k=\"v\"}" or "name" → value
  std::vector<std::string> order;            // metric names in order of their TYPE line
};

/// Strict parser of the text format (version 0.0.4) as raccord writes it: every line is a
/// "# HELP name text", a "# TYPE name counter|gauge" or a sample "name{labels} value"; HELP then
/// TYPE come before a metric's samples; names match [a-zA-Z_:][a-zA-Z0-9_:]*, start with raccord_;
/// counters end in _total; labels are name="value" with escaped values; the file ends with '\n'.
/// Every violation is a test failure naming the line.
Exposition parse_exposition(const std::string& text) {
  Exposition e;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the last line must end with a line feed";
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kHelp("# HELP ([^ ]+) (.+)");
  static const std::regex kType("# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped)");
  static const std::regex kSample(R"(([^ {]+)(\{([^}]*)\})? ([-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?))");
  static const std::regex kLabel(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)")re");
  std::istringstream in(text);
  std::string line;
  std::string current;  // metric whose TYPE was seen last
  std::set<std::string> with_samples;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) {
      const std::string name = m[1];
      EXPECT_TRUE(std::regex_match(name, kName)) << "line " << n;
      EXPECT_EQ(e.helps.count(name), 0u) << "second HELP for " << name;
      EXPECT_EQ(e.types.count(name), 0u) << "HELP after TYPE for " << name;
      e.helps[name] = m[2];
    } else if (std::regex_match(line, m, kType)) {
      const std::string name = m[1];
      EXPECT_EQ(e.helps.count(name), 1u) << "TYPE without HELP before it: " << name;
      EXPECT_EQ(e.types.count(name), 0u) << "second TYPE for " << name;
      e.types[name] = m[2];
      e.order.push_back(name);
      current = name;
    } else if (std::regex_match(line, m, kSample)) {
      const std::string name = m[1];
      EXPECT_TRUE(std::regex_match(name, kName)) << "line " << n << ": " << line;
      EXPECT_EQ(name, current) << "line " << n << ": sample outside its metric's block (HELP/TYPE first)";
      std::string labels = m[3];
      // Labels: comma-separated name="value".
      std::string rest = labels;
      while (!rest.empty()) {
        std::smatch l;
        EXPECT_TRUE(std::regex_search(rest, l, kLabel) && l.position(0) == 0)
            << "line " << n << ": bad labels " << labels;
        if (l.empty() || l.position(0) != 0) break;
        rest = rest.substr(static_cast<std::size_t>(l.length(0)));
        if (!rest.empty()) {
          EXPECT_EQ(rest.front(), ',') << "line " << n;
          rest = rest.substr(1);
        }
      }
      std::string key = name;
      if (!labels.empty()) key.append("{").append(labels).append("}");
      EXPECT_EQ(e.samples.count(key), 0u) << "duplicate sample " << key;
      e.samples[key] = std::stod(m[4]);
      with_samples.insert(name);
    } else {
      ADD_FAILURE() << "line " << n << " is neither HELP, TYPE nor a sample: «" << line << "»";
    }
  }
  for (const auto& [name, type] : e.types) {
    EXPECT_EQ(name.rfind("raccord_", 0), 0u) << name;
    if (type == "counter") {
      EXPECT_TRUE(name.size() > 6 && name.substr(name.size() - 6) == "_total") << name;
    }
  }
  return e;
}

MetricsSnapshot sample_snapshot() {
  MetricsSnapshot m;
  m.deposits_by_status = {{"INTEGRE", 12}, {"REJETE", 3}, {"DOUBLON", 1}};
  m.operations_accepted = 40;
  m.operations_rejected = 7;
  m.sheets_by_state = {{SheetState::Envoyee, 4}, {SheetState::Activee, 9}};
  m.last_run_finished = Instant{std::chrono::seconds{1796439600}};  // 2026-12-04T01:00:00Z
  m.last_run_duration_seconds = 42;
  m.blocked_activations = 2;
  m.late_sheets = 3;
  m.leaves_expiring_30d = 5;
  m.inbox_waiting_files = 7;
  m.error_files = 11;
  m.unopenable_files = 13;
  m.identity_refusals = {{{"acme", "DEMANDEUR_NON_AUTORISE"}, 6},
                         {{"acme", "COMPTE_NON_AUTORISE"}, 1},
                         {{"b-2", "SIGNATURE_INVALIDE"}, 2}};
  m.crl_ages = {{"CN=Autorité \"A\",O=Acme", 86400}, {"CN=Raccord Test Root CA", 3600}};
  return m;
}

TEST(MetricsWriterTest, EveryFigureWithHelpAndTypeBeforeItsSamples) {
  const std::string text = render_metrics(sample_snapshot());
  const Exposition e = parse_exposition(text);
  EXPECT_THAT(e.order,
              ElementsAre("raccord_depots_total", "raccord_operations_total", "raccord_sheets",
                          "raccord_blocked_activations", "raccord_late_sheets", "raccord_leaves_expiring_30d",
                          "raccord_inbox_waiting_files", "raccord_error_files", "raccord_unopenable_files",
                          "raccord_refus_identite_total", "raccord_crl_age_seconds",
                          "raccord_nightly_last_run_timestamp_seconds", "raccord_nightly_last_run_duration_seconds"));
  for (const char* gauge : {"raccord_blocked_activations", "raccord_late_sheets", "raccord_leaves_expiring_30d",
                            "raccord_inbox_waiting_files", "raccord_error_files", "raccord_unopenable_files"}) {
    EXPECT_EQ(e.types.at(gauge), "gauge") << gauge;
  }
  EXPECT_EQ(e.types.at("raccord_depots_total"), "counter");
  EXPECT_EQ(e.types.at("raccord_operations_total"), "counter");
  EXPECT_EQ(e.types.at("raccord_refus_identite_total"), "counter");
  EXPECT_EQ(e.types.at("raccord_sheets"), "gauge");
  EXPECT_EQ(e.types.at("raccord_crl_age_seconds"), "gauge");
  EXPECT_EQ(e.types.at("raccord_nightly_last_run_timestamp_seconds"), "gauge");
  EXPECT_EQ(e.types.at("raccord_nightly_last_run_duration_seconds"), "gauge");
  const std::map<std::string, double> expected{
      {R"(raccord_depots_total{statut="INTEGRE"})", 12},
      {R"(raccord_depots_total{statut="INTEGRE_PARTIEL"})", 0},
      {R"(raccord_depots_total{statut="REJETE"})", 3},
      {R"(raccord_depots_total{statut="DOUBLON"})", 1},
      {R"(raccord_operations_total{statut="ACCEPTEE"})", 40},
      {R"(raccord_operations_total{statut="REJETEE"})", 7},
      {R"(raccord_sheets{etat="BROUILLON"})", 0},
      {R"(raccord_sheets{etat="ENVOYEE"})", 4},
      {R"(raccord_sheets{etat="ENVOYEE_MAJ"})", 0},
      {R"(raccord_sheets{etat="ACTIVEE"})", 9},
      {R"(raccord_sheets{etat="DESACTIVEE"})", 0},
      {"raccord_blocked_activations", 2},
      {"raccord_late_sheets", 3},
      {"raccord_leaves_expiring_30d", 5},
      {"raccord_inbox_waiting_files", 7},
      {"raccord_error_files", 11},
      {"raccord_unopenable_files", 13},
      {R"(raccord_refus_identite_total{compte="acme",code="COMPTE_NON_AUTORISE"})", 1},
      {R"(raccord_refus_identite_total{compte="acme",code="DEMANDEUR_NON_AUTORISE"})", 6},
      {R"(raccord_refus_identite_total{compte="b-2",code="SIGNATURE_INVALIDE"})", 2},
      {R"(raccord_crl_age_seconds{emetteur="CN=Autorité \"A\",O=Acme"})", 86400},
      {R"(raccord_crl_age_seconds{emetteur="CN=Raccord Test Root CA"})", 3600},
      {"raccord_nightly_last_run_timestamp_seconds", 1796439600},
      {"raccord_nightly_last_run_duration_seconds", 42},
  };
  EXPECT_EQ(e.samples, expected) << text;
  // Integers are written as integers (no exponent for the Unix timestamp).
  EXPECT_NE(text.find("raccord_nightly_last_run_timestamp_seconds 1796439600\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP raccord_sheets Fiches de raccordement par état courant"), std::string::npos);
}

TEST(MetricsWriterTest, BeforeTheFirstNightlyRunTheRunMetricsAreAbsentAndZerosAreWritten) {
  const std::string text = render_metrics(MetricsSnapshot{});
  const Exposition e = parse_exposition(text);
  EXPECT_THAT(e.order, ElementsAre("raccord_depots_total", "raccord_operations_total", "raccord_sheets",
                                   "raccord_blocked_activations", "raccord_late_sheets", "raccord_leaves_expiring_30d",
                                   "raccord_inbox_waiting_files", "raccord_error_files", "raccord_unopenable_files",
                                   "raccord_refus_identite_total", "raccord_crl_age_seconds"));
  EXPECT_EQ(e.samples.size(), 4u + 2u + 5u + 6u);  // no identity refusal nor verified CRL yet: no sample
  for (const auto& [key, value] : e.samples) EXPECT_EQ(value, 0) << key;
}

TEST(MetricsWriterTest, TheParserRejectsWhatTheFormatForbids) {
  // The parser itself must be able to fail: a sample before its TYPE, a counter without _total,
  // a bad name.
  for (const char* bad : {"raccord_x 1\n# HELP raccord_x h\n# TYPE raccord_x gauge\n",
                          "# HELP raccord_x h\n# TYPE raccord_x counter\nraccord_x 1\n",
                          "# HELP 9raccord h\n# TYPE 9raccord gauge\n9raccord 1\n",
                          "# HELP raccord_x h\n# TYPE raccord_x gauge\nraccord_x{etat=ACTIVEE} 1\n"}) {
    ::testing::TestPartResultArray failures;
    {
      ::testing::ScopedFakeTestPartResultReporter reporter(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
      parse_exposition(bad);
    }
    EXPECT_GT(failures.size(), 0) << bad;
  }
}

}  // namespace
}  // namespace raccord::outbox
