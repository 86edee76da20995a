// Tests of outbox/acknowledgement_writer.cpp (docs/reference.md §5.1; docs/field-cases.md F04, F06, F16).
// acknowledgement_writer.hpp uses Instant without including its header: include it first.
// clang-format off
#include "domain/civil_date.hpp"
#include "outbox/acknowledgement_writer.hpp"
// clang-format on

#include <gtest/gtest.h>

#include <filesystem>
#include <iterator>
#include <pugixml.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/dates.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::outbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;
using raccord::testing::utc;
using raccord::testing::xmllint_text;

/// samples/xsd/accuse.xsd, against which every output of the writer must validate.
const fs::path kXsd = raccord::testing::xsd_path("accuse.xsd");

const std::string kSha = "9f2c000000000000000000000000000000000000000000000000000000000abc";

Acknowledgement partial_example() {
  // The example of docs/reference.md §5.1.
  Acknowledgement ack;
  ack.file_name = "lot42.xml";
  ack.sha256 = kSha;
  ack.identifier = "LOT-2026-0042";
  ack.mode = DepositMode::Partielle;
  ack.received = utc(2026, 11, 29, 22, 10, 4);
  ack.processed = utc(2026, 11, 29, 22, 10, 4);
  ack.status = DepositStatus::IntegrePartiel;

  OperationOutcome edi;
  edi.rank = 1;
  edi.type = "FicheEDI";
  edi.reference = "as2-prod";
  edi.accepted = true;
  edi.code_appli = "VFE056";
  edi.state = SheetState::Envoyee;
  edi.diagnostics.push_back(Diagnostic::warning(ErrorCode::CertExpireBientot, "Certificats/Certificat[1]", 9,
                                                "Le certificat expire le 15/12/2026, dans moins de 30 jours."));
  edi.aife =
      AifeParameters{Protocol::As2, {{"Identifiant", "CTAIFEP"}, {"AdresseIP", "203.0.113.10"}, {"Port", "443"}}};
  ack.operations.push_back(edi);

  OperationOutcome api;
  api.rank = 2;
  api.type = "FicheAPI";
  api.accepted = false;
  api.diagnostics.push_back(Diagnostic::error(ErrorCode::CertExpire, "Certificats/Certificat[1]", 31,
                                              "Le certificat « CN=ACME » a expiré le 01/01/2024."));
  ack.operations.push_back(api);
  return ack;
}

TEST(RenderAcknowledgement, MatchesSpecExampleStructure) {
  const std::string xml = render_acknowledgement(partial_example());
  EXPECT_TRUE(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")) << xml;
  EXPECT_NE(xml.find("\n  <Operation rang=\"1\""), std::string::npos) << "2-space indent\n" << xml;

  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  const pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.name(), "Accuse");
  EXPECT_STREQ(root.attribute("xmlns").value(), "urn:raccord:accuse:1");
  EXPECT_STREQ(root.attribute("fichier").value(), "lot42.xml");
  EXPECT_STREQ(root.attribute("sha256").value(), kSha.c_str());
  EXPECT_STREQ(root.attribute("identifiant").value(), "LOT-2026-0042");
  EXPECT_STREQ(root.attribute("mode").value(), "partielle");
  EXPECT_STREQ(root.attribute("recu").value(), "2026-11-29T22:10:04Z");
  EXPECT_STREQ(root.attribute("traite").value(), "2026-11-29T22:10:04Z");
  EXPECT_STREQ(root.attribute("statut").value(), "INTEGRE_PARTIEL");
  EXPECT_FALSE(root.attribute("original"));

  const pugi::xml_node op1 = root.child("Operation");
  EXPECT_STREQ(op1.attribute("rang").value(), "1");
  EXPECT_STREQ(op1.attribute("type").value(), "FicheEDI");
  EXPECT_STREQ(op1.attribute("reference").value(), "as2-prod");
  EXPECT_STREQ(op1.attribute("statut").value(), "ACCEPTEE");
  EXPECT_STREQ(op1.attribute("codeAppli").value(), "VFE056");
  EXPECT_STREQ(op1.attribute("etat").value(), "ENVOYEE");
  const pugi::xml_node warning = op1.child("Avertissement");
  EXPECT_STREQ(warning.attribute("code").value(), "CERT_EXPIRE_BIENTOT");
  EXPECT_STREQ(warning.attribute("champ").value(), "Certificats/Certificat[1]");
  EXPECT_STREQ(warning.attribute("ligne").value(), "9");
  EXPECT_FALSE(warning.attribute("colonne"));
  EXPECT_STREQ(warning.text().get(), "Le certificat expire le 15/12/2026, dans moins de 30 jours.");
  const pugi::xml_node params = op1.child("ParametresAIFE");
  EXPECT_STREQ(params.attribute("protocole").value(), "AS2");
  EXPECT_STREQ(params.child("Identifiant").text().get(), "CTAIFEP");
  EXPECT_STREQ(params.child("AdresseIP").text().get(), "203.0.113.10");
  EXPECT_STREQ(params.first_child().name(), "Identifiant");
  EXPECT_EQ(warning.next_sibling(), params) << "diagnostics come before ParametresAIFE";

  const pugi::xml_node op2 = op1.next_sibling("Operation");
  EXPECT_STREQ(op2.attribute("rang").value(), "2");
  EXPECT_STREQ(op2.attribute("statut").value(), "REJETEE");
  EXPECT_FALSE(op2.attribute("reference"));
  EXPECT_FALSE(op2.attribute("codeAppli"));
  EXPECT_FALSE(op2.attribute("etat"));
  EXPECT_STREQ(op2.child("Erreur").attribute("code").value(), "CERT_EXPIRE");
  EXPECT_STREQ(op2.child("Erreur").text().get(), "Le certificat « CN=ACME » a expiré le 01/01/2024.");

  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0) << xml;
}

