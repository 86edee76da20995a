// Tests of inbox/deposit_reader.cpp (docs/reference.md §3, §4 placement; docs/field-cases.md F06, F07, F11, F13,
// F14, F15, F16).
#include "inbox/deposit_reader.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace raccord::inbox {
namespace {

constexpr std::uint64_t kMaxBytes = std::uint64_t{64} << 20;
constexpr std::string_view kDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

DepositReadResult read(std::string_view bytes, std::uint64_t max = kMaxBytes) {
  return read_deposit(std::string(bytes), max);
}

std::string describe(const Diagnostics& ds) {
  std::string out;
  for (const auto& d : ds) {
    out += std::string(to_code(d.code)) + " champ=" + d.field + " ligne=" + std::to_string(d.line) + " : " + d.message +
           "\n";
  }
  return out;
}

/// `text` preceded by a UTF-8 BOM.
std::string with_bom(const std::string& text) {
  std::string out("\xEF\xBB\xBF");
  out.append(text);
  return out;
}

/// A dépôt with `body` as the Depot's content (Depot on line 2, body from line 3).
std::string depot(std::string_view body, std::string_view attrs = "demandeur=\"j.dupont\"") {
  return std::string(kDecl) + "<Depot xmlns=\"urn:raccord:depot:1\" " + std::string(attrs) + ">\n" + std::string(body) +
         "\n</Depot>\n";
}

/// The single dépôt-level error of a refused file.
Diagnostic refused(std::string_view bytes, std::uint64_t max = kMaxBytes) {
  const auto r = read(bytes, max);
  EXPECT_FALSE(r.deposit.has_value());
  EXPECT_EQ(r.errors.size(), 1u) << describe(r.errors);
  return r.errors.empty() ? Diagnostic{} : r.errors.front();
}

/// A readable dépôt (fails the test otherwise).
Deposit readable(std::string_view bytes) {
  auto r = read(bytes);
  EXPECT_TRUE(r.errors.empty()) << describe(r.errors);
  EXPECT_TRUE(r.deposit.has_value());
  return r.deposit.value_or(Deposit{});
}

/// The only operation of a readable dépôt.
Operation only_operation(std::string_view body, std::string_view attrs = "demandeur=\"j.dupont\"") {
  const Deposit d = readable(depot(body, attrs));
  EXPECT_EQ(d.operations.size(), 1u);
  return d.operations.empty() ? Operation{} : d.operations.front();
}

const Diagnostic* find_field(const Diagnostics& ds, std::string_view field) {
  for (const auto& d : ds) {
    if (d.field == field) return &d;
  }
  return nullptr;
}

/// Expects exactly one SCHEMA_INVALIDE in `op`, on `field` at `line`.
void expect_single_schema_error(const Operation& op, std::string_view field, int line) {
  ASSERT_EQ(op.schema_errors.size(), 1u) << describe(op.schema_errors);
  EXPECT_EQ(op.schema_errors[0].code, ErrorCode::SchemaInvalide);
  EXPECT_EQ(op.schema_errors[0].field, field);
  EXPECT_EQ(op.schema_errors[0].line, line);
  EXPECT_FALSE(op.schema_errors[0].message.empty());
}

/// Every text of a read result, to search for leaked content.
std::string everything(const DepositReadResult& r) {
  std::string all = describe(r.errors);
  if (!r.deposit) return all;
  for (const auto& op : r.deposit->operations) {
    all += describe(op.schema_errors) + op.element_name + op.reference().value + op.requester().value;
    if (const auto* s = body_if<SheetOperation>(op)) {
      all += s->partner.value + s->contact_name.value + s->comments.value;
      for (const auto& c : s->certificates) all += c.content + c.name.value;
    }
  }
  return all;
}

// ---- FICHIER_VIDE, FICHIER_TROP_VOLUMINEUX (F06, F07) ---------------------------------------

TEST(ReadDeposit, ZeroBytesIsFichierVide) {  // F06
  const Diagnostic d = refused("");
  EXPECT_EQ(d.code, ErrorCode::FichierVide);
  EXPECT_EQ(d.field, "");
}

TEST(ReadDeposit, BomOnlyAndWhitespaceOnlyFilesHaveNoRootElement) {  // F06
  for (const std::string_view bytes : {std::string_view("\xEF\xBB\xBF"), std::string_view("\r\n"),
                                       std::string_view("  \n\t"), std::string_view("\xEF\xBB\xBF\r\n")}) {
    const Diagnostic d = refused(bytes);
    EXPECT_EQ(d.code, ErrorCode::XmlMalforme);
    EXPECT_NE(d.message.find("aucun élément racine"), std::string::npos) << d.message;
    EXPECT_GE(d.line, 1);
  }
}

TEST(ReadDeposit, OverTheLimitIsFichierTropVolumineuxWithTheLimitInTheMessage) {  // F07
  const std::string doc = depot("");
  const Diagnostic d = refused(doc, doc.size() - 1);
  EXPECT_EQ(d.code, ErrorCode::FichierTropVolumineux);
  EXPECT_NE(d.message.find(std::to_string(doc.size() - 1) + " octets"), std::string::npos) << d.message;
  // The boundary file (exactly the limit) is accepted (F07 c).
  EXPECT_TRUE(read(doc, doc.size()).deposit.has_value());
  // One rule, one wording: a file refused by its size before it is read says the same (issue 15).
  const DepositReadResult by_size = refuse_too_large(doc.size(), doc.size() - 1);
  ASSERT_EQ(by_size.errors.size(), 1u);
  EXPECT_EQ(by_size.errors[0].code, ErrorCode::FichierTropVolumineux);
  EXPECT_EQ(by_size.errors[0].message, d.message);
}

TEST(ReadDeposit, HugeCertificateIsKeptWholeWithBoundedMemory) {  // F07 a
  std::string base64;
  base64.reserve(12'000'000);
  while (base64.size() < 12'000'000) base64 += "MIIHabcdefghijklmnopqrstuvwxyz0123456789+/ABCDEFGHIJKLMNOPQRSTUVWXYZ\n";
  base64.resize(12'000'000);
  const std::string doc = depot(
      "<FicheEDI action=\"enregistrer\"><Partenaire>81034732800017</Partenaire>\n"
      "<Certificats><Certificat nom=\"gros.p7b\">\n" +
      base64 + "\n</Certificat></Certificats>\n</FicheEDI>");
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const auto r = read(doc);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  ASSERT_TRUE(r.deposit) << describe(r.errors);
  const auto& sheet = body_as<SheetOperation>(r.deposit->operations.at(0));
  ASSERT_EQ(sheet.certificates.size(), 1u);
  std::string expected = base64;
  while (!expected.empty() && expected.back() == '\n') expected.pop_back();
  EXPECT_EQ(sheet.certificates[0].content.size(), expected.size());
  EXPECT_TRUE(sheet.certificates[0].content == expected);
  EXPECT_EQ(sheet.certificates[0].line, 4);
  // Peak growth (KiB) stays a small multiple of the input (best effort: ru_maxrss is a process peak).
  const long growth_kib = after.ru_maxrss - before.ru_maxrss;
  EXPECT_LT(growth_kib, static_cast<long>(6 * doc.size() / 1024)) << growth_kib;
}

TEST(ReadDeposit, FiveThousandOperationsAreReadInOrder) {
  std::string body;
  for (int i = 0; i < 5000; ++i) {
    body += "<Utilisateur login=\"u" + std::to_string(i) + "\" email=\"u" + std::to_string(i) + "@ex.fr\"/>\n";
  }
  const Deposit d = readable(depot(body));
  ASSERT_EQ(d.operations.size(), 5000u);
  EXPECT_EQ(d.operations[4999].rank, 5000);
  EXPECT_EQ(d.operations[4999].line, 3 + 4999);
  EXPECT_EQ(body_as<UserOperation>(d.operations[4999]).login.value, "u4999");
}

// ---- Encodings (F11) ----------------------------------------------------------------------

TEST(ReadDeposit, BomBeforeTheDeclarationIsAcceptedAndNeverReachesAValue) {  // F11
  const std::string plain =
      depot("<Structure siret=\"81034732800017\" raisonSociale=\"Société Exemple Équipements\"/>", "demandeur=\"s\"");
  const Deposit with_bom = readable("\xEF\xBB\xBF" + plain);
  const Deposit without = readable(plain);
  const auto& a = body_as<StructureOperation>(with_bom.operations.at(0));
  const auto& b = body_as<StructureOperation>(without.operations.at(0));
  EXPECT_EQ(a.raison_sociale.value, "Société Exemple Équipements");
  EXPECT_EQ(a.raison_sociale.value, b.raison_sociale.value);
  EXPECT_EQ(a.raison_sociale.line, b.raison_sociale.line);
  EXPECT_EQ(with_bom.operations[0].requester().value, "s");
  // No U+FEFF anywhere in the first field.
  EXPECT_EQ(a.siret.value.find("\xEF\xBB\xBF"), std::string::npos);
}

// Issue 7 (hostile test): the bytes are taken by value; a BOM is still dropped and the line and
// column of an XML error are those of the file.
TEST(ReadDeposit, BomKeepsLinesAndColumnsOfXmlErrors) {
  const std::string doc =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Depot xmlns=\"urn:raccord:depot:1\">\n  <a x=\"1\" "
      "x=\"2\"/>\n</Depot>\n";
  const DepositReadResult plain = read(doc, 1 << 20);
  const DepositReadResult bom = read(with_bom(doc), 1 << 20);
  ASSERT_EQ(plain.errors.size(), 1u);
  ASSERT_EQ(bom.errors.size(), 1u);
  EXPECT_EQ(bom.errors[0].code, ErrorCode::XmlMalforme);
  EXPECT_EQ(bom.errors[0].line, 3);
  EXPECT_EQ(bom.errors[0].line, plain.errors[0].line);
  EXPECT_EQ(bom.errors[0].column, plain.errors[0].column);
  EXPECT_EQ(bom.errors[0].message, plain.errors[0].message);
}

TEST(ReadDeposit, Latin1AndWindows1252AreTranscodedWithOriginalLines) {
  const std::string latin1 =
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"s\">\n"
      "<!-- \xE9t\xE9\n\xE9t\xE9 -->\n"
      "<Structure siret=\"81034732800017\" raisonSociale=\"Soci\xE9t\xE9 \xC9quipements\"/>\n</Depot>\n";
  const Deposit a = readable(latin1);
  const auto& s = body_as<StructureOperation>(a.operations.at(0));
  EXPECT_EQ(s.raison_sociale.value, "Société Équipements");
  EXPECT_EQ(s.raison_sociale.line, 5);
  const std::string cp1252 =
      "<?xml version='1.0' encoding='Windows-1252'?>\n<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"s\">\n"
      "<Structure siret=\"81034732800017\" raisonSociale=\"\x80 \x9C\x85\"/>\n</Depot>\n";
  EXPECT_EQ(body_as<StructureOperation>(readable(cp1252).operations.at(0)).raison_sociale.value, "€ œ…");
  const std::string alias = "<?xml version='1.0' encoding='latin1'?><Depot xmlns='urn:raccord:depot:1'/>";
  EXPECT_TRUE(read(alias).deposit.has_value());
}

TEST(ReadDeposit, BytesInvalidForTheEncodingAreEncodageInvalideWithLineAndColumn) {
  const Diagnostic utf8 = refused(depot("<Utilisateur login=\"Soci\xE9t\xE9\" email=\"a@b.fr\"/>"));
  EXPECT_EQ(utf8.code, ErrorCode::EncodageInvalide);
  EXPECT_EQ(utf8.line, 3);
  EXPECT_EQ(utf8.column, 25);
  const Diagnostic cp1252 =
      refused("<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<Depot xmlns=\"urn:raccord:depot:1\">\x81</Depot>");
  EXPECT_EQ(cp1252.code, ErrorCode::EncodageInvalide);
  EXPECT_EQ(cp1252.line, 2);
  EXPECT_EQ(cp1252.column, 36);
  const Diagnostic other = refused("<?xml version=\"1.0\" encoding=\"UTF-16\"?><Depot xmlns=\"urn:raccord:depot:1\"/>");
  EXPECT_EQ(other.code, ErrorCode::EncodageInvalide);
  EXPECT_EQ(other.line, 1);
}

// ---- XML_MALFORME, DTD_INTERDITE (F13, F14, F15, F16) -------------------------------------------

TEST(ReadDeposit, MalformedXmlHasLineColumnAndReason) {
  const Diagnostic d = refused(depot("<Utilisateur login=\"a\" email=\"b\">\n</Utilisateurs>"));
  EXPECT_EQ(d.code, ErrorCode::XmlMalforme);
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.column, 3);
  EXPECT_NE(d.message.find("balise fermante"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("mismatched tag"), std::string::npos) << d.message;
}

TEST(ReadDeposit, DuplicateAttributeJunkAfterRootAndUnboundPrefixAreMalformed) {
  EXPECT_EQ(refused(depot("<Utilisateur login=\"a\" login=\"b\"/>")).code, ErrorCode::XmlMalforme);
  EXPECT_EQ(refused(depot("") + "<Depot/>").code, ErrorCode::XmlMalforme);
  EXPECT_EQ(refused(depot("<x:Utilisateur login=\"a\"/>")).code, ErrorCode::XmlMalforme);
  EXPECT_EQ(refused(depot("<Utilisateur login=\"&nbsp;\"/>")).code, ErrorCode::XmlMalforme);
}

TEST(ReadDeposit, XxeIsRefusedAndTheCanaryAppearsNowhere) {  // F13
  const auto dir = std::filesystem::temp_directory_path() / ("raccord_xxe_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto canary = dir / "canary.txt";
  std::ofstream(canary) << "CANARY-7f3a";
  const std::string sheet =
      "<FicheEDI action=\"soumettre\"><Partenaire>81034732800017</Partenaire>"
      "<ContactTechnique nomPrenom=\"&x;\"/><Commentaires>&x;</Commentaires></FicheEDI>";
  const std::string internal = "<?xml version=\"1.0\"?>\n<!DOCTYPE Depot [<!ENTITY x SYSTEM \"file://" +
                               canary.string() + "\">]>\n<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"a\">" +
                               sheet + "</Depot>";
  const std::string external =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE Depot SYSTEM \"http://198.51.100.7/x.dtd\" "
      "[<!ENTITY % p SYSTEM \"file://" +
      canary.string() +
      "\"> %p;]>\n"
      "<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"a\">" +
      sheet + "</Depot>";
  for (const std::string& doc : {internal, external}) {
    const auto r = read(doc);
    ASSERT_EQ(r.errors.size(), 1u) << describe(r.errors);
    EXPECT_EQ(r.errors[0].code, ErrorCode::DtdInterdite);
    EXPECT_EQ(r.errors[0].line, 2);
    EXPECT_FALSE(r.deposit.has_value());
    EXPECT_EQ(everything(r).find("CANARY-7f3a"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST(ReadDeposit, BillionLaughsAndQuadraticBlowUpAreRefused) {  // F14
  std::string laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE Depot [\n<!ENTITY lol \"lol\">\n";
  laughs += "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
  for (int i = 2; i <= 9; ++i) {
    const std::string prev = "&lol" + std::to_string(i - 1) + ";";
    laughs += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) laughs += prev;
    laughs += "\">\n";
  }
  laughs += "]>\n<Depot xmlns=\"urn:raccord:depot:1\"><Recherche><Partenaire>&lol9;</Partenaire></Recherche></Depot>";
  const Diagnostic a = refused(laughs);
  EXPECT_EQ(a.code, ErrorCode::DtdInterdite);
  EXPECT_EQ(a.line, 2);

  std::string quadratic = "<?xml version=\"1.0\"?>\n<!DOCTYPE Depot [<!ENTITY a \"" + std::string(50'000, 'a') +
                          "\">]>\n<Depot xmlns=\"urn:raccord:depot:1\"><Recherche><Partenaire>";
  for (int i = 0; i < 50'000; ++i) quadratic += "&a;";
  quadratic += "</Partenaire></Recherche></Depot>";
  EXPECT_EQ(refused(quadratic).code, ErrorCode::DtdInterdite);
}

std::string nested_comment(int levels) {
  std::string inner;
  inner.reserve(static_cast<std::size_t>(levels) * 7);
  for (int i = 0; i < levels; ++i) inner += "<a>";
  for (int i = 0; i < levels; ++i) inner += "</a>";
  return depot("<FicheEDI action=\"enregistrer\"><Partenaire>81034732800017</Partenaire>\n<Commentaires>" + inner +
               "</Commentaires></FicheEDI>");
}

// Beyond the hard limit (10 000 levels, Depot being level 1) the file is not read (F15): the
// parser's memory grows with the depth.
TEST(ReadDeposit, NestingBeyondTheSafetyLimitIsRefusedWithoutCrashing) {  // F15
  // Depot, FicheEDI and Commentaires are levels 1 to 3: 9 998 <a> make 10 001 levels.
  for (const int levels : {100'000, 9'998}) {
    const Diagnostic d = refused(nested_comment(levels));
    EXPECT_EQ(d.code, ErrorCode::SchemaInvalide) << levels;
    EXPECT_EQ(d.line, 4) << levels;
    EXPECT_NE(d.message.find("10000 niveaux"), std::string::npos) << d.message;
  }
}

// Under that limit, nesting the schema does not allow is the operation's SCHEMA_INVALIDE, on the
// first element not admitted, with its field and line (docs/reference.md §4 "Placement"): F15's 255 and 257
// levels included.
TEST(ReadDeposit, DeepNestingInsideAnOperationIsThatOperationsSchemaError) {
  for (const int levels : {1, 12, 61, 62, 70, 255, 257, 9'997}) {
    SCOPED_TRACE(levels);
    const Deposit d = readable(nested_comment(levels));
    ASSERT_EQ(d.operations.size(), 1u);
    expect_single_schema_error(d.operations[0], "Commentaires/a", 4);
  }
  // The other operations of the dépôt are read as usual, before and after it.
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "<a>";
  for (int i = 0; i < 70; ++i) deep += "</a>";
  const Deposit d =
      readable(depot("<Utilisateur login=\"u.un\" email=\"u@exemple.fr\"/>\n"
                     "<Utilisateur login=\"u.deux\" email=\"d@exemple.fr\">\n" +
                     deep + "</Utilisateur>\n<Utilisateur login=\"u.trois\" email=\"t@exemple.fr\"/>"));
  ASSERT_EQ(d.operations.size(), 3u);
  EXPECT_TRUE(d.operations[0].schema_errors.empty()) << describe(d.operations[0].schema_errors);
  expect_single_schema_error(d.operations[1], "a", 5);
  EXPECT_TRUE(d.operations[2].schema_errors.empty()) << describe(d.operations[2].schema_errors);
  EXPECT_EQ(body_as<UserOperation>(d.operations[2]).login.value, "u.trois");
}

TEST(ReadDeposit, ForbiddenControlCharactersAreMalformedWithLineAndColumn) {  // F16
  const Diagnostic text =
      refused(depot("<FicheEDI action=\"enregistrer\">\n<Commentaires>ACME\x0BLogistique</Commentaires>"
                    "<Partenaire>81034732800017</Partenaire></FicheEDI>"));
  EXPECT_EQ(text.code, ErrorCode::XmlMalforme);
  EXPECT_EQ(text.line, 4);
  EXPECT_EQ(text.column, 19);
  const Diagnostic attr = refused(depot("<Structure siret=\"81034732800017\" raisonSociale=\"Factures\x0C\"/>"));
  EXPECT_EQ(attr.code, ErrorCode::XmlMalforme);
  EXPECT_EQ(attr.line, 3);
  EXPECT_EQ(attr.column, 58);  // the 0x0C itself
  const Diagnostic ref =
      refused(depot("<FicheEDI action=\"enregistrer\"><Partenaire>81034732800017</Partenaire>\n"
                    "<ContactTechnique nomPrenom=\"Jeanne&#x1A;Exemple\"/></FicheEDI>"));
  EXPECT_EQ(ref.code, ErrorCode::XmlMalforme);
  EXPECT_EQ(ref.line, 4);
  EXPECT_GT(ref.column, 1);
  EXPECT_EQ(refused(depot("<Recherche><Etat>A&#0;B</Etat></Recherche>")).code, ErrorCode::XmlMalforme);
}

TEST(ReadDeposit, NulBytesNeverTruncateAValue) {
  const std::string doc = depot(std::string("<Recherche><Etat>ACT\0IVEE</Etat></Recherche>", 42));
  const Diagnostic d = refused(doc);
  EXPECT_EQ(d.code, ErrorCode::XmlMalforme);
  EXPECT_EQ(d.line, 3);
}

// ---- The Depot root -----------------------------------------------------------------------

TEST(ReadDeposit, RootAttributesModeIdentifiantDemandeur) {
  const Deposit d = readable(depot("", "identifiant=\" LOT-2026-0042 \" mode=\"partielle\" demandeur=\"g.martin\""));
  EXPECT_EQ(d.identifier.value, "LOT-2026-0042");
  EXPECT_TRUE(d.identifier.present);
  EXPECT_EQ(d.identifier.line, 2);
  EXPECT_EQ(d.mode, DepositMode::Partielle);
  EXPECT_TRUE(d.operations.empty());
  const Deposit plain = readable("<Depot xmlns=\"urn:raccord:depot:1\"/>");
  EXPECT_EQ(plain.mode, DepositMode::Complete);
  EXPECT_FALSE(plain.identifier.present);
}

TEST(ReadDeposit, AnyPrefixBoundToTheNamespaceMayBeUsed) {
  const Deposit d = readable(
      "<d:Depot xmlns:d=\"urn:raccord:depot:1\" demandeur=\"a\">\n"
      "<d:Utilisateur login=\"x\" email=\"x@ex.fr\"/>\n<ActivationEspace xmlns=\"urn:raccord:depot:1\" "
      "structure=\"1\"/>"
      "</d:Depot>");
  ASSERT_EQ(d.operations.size(), 2u);
  EXPECT_EQ(d.operations[0].element_name, "Utilisateur");
  EXPECT_TRUE(d.operations[0].schema_errors.empty()) << describe(d.operations[0].schema_errors);
  EXPECT_TRUE(d.operations[1].schema_errors.empty()) << describe(d.operations[1].schema_errors);
}

TEST(ReadDeposit, WrongRootNameOrNamespaceIsDepositLevelSchemaInvalide) {
  for (const std::string_view doc :
       {std::string_view("<Depot/>"), std::string_view("<Depot xmlns=\"urn:raccord:depot:2\"/>"),
        std::string_view("<Lot xmlns=\"urn:raccord:depot:1\"/>"),
        std::string_view("<depot xmlns=\"urn:raccord:depot:1\"/>")}) {
    const Diagnostic d = refused(doc);
    EXPECT_EQ(d.code, ErrorCode::SchemaInvalide) << doc;
    EXPECT_EQ(d.line, 1);
  }
}

TEST(ReadDeposit, BadDepotAttributesAreDepositLevelSchemaInvalide) {
  const auto r = read(depot("<Utilisateur login=\"a\" email=\"a@b.fr\"/>",
                            "mode=\"totale\" auteur=\"x\" xmlns:p=\"urn:p\" p:mode=\"complete\""));
  EXPECT_FALSE(r.deposit.has_value());
  ASSERT_EQ(r.errors.size(), 3u) << describe(r.errors);
  for (const auto& e : r.errors) {
    EXPECT_EQ(e.code, ErrorCode::SchemaInvalide);
    EXPECT_EQ(e.line, 2);
  }
  EXPECT_TRUE(find_field(r.errors, "Depot/@mode"));
  EXPECT_TRUE(find_field(r.errors, "Depot/@auteur"));
  EXPECT_TRUE(find_field(r.errors, "Depot/@p:mode"));
}

TEST(ReadDeposit, TextDirectlyUnderDepotIsDepositLevelSchemaInvalide) {
  const Diagnostic d = refused(depot("<Utilisateur login=\"a\" email=\"a@b.fr\"/>\n  parasite"));
  EXPECT_EQ(d.code, ErrorCode::SchemaInvalide);
  EXPECT_EQ(d.field, "Depot");
  EXPECT_EQ(d.line, 3);
}

// ---- Operations -----------------------------------------------------------------------------

TEST(ReadDeposit, OperationsHaveRankNameLineAndIgnoreCommentsAndPis) {
  const Deposit d =
      readable(depot("<!-- a comment -->\n<?pi data?>\n<Utilisateur login=\"a\" email=\"a@b.fr\" reference=\"r1\"/>\n\n"
                     "<ActivationEspace structure=\"81034732800017\"\n demandeur=\"g.martin\"/>"));
  ASSERT_EQ(d.operations.size(), 2u);
  EXPECT_EQ(d.operations[0].rank, 1);
  EXPECT_EQ(d.operations[0].element_name, "Utilisateur");
  EXPECT_EQ(d.operations[0].line, 5);
  EXPECT_EQ(d.operations[0].reference().value, "r1");
  EXPECT_EQ(d.operations[0].requester().value, "j.dupont");  // from Depot
  EXPECT_EQ(d.operations[1].rank, 2);
  EXPECT_EQ(d.operations[1].line, 7);
  EXPECT_EQ(d.operations[1].requester().value, "g.martin");
  EXPECT_EQ(d.operations[1].requester().line, 7);
  EXPECT_FALSE(d.operations[1].reference().present);
}

TEST(ReadDeposit, UnknownOrForeignOperationIsAnOperationWithSchemaInvalide) {
  const Deposit d =
      readable(depot("<Suppression reference=\"r\"/>\n<o:Utilisateur xmlns:o=\"urn:other\" login=\"a\"/>\n"
                     "<Utilisateur xmlns=\"\" login=\"a\"/>"));
  ASSERT_EQ(d.operations.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const Operation& op = d.operations[static_cast<std::size_t>(i)];
    EXPECT_EQ(op.rank, i + 1);
    EXPECT_TRUE((body_if<UnknownOperation>(op) != nullptr));
    expect_single_schema_error(op, "", 3 + i);
  }
  EXPECT_EQ(d.operations[0].element_name, "Suppression");
  EXPECT_EQ(d.operations[0].reference().value, "r");
  EXPECT_EQ(d.operations[1].element_name, "Utilisateur");
  // Their actor is read all the same (a sender account judges every operation by it first, hostile16): the
  // Depot's, or their own.
  for (const Operation& op : d.operations) EXPECT_EQ(op.requester().value, "j.dupont");
  const Operation own = only_operation("<o:Recherche xmlns:o=\"urn:other\" demandeur=\"g.martin\"/>");
  EXPECT_EQ(own.requester().value, "g.martin");
  expect_single_schema_error(own, "", 3);
}

TEST(ReadDeposit, NoRequesterAnywhereIsSchemaInvalideInTheOperation) {
  const Operation op = only_operation("<Utilisateur login=\"a\" email=\"a@b.fr\"/>", "identifiant=\"x\"");
  expect_single_schema_error(op, "@demandeur", 3);
  // Written empty or blank on the operation, it is absent (one meaning of an empty optional value):
  // the Depot's applies, and with none on Depot either it is the operation's SCHEMA_INVALIDE.
  for (const char* blank : {"", " ", "\t "}) {
    const std::string body = std::string("<Utilisateur demandeur=\"") + blank + "\" login=\"a\" email=\"a@b.fr\"/>";
    const Operation from_depot = only_operation(body);
    EXPECT_TRUE(from_depot.schema_errors.empty()) << describe(from_depot.schema_errors);
    EXPECT_EQ(from_depot.requester().value, "j.dupont");
    expect_single_schema_error(only_operation(body, "identifiant=\"x\""), "@demandeur", 3);
  }
}

TEST(ReadDeposit, StructureRequiredEnumsBooleansAndChildren) {
  const Operation missing = only_operation("<Structure/>");
  ASSERT_EQ(missing.schema_errors.size(), 2u) << describe(missing.schema_errors);
  EXPECT_TRUE(find_field(missing.schema_errors, "@siret"));
  EXPECT_TRUE(find_field(missing.schema_errors, "@raisonSociale"));

  const Operation bad = only_operation(
      "<Structure siret=\"1\" raisonSociale=\"R\" statut=\"actif\" type=\"Publique\" raccordeeQualification=\"TRUE\"\n"
      " tiersTeletransmission=\"1\" couleur=\"bleu\">\n"
      "  <Gestionnaire login=\"g\" role=\"principal\"/>\n"
      "  <Gestionnaire login=\"h\" role=\"chef\" extra=\"x\"/>\n"
      "  <Gestionnaire role=\"secondaire\"/>\n"
      "  <UtilisateurTechnique/>\n"
      "  <Adresse/>\n"
      "</Structure>");
  const auto& e = bad.schema_errors;
  EXPECT_EQ(e.size(), 10u) << describe(e);
  for (const auto* f : {"@statut", "@type", "@raccordeeQualification", "@tiersTeletransmission", "@couleur"}) {
    ASSERT_TRUE(find_field(e, f)) << f;
    EXPECT_EQ(find_field(e, f)->line, 3) << f;
  }
  ASSERT_TRUE(find_field(e, "Gestionnaire[2]/@role"));
  EXPECT_EQ(find_field(e, "Gestionnaire[2]/@role")->line, 6);
  ASSERT_TRUE(find_field(e, "Gestionnaire[2]/@extra"));
  ASSERT_TRUE(find_field(e, "Gestionnaire[3]/@login"));
  EXPECT_EQ(find_field(e, "Gestionnaire[3]/@login")->line, 7);
  ASSERT_TRUE(find_field(e, "UtilisateurTechnique[1]/@login"));
  ASSERT_TRUE(find_field(e, "Adresse"));
  EXPECT_EQ(find_field(e, "Adresse")->line, 9);
  const auto& s = body_as<StructureOperation>(bad);
  EXPECT_TRUE(s.active);  // defaults kept on bad values
  EXPECT_FALSE(s.is_public);
  EXPECT_EQ(s.managers.size(), 3u);
}

TEST(ReadDeposit, UtilisateurRequiresLoginAndEmailAndABoolean) {
  const Operation op = only_operation("<Utilisateur login=\" \" support=\"oui\"/>");
  ASSERT_EQ(op.schema_errors.size(), 3u) << describe(op.schema_errors);
  EXPECT_TRUE(find_field(op.schema_errors, "@login"));
  EXPECT_TRUE(find_field(op.schema_errors, "@email"));
  EXPECT_TRUE(find_field(op.schema_errors, "@support"));
  const Operation child = only_operation("<Utilisateur login=\"a\" email=\"a@b.fr\">\n<Telephone/>texte</Utilisateur>");
  ASSERT_EQ(child.schema_errors.size(), 2u) << describe(child.schema_errors);
  EXPECT_EQ(find_field(child.schema_errors, "Telephone")->line, 4);
}

TEST(ReadDeposit, ActivationEspaceRequiresStructure) {
  expect_single_schema_error(only_operation("<ActivationEspace/>"), "@structure", 3);
}

TEST(ReadDeposit, DemandeAbonnementNeedsARightAndAValidDate) {
  expect_single_schema_error(only_operation("<DemandeAbonnement structure=\"1\"/>"), "@consultation", 3);
  expect_single_schema_error(
      only_operation("<DemandeAbonnement structure=\"1\" consultation=\"false\" modification=\"false\"/>"),
      "@consultation", 3);
  expect_single_schema_error(
      only_operation("<DemandeAbonnement structure=\"1\" consultation=\"true\" date=\"2026-02-30\"/>"), "@date", 3);
  expect_single_schema_error(
      only_operation("<DemandeAbonnement structure=\"1\" modification=\"true\" date=\"04/04/2026\"/>"), "@date", 3);
  expect_single_schema_error(only_operation("<DemandeAbonnement consultation=\"true\"/>"), "@structure", 3);
  expect_single_schema_error(
      only_operation("<DemandeAbonnement structure=\"1\" consultation=\"true\">\n<Commentaire>a</Commentaire>\n"
                     "<Commentaire>b</Commentaire></DemandeAbonnement>"),
      "Commentaire", 5);
}

TEST(ReadDeposit, DecisionAbonnementRequiresDemandeAndAValidDecision) {
  const Operation op = only_operation("<DecisionAbonnement decision=\"accepter\"/>");
  ASSERT_EQ(op.schema_errors.size(), 2u) << describe(op.schema_errors);
  EXPECT_TRUE(find_field(op.schema_errors, "@demande"));
  EXPECT_TRUE(find_field(op.schema_errors, "@decision"));
  const Operation refuse = only_operation("<DecisionAbonnement demande=\"ABO-000001\" decision=\"refuser\"/>");
  EXPECT_TRUE(refuse.schema_errors.empty());
  EXPECT_EQ(body_as<SubscriptionDecisionOperation>(refuse).decision, Decision::Refuser);
}

TEST(ReadDeposit, SheetRequiresActionAndPartenaire) {
  const Operation op = only_operation("<FicheEDI/>");
  ASSERT_EQ(op.schema_errors.size(), 2u) << describe(op.schema_errors);
  EXPECT_TRUE(find_field(op.schema_errors, "@action"));
  EXPECT_TRUE(find_field(op.schema_errors, "Partenaire"));
  expect_single_schema_error(
      only_operation("<FicheAPI action=\"valider\"><Partenaire>81034732800017</Partenaire></FicheAPI>"), "@action", 3);
}

TEST(ReadDeposit, SheetValuesWithTheirOwnRuleAreNotSchemaErrors) {
  const Operation op = only_operation(
      "<FicheEDI action=\"soumettre\">\n<Partenaire>123</Partenaire>\n<Protocole>FTP</Protocole>\n"
      "<Periode du=\"demain\" au=\"2026-13-45\"/>\n<ContactTechnique email=\"pas-un-mail\" telephone=\"abc\"/>\n"
      "<Reseau><AdresseIP>999.1.1.1</AdresseIP><Port>70000</Port></Reseau>\n"
      "<CodesInterface><Interface code=\"XXX\" mode=\"aucun\"/></CodesInterface></FicheEDI>");
  EXPECT_TRUE(op.schema_errors.empty()) << describe(op.schema_errors);
  const auto& s = body_as<SheetOperation>(op);
  EXPECT_EQ(s.protocol.value, "FTP");
  EXPECT_EQ(s.period_from.value, "demain");
  EXPECT_EQ(s.period_to.line, 6);
  EXPECT_EQ(s.network_port.value, "70000");
  EXPECT_EQ(s.network_port.line, 8);
  EXPECT_FALSE(s.network_identifier.present);
  EXPECT_FALSE(s.contact_name.present);
}

TEST(ReadDeposit, SheetStructuralErrorsCarryFieldAndLine) {
  const Operation op = only_operation(
      "<FicheEDI action=\"enregistrer\" codeAppli=\"VFE001\" version=\"2\">\n"
      "<Partenaire>81034732800017</Partenaire>\n"
      "<Protocole>AS2</Protocole>\n"
      "<Protocole>SFTP</Protocole>\n"
      "<Periode du=\"2026-01-01\" fin=\"x\"/>\n"
      "<Reseau><Identifiant>P</Identifiant>\n<Hote>h</Hote></Reseau>\n"
      "<CodesInterface>\n<Interface code=\"FSO1100A\" mode=\"complete\"/>\n<Interface code=\"FSO1101A\" "
      "mode=\"totale\"/>\n"
      "<Interface mode=\"aucun\"/></CodesInterface>\n"
      "<Certificats><Certificat nom=\"a\" type=\"x\">AAA</Certificat>\n<Cert/></Certificats>\n"
      "<Commentaires><b>gras</b></Commentaires>\n"
      "<Annexe/>\n"
      "</FicheEDI>");
  const auto& e = op.schema_errors;
  EXPECT_EQ(e.size(), 10u) << describe(e);
  const std::pair<const char*, int> expected[] = {
      {"@version", 3},
      {"Protocole", 6},
      {"Periode/@fin", 7},
      {"Reseau/Hote", 9},
      {"CodesInterface/Interface[2]/@mode", 12},
      {"CodesInterface/Interface[3]/@code", 13},
      {"Certificats/Certificat[1]/@type", 14},
      {"Certificats/Cert", 15},
      {"Commentaires/b", 16},
      {"Annexe", 17},
  };
  for (const auto& [field, line] : expected) {
    const Diagnostic* d = find_field(e, field);
    ASSERT_TRUE(d) << field << "\n" << describe(e);
    EXPECT_EQ(d->code, ErrorCode::SchemaInvalide);
    EXPECT_EQ(d->line, line) << field;
  }
  const auto& s = body_as<SheetOperation>(op);
  EXPECT_EQ(s.protocol.value, "AS2");  // first kept
  EXPECT_EQ(s.interfaces.size(), 3u);
  EXPECT_EQ(s.interfaces[1].mode.value, "totale");
}

TEST(ReadDeposit, FicheApiRefusesEdiOnlyChildren) {
  const Operation op = only_operation(
      "<FicheAPI action=\"enregistrer\"><Partenaire>81034732800017</Partenaire>\n<Protocole>AS2</Protocole>\n"
      "<Periode du=\"2026-01-01\"/>\n<Reseau/>\n<CodesInterface/></FicheAPI>");
  ASSERT_EQ(op.schema_errors.size(), 4u) << describe(op.schema_errors);
  EXPECT_EQ(find_field(op.schema_errors, "Protocole")->line, 4);
  EXPECT_EQ(find_field(op.schema_errors, "Periode")->line, 5);
  EXPECT_EQ(find_field(op.schema_errors, "Reseau")->line, 6);
  EXPECT_EQ(find_field(op.schema_errors, "CodesInterface")->line, 7);
  const auto& s = body_as<SheetOperation>(op);
  EXPECT_EQ(s.kind, SheetKind::Api);
  EXPECT_FALSE(s.protocol.present);
}

TEST(ReadDeposit, ElementsInAnotherNamespaceInsideAnOperationAreSchemaInvalide) {
  const Operation op = only_operation(
      "<FicheEDI action=\"enregistrer\" xmlns:x=\"urn:other\"><Partenaire>81034732800017</Partenaire>\n"
      "<x:Protocole>AS2</x:Protocole></FicheEDI>");
  expect_single_schema_error(op, "x:Protocole", 4);
}

TEST(ReadDeposit, TextIsTrimmedAndMixedWithCommentsOrCdata) {
  const Operation op = only_operation(
      "<FicheEDI action=\"enregistrer\"><Partenaire>\n  810347<!-- c -->32800017  \n</Partenaire>"
      "<Commentaires><![CDATA[ <b>&amp;</b> ]]></Commentaires></FicheEDI>");
  EXPECT_TRUE(op.schema_errors.empty()) << describe(op.schema_errors);
  const auto& s = body_as<SheetOperation>(op);
  EXPECT_EQ(s.partner.value, "81034732800017");
  EXPECT_EQ(s.comments.value, "<b>&amp;</b>");
}

TEST(ReadDeposit, RechercheEnumsAndDates) {
  const Operation op = only_operation(
      "<Recherche type=\"edi\" format=\"json\">\n<SoumisDepuis>2026-1-1</SoumisDepuis>\n"
      "<SoumisJusqua>2026-12-31</SoumisJusqua>\n<Tri/></Recherche>");
  ASSERT_EQ(op.schema_errors.size(), 4u) << describe(op.schema_errors);
  EXPECT_TRUE(find_field(op.schema_errors, "@type"));
  EXPECT_TRUE(find_field(op.schema_errors, "@format"));
  EXPECT_EQ(find_field(op.schema_errors, "SoumisDepuis")->line, 4);
  EXPECT_EQ(find_field(op.schema_errors, "Tri")->line, 6);
  const auto& r = body_as<SearchOperation>(op);
  EXPECT_EQ(r.kind, std::nullopt);  // a bad type is no type (the operation is rejected anyway)
  EXPECT_EQ(r.format, ExportFormat::Csv);
  EXPECT_EQ(r.submitted_to.value, "2026-12-31");
  const Operation api = only_operation("<Recherche type=\"API\" format=\"xml\"/>");
  EXPECT_TRUE(api.schema_errors.empty());
  EXPECT_EQ(body_as<SearchOperation>(api).kind, SheetKind::Api);
  EXPECT_EQ(body_as<SearchOperation>(api).format, ExportFormat::Xml);
}

// Issue 18 item 4 (docs/reference.md §3.4): a Recherche without `type` has none (the engine takes the CodeAppli's
// sheet's), and RaisonSociale is a criterion.
TEST(ReadDeposit, RechercheWithoutTypeAndWithRaisonSociale) {
  const Operation op = only_operation(
      "<Recherche>\n<CodeAppli>VFE042</CodeAppli>\n<RaisonSociale>  pro shop </RaisonSociale>\n</Recherche>");
  EXPECT_TRUE(op.schema_errors.empty()) << describe(op.schema_errors);
  const auto& r = body_as<SearchOperation>(op);
  EXPECT_EQ(r.kind, std::nullopt);
  EXPECT_EQ(r.code_appli.value, "VFE042");
  EXPECT_EQ(r.raison_sociale.value, "pro shop");
  EXPECT_EQ(r.raison_sociale.line, 5);
  const Operation twice = only_operation(
      "<Recherche><RaisonSociale>a</RaisonSociale><RaisonSociale>b</RaisonSociale>"
      "</Recherche>");
  EXPECT_EQ(twice.schema_errors.size(), 1u) << describe(twice.schema_errors);
}

TEST(ReadDeposit, CrLfLineEndingsGiveTheSameLines) {
  const std::string doc =
      "<?xml version=\"1.0\"?>\r\n<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"a\">\r\n\r\n"
      "<FicheEDI action=\"enregistrer\">\r\n<Partenaire>81034732800017</Partenaire>\r\n<Commentaires>l1\r\nl2"
      "</Commentaires>\r\n<Reseau/>\r\n</FicheEDI></Depot>";
  const Deposit d = readable(doc);
  const auto& s = body_as<SheetOperation>(d.operations.at(0));
  EXPECT_EQ(d.operations[0].line, 4);
  EXPECT_EQ(s.partner.line, 5);
  EXPECT_EQ(s.comments.line, 6);
  EXPECT_EQ(s.comments.value, "l1\nl2");
  EXPECT_EQ(s.network_line, 8);
}

// ---- Empty and blank values (docs/design.md "Empty values") ------------------------------------

// A value written empty, or with only XML whitespace (also written as character references, which
// attribute normalisation keeps), in an attribute.
const std::vector<std::string> kBlankAttributes{"", " ", "   ", "\t\n ", "&#9;&#10;&#13; "};
// The same in an element's text.
const std::vector<std::string> kBlankTexts{"", " ", "\n   \n", "<![CDATA[  ]]>", "&#9; <!-- rien -->&#10;"};

// The dépôts below are written as one concatenation each, to read like the XML they make.
// NOLINTBEGIN(performance-inefficient-string-concatenation)
TEST(ReadDeposit, OptionalAttributesWrittenBlankAreAbsent) {
  for (const std::string& b : kBlankAttributes) {
    SCOPED_TRACE("blanc « " + b + " »");
    const Deposit d =
        readable(depot("<FicheEDI action=\"soumettre\" codeAppli=\"" + b + "\" reference=\"" + b +
                           "\">\n<Partenaire>81034732800017</Partenaire>\n<Protocole>SFTP</Protocole>\n"
                           "<Periode du=\"2026-12-01\" au=\"" +
                           b +
                           "\"/>\n"
                           "<Certificats><Certificat nom=\"" +
                           b +
                           "\">MIIB</Certificat></Certificats>\n"
                           "<ContactTechnique nomPrenom=\"" +
                           b + "\" telephone=\"" + b + "\" email=\"" + b + "\" fax=\"" + b +
                           "\"/>\n</FicheEDI>\n"
                           "<Structure siret=\"81034732800017\" raisonSociale=\"R\" statut=\"" +
                           b + "\" type=\"" + b + "\" raccordeeQualification=\"" + b + "\" editeur=\"" + b +
                           "\" tiersTeletransmission=\"" + b +
                           "\"/>\n"
                           "<Utilisateur login=\"a.b\" email=\"a@b.fr\" support=\"" +
                           b +
                           "\"/>\n"
                           "<DemandeAbonnement structure=\"81034732800017\" consultation=\"true\" modification=\"" +
                           b + "\" date=\"" + b +
                           "\"/>\n"
                           "<Recherche type=\"" +
                           b + "\" format=\"" + b + "\"/>",
                       "demandeur=\"j.dupont\" identifiant=\"" + b + "\" mode=\"" + b + "\""));
    EXPECT_FALSE(d.identifier.present);
    EXPECT_EQ(d.mode, DepositMode::Complete);
    ASSERT_EQ(d.operations.size(), 5u);
    for (const auto& op : d.operations) EXPECT_TRUE(op.schema_errors.empty()) << describe(op.schema_errors);
    EXPECT_FALSE(d.operations[0].reference().present);
    const auto& s = body_as<SheetOperation>(d.operations[0]);
    for (const Field* f : {&s.code_appli, &s.period_to, &s.contact_name, &s.contact_phone, &s.contact_email,
                           &s.contact_fax, &s.certificates.at(0).name}) {
      EXPECT_FALSE(f->present);
      EXPECT_TRUE(f->value.empty()) << f->value;
      EXPECT_FALSE(f->filled());
    }
    if (b.find('\n') == std::string::npos) {  // (a blank holding a line end moves the lines)
      EXPECT_EQ(s.period_to.line, 6);         // the line where it was written, for the rules' messages
    }
    EXPECT_EQ(s.period_from.value, "2026-12-01");
    const auto& st = body_as<StructureOperation>(d.operations[1]);
    EXPECT_TRUE(st.active);  // the defaults
    EXPECT_FALSE(st.is_public);
    EXPECT_FALSE(st.connected_in_qualification);
    EXPECT_FALSE(st.uses_tiers_teletransmission);
    EXPECT_FALSE(st.editor_siret.present);
    EXPECT_FALSE(body_as<UserOperation>(d.operations[2]).support);
    const auto& r = body_as<SubscriptionRequestOperation>(d.operations[3]);
    EXPECT_FALSE(r.date.present);
    EXPECT_FALSE(r.modification);
    const auto& search = body_as<SearchOperation>(d.operations[4]);
    EXPECT_EQ(search.kind, std::nullopt);  // a blank type is no type: the CodeAppli's sheet's, else EDI
    EXPECT_EQ(search.format, ExportFormat::Csv);
  }
}

TEST(ReadDeposit, OptionalTextElementsWrittenBlankAreAbsent) {
  for (const std::string& b : kBlankTexts) {
    SCOPED_TRACE("blanc « " + b + " »");
    const Deposit d = readable(
        depot("<FicheEDI action=\"enregistrer\">\n<Partenaire>81034732800017</Partenaire>\n<Protocole>" + b +
              "</Protocole>\n<Reseau><Identifiant>" + b + "</Identifiant><AdresseIP>" + b + "</AdresseIP><Port>" + b +
              "</Port><CheminDepot>" + b + "</CheminDepot></Reseau>\n<Commentaires>" + b +
              "</Commentaires>\n</FicheEDI>\n<DemandeAbonnement structure=\"81034732800017\" consultation=\"true\">"
              "<Commentaire>" +
              b + "</Commentaire></DemandeAbonnement>\n<Recherche><Partenaire>" + b + "</Partenaire><Etat>" + b +
              "</Etat><CodeAppli>" + b + "</CodeAppli><Protocole>" + b + "</Protocole><CodeInterface>" + b +
              "</CodeInterface><SoumisDepuis>" + b + "</SoumisDepuis><SoumisJusqua>" + b +
              "</SoumisJusqua><RaisonSociale>" + b + "</RaisonSociale></Recherche>"));
    ASSERT_EQ(d.operations.size(), 3u);
    for (const auto& op : d.operations) EXPECT_TRUE(op.schema_errors.empty()) << describe(op.schema_errors);
    const auto& s = body_as<SheetOperation>(d.operations[0]);
    for (const Field* f :
         {&s.protocol, &s.network_identifier, &s.network_address, &s.network_port, &s.network_path, &s.comments}) {
      EXPECT_FALSE(f->present);
      EXPECT_TRUE(f->value.empty()) << f->value;
    }
    EXPECT_EQ(s.protocol.line, 5);  // the line where it was written, for the rules' messages
    EXPECT_FALSE(body_as<SubscriptionRequestOperation>(d.operations[1]).comment.present);
    const auto& r = body_as<SearchOperation>(d.operations[2]);
    for (const Field* f : {&r.partner, &r.state, &r.code_appli, &r.protocol, &r.interface_code, &r.submitted_from,
                           &r.submitted_to, &r.raison_sociale}) {
      EXPECT_FALSE(f->present);
    }
  }
}
// NOLINTEND(performance-inefficient-string-concatenation)

// Every required value: missing, or written empty or blank, is its operation's SCHEMA_INVALIDE
// with its field and line (issue: `<Utilisateur login="no.mail" email=""/>` was accepted).
TEST(ReadDeposit, RequiredValuesWrittenBlankAreSchemaInvalide) {
  struct Case {
    std::string body;  // with @ where the blank goes; the operation on line 3, its children on 4
    std::string field;
    int line;
  };
  const std::vector<Case> cases{
      {"<Utilisateur login=\"no.mail\" email=\"@\"/>", "@email", 3},
      {"<Utilisateur login=\"@\" email=\"a@exemple.fr\"/>", "@login", 3},
      {"<Structure siret=\"@\" raisonSociale=\"R\"/>", "@siret", 3},
      {"<Structure siret=\"81034732800017\" raisonSociale=\"@\"/>", "@raisonSociale", 3},
      {"<Structure siret=\"81034732800017\" raisonSociale=\"R\">\n<Gestionnaire login=\"@\" role=\"principal\"/>"
       "</Structure>",
       "Gestionnaire[1]/@login", 4},
      {"<Structure siret=\"81034732800017\" raisonSociale=\"R\">\n<Gestionnaire login=\"g\" role=\"@\"/>"
       "</Structure>",
       "Gestionnaire[1]/@role", 4},
      {"<Structure siret=\"81034732800017\" raisonSociale=\"R\">\n<UtilisateurTechnique login=\"@\"/></Structure>",
       "UtilisateurTechnique[1]/@login", 4},
      {"<ActivationEspace structure=\"@\"/>", "@structure", 3},
      {"<DemandeAbonnement structure=\"@\" consultation=\"true\"/>", "@structure", 3},
      {"<DecisionAbonnement demande=\"@\" decision=\"valider\"/>", "@demande", 3},
      {"<DecisionAbonnement demande=\"ABO-000001\" decision=\"@\"/>", "@decision", 3},
      {"<FicheEDI action=\"@\"><Partenaire>81034732800017</Partenaire></FicheEDI>", "@action", 3},
      {"<FicheAPI action=\"enregistrer\">\n<Partenaire>@</Partenaire></FicheAPI>", "Partenaire", 4},
      {"<FicheEDI action=\"enregistrer\"><Partenaire>81034732800017</Partenaire>\n"
       "<CodesInterface><Interface code=\"@\" mode=\"complete\"/></CodesInterface></FicheEDI>",
       "CodesInterface/Interface[1]/@code", 4},
      {"<FicheEDI action=\"enregistrer\"><Partenaire>81034732800017</Partenaire>\n"
       "<CodesInterface><Interface code=\"FSO1100A\" mode=\"@\"/></CodesInterface></FicheEDI>",
       "CodesInterface/Interface[1]/@mode", 4},
  };
  for (const Case& c : cases) {
    const bool text = c.field == "Partenaire";
    for (const std::string& b : text ? kBlankTexts : kBlankAttributes) {
      std::string body = c.body;
      const std::size_t at = body.find(text ? ">@<" : "\"@\"");
      ASSERT_NE(at, std::string::npos) << body;
      body.replace(at + 1, 1, b);
      SCOPED_TRACE(body);
      const Operation op = only_operation(body);
      expect_single_schema_error(op, c.field, c.line);
      if (!op.schema_errors.empty()) {
        EXPECT_NE(op.schema_errors[0].message.find("vide"), std::string::npos) << op.schema_errors[0].message;
      }
    }
  }
}

// ---- Round trip of the docs/reference.md §3 examples ----------------------------------------------------

constexpr std::string_view kSpecExamples = R"(<?xml version="1.0" encoding="UTF-8"?>
<Depot xmlns="urn:raccord:depot:1" identifiant="LOT-2026-0042" mode="complete" demandeur="support.n1">
  <!-- operations, applied in document order -->
<Structure siret="81034732800017" raisonSociale="PRO SHOP EXEMPLE" statut="ACTIF"
           type="privee" raccordeeQualification="true" editeur="38214190100159"
           tiersTeletransmission="false">
  <Gestionnaire login="g.martin" role="principal"/>
  <Gestionnaire login="a.leroy" role="secondaire"/>
  <UtilisateurTechnique login="TECH_1_0001@example.fr"/>
</Structure>
<Utilisateur login="j.dupont" email="j.dupont@example.fr" support="false"/>
<ActivationEspace demandeur="g.martin" structure="81034732800017"/>
<DemandeAbonnement demandeur="j.dupont" structure="81034732800017"
                   consultation="true" modification="true" date="2026-04-04">
  <Commentaire>Équipe intégration</Commentaire>
</DemandeAbonnement>
<DecisionAbonnement demandeur="g.martin" demande="ABO-000017" decision="valider"/>
<FicheEDI demandeur="j.dupont" action="soumettre" reference="as2-prod">
  <Partenaire>81034732800017</Partenaire>
  <Protocole>AS2</Protocole>
  <Periode du="2026-12-01" au="2099-06-30"/>
  <Certificats>
    <Certificat nom="certificat_AS2_1.p7b">MIIH...base64...</Certificat>
  </Certificats>
  <ContactTechnique nomPrenom="John Doe" telephone="01 23 45 67 89"
                    email="johndoe@exemple.com" fax=""/>
  <Reseau>   <!-- AS2 only: the partner's side -->
    <Identifiant>PARTAS2</Identifiant>
    <AdresseIP>203.0.113.10</AdresseIP>
    <Port>4080</Port>
    <CheminDepot>/as2/in</CheminDepot>
  </Reseau>
  <CodesInterface>
    <Interface code="FSO1100A" mode="complete"/>
    <Interface code="FSO1101A" mode="partielle"/>
    <Interface code="FSO1102A" mode="aucun"/>
  </CodesInterface>
  <Commentaires>Première fiche, deux interfaces.</Commentaires>
</FicheEDI>

<FicheAPI demandeur="j.dupont" action="enregistrer" codeAppli="SEI009">
  <Partenaire>81034732800017</Partenaire>
  <Certificats><Certificat nom="API.p7b">...</Certificat></Certificats>
  <ContactTechnique nomPrenom="John Doe" telephone="+33 1 23 45 67 89" email="johndoe@exemple.com"/>
  <Commentaires/>
</FicheAPI>
<Recherche demandeur="support.n1" type="EDI" reference="req-7" format="csv">
  <Partenaire>81034732800017</Partenaire>   <!-- every criterion optional -->
  <Etat>ACTIVEE</Etat>
  <CodeAppli>VFE042</CodeAppli>
  <Protocole>PESIT</Protocole>
  <CodeInterface>FSO1100A</CodeInterface>
  <SoumisDepuis>2026-01-01</SoumisDepuis>   <!-- submission date range, inclusive -->
  <SoumisJusqua>2026-12-31</SoumisJusqua>
</Recherche>
</Depot>
)";

TEST(ReadDeposit, SpecExamplesRoundTrip) {
  const Deposit d = readable(kSpecExamples);
  EXPECT_EQ(d.identifier.value, "LOT-2026-0042");
  EXPECT_EQ(d.mode, DepositMode::Complete);
  ASSERT_EQ(d.operations.size(), 8u);
  for (const auto& op : d.operations) EXPECT_TRUE(op.schema_errors.empty()) << describe(op.schema_errors);

  const Operation& o1 = d.operations[0];
  EXPECT_EQ(o1.element_name, "Structure");
  EXPECT_EQ(o1.line, 4);
  EXPECT_EQ(o1.requester().value, "support.n1");
  const auto& st = body_as<StructureOperation>(o1);
  EXPECT_EQ(st.siret.value, "81034732800017");
  EXPECT_EQ(st.siret.line, 4);
  EXPECT_EQ(st.raison_sociale.value, "PRO SHOP EXEMPLE");
  EXPECT_TRUE(st.active);
  EXPECT_FALSE(st.is_public);
  EXPECT_TRUE(st.connected_in_qualification);
  EXPECT_EQ(st.editor_siret.value, "38214190100159");
  EXPECT_FALSE(st.uses_tiers_teletransmission);
  ASSERT_EQ(st.managers.size(), 2u);
  EXPECT_EQ(st.managers[0].login.value, "g.martin");
  EXPECT_EQ(st.managers[0].role, ManagerRole::Principal);
  EXPECT_EQ(st.managers[0].line, 7);
  EXPECT_EQ(st.managers[1].login.value, "a.leroy");
  EXPECT_EQ(st.managers[1].role, ManagerRole::Secondaire);
  EXPECT_EQ(st.managers[1].line, 8);
  ASSERT_EQ(st.technical_users.size(), 1u);
  EXPECT_EQ(st.technical_users[0].value, "TECH_1_0001@example.fr");
  EXPECT_EQ(st.technical_users[0].line, 9);

  const auto& user = body_as<UserOperation>(d.operations[1]);
  EXPECT_EQ(d.operations[1].line, 11);
  EXPECT_EQ(user.login.value, "j.dupont");
  EXPECT_EQ(user.email.value, "j.dupont@example.fr");
  EXPECT_FALSE(user.support);

  EXPECT_EQ(d.operations[2].requester().value, "g.martin");
  EXPECT_EQ(body_as<SpaceActivationOperation>(d.operations[2]).structure.value, "81034732800017");
  EXPECT_EQ(d.operations[2].line, 12);

  const auto& req = body_as<SubscriptionRequestOperation>(d.operations[3]);
  EXPECT_EQ(d.operations[3].line, 13);
  EXPECT_TRUE(req.consultation);
  EXPECT_TRUE(req.modification);
  EXPECT_EQ(req.date.value, "2026-04-04");
  EXPECT_EQ(req.comment.value, "Équipe intégration");
  EXPECT_EQ(req.comment.line, 15);

  const auto& dec = body_as<SubscriptionDecisionOperation>(d.operations[4]);
  EXPECT_EQ(dec.request_id.value, "ABO-000017");
  EXPECT_EQ(dec.decision, Decision::Valider);
  EXPECT_EQ(d.operations[4].line, 17);

  const Operation& o6 = d.operations[5];
  EXPECT_EQ(o6.line, 18);
  EXPECT_EQ(o6.reference().value, "as2-prod");
  EXPECT_EQ(o6.requester().value, "j.dupont");
  const auto& edi = body_as<SheetOperation>(o6);
  EXPECT_EQ(edi.kind, SheetKind::Edi);
  EXPECT_EQ(edi.action, SheetAction::Soumettre);
  EXPECT_FALSE(edi.code_appli.present);
  EXPECT_EQ(edi.partner.value, "81034732800017");
  EXPECT_EQ(edi.partner.line, 19);
  EXPECT_EQ(edi.protocol.value, "AS2");
  EXPECT_EQ(edi.protocol.line, 20);
  EXPECT_TRUE(edi.has_period);
  EXPECT_EQ(edi.period_from.value, "2026-12-01");
  EXPECT_EQ(edi.period_to.value, "2099-06-30");
  EXPECT_EQ(edi.period_to.line, 21);
  EXPECT_TRUE(edi.has_certificates);
  EXPECT_EQ(edi.certificates_line, 22);
  ASSERT_EQ(edi.certificates.size(), 1u);
  EXPECT_EQ(edi.certificates[0].name.value, "certificat_AS2_1.p7b");
  EXPECT_EQ(edi.certificates[0].content, "MIIH...base64...");
  EXPECT_EQ(edi.certificates[0].line, 23);
  EXPECT_EQ(edi.certificates[0].index, 1);
  EXPECT_TRUE(edi.has_contact);
  EXPECT_EQ(edi.contact_line, 25);
  EXPECT_EQ(edi.contact_name.value, "John Doe");
  EXPECT_EQ(edi.contact_phone.value, "01 23 45 67 89");
  EXPECT_EQ(edi.contact_email.value, "johndoe@exemple.com");
  EXPECT_FALSE(edi.contact_fax.present);  // fax="": an empty optional value is absent
  EXPECT_TRUE(edi.contact_fax.empty());
  EXPECT_EQ(edi.contact_email.line, 25);
  EXPECT_TRUE(edi.has_network);
  EXPECT_EQ(edi.network_line, 27);
  EXPECT_EQ(edi.network_identifier.value, "PARTAS2");
  EXPECT_EQ(edi.network_identifier.line, 28);
  EXPECT_EQ(edi.network_address.value, "203.0.113.10");
  EXPECT_EQ(edi.network_port.value, "4080");
  EXPECT_EQ(edi.network_path.value, "/as2/in");
  EXPECT_EQ(edi.network_path.line, 31);
  EXPECT_TRUE(edi.has_interfaces);
  EXPECT_EQ(edi.interfaces_line, 33);
  ASSERT_EQ(edi.interfaces.size(), 3u);
  EXPECT_EQ(edi.interfaces[0].code.value, "FSO1100A");
  EXPECT_EQ(edi.interfaces[0].mode.value, "complete");
  EXPECT_EQ(edi.interfaces[1].mode.value, "partielle");
  EXPECT_EQ(edi.interfaces[2].code.value, "FSO1102A");
  EXPECT_EQ(edi.interfaces[2].line, 36);
  EXPECT_EQ(edi.comments.value, "Première fiche, deux interfaces.");
  EXPECT_EQ(edi.comments.line, 38);

  const Operation& o7 = d.operations[6];
  EXPECT_EQ(o7.line, 41);
  const auto& api = body_as<SheetOperation>(o7);
  EXPECT_EQ(api.kind, SheetKind::Api);
  EXPECT_EQ(api.action, SheetAction::Enregistrer);
  EXPECT_EQ(api.code_appli.value, "SEI009");
  EXPECT_EQ(api.code_appli.line, 41);
  EXPECT_FALSE(api.has_period);
  EXPECT_FALSE(api.has_network);
  ASSERT_EQ(api.certificates.size(), 1u);
  EXPECT_EQ(api.certificates[0].content, "...");
  EXPECT_EQ(api.certificates[0].line, 43);
  EXPECT_EQ(api.contact_phone.value, "+33 1 23 45 67 89");
  EXPECT_FALSE(api.contact_fax.present);
  EXPECT_FALSE(api.comments.present);  // <Commentaires/>: absent
  EXPECT_TRUE(api.comments.empty());
  EXPECT_EQ(api.comments.line, 45);

  const Operation& o8 = d.operations[7];
  EXPECT_EQ(o8.line, 47);
  EXPECT_EQ(o8.reference().value, "req-7");
  const auto& search = body_as<SearchOperation>(o8);
  EXPECT_EQ(search.kind, SheetKind::Edi);
  EXPECT_EQ(search.format, ExportFormat::Csv);
  EXPECT_EQ(search.partner.value, "81034732800017");
  EXPECT_EQ(search.state.value, "ACTIVEE");
  EXPECT_EQ(search.code_appli.value, "VFE042");
  EXPECT_EQ(search.protocol.value, "PESIT");
  EXPECT_EQ(search.interface_code.value, "FSO1100A");
  EXPECT_EQ(search.submitted_from.value, "2026-01-01");
  EXPECT_EQ(search.submitted_from.line, 53);
  EXPECT_EQ(search.submitted_to.value, "2026-12-31");
  EXPECT_EQ(search.submitted_to.line, 54);
}

}  // namespace
}  // namespace raccord::inbox
