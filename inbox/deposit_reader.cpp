#include "inbox/deposit_reader.hpp"

#include <initializer_list>
#include <map>
#include <memory>
#include <new>
#include <pugixml.hpp>
#include <string>
#include <utility>

#include "domain/allocation_fault.hpp"
#include "domain/civil_date.hpp"
#include "inbox/transcoder.hpp"
#include "inbox/xml_gate.hpp"

namespace raccord::inbox {
namespace {

constexpr std::string_view kNamespace = "urn:raccord:depot:1";
constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";

bool is_xml_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is_xml_space(s[b])) ++b;
  while (e > b && is_xml_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

bool is_text(pugi::xml_node n) {
  return n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata;
}

bool is_namespace_declaration(std::string_view attr_name) {
  return attr_name == "xmlns" || attr_name.substr(0, 6) == "xmlns:";
}

/// Namespace URI and local name of an element, resolved through the xmlns declarations of the
/// element and its ancestors (bounded: the gate caps the depth at kMaxElementDepth).
struct ElementName {
  std::string_view uri;
  std::string_view local;
  std::string_view qualified;
};

ElementName resolve(pugi::xml_node node) {
  const std::string_view qname = node.name();
  const std::size_t colon = qname.find(':');
  const std::string_view prefix = colon == std::string_view::npos ? std::string_view{} : qname.substr(0, colon);
  const std::string_view local = colon == std::string_view::npos ? qname : qname.substr(colon + 1);
  if (prefix == "xml") return {kXmlNamespace, local, qname};
  const std::string decl = prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    if (const pugi::xml_attribute a = n.attribute(decl.c_str())) return {a.value(), local, qname};
  }
  return {std::string_view{}, local, qname};
}

std::string quote(std::string_view s) {
  return "« " + std::string(s) + " »";
}

std::string attr_path(const std::string& path, std::string_view name) {
  return path.empty() ? "@" + std::string(name) : path + "/@" + std::string(name);
}

std::string child_path(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "/" + std::string(name);
}

std::string indexed(std::string_view name, int index) {
  return std::string(name) + "[" + std::to_string(index) + "]";
}

/// Text of an element: its direct text and CDATA children concatenated, trimmed at both ends.
/// One copy of the (possibly 50 MB) text in the common single-node case.
std::string text_content(pugi::xml_node node) {
  pugi::xml_node only;
  int count = 0;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (is_text(c)) {
      only = c;
      ++count;
    }
  }
  if (count == 0) return {};
  if (count == 1) return std::string(trim(only.value()));
  std::string joined;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (is_text(c)) joined += c.value();
  }
  const std::string_view t = trim(joined);
  return std::string(t);
}

/// Reads one operation element into an Operation, collecting its SCHEMA_INVALIDE findings.
class OperationReader {
 public:
  /// `budget`: the dépôt's findings so far (only the details of the first kMaxListedDiagnostics
  /// are kept).
  OperationReader(const LineIndex& lines, Operation& op, DiagnosticBudget& budget)
      : lines_(lines), op_(op), budget_(budget) {}

  int line(pugi::xml_node n) const {
    const std::ptrdiff_t offset = n.offset_debug();
    return offset < 0 ? 0 : lines_.line_of(static_cast<std::size_t>(offset));
  }

  void error(std::string field, int line_number, std::string message) {
    budget_.add(op_.schema_errors, op_.omitted_schema_errors,
                Diagnostic::error(ErrorCode::SchemaInvalide, std::move(field), line_number, std::move(message)));
  }

  /// Reports every attribute of `node` not in `allowed` (namespace declarations aside; a prefixed
  /// attribute is never allowed: docs/reference.md §3, attributes carry no prefix).
  void check_attributes(pugi::xml_node node, const std::string& path, std::initializer_list<std::string_view> allowed) {
    for (const pugi::xml_attribute a : node.attributes()) {
      const std::string_view name = a.name();
      if (is_namespace_declaration(name)) continue;
      bool ok = false;
      for (const std::string_view candidate : allowed) ok = ok || candidate == name;
      if (ok) continue;
      error(attr_path(path, name), line(node),
            "L'attribut " + quote(name) + " n'est pas admis sur l'élément " + quote(resolve(node).local) +
                (name.find(':') != std::string_view::npos ? " (les attributs ne portent pas de préfixe)." : "."));
    }
  }

