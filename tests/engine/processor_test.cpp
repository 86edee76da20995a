// Dépôt-driven tests of engine/processor.cpp (apply_deposit): every operation-level code of docs/reference.md
// §4 from a realistic dépôt (code, champ, ligne), the lifecycle of docs/reference.md §3.3 with its history,
// enregistrer's warnings, the complete and partielle modes (docs/reference.md §3) and the store's effects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <vector>

#include "tests/support/engine_fixture.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

std::string sheet_depot(const SheetSpec& spec, std::string_view attributes = "") {
  return depot_xml(sheet_xml(spec), attributes);
}

std::string bundle(const std::vector<std::string>& der) {
  return TestPki::base64(TestPki::pkcs7_der(der));
}

SheetSpec sftp_with_leaf(const LeafOptions& leaf) {
  SheetSpec s = sftp_sheet();
  s.certificates = {TestPki::instance().bundle_base64(leaf)};
  return s;
}

// ---------------------------------------------------------------------------------------------
// Every operation-level code of docs/reference.md §4, one dépôt each.

struct CodeCase {
  std::string name;
  std::string code;
  std::string champ;
  std::string needle;  // a text on the line the diagnostic must point at
  std::function<std::string()> depot;
  std::function<std::string()> setup = {};  // operations of a preliminary dépôt (must be INTEGRE)
  bool warning = false;
  std::function<void(Config&)> configure = {};  // before the engine starts (its root is set)
};

void PrintTo(const CodeCase& c, std::ostream* os) {  // NOLINT(readability-identifier-naming): GoogleTest's name
  *os << c.name;
}

// Revocation (docs/revocation.md): CRLs of the test PKI current at the engine's instant (2026-11-29), written
// into the default crl_dir (<root>/crl); the intermediate's lists revoked_leaf().
const std::string& revoked_leaf() {
  static const std::string der = TestPki::instance().leaf_der();
  return der;
}

void write_current_crls(const Config& config, const std::vector<CrlEntry>& intermediate_entries) {
  const auto& pki = TestPki::instance();
  CrlOptions o;
  o.this_update = "2026-11-28T00:00:00Z";
  o.next_update = "2026-12-05T00:00:00Z";
  const std::filesystem::path dir = config.root / "crl";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "root.crl", std::ios::binary) << TestPki::crl_pem({pki.root().crl_der(o)});
  o.entries = intermediate_entries;
  std::ofstream(dir / "intermediate.crl", std::ios::binary) << TestPki::crl_pem({pki.intermediate().crl_der(o)});
}

StructureSpec acme() {
  return StructureSpec{};
}

