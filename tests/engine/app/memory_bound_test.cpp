// Memory bounded by the input whatever its shape (issue 20; docs/design.md "Memory bound"): the
// peak resident set of `raccord process` answering one dépôt is at most 4 × its size + 64 MiB.
// Measured on the real binary as a child (wait4's ru_maxrss: the child's own peak, whatever the
// test process holds), for the pathological shapes that are cheap to run: 250,000 empty unknown
// elements (1 MB; 780 MB before issue 20), 200,000 valid Utilisateur upserts (9 MB; 340 MB before),
// 100,000 namespace declarations, nesting 10,000 deep. The 50 MB shapes (one attribute, one
// Certificat of spaced base64) are measured by bench/run (figure 7) with these.
// A memory bound, not a time bound. Skipped when built with AddressSanitizer, whose shadow memory,
// redzones and quarantine inflate the resident set by a factor that depends on the allocations'
// sizes (CI's sanitizer build): the Release build of bench/run measures them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/files.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;

constexpr long kMiB = 1024;  // in KiB

const std::string kOpen =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Depot xmlns=\"urn:raccord:depot:1\" mode=\"partielle\" "
    "demandeur=\"support.n1\"";

struct Shape {
  std::string name;
  std::string (*build)();
  std::string statut;  // of its accusé
};
void PrintTo(const Shape& s, std::ostream* os) {
  *os << s.name;
}

std::string empty_elements() {
  std::string xml = kOpen + ">";
  for (int i = 0; i < 250000; ++i) xml += "<X/>";
  return xml + "</Depot>\n";
}

std::string user_upserts() {
  std::string xml = kOpen + ">\n";
  char line[64];
  for (int i = 0; i < 200000; ++i) {
    std::snprintf(line, sizeof line, "<Utilisateur login=\"u%06d\" email=\"u@a.fr\"/>\n", i);
    xml += line;
  }
  return xml + "</Depot>\n";
}

std::string namespace_declarations() {
  std::string xml = kOpen;
  for (int i = 0; i < 100000; ++i) xml += " xmlns:p" + std::to_string(i) + "=\"urn:x\"";
  return xml + ">\n<Utilisateur login=\"u1\" email=\"u@a.fr\"/>\n</Depot>\n";
}

std::string deep_nesting() {
  std::string xml = kOpen + ">\n<Utilisateur login=\"u1\" email=\"u@a.fr\">";
  for (int i = 0; i < 9998; ++i) xml += "<a>";  // Depot, Utilisateur and these: 10,000 levels
  for (int i = 0; i < 9998; ++i) xml += "</a>";
  return xml + "</Utilisateur>\n</Depot>\n";
}

class MemoryBoundTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    if (built_with_address_sanitizer()) GTEST_SKIP() << "AddressSanitizer inflates the resident set";
    if (postgres_requested()) GTEST_SKIP() << "SQLite store only";
    std::string pattern = (fs::temp_directory_path() / "raccord-memory-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::ofstream ini(dir_ / "raccord.ini");
    ini << "[paths]\nroot = var\n[inbox]\nsettle_ms = 0\n";
    ini.close();
    ASSERT_EQ(raccord({"init", "--support", "support.n1"}).exit_code, 0) << read_file(dir_ / "engine.log");
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  ChildRun raccord(std::vector<std::string> args) {
    args.insert(args.end(), {"--config", (dir_ / "raccord.ini").string(), "--now", "2026-11-30T10:00:00Z"});
    return run_raccord(args, dir_, dir_ / "engine.log");
  }

  fs::path dir_;
};

TEST_P(MemoryBoundTest, PeakResidentSetIsAtMostFourTimesTheDepotPlus64MiB) {
  const std::string xml = GetParam().build();
  drop_file(dir_ / "var" / "inbox", GetParam().name + ".xml", xml);
  const ChildRun run = raccord({"process"});
  ASSERT_EQ(run.exit_code, 0) << read_file(dir_ / "engine.log");
  const long bound_kib = static_cast<long>(4 * xml.size() / 1024) + 64 * kMiB;
  std::cout << "[ mesure  ] " << GetParam().name << " : " << xml.size() << " octets, pic " << run.peak_rss_kib / 1024
            << " Mio, borne " << bound_kib / 1024 << " Mio\n";
  EXPECT_LE(run.peak_rss_kib, bound_kib);

  const auto accuses = entry_names(dir_ / "var" / "outbox", "ACK_");
  ASSERT_EQ(accuses.size(), 1u);
  const std::string ack = read_file(dir_ / "var" / "outbox" / accuses[0]);
  EXPECT_EQ(parse_ack(ack, accuses[0]).statut, GetParam().statut);
  EXPECT_EQ(xmllint_text(ack, xsd_path("accuse.xsd")).status, 0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, MemoryBoundTest,
                         ::testing::Values(Shape{"elements_vides", empty_elements, "REJETE"},
                                           Shape{"utilisateurs", user_upserts, "INTEGRE"},
                                           Shape{"espaces_de_noms", namespace_declarations, "INTEGRE"},
                                           Shape{"profondeur", deep_nesting, "REJETE"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace raccord::testing
