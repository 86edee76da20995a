// Dépôt-driven tests of engine/processor.cpp (apply_deposit): every operation-level code of SPEC.md
// §4 from a realistic dépôt (code, champ, ligne), the lifecycle of SPEC.md §3.3 with its history,
// enregistrer's warnings, the complete and partielle modes (SPEC.md §3) and the store's effects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "tests/support/engine_fixture.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string sheet_depot(const SheetSpec& spec, std::string_view attributes = "") {
  return depot_xml(sheet_xml(spec), attributes);
}

std::string bundle(const std::vector<std::string>& der) { return TestPki::base64(TestPki::pkcs7_der(der)); }

SheetSpec sftp_with_leaf(const LeafOptions& leaf) {
  SheetSpec s = sftp_sheet();
  s.certificates = {TestPki::instance().bundle_base64(leaf)};
  return s;
}

// ---------------------------------------------------------------------------------------------
// Every operation-level code of SPEC.md §4, one dépôt each.

struct CodeCase {
  std::string name;
  std::string code;
  std::string champ;
  std::string needle;  // a text on the line the diagnostic must point at
  std::function<std::string()> depot;
  std::function<std::string()> setup = {};  // operations of a preliminary dépôt (must be INTEGRE)
  bool warning = false;
};

void PrintTo(const CodeCase& c, std::ostream* os) { *os << c.name; }

StructureSpec acme() { return StructureSpec{}; }