TEST(RenderAcknowledgement, RejectedFileWithDepositLevelErrorAndNoMode) {
  // docs/field-cases.md F06: a zero-byte file is answered REJETE with FICHIER_VIDE at dépôt level.
  Acknowledgement ack;
  ack.file_name = "vide.xml";
  ack.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  ack.received = utc(2026, 1, 2, 3, 4, 5);
  ack.processed = utc(2026, 1, 2, 3, 4, 6);
  ack.status = DepositStatus::Rejete;
  ack.deposit_errors.push_back(Diagnostic::error(ErrorCode::FichierVide, "", 0, "Le fichier est vide (0 octet)."));
  Diagnostic malformed = Diagnostic::error(ErrorCode::XmlMalforme, "", 3, "Balise non fermée.");
  malformed.column = 17;
  ack.deposit_errors.push_back(malformed);

  const std::string xml = render_acknowledgement(ack);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  const pugi::xml_node root = doc.document_element();
  EXPECT_FALSE(root.attribute("mode"));
  EXPECT_FALSE(root.attribute("identifiant"));
  EXPECT_STREQ(root.attribute("statut").value(), "REJETE");
  EXPECT_STREQ(root.attribute("traite").value(), "2026-01-02T03:04:06Z");
  const pugi::xml_node first = root.first_child();
  EXPECT_STREQ(first.name(), "Erreur");
  EXPECT_STREQ(first.attribute("code").value(), "FICHIER_VIDE");
  EXPECT_FALSE(first.attribute("champ"));
  EXPECT_FALSE(first.attribute("ligne"));
  const pugi::xml_node second = first.next_sibling();
  EXPECT_STREQ(second.attribute("ligne").value(), "3");
  EXPECT_STREQ(second.attribute("colonne").value(), "17");
  EXPECT_FALSE(root.child("Operation"));
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0) << xml;
}

TEST(RenderAcknowledgement, DuplicateNamesTheOriginal) {
  // docs/field-cases.md F04: the byte-identical copy gets an explicit DOUBLON naming the original.
  Acknowledgement ack;
  ack.file_name = "fiche_12345678200010.xml";
  ack.sha256 = kSha;
  ack.mode = DepositMode::Complete;
  ack.received = utc(2026, 11, 30, 8, 0, 0);
  ack.processed = utc(2026, 11, 30, 8, 0, 1);
  ack.status = DepositStatus::Doublon;
  ack.original = "ACK_fiche_12345678200010_20261129T221004Z.xml";
  const std::string xml = render_acknowledgement(ack);
  EXPECT_NE(xml.find("statut=\"DOUBLON\" original=\"ACK_fiche_12345678200010_20261129T221004Z.xml\""),
            std::string::npos)
      << xml;
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0) << xml;
}

