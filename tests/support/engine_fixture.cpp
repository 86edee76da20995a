#include "tests/support/engine_fixture.hpp"

#include <cstdio>
#include <pugixml.hpp>

namespace raccord::testing {
namespace {

std::string attribute(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + std::string(value) + "\"";
}

std::string optional_attribute(std::string_view name, std::string_view value) {
  return value.empty() ? std::string() : attribute(name, value);
}

const char* boolean(bool b) {
  return b ? "true" : "false";
}

AckDiagnostic read_diagnostic(const pugi::xml_node& node) {
  AckDiagnostic d;
  d.error = std::string_view(node.name()) == "Erreur";
  d.code = node.attribute("code").value();
  d.champ = node.attribute("champ").value();
  d.ligne = node.attribute("ligne").as_int();
  d.colonne = node.attribute("colonne").as_int();
  d.message = node.text().get();
  return d;
}

std::vector<std::string> codes_of(const std::vector<AckDiagnostic>& diagnostics, bool errors) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) {
    if (d.error == errors) out.push_back(d.code);
  }
  return out;
}

}  // namespace

std::string depot_xml(std::string_view operations, std::string_view attributes) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Depot xmlns=\"urn:raccord:depot:1\"";
  if (!attributes.empty()) out += " " + std::string(attributes);
  out += ">\n";
  out += operations;
  out += "</Depot>\n";
  return out;
}

std::string user_xml(const std::string& login, bool support, const std::string& demandeur, const std::string& email) {
  return "  <Utilisateur" + optional_attribute("demandeur", demandeur) + attribute("login", login) +
         attribute("email", email.empty() ? login + "@exemple.fr" : email) + attribute("support", boolean(support)) +
         "/>\n";
}

std::string structure_xml(const StructureSpec& s) {
  std::string out = "  <Structure" + optional_attribute("demandeur", s.demandeur) + attribute("siret", s.siret) +
                    attribute("raisonSociale", s.raison_sociale) + attribute("statut", s.statut) +
                    attribute("raccordeeQualification", boolean(s.qualification)) +
                    optional_attribute("editeur", s.editor) + attribute("tiersTeletransmission", boolean(s.tiers));
  if (s.managers.empty() && s.technical_users.empty()) return out + "/>\n";
  out += ">\n";
  for (const auto& [login, role] : s.managers) {
    out += "    <Gestionnaire" + attribute("login", login) + attribute("role", role) + "/>\n";
  }
  for (const auto& login : s.technical_users) out += "    <UtilisateurTechnique" + attribute("login", login) + "/>\n";
  return out + "  </Structure>\n";
}

std::string activation_xml(const std::string& demandeur, const std::string& siret) {
  return "  <ActivationEspace" + attribute("demandeur", demandeur) + attribute("structure", siret) + "/>\n";
}

std::string subscription_request_xml(const std::string& demandeur, const std::string& siret, bool modification) {
  return "  <DemandeAbonnement" + attribute("demandeur", demandeur) + attribute("structure", siret) +
         attribute("consultation", "true") + attribute("modification", boolean(modification)) +
         attribute("date", "2026-11-29") + ">\n    <Commentaire>Équipe intégration</Commentaire>\n" +
         "  </DemandeAbonnement>\n";
}

std::string decision_xml(const std::string& demandeur, const std::string& request, const std::string& decision) {
  return "  <DecisionAbonnement" + attribute("demandeur", demandeur) + attribute("demande", request) +
         attribute("decision", decision) + "/>\n";
}

std::string valid_bundle(std::string_view protocol) {
  LeafOptions leaf;
  leaf.server_auth = protocol == "AS2" || protocol == "PESIT";
  return TestPki::instance().bundle_base64(leaf);
}

SheetSpec sftp_sheet() {
  SheetSpec s;
  s.certificates = {valid_bundle("SFTP")};
  return s;
}

SheetSpec as2_sheet() {
  SheetSpec s;
  s.protocol = "AS2";
  s.network = true;
  s.certificates = {valid_bundle("AS2")};
  return s;
}

SheetSpec pesit_sheet() {
  SheetSpec s;
  s.protocol = "PESIT";
  s.certificates = {valid_bundle("PESIT")};
  return s;
}

SheetSpec api_sheet() {
  SheetSpec s;
  s.api = true;
  s.protocol.reset();
  s.period = false;
  s.interfaces.clear();
  s.certificates = {valid_bundle("API")};
  return s;
}