std::vector<CodeCase> code_cases() {
  std::vector<CodeCase> cases;
  auto sheet_case = [&cases](std::string name, std::string code, std::string champ, std::string needle,
                             std::function<SheetSpec()> spec, std::function<std::string()> setup = {},
                             bool warning = false) {
    cases.push_back(CodeCase{std::move(name), std::move(code), std::move(champ), std::move(needle),
                             [spec] { return sheet_depot(spec()); }, std::move(setup), warning});
  };
  auto leaf_case = [&sheet_case](std::string name, std::string code, LeafOptions leaf, bool warning = false) {
    sheet_case(std::move(name), std::move(code), "Certificats/Certificat[1]", "<Certificat ",
               [leaf] { return sftp_with_leaf(leaf); }, {}, warning);
  };

  cases.push_back(CodeCase{"SchemaInvalideOperation", "SCHEMA_INVALIDE", "@couleur", "couleur=", [] {
                             return depot_xml(
                                 R"(  <Utilisateur demandeur="support.n1" login="z.z" email="z@exemple.fr" couleur="bleu"/>)"
                                 "\n");
                           }});
  sheet_case("SiretInvalide", "SIRET_INVALIDE", "Partenaire", "<Partenaire>", [] {
    SheetSpec s = sftp_sheet();
    s.partner = "12345678200011";
    return s;
  });
  sheet_case("StructureInconnue", "STRUCTURE_INCONNUE", "Partenaire", "<Partenaire>", [] {
    SheetSpec s = sftp_sheet();
    s.partner = kUnknownSiret;
    return s;
  });
  sheet_case(
      "StructureInactive", "STRUCTURE_INACTIVE", "Partenaire", "<Partenaire>", sftp_sheet, [] {
        StructureSpec s = acme();
        s.statut = "INACTIF";
        return structure_xml(s);
      });
  sheet_case("UtilisateurInconnuDemandeur", "UTILISATEUR_INCONNU", "@demandeur", "demandeur=", [] {
    SheetSpec s = sftp_sheet();
    s.demandeur = "inconnu.z";
    return s;
  });
  cases.push_back(CodeCase{"UtilisateurInconnuGestionnaire", "UTILISATEUR_INCONNU", "Gestionnaire[2]/@login",
                           "fantome", [] {
                             StructureSpec s = acme();
                             s.managers.emplace_back("fantome", "secondaire");
                             return depot_xml(structure_xml(s));
                           }});
  sheet_case("EspaceNonActiveFiche", "ESPACE_NON_ACTIVE", "Partenaire", "<Partenaire>", [] {
    SheetSpec s = sftp_sheet();
    s.demandeur = kManager;
    s.partner = kNoSpace;
    return s;
  });
  cases.push_back(CodeCase{"EspaceNonActiveAbonnement", "ESPACE_NON_ACTIVE", "@structure", "<DemandeAbonnement",
                           [] { return depot_xml(subscription_request_xml(kSubscriber, kNoSpace)); }});
  sheet_case("DroitInsuffisantFiche", "DROIT_INSUFFISANT", "@demandeur", "demandeur=", [] {
    SheetSpec s = sftp_sheet();
    s.demandeur = kOutsider;
    return s;
  });
  sheet_case("DroitInsuffisantFicheSupport", "DROIT_INSUFFISANT", "@demandeur", "demandeur=", [] {
    SheetSpec s = sftp_sheet();
    s.demandeur = kSupport;  // support users consult every structure but modify none (SPEC.md §3.2)
    return s;
  });
  cases.push_back(CodeCase{"DroitInsuffisantEspace", "DROIT_INSUFFISANT", "@demandeur", "<ActivationEspace",
                           [] { return depot_xml(activation_xml(kSubscriber, kNoSpace)); }});
  cases.push_back(CodeCase{"DroitInsuffisantDecision", "DROIT_INSUFFISANT", "@demandeur", "<DecisionAbonnement",
                           [] { return depot_xml(decision_xml(kSubscriber, "ABO-000002")); },
                           [] { return subscription_request_xml(kOutsider, kAcme); }});
  cases.push_back(CodeCase{"DroitInsuffisantAnnuaire", "DROIT_INSUFFISANT", "@demandeur", "<Utilisateur",
                           [] { return depot_xml(user_xml("nouveau.u", false, kManager)); }});
  sheet_case("PrerequisQualification", "PREREQUIS_QUALIFICATION", "Partenaire", "<Partenaire>", sftp_sheet, [] {
    StructureSpec s = acme();
    s.qualification = false;
    return structure_xml(s);
  });
  sheet_case("TiersTeletransmission", "TIERS_TELETRANSMISSION", "Partenaire", "<Partenaire>", sftp_sheet, [] {
    StructureSpec s = acme();
    s.tiers = true;
    return structure_xml(s);
  });
  sheet_case("UtilisateurTechniqueAbsent", "UTILISATEUR_TECHNIQUE_ABSENT", "Partenaire", "<Partenaire>", api_sheet,
             [] {
               StructureSpec s = acme();
               s.technical_users.clear();
               return structure_xml(s);
             });
  sheet_case("ProtocoleInvalide", "PROTOCOLE_INVALIDE", "Protocole", "<Protocole>", [] {
    SheetSpec s = sftp_sheet();
    s.protocol = "FTP";
    return s;
  });
  sheet_case("PeriodeInvalide", "PERIODE_INVALIDE", "Periode/@au", "<Periode", [] {
    SheetSpec s = sftp_sheet();
    s.period_to = "2026-11-30";  // after the processing date, but before du
    return s;
  });
  sheet_case("ContactIncomplet", "CONTACT_INCOMPLET", "ContactTechnique/@telephone", "<ContactTechnique", [] {
    SheetSpec s = sftp_sheet();
    s.contact_phone.clear();
    return s;
  });
  sheet_case("EmailInvalide", "EMAIL_INVALIDE", "ContactTechnique/@email", "<ContactTechnique", [] {
    SheetSpec s = sftp_sheet();
    s.contact_email = "pas-un-email";
    return s;
  });
  sheet_case("TelephoneInvalide", "TELEPHONE_INVALIDE", "ContactTechnique/@telephone", "<ContactTechnique", [] {
    SheetSpec s = sftp_sheet();
    s.contact_phone = "12";
    return s;
  });
  sheet_case("ReseauIncomplet", "RESEAU_INCOMPLET", "Reseau/Port", "<Port>", [] {
    SheetSpec s = as2_sheet();
    s.network_port = "";
    return s;
  });
  sheet_case("AdresseIpInvalide", "ADRESSE_IP_INVALIDE", "Reseau/AdresseIP", "<AdresseIP>", [] {
    SheetSpec s = as2_sheet();
    s.network_address = "203.0.113.010";
    return s;
  });
  sheet_case("PortInvalide", "PORT_INVALIDE", "Reseau/Port", "<Port>", [] {
    SheetSpec s = as2_sheet();
    s.network_port = "70000";
    return s;
  });
  sheet_case("CodeInterfaceInconnu", "CODE_INTERFACE_INCONNU", "CodesInterface/Interface[2]/@code", "FSO9999Z", [] {
    SheetSpec s = sftp_sheet();
    s.interfaces.emplace_back("FSO9999Z", "complete");
    return s;
  });
  sheet_case("CodeInterfaceQualification", "CODE_INTERFACE_QUALIFICATION", "CodesInterface/Interface[1]/@code",
             "FSO1300A", [] {
               SheetSpec s = sftp_sheet();
               s.interfaces = {{"FSO1300A", "complete"}};
               return s;
             });
  sheet_case("AucunFluxRaccorde", "AUCUN_FLUX_RACCORDE", "CodesInterface", "<CodesInterface>", [] {
    SheetSpec s = sftp_sheet();
    s.interfaces = {{"FSO1100A", "aucun"}, {"FSO1101A", "aucun"}};
    return s;
  });
  sheet_case("FicheInconnue", "FICHE_INCONNUE", "@codeAppli", "codeAppli=", [] {
    SheetSpec s = sftp_sheet();
    s.code_appli = "VFE999";
    return s;
  });
  sheet_case(
      "TransitionInterdite", "TRANSITION_INTERDITE", "@action", "<FicheEDI",
      [] {
        SheetSpec s = sftp_sheet();
        s.code_appli = "VFE001";  // ENVOYEE (setup)
        return s;
      },
      [] { return sheet_xml(sftp_sheet()); });
  cases.push_back(CodeCase{"AbonnementInconnu", "ABONNEMENT_INCONNU", "@demande", "<DecisionAbonnement",
                           [] { return depot_xml(decision_xml(kManager, "ABO-000099")); }});
  cases.push_back(CodeCase{"AbonnementDejaDecide", "ABONNEMENT_INCONNU", "@demande", "<DecisionAbonnement",
                           [] { return depot_xml(decision_xml(kManager, "ABO-000001", "refuser")); }});
  sheet_case("CertAbsent", "CERT_ABSENT", "Certificats", "<FicheEDI", [] {
    SheetSpec s = sftp_sheet();
    s.certificates_element = false;
    return s;
  });
  sheet_case("CertNombre", "CERT_NOMBRE", "Certificats", "<Certificats>", [] {
    SheetSpec s = sftp_sheet();
    s.certificates.push_back(valid_bundle("SFTP"));  // SFTP takes exactly one
    return s;
  });
  sheet_case("CertFormatBarePem", "CERT_FORMAT", "Certificats/Certificat[1]", "<Certificat ", [] {
    SheetSpec s = sftp_sheet();
    s.certificates = {TestPki::certificates_pem({TestPki::instance().leaf_der(), TestPki::instance().intermediate_der()})};
    return s;
  });
  LeafOptions expired;
  expired.not_after = "2025-12-31T23:59:59Z";
  leaf_case("CertExpire", "CERT_EXPIRE", expired);
  LeafOptions future;
  future.not_before = "2027-01-01T00:00:00Z";
  leaf_case("CertPasEncoreValide", "CERT_PAS_ENCORE_VALIDE", future);
  sheet_case("CertAutosigne", "CERT_AUTOSIGNE", "Certificats/Certificat[1]", "<Certificat ", [] {
    LeafOptions self;
    self.self_signed = true;
    SheetSpec s = sftp_sheet();
    s.certificates = {bundle({TestPki::instance().leaf_der(self)})};
    return s;
  });
  sheet_case("CertAutoriteNonReconnue", "CERT_AUTORITE_NON_RECONNUE", "Certificats/Certificat[1]", "<Certificat ",
             [] {
               const auto& pki = TestPki::instance();
               SheetSpec s = sftp_sheet();
               s.certificates = {bundle({pki.other_intermediate().leaf_der(), pki.other_intermediate().der(),
                                         pki.other_root().der()})};
               return s;
             });
  sheet_case("CertChaineIncomplete", "CERT_CHAINE_INCOMPLETE", "Certificats/Certificat[1]", "<Certificat ", [] {
    SheetSpec s = sftp_sheet();
    s.certificates = {bundle({TestPki::instance().leaf_der()})};  // the intermediate is missing
    return s;
  });
  LeafOptions server_only;
  server_only.client_auth = false;
  server_only.server_auth = true;
  leaf_case("CertUsage", "CERT_USAGE", server_only);
  LeafOptions weak_key;
  weak_key.rsa_bits = 1024;
  leaf_case("CertCleFaible", "CERT_CLE_FAIBLE", weak_key);
  LeafOptions sha1;
  sha1.digest = "sha1";
  leaf_case("CertSignatureFaible", "CERT_SIGNATURE_FAIBLE", sha1);
  LeafOptions soon;
  soon.not_after = "2026-12-10T00:00:00Z";
  leaf_case("CertExpireBientot", "CERT_EXPIRE_BIENTOT", soon, true);
  LeafOptions no_eku;
  no_eku.eku = false;
  leaf_case("CertSansEku", "CERT_SANS_EKU", no_eku, true);
  sheet_case(
      "ReseauIgnore", "RESEAU_IGNORE", "Reseau", "<Reseau>",
      [] {
        SheetSpec s = sftp_sheet();
        s.network = true;
        return s;
      },
      {}, true);
  return cases;
}