TEST(RenderAcknowledgement, OptionalOperationAttributes) {
  Acknowledgement ack;
  ack.file_name = "ops.xml";
  ack.sha256 = kSha;
  ack.mode = DepositMode::Complete;
  ack.status = DepositStatus::Integre;
  ack.received = ack.processed = utc(2026, 11, 29, 22, 10, 4);
  OperationOutcome del;
  del.rank = 1;
  del.type = "FicheEDI";
  del.accepted = true;
  del.code_appli = "VFE039";
  del.state = SheetState::Brouillon;
  del.deleted = true;
  OperationOutcome sub;
  sub.rank = 2;
  sub.type = "DemandeAbonnement";
  sub.accepted = true;
  sub.subscription_request = "ABO-000017";
  OperationOutcome search;
  search.rank = 3;
  search.type = "Recherche";
  search.reference = "r1";
  search.accepted = true;
  search.export_file = "EXPORT_EDI_r1_20261129T221004Z.csv";
  ack.operations = {del, sub, search};

  const std::string xml = render_acknowledgement(ack);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  const pugi::xml_node op1 = doc.document_element().child("Operation");
  EXPECT_STREQ(op1.attribute("supprimee").value(), "true");
  EXPECT_STREQ(op1.attribute("etat").value(), "BROUILLON");
  const pugi::xml_node op2 = op1.next_sibling();
  EXPECT_FALSE(op2.attribute("supprimee"));
  EXPECT_STREQ(op2.attribute("demande").value(), "ABO-000017");
  const pugi::xml_node op3 = op2.next_sibling();
  EXPECT_STREQ(op3.attribute("export").value(), "EXPORT_EDI_r1_20261129T221004Z.csv");
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0) << xml;
}

TEST(RenderAcknowledgement, EveryErrorCodeValidatesAgainstTheXsd) {
  Acknowledgement ack;
  ack.file_name = "codes.xml";
  ack.sha256 = kSha;
  ack.status = DepositStatus::Rejete;
  OperationOutcome op;
  op.rank = 1;
  op.type = "FicheAPI";
  for (int i = 0; i <= static_cast<int>(ErrorCode::ReseauIgnore); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    op.diagnostics.push_back(is_warning_only(code) ? Diagnostic::warning(code, "x", 1, "m")
                                                   : Diagnostic::error(code, "x", 1, "m"));
  }
  ack.operations.push_back(op);
  EXPECT_EQ(xmllint_text(render_acknowledgement(ack), kXsd).status, 0);
}

TEST(RenderAcknowledgement, SchemaRejectsWhatTheContractForbids) {
  // The XSD must be able to fail: a wrong statut and a missing sha256.
  std::string xml = render_acknowledgement(partial_example());
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0);
  std::string bad_status = xml;
  bad_status.replace(bad_status.find("ACCEPTEE"), 8, "ACCEPTED");
  EXPECT_NE(xmllint_text(bad_status, kXsd).status, 0);
  std::string no_sha = xml;
  no_sha.replace(no_sha.find("sha256=\""), 8, "sha999=\"");
  EXPECT_NE(xmllint_text(no_sha, kXsd).status, 0);
}

TEST(RenderAcknowledgement, ForbiddenCharactersAreWrittenVisiblyAndOutputIsWellFormed) {
  // docs/field-cases.md F16 (a), (b), (c): 0x0B in text, 0x0C in an attribute, U+001A; plus bad UTF-8.
  Acknowledgement ack = partial_example();
  ack.identifier = std::string("LOT\x0C") + "42";
  ack.operations[0].reference = std::string("ref\x01");
  ack.operations[1].diagnostics[0].message = std::string(
      "ACME\x0BLogistique <SAS> & \"Jeanne\x1A"
      "Exemple\"");
  ack.operations[1].diagnostics[0].field = "raisonSociale\xFF";
  ack.operations[0].aife->values.emplace_back("Chemin", std::string("/as2\x1F"));

  const std::string xml = render_acknowledgement(ack);
  for (char c : xml) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_FALSE(u < 0x20 && u != '\n' && u != '\t' && u != '\r') << "raw control byte " << int(u);
  }
  EXPECT_EQ(xmllint_text(xml).status, 0) << xml;
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0) << xml;

  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  const pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.attribute("identifiant").value(), "LOT\\u000C42");
  const pugi::xml_node op2 = root.child("Operation").next_sibling("Operation");
  EXPECT_STREQ(op2.child("Erreur").text().get(), "ACME\\u000BLogistique <SAS> & \"Jeanne\\u001AExemple\"");
  EXPECT_STREQ(op2.child("Erreur").attribute("champ").value(), "raisonSociale\\xFF");
  EXPECT_STREQ(root.child("Operation").attribute("reference").value(), "ref\\u0001");
}