  /// Reports non-blank text directly inside an element that holds none.
  void check_no_text(pugi::xml_node node, const std::string& path) {
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
      if (!is_text(c)) continue;
      const std::string_view t = trim(c.value());
      if (t.empty()) continue;
      const std::string shown(t.substr(0, 40));
      error(path, line(c),
            "Texte inattendu " + quote(shown + (t.size() > 40 ? "…" : "")) + " dans l'élément " +
                quote(resolve(node).local) + " : cet élément ne contient pas de texte.");
      return;
    }
  }

  /// An attribute's value, read by Field::of (the one reading of a value: trimmed, and absent when
  /// blank). Absent attribute: a Field with line 0.
  Field attribute(pugi::xml_node node, std::string_view name) {
    const pugi::xml_attribute a = node.attribute(std::string(name).c_str());
    if (!a) return Field{};
    return Field::of(a.value(), line(node));
  }

  /// A required attribute: missing, empty or only blanks is a SCHEMA_INVALIDE on it (docs/reference.md §3.1,
  /// §4: a required value is present and not blank; values with a rule code of their own, such as
  /// a SIRET, are judged by that rule only once they are given).
  Field required(pugi::xml_node node, const std::string& path, std::string_view name) {
    Field f = attribute(node, name);
    if (f.present) return f;
    const std::string element = quote(resolve(node).local);
    if (!node.attribute(std::string(name).c_str())) {
      error(attr_path(path, name), line(node),
            "L'attribut obligatoire " + quote(name) + " manque sur l'élément " + element +
                " : l'ajouter avec sa valeur.");
    } else {
      error(attr_path(path, name), line(node),
            "L'attribut obligatoire " + quote(name) + " de l'élément " + element +
                " est vide (ou ne contient que des blancs) : y indiquer une valeur.");
    }
    return f;
  }

  /// An enumerated attribute: nullopt when absent (reported if `is_required`) or invalid (reported).
  template <class Parse>
  auto enumerated(pugi::xml_node node, const std::string& path, std::string_view name, Parse parse,
                  std::string_view allowed, bool is_required) -> decltype(parse(std::string_view{})) {
    const Field f = is_required ? required(node, path, name) : attribute(node, name);
    if (!f.present) return std::nullopt;
    auto parsed = parse(f.value);
    if (!parsed) {
      error(attr_path(path, name), f.line,
            "La valeur " + quote(f.value) + " de l'attribut " + quote(name) + " est invalide : valeurs admises " +
                std::string(allowed) + ".");
    }
    return parsed;
  }

  /// A boolean attribute (exactly "true" or "false"): `fallback` when absent (or blank: an empty
  /// optional value is absent), nullopt when invalid.
  std::optional<bool> boolean(pugi::xml_node node, const std::string& path, std::string_view name, bool fallback) {
    const Field f = attribute(node, name);
    if (!f.present) return fallback;
    const auto parsed = parse_boolean(f.value);
    if (!parsed) {
      error(attr_path(path, name), f.line,
            "La valeur " + quote(f.value) + " de l'attribut " + quote(name) +
                " n'est pas un booléen : écrire true ou false.");
    }
    return parsed;
  }

  void check_date(const Field& f, const std::string& field, std::string_view what) {
    if (!f.present || parse_iso_date(f.value)) return;
    error(field, f.line,
          "La date " + quote(f.value) + " de " + quote(what) +
              " est invalide : format attendu AAAA-MM-JJ, date du calendrier (par exemple 2026-04-30).");
  }

  /// An element holding only text: no attribute, no child element. Its value is read by Field::of
  /// (absent when blank: `<Commentaires/>` is no comment).
  Field text_element(pugi::xml_node node, const std::string& path) {
    check_attributes(node, path, {});
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element) unknown_element(c, path, node);
    }
    return Field::of(text_content(node), line(node));
  }

  /// Reports `child` (inside `parent`, at `parent_path`) as not allowed there.
  void unknown_element(pugi::xml_node child, const std::string& parent_path, pugi::xml_node parent) {
    const ElementName n = resolve(child);
    if (n.uri != kNamespace) {
      error(child_path(parent_path, n.qualified), line(child),
            "L'élément " + quote(n.qualified) + " n'est pas dans l'espace de noms " + std::string(kNamespace) +
                (n.uri.empty() ? " (il n'a pas d'espace de noms)." : " (espace de noms " + quote(n.uri) + ")."));
      return;
    }
    error(child_path(parent_path, n.local), line(child),
          "L'élément " + quote(n.local) + " n'est pas admis dans " + quote(resolve(parent).local) + ".");
  }

  /// True the first time `name` is seen in this container; reports the later occurrences.
  bool first_time(std::map<std::string, int, std::less<>>& seen, pugi::xml_node child, const std::string& path,
                  std::string_view name, pugi::xml_node parent) {
    if (seen[std::string(name)]++ == 0) return true;
    error(child_path(path, name), line(child),
          "L'élément " + quote(name) + " apparaît plusieurs fois dans " + quote(resolve(parent).local) +
              " : une seule occurrence est admise.");
    return false;
  }

  /// Calls `visit(child, local_name)` for each element child in our namespace; reports the others.
  template <class Visit>
  void for_each_child(pugi::xml_node node, const std::string& path, Visit visit) {
    check_no_text(node, path);
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      const ElementName n = resolve(c);
      if (n.uri != kNamespace) {
        unknown_element(c, path, node);
        continue;
      }
      visit(c, n.local);
    }
  }

  /// An element that must have no content at all.
  void empty_element(pugi::xml_node node, const std::string& path) {
    for_each_child(node, path, [&](pugi::xml_node c, std::string_view) { unknown_element(c, path, node); });
  }

  // ---- operations -------------------------------------------------------------------------

  StructureOperation structure(pugi::xml_node el) {
    StructureOperation s;
    const std::string path;
    check_attributes(el, path,
                     {"demandeur", "reference", "siret", "raisonSociale", "statut", "type", "raccordeeQualification",
                      "editeur", "tiersTeletransmission"});
    s.siret = required(el, path, "siret");
    s.raison_sociale = required(el, path, "raisonSociale");
    const auto statut = enumerated(
        el, path, "statut",
        [](std::string_view v) -> std::optional<bool> {
          if (v == "ACTIF") return true;
          if (v == "INACTIF") return false;
          return std::nullopt;
        },
        "ACTIF ou INACTIF", false);
    s.active = statut.value_or(true);
    const auto type = enumerated(
        el, path, "type",
        [](std::string_view v) -> std::optional<bool> {
          if (v == "publique") return true;
          if (v == "privee") return false;
          return std::nullopt;
        },
        "privee ou publique", false);
    s.is_public = type.value_or(false);
    s.connected_in_qualification = boolean(el, path, "raccordeeQualification", false).value_or(false);
    s.uses_tiers_teletransmission = boolean(el, path, "tiersTeletransmission", false).value_or(false);
    s.editor_siret = attribute(el, "editeur");
    int managers = 0;
    int technical = 0;
    for_each_child(el, path, [&](pugi::xml_node c, std::string_view name) {
      if (name == "Gestionnaire") {
        const std::string p = indexed(name, ++managers);
        check_attributes(c, p, {"login", "role"});
        StructureOperation::ManagerEntry m;
        m.login = required(c, p, "login");
        m.role = enumerated(c, p, "role", parse<ManagerRole>, "principal ou secondaire", true)
                     .value_or(ManagerRole::Principal);
        m.line = line(c);
        empty_element(c, p);
        s.managers.push_back(std::move(m));
      } else if (name == "UtilisateurTechnique") {
        const std::string p = indexed(name, ++technical);
        check_attributes(c, p, {"login"});
        s.technical_users.push_back(required(c, p, "login"));
        empty_element(c, p);
      } else {
        unknown_element(c, path, el);
      }
    });
    return s;
  }

  UserOperation user(pugi::xml_node el) {
    UserOperation u;
    const std::string path;
    check_attributes(el, path, {"demandeur", "reference", "login", "email", "support"});
    u.login = required(el, path, "login");
    u.email = required(el, path, "email");
    u.support = boolean(el, path, "support", false).value_or(false);
    empty_element(el, path);
    return u;
  }

  SpaceActivationOperation space_activation(pugi::xml_node el) {
    SpaceActivationOperation a;
    const std::string path;
    check_attributes(el, path, {"demandeur", "reference", "structure"});
    a.structure = required(el, path, "structure");
    empty_element(el, path);
    return a;
  }

  SubscriptionRequestOperation subscription_request(pugi::xml_node el) {
    SubscriptionRequestOperation r;
    const std::string path;
    check_attributes(el, path, {"demandeur", "reference", "structure", "consultation", "modification", "date"});
    r.structure = required(el, path, "structure");
    const auto consultation = boolean(el, path, "consultation", false);
    const auto modification = boolean(el, path, "modification", false);
    r.consultation = consultation.value_or(false);
    r.modification = modification.value_or(false);
    if (consultation && modification && !*consultation && !*modification) {
      error("@consultation", line(el),
            "Une demande d'abonnement doit demander au moins un droit : consultation=\"true\" et/ou "
            "modification=\"true\".");
    }
    r.date = attribute(el, "date");
    check_date(r.date, "@date", "date");
    std::map<std::string, int, std::less<>> seen;
    for_each_child(el, path, [&](pugi::xml_node c, std::string_view name) {
      if (name == "Commentaire") {
        if (first_time(seen, c, path, name, el)) r.comment = text_element(c, std::string(name));
      } else {
        unknown_element(c, path, el);
      }
    });
    return r;
  }

  SubscriptionDecisionOperation subscription_decision(pugi::xml_node el) {
    SubscriptionDecisionOperation d;
    const std::string path;
    check_attributes(el, path, {"demandeur", "reference", "demande", "decision"});
    d.request_id = required(el, path, "demande");
    d.decision =
        enumerated(el, path, "decision", parse<Decision>, "valider ou refuser", true).value_or(Decision::Valider);
    empty_element(el, path);
    return d;
  }

  SheetOperation sheet(pugi::xml_node el, SheetKind kind) {
    SheetOperation s;
    s.kind = kind;
    const std::string path;
    check_attributes(el, path, {"demandeur", "reference", "action", "codeAppli"});
    s.action =
        enumerated(el, path, "action", parse<SheetAction>, "enregistrer, soumettre, supprimer ou desactiver", true)
            .value_or(SheetAction::Enregistrer);
    s.code_appli = attribute(el, "codeAppli");
    std::map<std::string, int, std::less<>> seen;
    const bool edi = kind == SheetKind::Edi;
    for_each_child(el, path, [&](pugi::xml_node c, std::string_view name) {
      const std::string p(name);
      const bool edi_only = name == "Protocole" || name == "Periode" || name == "Reseau" || name == "CodesInterface";
      if (edi_only && !edi) {
        error(p, line(c),
              "L'élément " + quote(name) +
                  " n'est pas admis dans une fiche API (FicheAPI) : il est propre aux "
                  "fiches EDI.");
        return;
      }
      const bool known = name == "Partenaire" || name == "Certificats" || name == "ContactTechnique" ||
                         name == "Commentaires" || edi_only;
      if (!known) {
        unknown_element(c, path, el);
        return;
      }
      if (!first_time(seen, c, path, name, el)) return;
      if (name == "Partenaire") {
        s.partner = text_element(c, p);
      } else if (name == "Protocole") {
        s.protocol = text_element(c, p);
      } else if (name == "Commentaires") {
        s.comments = text_element(c, p);
      } else if (name == "Periode") {
        s.has_period = true;
        check_attributes(c, p, {"du", "au"});
        s.period_from = attribute(c, "du");
        s.period_to = attribute(c, "au");
        empty_element(c, p);
      } else if (name == "ContactTechnique") {
        s.has_contact = true;
        s.contact_line = line(c);
        check_attributes(c, p, {"nomPrenom", "telephone", "email", "fax"});
        s.contact_name = attribute(c, "nomPrenom");
        s.contact_phone = attribute(c, "telephone");
        s.contact_email = attribute(c, "email");
        s.contact_fax = attribute(c, "fax");
        empty_element(c, p);
      } else if (name == "Certificats") {
        certificates(c, p, s);
      } else if (name == "Reseau") {
        network(c, p, s);
      } else if (name == "CodesInterface") {
        interfaces(c, p, s);
      }
    });
    if (!seen.contains("Partenaire")) {
      error("Partenaire", line(el),
            "L'élément obligatoire « Partenaire » (SIRET de la structure raccordée) manque dans " +
                quote(resolve(el).local) + " : l'ajouter avec le SIRET.");
    } else if (!s.partner.present) {
      error("Partenaire", s.partner.line,
            "L'élément obligatoire « Partenaire » de " + quote(resolve(el).local) +
                " est vide (ou ne contient que des blancs) : y indiquer le SIRET de la structure raccordée.");
    }
    return s;
  }

  void certificates(pugi::xml_node el, const std::string& path, SheetOperation& s) {
    s.has_certificates = true;
    s.certificates_line = line(el);
    check_attributes(el, path, {});
    for_each_child(el, path, [&](pugi::xml_node c, std::string_view name) {
      if (name != "Certificat") {
        unknown_element(c, path, el);
        return;
      }
      CertificateField cert;
      cert.index = static_cast<int>(s.certificates.size()) + 1;
      const std::string p = child_path(path, indexed(name, cert.index));
      check_attributes(c, p, {"nom"});
      cert.name = attribute(c, "nom");
      cert.line = line(c);
      for (pugi::xml_node g = c.first_child(); g; g = g.next_sibling()) {
        if (g.type() == pugi::node_element) unknown_element(g, p, c);
      }
      cert.content = text_content(c);
      s.certificates.push_back(std::move(cert));
    });
  }

  void network(pugi::xml_node el, const std::string& path, SheetOperation& s) {
    s.has_network = true;
    s.network_line = line(el);
    check_attributes(el, path, {});
    std::map<std::string, int, std::less<>> seen;
    for_each_child(el, path, [&](pugi::xml_node c, std::string_view name) {
      Field* target = nullptr;
      if (name == "Identifiant") target = &s.network_identifier;
      if (name == "AdresseIP") target = &s.network_address;
      if (name == "Port") target = &s.network_port;
      if (name == "CheminDepot") target = &s.network_path;
      if (target == nullptr) {
        unknown_element(c, path, el);
        return;
      }
      if (first_time(seen, c, path, name, el)) *target = text_element(c, child_path(path, name));
    });
  }

  void interfaces(pugi::xml_node el, const std::string& path, SheetOperation& s) {
    s.has_interfaces = true;
    s.interfaces_line = line(el);
    check_attributes(el, path, {});
    for_each_child(el, path, [&](pugi::xml_node c, std::string_view name) {
      if (name != "Interface") {
        unknown_element(c, path, el);
        return;
      }
      const std::string p = child_path(path, indexed(name, static_cast<int>(s.interfaces.size()) + 1));
      check_attributes(c, p, {"code", "mode"});
      InterfaceField i;
      i.code = required(c, p, "code");
      i.mode = required(c, p, "mode");
      if (i.mode.present && !parse<ProcessingMode>(i.mode.value)) {
        error(attr_path(p, "mode"), i.mode.line,
              "La valeur " + quote(i.mode.value) +
                  " de l'attribut « mode » est invalide : valeurs admises aucun, complete ou partielle.");
      }
      i.line = line(c);
      empty_element(c, p);
      s.interfaces.push_back(std::move(i));
    });
  }

  SearchOperation search(pugi::xml_node el) {
    SearchOperation r;
    const std::string path;
    check_attributes(el, path, {"demandeur", "reference", "type", "format"});
    r.kind = enumerated(el, path, "type", parse<SheetKind>, "EDI ou API", false);
    r.format = enumerated(el, path, "format", parse<ExportFormat>, "csv ou xml", false).value_or(ExportFormat::Csv);
    std::map<std::string, int, std::less<>> seen;
    for_each_child(el, path, [&](pugi::xml_node c, std::string_view name) {
      Field* target = nullptr;
      if (name == "Partenaire") target = &r.partner;
      if (name == "Etat") target = &r.state;
      if (name == "CodeAppli") target = &r.code_appli;
      if (name == "Protocole") target = &r.protocol;
      if (name == "CodeInterface") target = &r.interface_code;
      if (name == "SoumisDepuis") target = &r.submitted_from;
      if (name == "SoumisJusqua") target = &r.submitted_to;
      if (name == "RaisonSociale") target = &r.raison_sociale;
      if (target == nullptr) {
        unknown_element(c, path, el);
        return;
      }
      if (!first_time(seen, c, path, name, el)) return;
      *target = text_element(c, std::string(name));
      if (name == "SoumisDepuis" || name == "SoumisJusqua") check_date(*target, std::string(name), name);
    });
    return r;
  }

  /// Reads the whole operation: body, reference, requester.
  void read(pugi::xml_node el, const std::shared_ptr<const Field>& depot_requester) {
    const ElementName n = resolve(el);
    op_.element_name = std::string(n.local);
    op_.line = line(el);
    op_.set_reference(attribute(el, "reference"));
    // The actor first, whatever the element: a sender account judges every operation by it before any other
    // rule (docs/accounts.md), so an unknown or foreign element of an allowed login is answered with its own
    // SCHEMA_INVALIDE, never as an operation that names no demandeur. A demandeur written blank on the
    // operation is absent like every optional value: the Depot's applies (docs/design.md "Empty values").
    if (Field own = attribute(el, "demandeur"); own.present) {
      op_.set_requester(std::move(own));
    } else if (depot_requester->filled()) {
      op_.set_requester(depot_requester);
    }
    if (n.uri != kNamespace) {
      op_.body = UnknownOperation{};
      error("", op_.line,
            "L'opération " + quote(n.qualified) + " n'est pas dans l'espace de noms " + std::string(kNamespace) +
                (n.uri.empty() ? " (elle n'a pas d'espace de noms)." : " (espace de noms " + quote(n.uri) + ")."));
      return;
    }
    const std::string_view name = n.local;
    if (name == "Structure") {
      op_.body = structure(el);
    } else if (name == "Utilisateur") {
      op_.body = user(el);
    } else if (name == "ActivationEspace") {
      op_.body = space_activation(el);
    } else if (name == "DemandeAbonnement") {
      op_.body = subscription_request(el);
    } else if (name == "DecisionAbonnement") {
      op_.body = subscription_decision(el);
    } else if (name == "FicheEDI") {
      op_.body = sheet(el, SheetKind::Edi);
    } else if (name == "FicheAPI") {
      op_.body = sheet(el, SheetKind::Api);
    } else if (name == "Recherche") {
      op_.body = search(el);
    } else {
      op_.body = UnknownOperation{};
      error("", op_.line,
            "L'opération " + quote(name) +
                " est inconnue : opérations admises Structure, Utilisateur, ActivationEspace, DemandeAbonnement, "
                "DecisionAbonnement, FicheEDI, FicheAPI, Recherche.");
      return;
    }
    if (!op_.requester().present) {
      error("@demandeur", op_.line,
            "Aucun demandeur : indiquer l'attribut « demandeur » (login de l'utilisateur) sur l'opération " +
                quote(name) + " ou sur l'élément « Depot ».");
    }
  }

 private:
  const LineIndex& lines_;
  Operation& op_;
  DiagnosticBudget& budget_;
};

