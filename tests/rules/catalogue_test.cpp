// Tests of rules/catalogue.cpp: the seed (docs/reference.md §4 end), the shipped rules/catalogue.xml and the loader.
#include "rules/catalogue.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

namespace raccord::rules {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kProductionCodes = {"FSO1100A", "FSO1101A", "FSO1102A", "FSO1105A", "FSO1110A", "FSO1111A",
                                                "FSO1112A", "FSO1113A", "FSO1120A", "FEN1200A", "FEN1201A", "FAR0037A"};
const std::set<std::string> kQualificationOnlyCodes = {"FSO1300A", "FSO1301A", "FEN0036A"};

class CatalogueFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / ("raccord_catalogue_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& text, const std::string& name = "catalogue.xml") {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  fs::path dir_;
};

TEST(CatalogueSeed, HoldsTheFifteenCodesOfSpecWithTheirAvailability) {
  const Catalogue seed = Catalogue::seed();
  ASSERT_EQ(seed.entries().size(), 15u);
  std::set<std::string> codes;
  for (const FlowEntry& e : seed.entries()) {
    codes.insert(e.code);
    EXPECT_FALSE(e.description.empty()) << e.code;
    EXPECT_FALSE(e.format.empty()) << e.code;
    EXPECT_TRUE(e.family == "E1" || e.family == "E2" || e.family == "E3" || e.family == "R" || e.family == "S")
        << e.code;
    EXPECT_EQ(e.in_production, kProductionCodes.count(e.code) == 1) << e.code;
  }
  EXPECT_EQ(codes.size(), 15u);
  for (const auto& c : kProductionCodes) EXPECT_EQ(codes.count(c), 1u) << c;
  for (const auto& c : kQualificationOnlyCodes) EXPECT_EQ(codes.count(c), 1u) << c;
}

TEST(CatalogueSeed, FamiliesAndFormatsOfDomainTable) {
  const Catalogue seed = Catalogue::seed();
  const FlowEntry* e = seed.find("FSO1120A");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->family, "E3");
  EXPECT_EQ(e->format, "UBL Invoice Mémoire");
  e = seed.find("FEN1201A");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->family, "R");
  EXPECT_EQ(e->format, "AIFE Statut");
  EXPECT_TRUE(e->in_production);
  e = seed.find("FEN0036A");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->family, "S");
  EXPECT_FALSE(e->in_production);
}

TEST(CatalogueSeed, FindIsExactAndCaseSensitive) {
  const Catalogue seed = Catalogue::seed();
  EXPECT_NE(seed.find("FSO1100A"), nullptr);
  EXPECT_EQ(seed.find("fso1100a"), nullptr);
  EXPECT_EQ(seed.find("FSO1100"), nullptr);
  EXPECT_EQ(seed.find(""), nullptr);
  EXPECT_EQ(seed.find("FSO9999A"), nullptr);
}

TEST(CatalogueShippedFile, LoadsAndEqualsTheSeed) {
  std::string error;
  const auto loaded = Catalogue::load_file(fs::path(RACCORD_SOURCE_DIR) / "rules" / "catalogue.xml", error);
  ASSERT_TRUE(loaded.has_value()) << error;
  const Catalogue seed = Catalogue::seed();
  ASSERT_EQ(loaded->entries().size(), seed.entries().size());
  for (std::size_t i = 0; i < seed.entries().size(); ++i) {
    const FlowEntry& a = loaded->entries()[i];
    const FlowEntry& b = seed.entries()[i];
    EXPECT_EQ(a.code, b.code);
    EXPECT_EQ(a.description, b.description) << a.code;
    EXPECT_EQ(a.family, b.family) << a.code;
    EXPECT_EQ(a.format, b.format) << a.code;
    EXPECT_EQ(a.in_production, b.in_production) << a.code;
  }
}

TEST_F(CatalogueFiles, LoadsAValidFile) {
  const auto p = write(R"(<?xml version="1.0" encoding="UTF-8"?>
<!-- commentaire -->
<Catalogue version="1">
  <!-- un flux -->
  <Flux code="FXX0001A" famille="E1" format="UBL" production="true">  Flux de test été  </Flux>
  <Flux code="FXX0002A" famille="S" format="CPP Pivot" production="false">Pivot</Flux>
</Catalogue>
)");
  std::string error;
  const auto c = Catalogue::load_file(p, error);
  ASSERT_TRUE(c.has_value()) << error;
  ASSERT_EQ(c->entries().size(), 2u);
  const FlowEntry* e = c->find("FXX0001A");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->description, "Flux de test été");
  EXPECT_TRUE(e->in_production);
  EXPECT_FALSE(c->find("FXX0002A")->in_production);
  EXPECT_EQ(c->find("FSO1100A"), nullptr);
}

struct BadCase {
  const char* name;
  const char* xml;
  const char* expected_in_error;
};