// The text is exactly what pugixml's writer makes of the same tree (the accusé was rendered by
// pugixml before issue 20): parsed and saved again by pugixml, it comes back byte for byte.
TEST(RenderAcknowledgement, IsTheTextPugixmlWouldWriteByteForByte) {
  Acknowledgement ack = partial_example();
  ack.identifier = std::string("LOT\x0C<42> & \"q\"\t\n\r'");
  ack.operations[0].reference = std::string("ref\x01 é");
  ack.operations[1].diagnostics[0].message = std::string("ACME\x0BLogistique <SAS> & \"Jeanne\"\n\tx\ry '");
  ack.operations[1].diagnostics[0].field = "raisonSociale\xFF";
  ack.operations[1].diagnostics.push_back(Diagnostic::warning(ErrorCode::ReseauIgnore, "", 0, ""));
  ack.operations[0].aife->values.emplace_back("Chemin", std::string("/as2\x1F"));
  ack.operations[0].aife->values.emplace_back("9 vide", "");
  OperationOutcome bare;
  bare.rank = 3;
  bare.type = "X";
  bare.accepted = true;
  bare.aife = AifeParameters{Protocol::Sftp, {}};
  ack.operations.push_back(bare);
  for (const Acknowledgement& a : {ack, Acknowledgement{}, partial_example()}) {
    const std::string xml = render_acknowledgement(a);
    pugi::xml_document doc;
    const unsigned flags =
        (pugi::parse_default | pugi::parse_declaration) & ~pugi::parse_eol & ~pugi::parse_wconv_attribute;
    ASSERT_TRUE(doc.load_string(xml.c_str(), flags)) << xml;
    std::ostringstream again;
    doc.save(again, "  ", pugi::format_default, pugi::encoding_utf8);
    EXPECT_EQ(again.str(), xml);
  }
}

/// An accusé of `operations` rejected operations named "X", each with `per_operation` errors.
Acknowledgement many_findings(int operations, int per_operation) {
  Acknowledgement ack;
  ack.file_name = "beaucoup.xml";
  ack.sha256 = kSha;
  ack.mode = DepositMode::Partielle;
  ack.status = DepositStatus::Rejete;
  for (int i = 1; i <= operations; ++i) {
    OperationOutcome op;
    op.rank = i;
    op.type = "X";
    for (int k = 1; k <= per_operation; ++k) {
      op.diagnostics.push_back(Diagnostic::error(
          ErrorCode::SchemaInvalide, "", i, "Finding " + std::to_string(k) + " of operation " + std::to_string(i)));
    }
    ack.operations.push_back(std::move(op));
  }
  return ack;
}

// docs/reference.md §5.1: at most 1,000 Erreur and Avertissement, the first in document order; erreursOmises
// says how many were left out: those given and those only counted (OperationOutcome::omitted).
TEST(RenderAcknowledgement, ListsTheFirstThousandFindingsInDocumentOrderAndCountsTheOthers) {
  Acknowledgement ack = many_findings(3, 600);
  ack.operations[1].diagnostics[599] = Diagnostic::warning(ErrorCode::ReseauIgnore, "", 2, "w");
  ack.operations[2].omitted = OmittedDiagnostics{7, 3};
  const std::string xml = render_acknowledgement(ack);
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0) << xml.substr(0, 2000);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  const pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.attribute("erreursOmises").value(), std::to_string(200 + 600 + 10).c_str());
  std::vector<int> listed;
  for (const pugi::xml_node op : root.children("Operation")) {
    int n = 0;
    for (const pugi::xml_node d : op.children()) {
      EXPECT_STREQ(d.name(), "Erreur");
      EXPECT_EQ(std::string(d.text().get()),
                "Finding " + std::to_string(++n) + " of operation " + op.attribute("rang").value());
    }
    listed.push_back(n);
  }
  EXPECT_EQ(listed, (std::vector<int>{600, 400, 0}));
  EXPECT_NE(xml.find("<Operation rang=\"3\" type=\"X\" statut=\"REJETEE\" />"), std::string::npos)
      << "an operation whose findings are all left out is still listed, REJETEE";
}