std::vector<CodeCase> code_cases() {
  std::vector<CodeCase> cases;
  auto sheet_case = [&cases](std::string name, std::string code, std::string champ, std::string needle,
                             const std::function<SheetSpec()>& spec, std::function<std::string()> setup = {},
                             bool warning = false) {
    cases.push_back(CodeCase{std::move(name), std::move(code), std::move(champ), std::move(needle),
                             [spec] { return sheet_depot(spec()); }, std::move(setup), warning});
  };
  auto leaf_case = [&sheet_case](std::string name, std::string code, const LeafOptions& leaf, bool warning = false) {
    sheet_case(
        std::move(name), std::move(code), "Certificats/Certificat[1]", "<Certificat ",
        [leaf] { return sftp_with_leaf(leaf); }, {}, warning);
  };

  cases.push_back(CodeCase{
      "SchemaInvalideOperation", "SCHEMA_INVALIDE", "@couleur", "couleur=", [] {
        return depot_xml(R"(  <Utilisateur demandeur="support.n1" login="z.z" email="z@exemple.fr" couleur="bleu"/>)"
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
  sheet_case("StructureInactive", "STRUCTURE_INACTIVE", "Partenaire", "<Partenaire>", sftp_sheet, [] {
    StructureSpec s = acme();
    s.statut = "INACTIF";
    return structure_xml(s);
  });
  sheet_case("UtilisateurInconnuDemandeur", "UTILISATEUR_INCONNU", "@demandeur", "demandeur=", [] {
    SheetSpec s = sftp_sheet();
    s.demandeur = "inconnu.z";
    return s;
  });
  cases.push_back(
      CodeCase{"UtilisateurInconnuGestionnaire", "UTILISATEUR_INCONNU", "Gestionnaire[2]/@login", "fantome", [] {
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
    s.demandeur = kSupport;  // support users consult every structure but modify none (docs/reference.md §3.2)
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
  sheet_case("UtilisateurTechniqueAbsent", "UTILISATEUR_TECHNIQUE_ABSENT", "Partenaire", "<Partenaire>", api_sheet, [] {
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
    s.certificates = {
        TestPki::certificates_pem({TestPki::instance().leaf_der(), TestPki::instance().intermediate_der()})};
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
  sheet_case("CertAutoriteNonReconnue", "CERT_AUTORITE_NON_RECONNUE", "Certificats/Certificat[1]", "<Certificat ", [] {
    const auto& pki = TestPki::instance();
    SheetSpec s = sftp_sheet();
    s.certificates = {
        bundle({pki.other_intermediate().leaf_der(), pki.other_intermediate().der(), pki.other_root().der()})};
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
  LeafOptions before_period;
  before_period.not_after = "2026-11-30T23:59:59Z";  // valid today (2026-11-29), ends before du (2026-12-01)
  leaf_case("CertExpireAvantPeriode", "CERT_EXPIRE_AVANT_PERIODE", before_period);
  cases.push_back(
      CodeCase{"CertRevoque",
               "CERT_REVOQUE",
               "Certificats/Certificat[1]",
               "<Certificat ",
               [] {
                 SheetSpec s = sftp_sheet();
                 s.certificates = {bundle({revoked_leaf(), TestPki::instance().intermediate_der()})};
                 return sheet_depot(s);
               },
               {},
               false,
               [](Config& config) { write_current_crls(config, {CrlEntry{TestPki::serial_hex(revoked_leaf())}}); }});
  // No CRL at all: unknown, a warning under souple (the default), an error under stricte.
  leaf_case("CertRevocationInconnueSouple", "CERT_REVOCATION_INCONNUE", LeafOptions{}, true);
  cases.push_back(CodeCase{"CertRevocationInconnueStricte",
                           "CERT_REVOCATION_INCONNUE",
                           "Certificats/Certificat[1]",
                           "<Certificat ",
                           [] { return sheet_depot(sftp_with_leaf(LeafOptions{})); },
                           {},
                           false,
                           [](Config& config) { config.revocation = rules::RevocationMode::Stricte; }});
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
  if (c.configure) c.configure(config_);
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

// ---------------------------------------------------------------------------------------------
// Errors hiding errors (issue 18, item 6): `<Protocole>sftp</Protocole>` gave PROTOCOLE_INVALIDE and
// hid CERT_ABSENT until it was fixed. An invalid protocol (any spelling) now hides only the rules
// that depend on it, and its message names them.

struct IndependentCase {
  std::string name;  // also the operation's reference
  std::function<void(SheetSpec&)> change;
  std::string code;  // reported next to PROTOCOLE_INVALIDE; empty: a check that waits for the protocol
  bool warning = false;
};

std::vector<IndependentCase> independent_cases() {
  const auto& pki = TestPki::instance();
  const auto leaf = [](const LeafOptions& o) {
    return [o](SheetSpec& s) { s.certificates = {TestPki::instance().bundle_base64(o)}; };
  };
  LeafOptions expired;
  expired.not_after = "2025-12-31T23:59:59Z";
  LeafOptions future;
  future.not_before = "2027-01-01T00:00:00Z";
  LeafOptions weak_key;
  weak_key.rsa_bits = 1024;
  LeafOptions sha1;
  sha1.digest = "sha1";
  LeafOptions soon;
  soon.not_after = "2026-12-10T00:00:00Z";
  LeafOptions no_eku;
  no_eku.eku = false;
  LeafOptions server_only;
  server_only.client_auth = false;
  server_only.server_auth = true;
  LeafOptions self;
  self.self_signed = true;
  return {
      {"cert-absent", [](SheetSpec& s) { s.certificates_element = false; }, "CERT_ABSENT"},
      {"cert-vide", [](SheetSpec& s) { s.certificates = {""}; }, "CERT_ABSENT"},
      {"cert-format",
       [&pki](SheetSpec& s) {
         s.certificates = {TestPki::certificates_pem({pki.leaf_der(), pki.intermediate_der()})};
       },
       "CERT_FORMAT"},
      {"cert-expire", leaf(expired), "CERT_EXPIRE"},
      {"cert-pas-encore", leaf(future), "CERT_PAS_ENCORE_VALIDE"},
      {"cert-autosigne", [&pki, self](SheetSpec& s) { s.certificates = {bundle({pki.leaf_der(self)})}; },
       "CERT_AUTOSIGNE"},
      {"cert-chaine", [&pki](SheetSpec& s) { s.certificates = {bundle({pki.leaf_der()})}; }, "CERT_CHAINE_INCOMPLETE"},
      {"cert-cle", leaf(weak_key), "CERT_CLE_FAIBLE"},
      {"cert-signature", leaf(sha1), "CERT_SIGNATURE_FAIBLE"},
      // More than two Certificat elements: wrong for every protocol.
      {"cert-trois",
       [](SheetSpec& s) {
         s.certificates = {valid_bundle("AS2"), valid_bundle("AS2"), valid_bundle("AS2")};
       },
       "CERT_NOMBRE"},
      {"periode", [](SheetSpec& s) { s.period_to = "2026-11-30"; }, "PERIODE_INVALIDE"},
      {"contact", [](SheetSpec& s) { s.contact_phone.clear(); }, "CONTACT_INCOMPLET"},
      {"email", [](SheetSpec& s) { s.contact_email = "pas-un-email"; }, "EMAIL_INVALIDE"},
      {"telephone", [](SheetSpec& s) { s.contact_phone = "12"; }, "TELEPHONE_INVALIDE"},
      {"interface", [](SheetSpec& s) { s.interfaces.emplace_back("FSO9999Z", "complete"); }, "CODE_INTERFACE_INCONNU"},
      {"aucun-flux",
       [](SheetSpec& s) {
         s.interfaces = {{"FSO1100A", "aucun"}};
       },
       "AUCUN_FLUX_RACCORDE"},
      {"expire-bientot", leaf(soon), "CERT_EXPIRE_BIENTOT", true},
      {"sans-eku", leaf(no_eku), "CERT_SANS_EKU", true},
      // What waits for a valid protocol: purposes, 1 or 2 certificates, the network block.
      {"usage", leaf(server_only), ""},
      {"deux-certificats",
       [](SheetSpec& s) {
         s.certificates = {valid_bundle("AS2"), valid_bundle("AS2")};
       },
       ""},
      {"reseau-port",
       [](SheetSpec& s) {
         s.network = true;
         s.network_port = "70000";
       },
       ""},
      {"reseau-incomplet",
       [](SheetSpec& s) {
         s.network = true;
         s.network_address.clear();
       },
       ""},
  };
}

class InvalidProtocolTest : public EngineTest, public ::testing::WithParamInterface<std::optional<std::string>> {};

TEST_P(InvalidProtocolTest, HidesOnlyTheRulesThatDependOnTheProtocol) {
  // Every diagnostic is compared; no CRL here, so souple would add CERT_REVOCATION_INCONNUE warnings.
  config_.revocation = rules::RevocationMode::Aucune;
  start();
  setup_world();
  const auto cases = independent_cases();
  std::string operations;
  for (const auto& c : cases) {
    SheetSpec spec = sftp_sheet();
    spec.protocol = GetParam();
    spec.reference = c.name;
    c.change(spec);
    operations += sheet_xml(spec);
  }
  const ParsedAck ack = process("protocole.xml", depot_xml(operations, "mode=\"partielle\""));
  ASSERT_EQ(ack.operations.size(), cases.size()) << ack.xml;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const IndependentCase& c = cases[i];
    const AckOperation& op = ack.operations[i];
    SCOPED_TRACE(c.name);
    ASSERT_EQ(op.reference, c.name);
    EXPECT_EQ(op.statut, "REJETEE");
    if (c.code.empty() || c.warning) {
      EXPECT_THAT(op.error_codes(), ElementsAre("PROTOCOLE_INVALIDE")) << ack.xml;
    } else {
      EXPECT_THAT(op.error_codes(), ::testing::UnorderedElementsAre("PROTOCOLE_INVALIDE", c.code)) << ack.xml;
    }
    if (c.warning) {
      EXPECT_THAT(op.warning_codes(), ElementsAre(c.code)) << ack.xml;
    } else {
      EXPECT_THAT(op.warning_codes(), IsEmpty()) << ack.xml;
    }
    const AckDiagnostic* protocol = op.find("PROTOCOLE_INVALIDE");
    ASSERT_NE(protocol, nullptr);
    EXPECT_EQ(protocol->champ, "Protocole");
    // The message says which checks waited for a valid protocol.
    for (const char* waiting : {"nombre de certificats", "usages", "<Reseau>", "tous les autres contrôles"}) {
      EXPECT_THAT(protocol->message, ::testing::HasSubstr(waiting));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Issue18, InvalidProtocolTest,
                         ::testing::Values(std::optional<std::string>("sftp"), std::optional<std::string>("As2"),
                                           std::optional<std::string>("pesit"), std::optional<std::string>("FTP"),
                                           std::optional<std::string>(""), std::optional<std::string>()),
                         [](const ::testing::TestParamInfo<std::optional<std::string>>& p) {
                           if (!p.param) return std::string("Absent");
                           if (p.param->empty()) return std::string("Vide");
                           return std::string("Valeur_") + *p.param;
                         });

// ---------------------------------------------------------------------------------------------
// The lifecycle of docs/reference.md §3.3, driven by dépôts, with the store's versions and history.

/// `<FicheEDI|FicheAPI demandeur action codeAppli><Partenaire/></...>`: supprimer and desactiver
/// need nothing else (docs/reference.md §3.3).
std::string action_xml(const std::string& action, const std::string& code_appli, bool api = false,
                       const std::string& demandeur = kSubscriber) {
  const std::string element = api ? "FicheAPI" : "FicheEDI";
  return "  <" + element + " demandeur=\"" + demandeur + "\" action=\"" + action + "\" codeAppli=\"" + code_appli +
         "\">\n    <Partenaire>" + kAcme + "</Partenaire>\n  </" + element + ">\n";
}

class LifecycleTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    // These tests compare every diagnostic; they have no CRL, so the default revocation mode (souple) would
    // add CERT_REVOCATION_INCONNUE warnings to every valid chain. Revocation is tested on its own (CodeTest,
    // NightlyRevocationTest).
    config_.revocation = rules::RevocationMode::Aucune;
    start();
    setup_world();
  }

  /// Processes a dépôt of `operations` (a unique identifiant keeps equal bodies from being DOUBLON).
  ParsedAck run(const std::string& operations, const std::string& attributes = "") {
    ++n_;
    return process("lot_" + std::to_string(n_) + ".xml",
                   depot_xml(operations, "identifiant=\"LC-" + std::to_string(n_) + "\" " + attributes));
  }
  /// The single operation of a one-operation dépôt.
  AckOperation run_one(const std::string& operation) {
    const ParsedAck ack = run(operation);
    if (ack.operations.size() != 1) {
      ADD_FAILURE() << ack.xml;
      return {};
    }
    return ack.operations[0];
  }
  AckOperation sheet(SheetSpec spec, const std::string& action, const std::string& code_appli = "") {
    spec.action = action;
    spec.code_appli = code_appli;
    return run_one(sheet_xml(spec));
  }
  std::int64_t version(const std::string& code_appli, const char* column) {
    auto row = db().query_one(std::string("SELECT ") + column + " FROM sheets WHERE code_appli = $1", {code_appli});
    return row && !row->is_null(0) ? row->integer(0) : -1;
  }
  std::string version_email(std::int64_t version_id) {
    auto row = db().query_one("SELECT contact_email FROM sheet_versions WHERE id = $1", {version_id});
    return row ? row->text(0) : std::string();
  }

  int n_ = 0;
};

TEST_F(LifecycleTest, EnregistrerNewThenOnBrouillonKeepsBrouillonWithANewVersion) {
  const AckOperation first = sheet(sftp_sheet(), "enregistrer");
  ASSERT_EQ(first.statut, "ACCEPTEE");
  EXPECT_EQ(first.code_appli, "VFE001");
  EXPECT_EQ(first.etat, "BROUILLON");
  EXPECT_EQ(first.aife_protocole, "SFTP");
  EXPECT_EQ(state_of("VFE001"), "BROUILLON");
  const std::int64_t v1 = version("VFE001", "pending_version");
  EXPECT_GT(v1, 0);
  EXPECT_EQ(version("VFE001", "active_version"), -1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets WHERE submitted_at IS NOT NULL"), 0);

  SheetSpec changed = sftp_sheet();
  changed.contact_email = "julien.dupont@exemple.fr";
  const AckOperation second = sheet(changed, "enregistrer", "VFE001");
  ASSERT_EQ(second.statut, "ACCEPTEE");
  EXPECT_EQ(second.code_appli, "VFE001");
  EXPECT_EQ(second.etat, "BROUILLON");
  const std::int64_t v2 = version("VFE001", "pending_version");
  EXPECT_NE(v2, v1);
  EXPECT_EQ(version_email(v2), "julien.dupont@exemple.fr");  // the content replaces, it is not a patch
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
  EXPECT_THAT(history("VFE001"), ElementsAre("j.dupont:>BROUILLON", "j.dupont:BROUILLON>BROUILLON"));
}

TEST_F(LifecycleTest, SoumettreNewGivesEnvoyeeWithAifeParameters) {
  const AckOperation op = sheet(as2_sheet(), "soumettre");
  ASSERT_EQ(op.statut, "ACCEPTEE");
  EXPECT_EQ(op.code_appli, "VFE001");
  EXPECT_EQ(op.etat, "ENVOYEE");
  EXPECT_EQ(op.aife_protocole, "AS2");
  EXPECT_EQ(state_of("VFE001"), "ENVOYEE");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets WHERE code_appli = 'VFE001' AND submitted_at IS NOT NULL"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_certificates"), 2);  // leaf + intermediate facts kept
  EXPECT_THAT(history("VFE001"), ElementsAre("j.dupont:>ENVOYEE"));

  const AckOperation api = sheet(api_sheet(), "soumettre");
  ASSERT_EQ(api.statut, "ACCEPTEE");
  EXPECT_EQ(api.code_appli, "VFE002");
  EXPECT_EQ(api.etat, "ENVOYEE");
  EXPECT_EQ(api.aife_protocole, "");  // API sheets carry no AIFE network block
}

TEST_F(LifecycleTest, SoumettreBrouillonGivesEnvoyee) {
  ASSERT_EQ(sheet(pesit_sheet(), "enregistrer").etat, "BROUILLON");
  const AckOperation op = sheet(pesit_sheet(), "soumettre", "VFE001");
  ASSERT_EQ(op.statut, "ACCEPTEE");
  EXPECT_EQ(op.code_appli, "VFE001");
  EXPECT_EQ(op.etat, "ENVOYEE");
  EXPECT_EQ(op.aife_protocole, "PESIT");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
  EXPECT_THAT(history("VFE001"), ElementsAre("j.dupont:>BROUILLON", "j.dupont:BROUILLON>ENVOYEE"));
}

TEST_F(LifecycleTest, SoumettreActiveeGivesEnvoyeeMajAndKeepsTheActivatedVersion) {
  ASSERT_EQ(sheet(sftp_sheet(), "soumettre").etat, "ENVOYEE");
  activate_by_sql("VFE001");  // the nightly run is tested elsewhere; this only reaches ACTIVEE
  const std::int64_t active = version("VFE001", "active_version");
  ASSERT_GT(active, 0);

  SheetSpec renewed = sftp_sheet();  // e.g. a renewed certificate
  renewed.contact_email = "renouvellement@exemple.fr";
  const AckOperation op = sheet(renewed, "soumettre", "VFE001");
  ASSERT_EQ(op.statut, "ACCEPTEE") << op.error_codes().size();
  EXPECT_EQ(op.etat, "ENVOYEE_MAJ");
  EXPECT_EQ(state_of("VFE001"), "ENVOYEE_MAJ");
  EXPECT_EQ(version("VFE001", "active_version"), active);  // stays in force until the update is activated
  const std::int64_t pending = version("VFE001", "pending_version");
  EXPECT_GT(pending, active);
  EXPECT_EQ(version_email(pending), "renouvellement@exemple.fr");
  EXPECT_EQ(version_email(active), "j.dupont@exemple.fr");
  EXPECT_THAT(history("VFE001"), ElementsAre("j.dupont:>ENVOYEE", "j.dupont:ACTIVEE>ENVOYEE_MAJ"));
}

TEST_F(LifecycleTest, DesactiverActiveeThenSoumettreDesactivee) {
  ASSERT_EQ(sheet(sftp_sheet(), "soumettre").etat, "ENVOYEE");
  activate_by_sql("VFE001");
  const AckOperation off = run_one(action_xml("desactiver", "VFE001"));
  ASSERT_EQ(off.statut, "ACCEPTEE");
  EXPECT_EQ(off.code_appli, "VFE001");
  EXPECT_EQ(off.etat, "DESACTIVEE");
  EXPECT_EQ(off.aife_protocole, "");
  EXPECT_EQ(state_of("VFE001"), "DESACTIVEE");

  const AckOperation again = sheet(sftp_sheet(), "soumettre", "VFE001");
  ASSERT_EQ(again.statut, "ACCEPTEE");
  EXPECT_EQ(again.etat, "ENVOYEE");
  EXPECT_EQ(state_of("VFE001"), "ENVOYEE");
  EXPECT_THAT(history("VFE001"),
              ElementsAre("j.dupont:>ENVOYEE", "j.dupont:ACTIVEE>DESACTIVEE", "j.dupont:DESACTIVEE>ENVOYEE"));
}

TEST_F(LifecycleTest, DesactiverEnvoyeeMajDropsThePendingUpdate) {
  ASSERT_EQ(sheet(sftp_sheet(), "soumettre").etat, "ENVOYEE");
  activate_by_sql("VFE001");
  const std::int64_t active = version("VFE001", "active_version");
  ASSERT_EQ(sheet(sftp_sheet(), "soumettre", "VFE001").etat, "ENVOYEE_MAJ");
  const AckOperation off = run_one(action_xml("desactiver", "VFE001", false, kManager));
  ASSERT_EQ(off.statut, "ACCEPTEE");
  EXPECT_EQ(off.etat, "DESACTIVEE");
  EXPECT_EQ(version("VFE001", "active_version"), active);
  EXPECT_EQ(version("VFE001", "pending_version"), -1);
  EXPECT_THAT(history("VFE001"),
              ElementsAre("j.dupont:>ENVOYEE", "j.dupont:ACTIVEE>ENVOYEE_MAJ", "g.martin:ENVOYEE_MAJ>DESACTIVEE"));
}

TEST_F(LifecycleTest, SupprimerBrouillonMarksItDeletedAndKeepsHistory) {
  ASSERT_EQ(sheet(api_sheet(), "enregistrer").etat, "BROUILLON");
  const AckOperation op = run_one(action_xml("supprimer", "VFE001", true));
  ASSERT_EQ(op.statut, "ACCEPTEE");
  EXPECT_EQ(op.code_appli, "VFE001");
  EXPECT_EQ(op.etat, "BROUILLON");
  EXPECT_EQ(op.supprimee, "true");
  EXPECT_EQ(count("SELECT deleted FROM sheets WHERE code_appli = 'VFE001'"), 1);
  EXPECT_EQ(state_of("VFE001"), "BROUILLON");
  EXPECT_THAT(history("VFE001"), ElementsAre("j.dupont:>BROUILLON", "j.dupont:BROUILLON>BROUILLON"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_versions WHERE code_appli = 'VFE001'"), 1);

  // Removed from searches: it can no longer be named.
  const AckOperation gone = sheet(api_sheet(), "soumettre", "VFE001");
  EXPECT_EQ(gone.statut, "REJETEE");
  EXPECT_THAT(gone.error_codes(), ElementsAre("FICHE_INCONNUE"));
}

TEST_F(LifecycleTest, SupprimerNeedsOnlyCodeAppliAndPartenaire) {
  ASSERT_EQ(sheet(sftp_sheet(), "enregistrer").etat, "BROUILLON");
  SheetSpec junk = sftp_sheet();  // other content is ignored, however wrong
  junk.contact_email = "pas-un-email";
  junk.protocol = "FTP";
  const AckOperation op = sheet(junk, "supprimer", "VFE001");
  EXPECT_EQ(op.statut, "ACCEPTEE");
  EXPECT_THAT(op.diagnostics, IsEmpty());
  EXPECT_EQ(op.supprimee, "true");
}

TEST_F(LifecycleTest, CodeAppliOfAnotherPartnerOrKindIsUnknown) {
  ASSERT_EQ(sheet(sftp_sheet(), "enregistrer").etat, "BROUILLON");
  EXPECT_THAT(run_one(action_xml("supprimer", "VFE001", true)).error_codes(), ElementsAre("FICHE_INCONNUE"));
  const AckOperation no_code = run_one(
      "  <FicheEDI demandeur=\"j.dupont\" action=\"desactiver\">\n    <Partenaire>12345678200010</Partenaire>\n"
      "  </FicheEDI>\n");
  EXPECT_THAT(no_code.error_codes(), ElementsAre("FICHE_INCONNUE"));
}

// Issue 18, item 6: the person's dépôt, as an integrator wrote it: lower-case protocol and no
// certificate. Both are said at once, and the protocol message names the spelling to write;
// enregistrer keeps them as warnings.
TEST_F(LifecycleTest, LowerCaseProtocolAndNoCertificateAreBothReported) {
  SheetSpec spec = sftp_sheet();
  spec.protocol = "sftp";
  spec.certificates_element = false;
  const AckOperation op = sheet(spec, "soumettre");
  EXPECT_EQ(op.statut, "REJETEE");
  EXPECT_THAT(op.error_codes(), ElementsAre("PROTOCOLE_INVALIDE", "CERT_ABSENT"));
  ASSERT_NE(op.find("PROTOCOLE_INVALIDE"), nullptr);
  EXPECT_THAT(op.find("PROTOCOLE_INVALIDE")->message, ::testing::HasSubstr("écrivez « SFTP »"));

  const AckOperation draft = sheet(spec, "enregistrer");
  EXPECT_EQ(draft.etat, "BROUILLON");
  EXPECT_THAT(draft.error_codes(), IsEmpty());
  EXPECT_THAT(draft.warning_codes(), ElementsAre("PROTOCOLE_INVALIDE", "CERT_ABSENT"));
}

// Issue 18, item 6: an API code sent in a FicheEDI (and the reverse) is named as such, with the element
// to use; a deleted draft is said deleted; a code of another partner stays merely unknown.
TEST_F(LifecycleTest, FicheInconnueSaysWhatTheCodeIsAndWhatToDo) {
  ASSERT_EQ(sheet(api_sheet(), "soumettre").code_appli, "VFE001");
  ASSERT_EQ(sheet(sftp_sheet(), "soumettre").code_appli, "VFE002");
  ASSERT_EQ(sheet(sftp_sheet(), "enregistrer").code_appli, "VFE003");
  ASSERT_EQ(run_one(action_xml("supprimer", "VFE003")).statut, "ACCEPTEE");

  struct Case {
    std::string name;
    AckOperation op;
    std::vector<std::string> says;
  };
  SheetSpec edi_for_api = sftp_sheet();
  const std::vector<Case> cases{
      {"code API dans FicheEDI (desactiver)",
       run_one(action_xml("desactiver", "VFE001")),
       {"« VFE001 » est une fiche API", "<FicheAPI>"}},
      {"code API dans FicheEDI (soumettre)",
       sheet(edi_for_api, "soumettre", "VFE001"),
       {"« VFE001 » est une fiche API", "<FicheAPI>"}},
      {"code EDI dans FicheAPI",
       run_one(action_xml("desactiver", "VFE002", true)),
       {"« VFE002 » est une fiche EDI", "<FicheEDI>"}},
      {"brouillon supprimé",
       sheet(sftp_sheet(), "soumettre", "VFE003"),
       {"brouillon supprimé", "retirez l'attribut codeAppli"}},
      {"code inconnu", sheet(sftp_sheet(), "soumettre", "VFE999"), {"Aucune fiche EDI « VFE999 »", "vérifiez"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(c.op.error_codes(), ::testing::Contains("FICHE_INCONNUE"));
    const AckDiagnostic* d = c.op.find("FICHE_INCONNUE");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->champ, "@codeAppli");
    for (const auto& part : c.says) EXPECT_THAT(d->message, ::testing::HasSubstr(part));
  }
  // A code of another partner: nothing said of that sheet (its kind included).
  ASSERT_EQ(run(activation_xml(kManager, kNoSpace)).statut, "INTEGRE");
  SheetSpec api_elsewhere = api_sheet();
  api_elsewhere.partner = kNoSpace;
  api_elsewhere.demandeur = kManager;
  const AckOperation elsewhere = sheet(api_elsewhere, "soumettre", "VFE002");  // VFE002: EDI, of kAcme
  const AckDiagnostic* d = elsewhere.find("FICHE_INCONNUE");
  ASSERT_NE(d, nullptr) << elsewhere.error_codes().size();
  EXPECT_THAT(d->message, ::testing::HasSubstr("Aucune fiche API « VFE002 »"));
  EXPECT_THAT(d->message, Not(::testing::HasSubstr("fiche EDI")));
}

// Issue 18, item 6 (a sibling): ESPACE_NON_ACTIVE hid DROIT_INSUFFISANT. A demandeur to whom the
// space's activation would not give Modification is told both at once; a gestionnaire only the
// first (activating the space is all he needs).
TEST_F(LifecycleTest, InactiveSpaceDoesNotHideAMissingRight) {
  const auto on_no_space = [this](const char* demandeur) {
    SheetSpec spec = sftp_sheet();
    spec.partner = kNoSpace;
    spec.demandeur = demandeur;
    return sheet(spec, "soumettre");
  };
  for (const char* demandeur : {kOutsider, kSubscriber}) {  // j.dupont: subscribed to kAcme only
    SCOPED_TRACE(demandeur);
    const AckOperation op = on_no_space(demandeur);
    EXPECT_THAT(op.error_codes(), ElementsAre("ESPACE_NON_ACTIVE", "DROIT_INSUFFISANT"));
    ASSERT_NE(op.find("DROIT_INSUFFISANT"), nullptr);
    EXPECT_THAT(op.find("DROIT_INSUFFISANT")->message, ::testing::HasSubstr("abonnement avec Modification"));
  }
  EXPECT_THAT(on_no_space(kManager).error_codes(), ElementsAre("ESPACE_NON_ACTIVE"));
  // Once the space is active: the same verdicts without ESPACE_NON_ACTIVE.
  ASSERT_EQ(run(activation_xml(kManager, kNoSpace)).statut, "INTEGRE");
  EXPECT_THAT(on_no_space(kOutsider).error_codes(), ElementsAre("DROIT_INSUFFISANT"));
  EXPECT_EQ(on_no_space(kManager).statut, "ACCEPTEE");
}

struct ForbiddenCase {
  std::string name;
  std::vector<std::string> path;  // actions that bring VFE001 to the state ("activer" = SQL activation)
  std::string action;
  std::string state;  // the state the sheet keeps
};
void PrintTo(const ForbiddenCase& c, std::ostream* os) {  // NOLINT(readability-identifier-naming): GoogleTest's name
  *os << c.name;
}

class ForbiddenTransitionTest : public LifecycleTest, public ::testing::WithParamInterface<ForbiddenCase> {};

TEST_P(ForbiddenTransitionTest, IsRefusedAndChangesNothing) {
  const ForbiddenCase& c = GetParam();
  bool first = true;
  for (const auto& step : c.path) {
    if (step == "activer") {
      activate_by_sql("VFE001");
    } else if (step == "supprimer" || step == "desactiver") {
      ASSERT_EQ(run_one(action_xml(step, "VFE001")).statut, "ACCEPTEE") << step;
    } else {
      ASSERT_EQ(sheet(sftp_sheet(), step, first ? "" : "VFE001").statut, "ACCEPTEE") << step;
    }
    first = false;
  }
  const auto history_before = history("VFE001");
  const std::int64_t pending = version("VFE001", "pending_version");
  const AckOperation op = (c.action == "supprimer" || c.action == "desactiver")
                              ? run_one(action_xml(c.action, "VFE001"))
                              : sheet(sftp_sheet(), c.action, "VFE001");
  EXPECT_EQ(op.statut, "REJETEE");
  EXPECT_THAT(op.error_codes(), ElementsAre("TRANSITION_INTERDITE"));
  EXPECT_EQ(op.diagnostics.at(0).champ, "@action");
  const std::string& message = op.diagnostics.at(0).message;
  EXPECT_NE(message.find("VFE001"), std::string::npos) << message;
  // Issue 18, item 6: the message says what is possible from that state (docs/reference.md §3.3, §6).
  const std::map<std::string, std::vector<std::string>> possible{
      {"BROUILLON", {"enregistrer", "soumettre", "supprimer"}},
      {"ENVOYEE", {}},
      {"ACTIVEE", {"soumettre", "desactiver"}},
      {"ENVOYEE_MAJ", {"desactiver"}},
      {"DESACTIVEE", {"soumettre"}},
  };
  const auto said = [&message](const std::string& action) {
    return message.find("« " + action + " »") != std::string::npos;
  };
  for (const char* action : {"enregistrer", "soumettre", "supprimer", "desactiver"}) {
    const auto& allowed = possible.at(c.state);
    const bool is_possible = std::find(allowed.begin(), allowed.end(), action) != allowed.end();
    if (is_possible) {
      EXPECT_TRUE(said(action)) << action << ": " << message;
    }
    if (!is_possible && action != c.action && c.state != "ENVOYEE") {
      EXPECT_FALSE(said(action)) << action << ": " << message;
    }
  }
  if (c.state == "ENVOYEE") {
    // Nothing now: it waits for the nightly run, then soumettre or desactiver once Activée.
    EXPECT_NE(message.find("Aucune action n'est possible à l'état Envoyée"), std::string::npos) << message;
    EXPECT_NE(message.find("traitement de nuit"), std::string::npos) << message;
    const auto then = message.find("à l'état Activée,");
    ASSERT_NE(then, std::string::npos) << message;
    EXPECT_NE(message.find("« soumettre »", then), std::string::npos) << message;
    EXPECT_NE(message.find("« desactiver »", then), std::string::npos) << message;
    EXPECT_EQ(message.find("« enregistrer »", then), std::string::npos) << message;
  } else {
    EXPECT_NE(message.find("possible"), std::string::npos) << message;
  }
  EXPECT_EQ(state_of("VFE001"), c.state);
  EXPECT_EQ(version("VFE001", "pending_version"), pending);
  EXPECT_EQ(history("VFE001"), history_before);
}

INSTANTIATE_TEST_SUITE_P(
    Spec33, ForbiddenTransitionTest,
    ::testing::Values(
        ForbiddenCase{"SoumettreEnvoyee", {"soumettre"}, "soumettre", "ENVOYEE"},
        ForbiddenCase{"EnregistrerEnvoyee", {"soumettre"}, "enregistrer", "ENVOYEE"},
        ForbiddenCase{"SupprimerEnvoyee", {"soumettre"}, "supprimer", "ENVOYEE"},
        ForbiddenCase{"DesactiverEnvoyee", {"soumettre"}, "desactiver", "ENVOYEE"},
        ForbiddenCase{"DesactiverBrouillon", {"enregistrer"}, "desactiver", "BROUILLON"},
        ForbiddenCase{"EnregistrerActivee", {"soumettre", "activer"}, "enregistrer", "ACTIVEE"},
        ForbiddenCase{"SupprimerActivee", {"soumettre", "activer"}, "supprimer", "ACTIVEE"},
        ForbiddenCase{"SoumettreEnvoyeeMaj", {"soumettre", "activer", "soumettre"}, "soumettre", "ENVOYEE_MAJ"},
        ForbiddenCase{"DesactiverDesactivee", {"soumettre", "activer", "desactiver"}, "desactiver", "DESACTIVEE"},
        ForbiddenCase{"EnregistrerDesactivee", {"soumettre", "activer", "desactiver"}, "enregistrer", "DESACTIVEE"}),
    [](const ::testing::TestParamInfo<ForbiddenCase>& p) { return p.param.name; });

// ---------------------------------------------------------------------------------------------
// enregistrer: rule errors become warnings, the gate failures still refuse (docs/reference.md §3.3).

TEST_F(LifecycleTest, EnregistrerTurnsRuleErrorsIntoWarnings) {
  StructureSpec unqualified;
  unqualified.qualification = false;
  ASSERT_EQ(run(structure_xml(unqualified)).statut, "INTEGRE");
  SheetSpec draft = as2_sheet();
  draft.contact_email = "pas-un-email";
  draft.network_port = "70000";
  draft.interfaces = {{"FSO9999Z", "complete"}};
  LeafOptions expired;
  expired.not_after = "2025-12-31T23:59:59Z";
  expired.server_auth = true;
  draft.certificates = {TestPki::instance().bundle_base64(expired)};
  draft.period = false;
  const AckOperation op = sheet(draft, "enregistrer");
  ASSERT_EQ(op.statut, "ACCEPTEE");
  EXPECT_EQ(op.etat, "BROUILLON");
  EXPECT_THAT(op.error_codes(), IsEmpty());
  EXPECT_THAT(op.warning_codes(),
              ::testing::IsSupersetOf({"PREREQUIS_QUALIFICATION", "PERIODE_INVALIDE", "EMAIL_INVALIDE", "PORT_INVALIDE",
                                       "CODE_INTERFACE_INCONNU", "CERT_EXPIRE"}));
  EXPECT_EQ(state_of(op.code_appli), "BROUILLON");

  // The same content submitted is refused with the same codes as errors.
  const AckOperation submitted = sheet(draft, "soumettre", op.code_appli);
  EXPECT_EQ(submitted.statut, "REJETEE");
  EXPECT_THAT(submitted.error_codes(),
              ::testing::IsSupersetOf({"PREREQUIS_QUALIFICATION", "PERIODE_INVALIDE", "EMAIL_INVALIDE", "PORT_INVALIDE",
                                       "CODE_INTERFACE_INCONNU", "CERT_EXPIRE"}));
  EXPECT_EQ(state_of(op.code_appli), "BROUILLON");
}

TEST_F(LifecycleTest, EnregistrerStillRefusesGateFailures) {
  struct Gate {
    std::string code;
    std::function<void(SheetSpec&)> change;
  };
  const std::vector<Gate> gates{
      {"SIRET_INVALIDE", [](SheetSpec& s) { s.partner = "12345678200011"; }},
      {"STRUCTURE_INCONNUE", [](SheetSpec& s) { s.partner = kUnknownSiret; }},
      {"UTILISATEUR_INCONNU", [](SheetSpec& s) { s.demandeur = "inconnu.z"; }},
      {"ESPACE_NON_ACTIVE",
       [](SheetSpec& s) {
         s.partner = kNoSpace;
         s.demandeur = kManager;
       }},
      {"DROIT_INSUFFISANT", [](SheetSpec& s) { s.demandeur = kOutsider; }},
      {"SCHEMA_INVALIDE", [](SheetSpec& s) { s.extra = "    <Couleur>bleu</Couleur>\n"; }},
  };
  for (const auto& gate : gates) {
    SheetSpec spec = sftp_sheet();
    spec.contact_email = "pas-un-email";  // a rule error that alone would only be a warning
    gate.change(spec);
    const AckOperation op = sheet(spec, "enregistrer");
    EXPECT_EQ(op.statut, "REJETEE") << gate.code;
    EXPECT_NE(op.find(gate.code), nullptr) << gate.code;
    if (op.find(gate.code)) {
      EXPECT_TRUE(op.find(gate.code)->error) << gate.code;
    }
  }
  StructureSpec inactive;
  inactive.statut = "INACTIF";
  ASSERT_EQ(run(structure_xml(inactive)).statut, "INTEGRE");
  const AckOperation op = sheet(sftp_sheet(), "enregistrer");
  EXPECT_EQ(op.statut, "REJETEE");
  EXPECT_THAT(op.error_codes(), ElementsAre("STRUCTURE_INACTIVE"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
}

// ---------------------------------------------------------------------------------------------
// Modes (docs/reference.md §3) and sequencing.

std::string three_sheets() {
  SheetSpec bad = sftp_sheet();
  bad.reference = "mauvaise";
  bad.contact_email = "pas-un-email";
  bad.contact_phone = "12";
  SheetSpec good = sftp_sheet();
  good.reference = "bonne";
  SheetSpec api = api_sheet();
  api.reference = "api";
  return sheet_xml(good) + sheet_xml(bad) + sheet_xml(api);
}

TEST_F(LifecycleTest, CompleteModeRejectsEverythingAndListsEveryError) {
  const ParsedAck ack = run(three_sheets(), "mode=\"complete\"");
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_EQ(ack.mode, "complete");
  ASSERT_EQ(ack.operations.size(), 3u);
  for (const auto& op : ack.operations) {
    EXPECT_EQ(op.statut, "REJETEE") << op.rang;
    EXPECT_TRUE(op.code_appli.empty()) << op.rang;
    EXPECT_TRUE(op.etat.empty()) << op.rang;
    EXPECT_EQ(op.aife_protocole, "") << op.rang;
  }
  EXPECT_EQ(ack.operations[0].reference, "bonne");
  EXPECT_THAT(ack.operations[0].diagnostics, IsEmpty());
  EXPECT_THAT(ack.operations[1].error_codes(), ElementsAre("EMAIL_INVALIDE", "TELEPHONE_INVALIDE"));
  EXPECT_THAT(ack.operations[2].diagnostics, IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_versions"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM history"), 0);
}

TEST_F(LifecycleTest, DefaultModeIsComplete) {
  const ParsedAck ack = run(three_sheets());
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_EQ(ack.mode, "complete");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
}

TEST_F(LifecycleTest, PartialModeAppliesTheGoodOperations) {
  const ParsedAck ack = run(three_sheets(), "mode=\"partielle\"");
  EXPECT_EQ(ack.statut, "INTEGRE_PARTIEL");
  EXPECT_EQ(ack.mode, "partielle");
  ASSERT_EQ(ack.operations.size(), 3u);
  EXPECT_EQ(ack.operations[0].statut, "ACCEPTEE");
  EXPECT_EQ(ack.operations[0].etat, "ENVOYEE");
  EXPECT_EQ(ack.operations[1].statut, "REJETEE");
  EXPECT_TRUE(ack.operations[1].code_appli.empty());
  EXPECT_THAT(ack.operations[1].error_codes(), ElementsAre("EMAIL_INVALIDE", "TELEPHONE_INVALIDE"));
  EXPECT_EQ(ack.operations[2].statut, "ACCEPTEE");
  EXPECT_EQ(ack.operations[2].etat, "ENVOYEE");
  EXPECT_NE(ack.operations[0].code_appli, ack.operations[2].code_appli);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets WHERE code_appli IN ($1, $2)",
                  {ack.operations[0].code_appli, ack.operations[2].code_appli}),
            2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM history"), 2);
}

// The certificates of a dépôt's sheets are checked ahead on worker threads (issue 7): the answers are
// those of the sheets' own order, and the CA shared by every leaf is verified once.
TEST_F(LifecycleTest, SheetsCheckedAheadAnswerInOrderAndVerifyTheirCaOnce) {
  LeafOptions expired;
  expired.common_name = "expire.exemple.fr";
  expired.not_after = "2026-06-30T00:00:00Z";
  std::string operations;
  for (int i = 0; i < 12; ++i) {
    LeafOptions good;
    good.common_name = "client" + std::to_string(i) + ".exemple.fr";
    SheetSpec spec = sftp_with_leaf(i % 3 == 1 ? expired : good);
    spec.reference = "fiche-" + std::to_string(i);
    operations += sheet_xml(spec);
  }
  const auto before = engine().certificates().cache_stats();
  const ParsedAck ack = run(operations, "mode=\"partielle\"");
  EXPECT_EQ(ack.statut, "INTEGRE_PARTIEL") << ack.xml;
  ASSERT_EQ(ack.operations.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    SCOPED_TRACE(i);
    const auto& op = ack.operations[static_cast<std::size_t>(i)];
    EXPECT_EQ(op.reference, "fiche-" + std::to_string(i));
    if (i % 3 == 1) {
      EXPECT_EQ(op.statut, "REJETEE");
      EXPECT_THAT(op.error_codes(), ElementsAre("CERT_EXPIRE"));
    } else {
      EXPECT_EQ(op.statut, "ACCEPTEE");
      EXPECT_THAT(op.error_codes(), IsEmpty());
    }
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 8);
  const auto after = engine().certificates().cache_stats();
  const auto full = after.full_verifications - before.full_verifications;
  EXPECT_LE(full, before.proved_authorities == 0 ? 1u : 0u);  // never twice, whatever the threads did
  EXPECT_EQ(full + after.cached_verifications - before.cached_verifications, 12u);
}

TEST_F(LifecycleTest, PartialModeWithEveryOperationBadIsRejete) {
  SheetSpec bad = sftp_sheet();
  bad.contact_email = "pas-un-email";
  SheetSpec other = api_sheet();
  other.demandeur = kOutsider;
  const ParsedAck ack = run(sheet_xml(bad) + sheet_xml(other), "mode=\"partielle\"");
  EXPECT_EQ(ack.statut, "REJETE");
  ASSERT_EQ(ack.operations.size(), 2u);
  EXPECT_EQ(ack.operations[0].statut, "REJETEE");
  EXPECT_EQ(ack.operations[1].statut, "REJETEE");
  EXPECT_THAT(ack.operations[1].error_codes(), ElementsAre("DROIT_INSUFFISANT"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
}

TEST_F(LifecycleTest, OperationsSeeEarlierOperationsOfTheSameDepot) {
  // A new user, a new structure managed by them, its space, a sheet: one dépôt, in order.
  StructureSpec editor;
  editor.siret = kUnknownSiret;
  editor.raison_sociale = "Logiciels Exemple SA";
  editor.managers = {{"k.nguyen", "principal"}};
  SheetSpec spec = sftp_sheet();
  spec.partner = kUnknownSiret;
  spec.demandeur = "k.nguyen";
  const std::string operations = "  <Utilisateur login=\"k.nguyen\" email=\"k.nguyen@exemple.fr\"/>\n" +
                                 [&] {
                                   editor.demandeur.clear();  // the Depot's demandeur (support.n1) acts
                                   return structure_xml(editor);
                                 }() +
                                 activation_xml("k.nguyen", kUnknownSiret) + sheet_xml(spec) +
                                 subscription_request_xml(kSubscriber, kUnknownSiret);
  const ParsedAck ack = run(operations, "demandeur=\"support.n1\"");
  ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
  ASSERT_EQ(ack.operations.size(), 5u);
  EXPECT_EQ(ack.operations[3].etat, "ENVOYEE");
  EXPECT_EQ(ack.operations[4].demande, "ABO-000002");
  EXPECT_EQ(count("SELECT space_active FROM structures WHERE siret = $1", {std::string(kUnknownSiret)}), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets WHERE partner_siret = $1", {std::string(kUnknownSiret)}), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM subscriptions WHERE id = 'ABO-000002' AND status = 'EN_ATTENTE'"), 1);
}

TEST_F(LifecycleTest, DemandeurIsRequiredOnTheOperationOrTheDepot) {
  const ParsedAck ack = run("  <Utilisateur login=\"z.z\" email=\"z@exemple.fr\"/>\n");
  ASSERT_EQ(ack.operations.size(), 1u);
  EXPECT_THAT(ack.operations[0].error_codes(), ElementsAre("SCHEMA_INVALIDE"));
  EXPECT_EQ(ack.statut, "REJETE");
}

TEST_F(LifecycleTest, SubscriptionGrantsModificationOnlyOnceValidated) {
  const ParsedAck request = run(subscription_request_xml(kOutsider, kAcme));
  ASSERT_EQ(request.statut, "INTEGRE");
  EXPECT_EQ(request.operations.at(0).demande, "ABO-000002");
  SheetSpec spec = sftp_sheet();
  spec.demandeur = kOutsider;
  EXPECT_THAT(sheet(spec, "soumettre").error_codes(), ElementsAre("DROIT_INSUFFISANT"));
  ASSERT_EQ(run(decision_xml(kManager, "ABO-000002")).statut, "INTEGRE");
  EXPECT_EQ(sheet(spec, "soumettre").etat, "ENVOYEE");
}

TEST_F(LifecycleTest, RefusedOrConsultationOnlySubscriptionGivesNoModification) {
  ASSERT_EQ(run(subscription_request_xml(kOutsider, kAcme, false)).statut, "INTEGRE");  // ABO-000002
  ASSERT_EQ(run(decision_xml(kManager, "ABO-000002")).statut, "INTEGRE");
  SheetSpec spec = sftp_sheet();
  spec.demandeur = kOutsider;
  EXPECT_THAT(sheet(spec, "soumettre").error_codes(), ElementsAre("DROIT_INSUFFISANT"));
  ASSERT_EQ(run(subscription_request_xml(kOutsider, kAcme, true)).statut, "INTEGRE");  // ABO-000003
  ASSERT_EQ(run(decision_xml(kManager, "ABO-000003", "refuser")).statut, "INTEGRE");
  EXPECT_THAT(sheet(spec, "soumettre").error_codes(), ElementsAre("DROIT_INSUFFISANT"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM subscriptions WHERE id = 'ABO-000003' AND status = 'REFUSEE'"), 1);
}

// ---------------------------------------------------------------------------------------------
// Sender accounts (docs/reference.md §2.1): an operation whose actor is not one of the account's logins
// is REJETEE with DEMANDEUR_NON_AUTORISE as its only error, before any other rule.

/// The back-office of the subscriber's company: j.dupont only.
SenderAccount acme_account() {
  return SenderAccount{"acme", {kSubscriber}, std::nullopt, SignatureRequirement::None, {}};
}
/// Another company's back-office: x.durand only.
SenderAccount other_account() {
  return SenderAccount{"autre", {kOutsider}, std::nullopt, SignatureRequirement::None, {}};
}

class AccountTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    config_.revocation = rules::RevocationMode::Aucune;  // no CRL here: no CERT_REVOCATION_INCONNUE warning
    start();
    setup_world();
  }

  /// The only finding of `op` must be DEMANDEUR_NON_AUTORISE on @demandeur at the line of `element`.
  static void expect_refused_alone(const OperationOutcome& op, const std::string& xml, std::string_view element) {
    EXPECT_FALSE(op.accepted);
    ASSERT_EQ(op.diagnostics.size(), 1u) << xml;
    EXPECT_EQ(op.omitted.total(), 0u);
    const Diagnostic& d = op.diagnostics[0];
    EXPECT_EQ(d.code, ErrorCode::DemandeurNonAutorise);
    EXPECT_TRUE(d.is_error());
    EXPECT_EQ(d.field, "@demandeur");
    EXPECT_EQ(d.line, line_of(xml, element));
    EXPECT_THAT(d.message, ::testing::HasSubstr("« autre »"));  // names the account, says what to do
    EXPECT_THAT(d.message, ::testing::HasSubstr("Envoyez-la par le compte"));
    EXPECT_FALSE(op.export_file);
    EXPECT_FALSE(op.code_appli);
    EXPECT_FALSE(op.subscription_request);
  }
};

struct KindCase {
  std::string name;
  std::string element;                      // the operation's element, as written
  std::function<std::string()> op;          // one operation, acting as a login that account "autre" lacks
  std::function<std::string()> setup = {};  // operations of a preliminary dépôt through inbox/ (INTEGRE)
};

void PrintTo(const KindCase& c, std::ostream* os) {  // NOLINT(readability-identifier-naming): GoogleTest's name
  *os << c.name;
}

std::vector<KindCase> kind_cases() {
  std::vector<KindCase> cases;
  cases.push_back({"UtilisateurParLeSupportUsurpe", "<Utilisateur", [] { return user_xml("nouveau.z"); }, {}});
  cases.push_back({"StructureParLeSupportUsurpe", "<Structure", [] {
                     StructureSpec s;
                     s.siret = "12345678200036";
                     s.raison_sociale = "Nouvelle Structure";
                     return structure_xml(s);
                   }});
  cases.push_back({"ActivationParLeGestionnaireDUneAutreSociete", "<ActivationEspace",
                   [] { return activation_xml(kManager, kNoSpace); }});
  cases.push_back(
      {"DemandeAbonnement", "<DemandeAbonnement", [] { return subscription_request_xml(kSubscriber, kAcme); }});
  cases.push_back({"DecisionAbonnement", "<DecisionAbonnement", [] { return decision_xml(kManager, "ABO-000002"); },
                   [] { return subscription_request_xml(kOutsider, kAcme); }});
  cases.push_back({"FicheEDI", "<FicheEDI", [] { return sheet_xml(sftp_sheet()); }});
  cases.push_back({"FicheAPI", "<FicheAPI", [] { return sheet_xml(api_sheet()); }});
  cases.push_back({"Recherche", "<Recherche", [] {
                     return std::string(R"(  <Recherche demandeur="support.n1" type="EDI" reference="req-1"/>)") + "\n";
                   }});
  return cases;
}

class AccountKindTest : public AccountTest, public ::testing::WithParamInterface<KindCase> {};

// Every kind of operation, acting as a login of another company (the support user, a gestionnaire,
// a subscriber): refused through account "autre", and the very same dépôt accepted through inbox/
// itself (no account) and through the account of the company whose user acts.
TEST_P(AccountKindTest, RefusedWhenTheActorIsNotALoginOfTheAccount) {
  const KindCase& c = GetParam();
  if (c.setup) {
    ASSERT_EQ(process("00_setup.xml", depot_xml(c.setup(), R"(identifiant="SETUP")")).statut, "INTEGRE");
  }
  const std::string xml = depot_xml(c.op());
  const SenderAccount other = other_account();
  const AppliedDeposit refused = apply_through(&other, xml);
  ASSERT_EQ(refused.operations.size(), 1u);
  expect_refused_alone(refused.operations[0], xml, c.element);
  EXPECT_EQ(refused.outcome.status, DepositStatus::Rejete);
  EXPECT_EQ(refused.outcome.accepted, 0u);

  const AppliedDeposit unrestricted = apply_through(nullptr, xml);
  ASSERT_EQ(unrestricted.operations.size(), 1u);
  EXPECT_TRUE(unrestricted.operations[0].accepted) << xml;
  EXPECT_EQ(unrestricted.outcome.status, DepositStatus::Integre);
}

INSTANTIATE_TEST_SUITE_P(EveryKind, AccountKindTest, ::testing::ValuesIn(kind_cases()),
                         [](const ::testing::TestParamInfo<KindCase>& p) { return p.param.name; });

// A spoofed support login creates no user; another company's gestionnaire activates no space; a
// subscriber of another company submits no sheet: nothing is applied.
TEST_F(AccountTest, SpoofedLoginsApplyNothing) {
  const SenderAccount other = other_account();
  const std::string xml = depot_xml(
      user_xml("nouveau.z") + activation_xml(kManager, kNoSpace) + sheet_xml(sftp_sheet()), R"(mode="partielle")");
  const AppliedDeposit a = apply_through(&other, xml);
  ASSERT_EQ(a.operations.size(), 3u);
  expect_refused_alone(a.operations[0], xml, "<Utilisateur");
  expect_refused_alone(a.operations[1], xml, "<ActivationEspace");
  expect_refused_alone(a.operations[2], xml, "<FicheEDI");
  EXPECT_EQ(a.outcome.status, DepositStatus::Rejete);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'nouveau.z'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM structures WHERE siret = $1 AND space_active <> 0", {std::string(kNoSpace)}),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
}

// No other rule runs for a refused operation: not the schema, the demandeur's existence, the SIRET,
// the sheet's existence (nothing said about another company's codeAppli), nor its certificates.
TEST_F(AccountTest, NoOtherRuleIsEvaluatedForARefusedOperation) {
  const SenderAccount other = other_account();
  // A real sheet of ACME, whose code another company must not learn anything about.
  const ParsedAck created = process("01_fiche.xml", depot_xml(sheet_xml(sftp_sheet()), R"(identifiant="F-1")"));
  ASSERT_EQ(created.statut, "INTEGRE");
  const std::string code = created.operations.at(0).code_appli;
  ASSERT_FALSE(code.empty());

  SheetSpec unknown_user = sftp_sheet();
  unknown_user.demandeur = "inconnu.z";
  unknown_user.partner = "12345678200011";  // SIRET_INVALIDE
  SheetSpec existing = sftp_sheet();
  existing.code_appli = code;
  existing.action = "retirer";
  SheetSpec wrong_code = sftp_sheet();
  wrong_code.code_appli = "EDI-ZZZZZZ";
  wrong_code.action = "retirer";
  LeafOptions expired;
  expired.not_after = "2026-01-01T00:00:00Z";
  SheetSpec bad_certificate = sftp_sheet();
  bad_certificate.certificates = {TestPki::instance().bundle_base64(expired)};
  const std::string xml =
      depot_xml(sheet_xml(unknown_user) + sheet_xml(existing) + sheet_xml(wrong_code) + sheet_xml(bad_certificate) +
                    R"(  <Utilisateur demandeur="support.n1" login="z.z" email="z@exemple.fr" couleur="bleu"/>)" + "\n",
                R"(mode="partielle")");
  const AppliedDeposit a = apply_through(&other, xml);
  ASSERT_EQ(a.operations.size(), 5u);
  expect_refused_alone(a.operations[0], xml, "<FicheEDI");
  for (std::size_t i = 1; i < 4; ++i) {
    ASSERT_EQ(a.operations[i].diagnostics.size(), 1u);
    EXPECT_EQ(a.operations[i].diagnostics[0].code, ErrorCode::DemandeurNonAutorise);
    EXPECT_EQ(a.operations[i].diagnostics[0].line, line_of(xml, "<FicheEDI", static_cast<int>(i) + 1));
  }
  expect_refused_alone(a.operations[4], xml, "<Utilisateur");
  // The two sheets naming a code get the same answer, whether the code exists or not.
  EXPECT_EQ(a.operations[1].diagnostics[0].message, a.operations[2].diagnostics[0].message);
  EXPECT_EQ(state_of(code), "ENVOYEE");  // not withdrawn
}

// A Recherche of a login the account lacks writes no export (none staged, none named), whereas the
// same Recherche of one of its logins does.
TEST_F(AccountTest, RefusedRechercheStagesNoExport) {
  const SenderAccount acme = acme_account();
  const SenderAccount other = other_account();
  const std::string xml = depot_xml(R"(  <Recherche demandeur="j.dupont" type="EDI" reference="req-1"/>)"
                                    "\n");
  const AppliedDeposit refused = apply_through(&other, xml);
  ASSERT_EQ(refused.operations.size(), 1u);
  EXPECT_FALSE(refused.operations[0].export_file);
  for (const auto& name : refused.staged) EXPECT_EQ(name.find("EXPORT"), std::string::npos) << name;
  const std::vector<std::string> before = refused.staged;

  const AppliedDeposit allowed = apply_through(&acme, xml);
  ASSERT_EQ(allowed.operations.size(), 1u);
  ASSERT_TRUE(allowed.operations[0].export_file);
  EXPECT_GT(allowed.staged.size(), before.size());  // its temporary, staged
}

// The Depot's demandeur is the actor of the operations that name none.
TEST_F(AccountTest, DepotDemandeurIsInherited) {
  const SenderAccount acme = acme_account();
  SheetSpec inherited = sftp_sheet();
  inherited.demandeur.clear();
  const std::string spoofed = depot_xml(user_xml("nouveau.z", false, ""), R"(demandeur="support.n1")");
  const AppliedDeposit refused = apply_through(&acme, spoofed);
  ASSERT_EQ(refused.operations.size(), 1u);
  ASSERT_EQ(refused.operations[0].diagnostics.size(), 1u);
  EXPECT_EQ(refused.operations[0].diagnostics[0].code, ErrorCode::DemandeurNonAutorise);
  EXPECT_EQ(refused.operations[0].diagnostics[0].line, line_of(spoofed, "<Utilisateur"));
  EXPECT_THAT(refused.operations[0].diagnostics[0].message, ::testing::HasSubstr("« support.n1 »"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'nouveau.z'"), 0);

  const std::string own = depot_xml(sheet_xml(inherited), R"(demandeur="j.dupont")");
  const AppliedDeposit accepted = apply_through(&acme, own);
  ASSERT_EQ(accepted.operations.size(), 1u);
  EXPECT_TRUE(accepted.operations[0].accepted);
  // An operation naming its own demandeur is judged by it, not by the Depot's.
  const std::string mixed = depot_xml(user_xml("nouveau.z"), R"(demandeur="j.dupont")");
  const AppliedDeposit own_wins = apply_through(&acme, mixed);
  ASSERT_EQ(own_wins.operations.size(), 1u);
  EXPECT_EQ(own_wins.operations.at(0).diagnostics.at(0).code, ErrorCode::DemandeurNonAutorise);
}

// An operation with no demandeur at all (neither its own nor the Depot's) cannot act through an account.
TEST_F(AccountTest, NoDemandeurAtAllIsRefused) {
  const SenderAccount acme = acme_account();
  const std::string xml = depot_xml(user_xml("nouveau.z", false, ""));
  const AppliedDeposit a = apply_through(&acme, xml);
  ASSERT_EQ(a.operations.size(), 1u);
  ASSERT_EQ(a.operations[0].diagnostics.size(), 1u);
  EXPECT_EQ(a.operations[0].diagnostics[0].code, ErrorCode::DemandeurNonAutorise);
  EXPECT_THAT(a.operations[0].diagnostics[0].message, ::testing::HasSubstr("ne nomme aucun demandeur"));
}

// An unknown element, or one in another namespace or in none, is judged by its actor like any operation
// (hostile16): an allowed login's gets its own SCHEMA_INVALIDE (before the fix: DEMANDEUR_NON_AUTORISE saying
// that it named no demandeur, and an identity refusal counted), a foreign login's is named in its refusal.
TEST_F(AccountTest, UnknownOrForeignElementIsJudgedByItsActor) {
  const SenderAccount acme = acme_account();
  const std::string own =
      depot_xml(std::string(R"(<o:Recherche xmlns:o="urn:other" demandeur=")") + kSubscriber + R"(" type="EDI"/>)" +
                    "\n<Bidule demandeur=\"" + kSubscriber + "\"/>\n" + R"(<Recherche xmlns="" type="EDI"/>)",
                std::string(R"(mode="partielle" demandeur=")") + kSubscriber + "\"");
  const AppliedDeposit allowed = apply_through(&acme, own);
  ASSERT_EQ(allowed.operations.size(), 3u);
  for (const OperationOutcome& op : allowed.operations) {
    EXPECT_FALSE(op.accepted);
    ASSERT_EQ(op.diagnostics.size(), 1u) << own;
    EXPECT_EQ(op.diagnostics[0].code, ErrorCode::SchemaInvalide) << op.diagnostics[0].message;
  }

  const std::string foreign = depot_xml(R"(<o:Recherche xmlns:o="urn:other" demandeur="support.n1" type="EDI"/>)");
  const AppliedDeposit refused = apply_through(&acme, foreign);
  ASSERT_EQ(refused.operations.size(), 1u);
  ASSERT_EQ(refused.operations[0].diagnostics.size(), 1u);
  EXPECT_EQ(refused.operations[0].diagnostics[0].code, ErrorCode::DemandeurNonAutorise);
  EXPECT_THAT(refused.operations[0].diagnostics[0].message, ::testing::HasSubstr("« support.n1 »"));
}

// complete: one unauthorised operation among good ones rejects the whole dépôt (nothing applied);
// partielle: the good ones are applied.
TEST_F(AccountTest, CompleteDepositWithOneUnauthorisedOperationIsRejectedWhole) {
  const SenderAccount acme = acme_account();
  SheetSpec second = sftp_sheet();
  second.reference = "deux";
  const std::string operations = sheet_xml(sftp_sheet()) + user_xml("nouveau.z") + sheet_xml(second);
  const AppliedDeposit complete = apply_through(&acme, depot_xml(operations, R"(mode="complete")"));
  EXPECT_EQ(complete.outcome.status, DepositStatus::Rejete);
  EXPECT_TRUE(complete.outcome.rolled_back);
  EXPECT_EQ(complete.outcome.accepted, 0u);
  EXPECT_EQ(complete.outcome.rejected, 3u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);

  const AppliedDeposit partial = apply_through(&acme, depot_xml(operations, R"(mode="partielle")"));
  EXPECT_EQ(partial.outcome.status, DepositStatus::IntegrePartiel);
  EXPECT_EQ(partial.outcome.accepted, 2u);
  EXPECT_EQ(partial.outcome.rejected, 1u);
  ASSERT_EQ(partial.operations.size(), 3u);
  EXPECT_EQ(partial.operations[1].diagnostics.at(0).code, ErrorCode::DemandeurNonAutorise);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'nouveau.z'"), 0);
}

// Without an account (inbox/ itself) the same dépôt is applied as before: no identity restriction.
TEST_F(AccountTest, NoAccountKeepsTheBehaviourOfInbox) {
  const std::string operations = sheet_xml(sftp_sheet()) + user_xml("nouveau.z");
  const AppliedDeposit a = apply_through(nullptr, depot_xml(operations, R"(mode="complete")"));
  EXPECT_EQ(a.outcome.status, DepositStatus::Integre);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'nouveau.z'"), 1);
}

}  // namespace
}  // namespace raccord::testing