std::string sheet_xml(const SheetSpec& s) {
  const std::string element = s.api ? "FicheAPI" : "FicheEDI";
  std::string out = "  <" + element + attribute("demandeur", s.demandeur) + attribute("action", s.action) +
                    optional_attribute("codeAppli", s.code_appli) + optional_attribute("reference", s.reference) +
                    ">\n";
  out += "    <Partenaire>" + s.partner + "</Partenaire>\n";
  if (s.protocol) out += "    <Protocole>" + *s.protocol + "</Protocole>\n";
  if (s.period) {
    out += "    <Periode" + attribute("du", s.period_from) + optional_attribute("au", s.period_to) + "/>\n";
  }
  if (s.certificates_element) {
    out += "    <Certificats>\n";
    int n = 0;
    for (const auto& c : s.certificates) {
      out += "      <Certificat nom=\"certificat_" + std::to_string(++n) + ".p7b\">\n" + c + "      </Certificat>\n";
    }
    out += "    </Certificats>\n";
  }
  if (s.contact) {
    out += "    <ContactTechnique" + optional_attribute("nomPrenom", s.contact_name) +
           optional_attribute("telephone", s.contact_phone) + optional_attribute("email", s.contact_email) + "/>\n";
  }
  if (s.network) {
    out += "    <Reseau>\n";
    out += "      <Identifiant>" + s.network_identifier + "</Identifiant>\n";
    out += "      <AdresseIP>" + s.network_address + "</AdresseIP>\n";
    out += "      <Port>" + s.network_port + "</Port>\n";
    out += "      <CheminDepot>" + s.network_path + "</CheminDepot>\n";
    out += "    </Reseau>\n";
  }
  if (!s.api) {
    out += "    <CodesInterface>\n";
    for (const auto& [code, mode] : s.interfaces) {
      out += "      <Interface" + attribute("code", code) + attribute("mode", mode) + "/>\n";
    }
    out += "    </CodesInterface>\n";
  }
  out += "    <Commentaires>Fiche de test.</Commentaires>\n";
  out += s.extra;
  out += "  </" + element + ">\n";
  return out;
}

const AckDiagnostic* AckOperation::find(std::string_view code) const {
  for (const auto& d : diagnostics) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

std::vector<std::string> AckOperation::error_codes() const {
  return codes_of(diagnostics, true);
}
std::vector<std::string> AckOperation::warning_codes() const {
  return codes_of(diagnostics, false);
}
std::vector<std::string> ParsedAck::error_codes() const {
  return codes_of(errors, true);
}

ParsedAck parse_ack(const std::string& xml, const std::string& name) {
  ParsedAck ack;
  ack.name = name;
  ack.xml = xml;
  pugi::xml_document doc;
  if (!doc.load_string(xml.c_str())) {
    ADD_FAILURE() << "accusé illisible " << name << ":\n" << xml;
    return ack;
  }
  const pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "Accuse" ||
      std::string_view(root.attribute("xmlns").value()) != "urn:raccord:accuse:1") {
    ADD_FAILURE() << "pas un accusé " << name << ":\n" << xml;
    return ack;
  }
  ack.fichier = root.attribute("fichier").value();
  ack.sha256 = root.attribute("sha256").value();
  ack.identifiant = root.attribute("identifiant").value();
  ack.mode = root.attribute("mode").value();
  ack.statut = root.attribute("statut").value();
  ack.original = root.attribute("original").value();
  ack.compte = root.attribute("compte").value();
  ack.erreurs_omises = root.attribute("erreursOmises").value();
  ack.recu = root.attribute("recu").value();
  ack.traite = root.attribute("traite").value();
  for (const pugi::xml_node child : root.children()) {
    const std::string_view n = child.name();
    if (n == "Erreur") {
      ack.errors.push_back(read_diagnostic(child));
    } else if (n == "Operation") {
      AckOperation op;
      op.rang = child.attribute("rang").as_int();
      op.type = child.attribute("type").value();
      op.reference = child.attribute("reference").value();
      op.statut = child.attribute("statut").value();
      op.code_appli = child.attribute("codeAppli").value();
      op.etat = child.attribute("etat").value();
      op.supprimee = child.attribute("supprimee").value();
      op.demande = child.attribute("demande").value();
      for (const pugi::xml_node d : child.children()) {
        const std::string_view dn = d.name();
        if (dn == "Erreur" || dn == "Avertissement") op.diagnostics.push_back(read_diagnostic(d));
        if (dn == "ParametresAIFE") op.aife_protocole = d.attribute("protocole").value();
      }
      ack.operations.push_back(std::move(op));
    }
  }
  return ack;
}

int line_of(std::string_view text, std::string_view needle, int occurrence) {
  std::size_t from = 0;
  std::size_t pos = std::string_view::npos;
  for (int i = 0; i < occurrence; ++i) {
    pos = text.find(needle, from);
    if (pos == std::string_view::npos) return 0;
    from = pos + 1;
  }
  int line = 1;
  for (std::size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') ++line;
  }
  return line;
}

void drop_file(const std::filesystem::path& dir, const std::string& name, std::string_view bytes) {
  const std::filesystem::path part = dir / ("." + name + ".part");
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << part;
  }
  std::filesystem::rename(part, dir / name);
}

}  // namespace raccord::testing