TEST(RenderAcknowledgement, NoErreursOmisesWhenExactlyTheCapIsFound) {
  const std::string xml = render_acknowledgement(many_findings(10, 100));
  EXPECT_EQ(xml.find("erreursOmises"), std::string::npos);
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0);
  Acknowledgement one_more = many_findings(10, 100);
  one_more.operations.back().omitted.warnings = 1;
  EXPECT_NE(render_acknowledgement(one_more).find(" erreursOmises=\"1\">"), std::string::npos);
}

TEST(RenderAcknowledgement, DepositLevelErrorsAreCappedToo) {
  Acknowledgement ack;
  ack.file_name = "textes.xml";
  ack.sha256 = kSha;
  ack.status = DepositStatus::Rejete;
  for (int i = 1; i <= 1500; ++i) {
    ack.deposit_errors.push_back(Diagnostic::error(ErrorCode::SchemaInvalide, "Depot", i, "Texte inattendu"));
  }
  ack.deposit_omitted.errors = 42;
  const std::string xml = render_acknowledgement(ack);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  const pugi::xml_node root = doc.document_element();
  EXPECT_EQ(std::distance(root.children("Erreur").begin(), root.children("Erreur").end()), 1000);
  EXPECT_STREQ(root.attribute("erreursOmises").value(), "542");
  EXPECT_STREQ(root.last_child().attribute("ligne").value(), "1000") << "the first ones, in order";
  EXPECT_EQ(xmllint_text(xml, kXsd).status, 0);
}

// The accusé of a dépôt of 250,000 faulty operations (issue 20: a 1 MB dépôt of empty unknown
// elements gave a 72 MB accusé): one line per Operation, 1,000 findings, the rest counted.
TEST(RenderAcknowledgement, QuarterMillionFaultyOperationsGiveABoundedAccuse) {
  const Acknowledgement ack = many_findings(250000, 1);
  const std::string xml = render_acknowledgement(ack);
  EXPECT_LT(xml.size(), 250000u * 60 + 1000u * 200) << "bytes";
  EXPECT_NE(xml.find(" erreursOmises=\"249000\">"), std::string::npos);
  EXPECT_TRUE(xml.ends_with("  <Operation rang=\"250000\" type=\"X\" statut=\"REJETEE\" />\n</Accuse>\n"));
  EXPECT_EQ(xmllint_text(xml).status, 0);
}

// The cap is decided where the findings are collected (DiagnosticBudget): the writer lists what it
// is given, and more than 1,000 in all is a caller's mistake, never an accusé listing them.
TEST(AcknowledgementWriter, RefusesMoreFindingsThanAnAccuseLists) {
  OperationOutcome op;
  op.rank = 1;
  op.type = "Utilisateur";
  for (int i = 0; i < 600; ++i) {
    op.diagnostics.push_back(Diagnostic::error(ErrorCode::SchemaInvalide, "login", i + 1, "manque"));
  }
  AcknowledgementWriter writer;
  writer.operation(op);
  op.rank = 2;
  EXPECT_THROW(writer.operation(op), std::logic_error);
  AcknowledgementWriter deposit_level;
  for (int i = 0; i < 1000; ++i) deposit_level.deposit_error(op.diagnostics[0]);
  EXPECT_THROW(deposit_level.deposit_error(op.diagnostics[0]), std::logic_error);
}