class CodeTest : public EngineTest, public ::testing::WithParamInterface<CodeCase> {};

TEST_P(CodeTest, DepositAnswersTheCodeWithFieldAndLine) {
  const CodeCase& c = GetParam();
  start();
  setup_world();
  if (c.setup) {
    const ParsedAck pre = process("01_preparation.xml", depot_xml(c.setup()));
    ASSERT_EQ(pre.statut, "INTEGRE") << pre.xml;
  }
  const std::int64_t sheets_before = count("SELECT COUNT(*) FROM sheets");
  const std::int64_t versions_before = count("SELECT COUNT(*) FROM sheet_versions");
  const std::string xml = c.depot();
  const ParsedAck ack = process("02_depot.xml", xml);
  ASSERT_EQ(ack.operations.size(), 1u) << ack.xml;
  const AckOperation& op = ack.operations[0];
  const AckDiagnostic* d = op.find(c.code);
  ASSERT_NE(d, nullptr) << c.code << " absent:\n" << ack.xml;
  EXPECT_EQ(d->error, !c.warning) << ack.xml;
  EXPECT_EQ(d->champ, c.champ) << ack.xml;
  EXPECT_EQ(d->ligne, line_of(xml, c.needle)) << c.needle << "\n" << ack.xml << "\n" << xml;
  EXPECT_FALSE(d->message.empty());
  EXPECT_THAT(ack.errors, IsEmpty());
  if (c.warning) {
    EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
    EXPECT_EQ(op.statut, "ACCEPTEE");
    EXPECT_THAT(op.error_codes(), IsEmpty()) << ack.xml;
    EXPECT_EQ(op.etat, "ENVOYEE");
    EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), sheets_before + 1);
  } else {
    EXPECT_EQ(ack.statut, "REJETE") << ack.xml;
    EXPECT_EQ(op.statut, "REJETEE");
    EXPECT_TRUE(op.code_appli.empty());
    EXPECT_TRUE(op.etat.empty());
    // Nothing applied.
    EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), sheets_before);
    EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_versions"), versions_before);
  }
}

INSTANTIATE_TEST_SUITE_P(Spec4, CodeTest, ::testing::ValuesIn(code_cases()),
                         [](const ::testing::TestParamInfo<CodeCase>& p) { return p.param.name; });

}  // namespace
}  // namespace raccord::testing