DepositReadResult failure(Diagnostic d) {
  DepositReadResult r;
  r.errors.push_back(std::move(d));
  return r;
}

}  // namespace

DepositReadResult refuse_too_large(std::uint64_t size_bytes, std::uint64_t max_bytes) {
  return failure(Diagnostic::error(ErrorCode::FichierTropVolumineux, "", 0,
                                   "Le fichier fait " + std::to_string(size_bytes) +
                                       " octets, au-delà de la limite de " + std::to_string(max_bytes) +
                                       " octets (inbox.max_bytes) : le répartir en plusieurs dépôts."));
}

DepositReadResult read_deposit(std::string bytes, std::uint64_t max_bytes) {
  if (bytes.empty()) {
    return failure(Diagnostic::error(ErrorCode::FichierVide, "", 0,
                                     "Le fichier est vide (0 octet) : il ne contient aucun dépôt à lire."));
  }
  if (is_too_large(bytes.size(), max_bytes)) return refuse_too_large(bytes.size(), max_bytes);
  TranscodeResult text = transcode_to_utf8(std::move(bytes));
  if (text.error) return failure(std::move(*text.error));
  if (auto verdict = check_well_formed(text.utf8)) return failure(std::move(*verdict));

  // The index is built before pugixml parses (and rewrites) the buffer in place.
  const LineIndex lines(text.utf8);
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer_inplace(text.utf8.data(), text.utf8.size(), pugi::parse_default, pugi::encoding_utf8);
  auto line_of = [&](pugi::xml_node n) {
    const std::ptrdiff_t offset = n.offset_debug();
    return offset < 0 ? 0 : lines.line_of(static_cast<std::size_t>(offset));
  };
  // Memory running out is the engine's failure, never the sender's (XML_MALFORME would send the
  // file to error/ for good): it is thrown, and the dépôt stays claimed for the next pass.
  if (parsed.status == pugi::status_out_of_memory) throw std::bad_alloc();
  if (!parsed) {
    // Unreachable after the expat gate; kept so that a disagreement is an answer, not a crash.
    const int line = lines.line_of(static_cast<std::size_t>(parsed.offset));
    return failure(
        Diagnostic::error(ErrorCode::XmlMalforme, "", line,
                          std::string("Le fichier n'est pas un XML lisible : ") + parsed.description() + "."));
  }

  pugi::xml_node root = doc.document_element();
  const ElementName root_name = resolve(root);
  const int root_line = line_of(root);
  DepositReadResult result;
  DiagnosticBudget depot_budget;  // the dépôt-level errors are listed alone (no operation is then)
  auto depot_error = [&](std::string field, int line, std::string message) {
    depot_budget.add(result.errors, result.omitted_errors,
                     Diagnostic::error(ErrorCode::SchemaInvalide, std::move(field), line, std::move(message)));
  };
  if (root_name.local != "Depot" || root_name.uri != kNamespace) {
    depot_error(
        std::string(root_name.qualified), root_line,
        "L'élément racine est " + quote(root_name.qualified) +
            (root_name.uri.empty() ? " sans espace de noms" : " dans l'espace de noms " + quote(root_name.uri)) +
            " : un dépôt a pour racine « Depot » dans l'espace de noms " + std::string(kNamespace) + " (xmlns=\"" +
            std::string(kNamespace) + "\").");
    return result;
  }

  Deposit deposit;
  Field requester;  // shared by the operations that inherit it, once read
  for (const pugi::xml_attribute a : root.attributes()) {
    const std::string_view name = a.name();
    if (is_namespace_declaration(name)) continue;
    Field f = Field::of(a.value(), root_line);  // blank: absent, as every optional value
    if (name == "identifiant") {
      deposit.identifier = std::move(f);
    } else if (name == "demandeur") {
      requester = std::move(f);
    } else if (name == "mode") {
      if (!f.present) {
        // blank: the default mode
      } else if (const auto mode = parse<DepositMode>(f.value)) {
        deposit.mode = *mode;
      } else {
        depot_error("Depot/@mode", root_line,
                    "La valeur " + quote(f.value) +
                        " de l'attribut « mode » du dépôt est invalide : valeurs admises complete ou partielle.");
      }
    } else {
      depot_error("Depot/@" + std::string(name), root_line,
                  "L'attribut " + quote(name) +
                      " n'est pas admis sur « Depot » : attributs admis identifiant, mode et demandeur" +
                      (name.find(':') != std::string_view::npos ? " (sans préfixe)." : "."));
    }
  }

  DiagnosticBudget budget;  // the operations' findings, in document order
  const auto depot_requester = std::make_shared<const Field>(std::move(requester));
  int rank = 0;
  for (pugi::xml_node c = root.first_child(), next; c; c = next) {
    next = c.next_sibling();
    if (is_text(c)) {
      const std::string_view t = trim(c.value());
      if (!t.empty()) {
        depot_error("Depot", line_of(c),
                    "Texte inattendu " + quote(std::string(t.substr(0, 40)) + (t.size() > 40 ? "…" : "")) +
                        " directement dans « Depot » : seules des opérations (éléments) y sont admises.");
      }
    } else if (c.type() == pugi::node_element) {
      allocation_step(AllocationStep::Reader);
      Operation& op = deposit.operations.emplace_back();
      op.rank = ++rank;
      OperationReader(lines, op, budget).read(c, depot_requester);
    }
    // Each operation's nodes are freed once read: the tree's pages go back to the allocator as the
    // operations are built, so the two are never whole at once (docs/design.md "Memory bound").
    root.remove_child(c);
  }
  if (!result.errors.empty()) return result;
  result.deposit = std::move(deposit);
  return result;
}

}  // namespace raccord::inbox