TEST_F(CatalogueFiles, RefusesInvalidFilesWithAReason) {
  const BadCase cases[] = {
      {"not xml", "<Catalogue version=\"1\"><Flux", "XML invalide"},
      {"wrong root", "<Flux version=\"1\"/>", "racine"},
      {"no version",
       "<Catalogue><Flux code=\"A1\" famille=\"E1\" format=\"x\" production=\"true\">d</Flux></Catalogue>", "version"},
      {"empty", "<Catalogue version=\"1\"/>", "aucun"},
      {"unknown element", "<Catalogue version=\"1\"><Code/></Catalogue>", "Code"},
      {"unknown attribute",
       "<Catalogue version=\"1\"><Flux code=\"A1\" famille=\"E1\" format=\"x\" production=\"true\" "
       "x=\"1\">d</Flux></Catalogue>",
       "attribut inconnu x"},
      {"bad code",
       "<Catalogue version=\"1\"><Flux code=\"a-1\" famille=\"E1\" format=\"x\" "
       "production=\"true\">d</Flux></Catalogue>",
       "code"},
      {"bad family",
       "<Catalogue version=\"1\"><Flux code=\"A1\" famille=\"E4\" format=\"x\" "
       "production=\"true\">d</Flux></Catalogue>",
       "famille"},
      {"no format",
       "<Catalogue version=\"1\"><Flux code=\"A1\" famille=\"E1\" production=\"true\">d</Flux></Catalogue>", "format"},
      {"bad production",
       "<Catalogue version=\"1\"><Flux code=\"A1\" famille=\"E1\" format=\"x\" production=\"oui\">d</Flux></Catalogue>",
       "production"},
      {"no description",
       "<Catalogue version=\"1\"><Flux code=\"A1\" famille=\"E1\" format=\"x\" production=\"true\"/></Catalogue>",
       "description"},
      {"duplicate",
       "<Catalogue version=\"1\">\n<Flux code=\"A1\" famille=\"E1\" format=\"x\" production=\"true\">d</Flux>\n"
       "<Flux code=\"A1\" famille=\"E1\" format=\"x\" production=\"true\">d</Flux></Catalogue>",
       "ligne 3 : code A1 en double"},
      {"child element",
       "<Catalogue version=\"1\"><Flux code=\"A1\" famille=\"E1\" format=\"x\" "
       "production=\"true\"><b/></Flux></Catalogue>",
       "description"},
  };
  for (const BadCase& bad : cases) {
    const auto p = write(bad.xml);
    std::string error;
    EXPECT_FALSE(Catalogue::load_file(p, error).has_value()) << bad.name;
    EXPECT_NE(error.find(bad.expected_in_error), std::string::npos) << bad.name << ": " << error;
  }
}

TEST_F(CatalogueFiles, MissingFileIsAnError) {
  std::string error;
  EXPECT_FALSE(Catalogue::load_file(dir_ / "absent.xml", error).has_value());
  EXPECT_NE(error.find("absent.xml"), std::string::npos);
}

TEST_F(CatalogueFiles, LoadOrSeedUsesTheSeedWhenNoFile) {
  std::string source;
  const Catalogue c = Catalogue::load_or_seed(dir_, source);
  EXPECT_EQ(source, "seed");
  EXPECT_EQ(c.entries().size(), 15u);
}

TEST_F(CatalogueFiles, LoadOrSeedUsesTheFileWhenValid) {
  const auto p = write(
      "<Catalogue version=\"1\"><Flux code=\"FXX0001A\" famille=\"R\" format=\"x\" "
      "production=\"true\">d</Flux></Catalogue>");
  std::string source;
  const Catalogue c = Catalogue::load_or_seed(dir_, source);
  EXPECT_EQ(source, p.string());
  ASSERT_EQ(c.entries().size(), 1u);
  EXPECT_NE(c.find("FXX0001A"), nullptr);
}

TEST_F(CatalogueFiles, LoadOrSeedFallsBackToTheSeedWhenInvalidAndSaysWhy) {
  write("<Catalogue version=\"2\"/>");
  std::string source;
  const Catalogue c = Catalogue::load_or_seed(dir_, source);
  EXPECT_EQ(source.rfind("seed", 0), 0u) << source;
  EXPECT_NE(source.find("version"), std::string::npos) << source;
  EXPECT_EQ(c.entries().size(), 15u);
}

// Issue 20 (fault sweep: EIO on reading rules/catalogue.xml): the read error escaped as libstdc++'s
// "basic_filebuf::underflow error reading the file", naming no file. It is thrown naming the file,
// never taken for an absent catalogue (the seed). Real EIO: /proc/self/mem linked as the catalogue.
TEST_F(CatalogueFiles, ACatalogueThatCannotBeReadThrowsNamingItNeverTheSeed) {
  fs::create_symlink("/proc/self/mem", dir_ / "catalogue.xml");
  std::string source;
  try {
    (void)Catalogue::load_or_seed(dir_, source);
    ADD_FAILURE() << "std::system_error attendu, source " << source;
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EIO) << e.what();
    EXPECT_NE(std::string(e.what()).find((dir_ / "catalogue.xml").string()), std::string::npos) << e.what();
  }
}

TEST(CatalogueShippedDir, LoadOrSeedOnTheSourceRulesDirReadsTheFile) {
  std::string source;
  const Catalogue c = Catalogue::load_or_seed(fs::path(RACCORD_SOURCE_DIR) / "rules", source);
  EXPECT_NE(source.find("catalogue.xml"), std::string::npos) << source;
  EXPECT_EQ(c.entries().size(), 15u);
}

}  // namespace
}  // namespace raccord::rules