// complete mode rolled back (AcknowledgementWriter::reject_all): exactly the accusé of the same
// operations given REJETEE, without their codes and ParametresAIFE, each keeping its findings.
TEST(AcknowledgementWriter, RejectAllGivesTheAccuseOfEveryOperationRejected) {
  Acknowledgement ack = partial_example();
  ack.mode = DepositMode::Complete;
  ack.status = DepositStatus::Rejete;
  OperationOutcome plain;
  plain.rank = 3;
  plain.type = "Utilisateur";
  plain.reference = "u\"1";
  plain.accepted = true;
  OperationOutcome search;
  search.rank = 4;
  search.type = "Recherche";
  search.accepted = true;
  search.export_file = "EXPORT_EDI_r_20261129T221004Z.csv";
  search.aife = AifeParameters{Protocol::Sftp, {{"Port", "22"}}};
  OperationOutcome deleted;
  deleted.rank = 5;
  deleted.type = "FicheEDI";
  deleted.accepted = true;
  deleted.code_appli = "VFE001";
  deleted.state = SheetState::Brouillon;
  deleted.deleted = true;
  deleted.subscription_request = "ABO-000001";
  deleted.diagnostics.push_back(Diagnostic::warning(ErrorCode::ReseauIgnore, "Reseau", 3, "ignoré"));
  ack.operations.push_back(plain);
  ack.operations.push_back(search);
  ack.operations.push_back(deleted);
  ack.operations.push_back(ack.operations[1]);  // a rejected one last
  ack.operations.back().rank = 6;

  AcknowledgementWriter writer(0, true);
  for (const OperationOutcome& op : ack.operations) writer.operation(op);
  writer.reject_all();
  const std::string patched = writer.finish(ack);

  Acknowledgement rejected = ack;
  for (OperationOutcome& op : rejected.operations) {
    op.accepted = false;
    op.code_appli.reset();
    op.state.reset();
    op.deleted = false;
    op.subscription_request.reset();
    op.export_file.reset();
    op.aife.reset();
  }
  EXPECT_EQ(patched, render_acknowledgement(rejected));
  EXPECT_EQ(xmllint_text(patched, kXsd).status, 0) << patched;
  EXPECT_THROW(writer.operation(plain), std::logic_error);
  AcknowledgementWriter partial;
  EXPECT_THROW(partial.reject_all(), std::logic_error);
}

TEST(SanitizeXmlText, KeepsValidTextAndAccents) {
  EXPECT_EQ(sanitize_xml_text("Désactivée\tà\r\n€ 😀"), "Désactivée\tà\r\n€ 😀");
  EXPECT_EQ(sanitize_xml_text(""), "");
}

TEST(SanitizeXmlText, ReplacesForbiddenCodePointsAndBadBytes) {
  EXPECT_EQ(sanitize_xml_text(std::string("a\x0B"
                                          "b")),
            "a\\u000Bb");
  EXPECT_EQ(sanitize_xml_text(std::string("\x1A")), "\\u001A");
  EXPECT_EQ(sanitize_xml_text(std::string("x\0y", 3)), "x\\u0000y");
  EXPECT_EQ(sanitize_xml_text("\xEF\xBF\xBE"), "\\uFFFE");                   // U+FFFE
  EXPECT_EQ(sanitize_xml_text("\xEF\xBF\xBF"), "\\uFFFF");                   // U+FFFF
  EXPECT_EQ(sanitize_xml_text("caf\xE9"), "caf\\xE9");                       // latin-1 byte
  EXPECT_EQ(sanitize_xml_text("\xC0\xAF"), "\\xC0\\xAF");                    // overlong '/'
  EXPECT_EQ(sanitize_xml_text("\xED\xA0\x80"), "\\xED\\xA0\\x80");           // surrogate U+D800
  EXPECT_EQ(sanitize_xml_text("\xE2\x82"), "\\xE2\\x82");                    // truncated sequence
  EXPECT_EQ(sanitize_xml_text("\xF4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80");  // beyond U+10FFFF
}

TEST(AcknowledgementBaseName, StemWithoutLastExtensionAndCompactInstant) {
  EXPECT_EQ(acknowledgement_base_name("lot42.xml", utc(2026, 11, 29, 22, 10, 4)), "ACK_lot42_20261129T221004Z");
  EXPECT_EQ(acknowledgement_base_name("a.b.xml", utc(2026, 11, 29, 22, 10, 4)), "ACK_a.b_20261129T221004Z");
  EXPECT_EQ(acknowledgement_base_name("LOT.XML", utc(2026, 1, 2, 3, 4, 5)), "ACK_LOT_20260102T030405Z");
  EXPECT_EQ(acknowledgement_base_name("sans_extension", utc(2026, 1, 2, 3, 4, 5)),
            "ACK_sans_extension_20260102T030405Z");
}

}  // namespace
}  // namespace raccord::outbox
