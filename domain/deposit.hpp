// A dépôt as read from the inbox (SPEC.md §3): ordered operations, every value with its source line.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "domain/diagnostic.hpp"
#include "domain/vocabulary.hpp"

namespace raccord {

/// One value of the dépôt: an attribute or an element's text (SPEC.md §3).
///
/// The one reading of a value, used by the dépôt reader and by every re-check of stored values
/// (docs/design.md "Empty values"): `Field::of` trims surrounding XML whitespace (space, tab, CR,
/// LF); a value that is empty after trimming is ABSENT (`present` false, `value` empty), exactly as
/// if it had not been written. So an optional value written empty (`au=""`, `fax=" "`,
/// `<Commentaires/>`) means "not given" everywhere: the rules, the store (NULL, never ''), the
/// nightly run, searches and `show`. A required value written empty is the reader's
/// SCHEMA_INVALIDE (inbox/deposit_reader.hpp).
/// `line` is the 1-based line of the attribute's element (or of the element) in the original
/// file, kept also when the value was written blank; 0 when nothing was written.
struct Field {
  std::string value;
  int line = 0;
  bool present = false;

  /// `raw` trimmed; present iff something is left. `line` as above.
  static Field of(std::string raw, int line) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    std::size_t e = raw.size();
    while (e > 0 && space(raw[e - 1])) --e;
    raw.resize(e);
    std::size_t b = 0;
    while (b < raw.size() && space(raw[b])) ++b;
    raw.erase(0, b);
    Field f;
    f.present = !raw.empty();
    f.value = std::move(raw);
    f.line = line;
    return f;
  }

  bool empty() const { return value.empty(); }
  /// Present and non-empty after trimming (the same as `present` for a Field made by `of`).
  bool filled() const { return present && !value.empty(); }
};

/// `<Structure>` upsert (SPEC.md §3.1). Booleans and enums are already checked by the reader;
/// a bad value is a SCHEMA_INVALIDE in Operation::schema_errors and the default is kept here.
struct StructureOperation {
  struct ManagerEntry {
    Field login;
    ManagerRole role = ManagerRole::Principal;
    int line = 0;
  };
  Field siret;
  Field raison_sociale;
  bool active = true;                        // statut ACTIF (default) / INACTIF
  bool is_public = false;                    // type publique / privee (default)
  bool connected_in_qualification = false;   // raccordeeQualification
  Field editor_siret;                        // editeur (optional)
  bool uses_tiers_teletransmission = false;  // tiersTeletransmission
  std::vector<ManagerEntry> managers;
  std::vector<Field> technical_users;  // UtilisateurTechnique/@login
};

/// `<Utilisateur>` upsert (SPEC.md §3.1).
struct UserOperation {
  Field login;
  Field email;
  bool support = false;
};

/// `<ActivationEspace>` (SPEC.md §3.2).
struct SpaceActivationOperation {
  Field structure;
};

/// `<DemandeAbonnement>` (SPEC.md §3.2).
struct SubscriptionRequestOperation {
  Field structure;
  bool consultation = false;
  bool modification = false;
  Field date;  // optional YYYY-MM-DD, already checked by the reader
  Field comment;
};

/// `<DecisionAbonnement>` (SPEC.md §3.2).
struct SubscriptionDecisionOperation {
  Field request_id;  // demande="ABO-NNNNNN"
  Decision decision = Decision::Valider;
};

/// One `<Certificat>`: its `nom` and its text content (base64 or PEM text), untrimmed inside.
struct CertificateField {
  Field name;
  std::string content;  // the element's text, trimmed at both ends
  int line = 0;         // line of the <Certificat> element
  int index = 0;        // 1-based position among Certificats/Certificat
};

/// One `<Interface code=".." mode=".."/>`.
struct InterfaceField {
  Field code;
  Field mode;  // raw text; checked by the reader (SCHEMA_INVALIDE on a bad value)
  int line = 0;
};

/// `<FicheEDI>` / `<FicheAPI>` (SPEC.md §3.3). Only `action` and `Partenaire` are required by the
/// schema; everything else may be absent (the rules report it).
struct SheetOperation {
  SheetKind kind = SheetKind::Edi;
  SheetAction action = SheetAction::Enregistrer;
  Field code_appli;  // attribute codeAppli
  Field partner;     // <Partenaire> text (SIRET)
  Field protocol;    // <Protocole> text, raw (PROTOCOLE_INVALIDE is a rule)
  bool has_period = false;
  Field period_from;              // Periode/@du
  Field period_to;                // Periode/@au
  bool has_certificates = false;  // <Certificats> present
  int certificates_line = 0;
  std::vector<CertificateField> certificates;
  bool has_contact = false;
  int contact_line = 0;
  Field contact_name;   // ContactTechnique/@nomPrenom
  Field contact_phone;  // @telephone
  Field contact_email;  // @email
  Field contact_fax;    // @fax
  bool has_network = false;
  int network_line = 0;
  Field network_identifier;  // Reseau/Identifiant
  Field network_address;     // Reseau/AdresseIP
  Field network_port;        // Reseau/Port
  Field network_path;        // Reseau/CheminDepot
  bool has_interfaces = false;
  int interfaces_line = 0;
  std::vector<InterfaceField> interfaces;
  Field comments;  // <Commentaires>
};

/// `<Recherche>` (SPEC.md §3.4). Every criterion optional.
struct SearchOperation {
  std::optional<SheetKind> kind;  // @type; absent: the CodeAppli's sheet's type, else EDI (SPEC.md §3.4)
  ExportFormat format = ExportFormat::Csv;
  Field partner;
  Field state;  // state code
  Field code_appli;
  Field protocol;
  Field interface_code;
  Field submitted_from;  // SoumisDepuis YYYY-MM-DD
  Field submitted_to;    // SoumisJusqua YYYY-MM-DD
  Field raison_sociale;  // RaisonSociale: part of the partner's name, accents and case ignored
};

/// An operation element the reader did not recognise (its schema error says so).
struct UnknownOperation {};

using OperationBody =
    std::variant<UnknownOperation, StructureOperation, UserOperation, SpaceActivationOperation,
                 SubscriptionRequestOperation, SubscriptionDecisionOperation, SheetOperation, SearchOperation>;

/// One operation of a dépôt, in document order.
struct Operation {
  int rank = 0;               // 1-based position among the Depot's element children
  std::string element_name;   // local name, e.g. "FicheEDI"; echoed as the accusé's `type`
  int line = 0;               // line of the operation element
  Field reference;            // @reference, echoed in the accusé
  Field requester;            // @demandeur, or the Depot's @demandeur
  Diagnostics schema_errors;  // SCHEMA_INVALIDE findings inside this operation
  OperationBody body;
};

/// A readable dépôt.
struct Deposit {
  Field identifier;  // Depot/@identifiant (optional)
  DepositMode mode = DepositMode::Complete;
  std::vector<Operation> operations;
};

/// Result of reading a dépôt file: either a Deposit or dépôt-level errors (XML_MALFORME,
/// ENCODAGE_INVALIDE, DTD_INTERDITE, FICHIER_VIDE, FICHIER_TROP_VOLUMINEUX, SCHEMA_INVALIDE on the
/// root). Exactly one of the two is meaningful: `deposit` is set iff `errors` is empty.
struct DepositReadResult {
  std::optional<Deposit> deposit;
  Diagnostics errors;
};

}  // namespace raccord
