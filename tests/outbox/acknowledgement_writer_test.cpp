// Tests of outbox/acknowledgement_writer.cpp (SPEC.md §5.1; FIELD-CASES F04, F06, F16).
// acknowledgement_writer.hpp uses Instant without including its header: include it first.
// clang-format off
#include "domain/civil_date.hpp"
#include "outbox/acknowledgement_writer.hpp"
// clang-format on

#include <gtest/gtest.h>

#include <filesystem>
#include <pugixml.hpp>
#include <string>

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
  // The example of SPEC.md §5.1.
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
  // FIELD-CASES F06: a zero-byte file is answered REJETE with FICHIER_VIDE at dépôt level.
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
  // FIELD-CASES F04: the byte-identical copy gets an explicit DOUBLON naming the original.
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
  // FIELD-CASES F16 (a), (b), (c): 0x0B in text, 0x0C in an attribute, U+001A; plus bad UTF-8.
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
