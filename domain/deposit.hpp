// A dépôt as read from the inbox (docs/reference.md §3): ordered operations, every value with its source line.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "domain/diagnostic.hpp"
#include "domain/vocabulary.hpp"

namespace raccord {

/// One value of the dépôt: an attribute or an element's text (docs/reference.md §3).
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

/// `<Structure>` upsert (docs/reference.md §3.1). Booleans and enums are already checked by the reader;
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

/// `<Utilisateur>` upsert (docs/reference.md §3.1).
struct UserOperation {
  Field login;
  Field email;
  bool support = false;
};

/// `<ActivationEspace>` (docs/reference.md §3.2).
struct SpaceActivationOperation {
  Field structure;
};

/// `<DemandeAbonnement>` (docs/reference.md §3.2).
struct SubscriptionRequestOperation {
  Field structure;
  bool consultation = false;
  bool modification = false;
  Field date;  // optional YYYY-MM-DD, already checked by the reader
  Field comment;
};

/// `<DecisionAbonnement>` (docs/reference.md §3.2).
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

/// `<FicheEDI>` / `<FicheAPI>` (docs/reference.md §3.3). Only `action` and `Partenaire` are required by the
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

/// `<Recherche>` (docs/reference.md §3.4). Every criterion optional.
struct SearchOperation {
  std::optional<SheetKind> kind;  // @type; absent: the CodeAppli's sheet's type, else EDI (docs/reference.md §3.4)
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

/// A value kept on the heap with value semantics (a copy copies the value). It keeps an operation's
/// body as small as a pointer whatever its kind: a SheetOperation is 656 bytes, and a dépôt of
/// 250,000 empty elements is 250,000 operations (docs/design.md "Memory bound"). Converts implicitly
/// from T, so `body = SheetOperation{...}` stores a Boxed<SheetOperation>. A moved-from Boxed holds
/// nothing and may only be assigned or destroyed.
template <class T>
class Boxed {
 public:
  Boxed() : value_(std::make_unique<T>()) {}
  Boxed(T value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT(google-explicit-constructor)
  Boxed(const Boxed& other) : value_(std::make_unique<T>(*other.value_)) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) value_ = std::make_unique<T>(*other.value_);
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  ~Boxed() = default;

  const T& operator*() const { return *value_; }
  T& operator*() { return *value_; }
  const T* operator->() const { return value_.get(); }
  T* operator->() { return value_.get(); }

 private:
  std::unique_ptr<T> value_;
};

using OperationBody = std::variant<UnknownOperation, Boxed<StructureOperation>, Boxed<UserOperation>,
                                   Boxed<SpaceActivationOperation>, Boxed<SubscriptionRequestOperation>,
                                   Boxed<SubscriptionDecisionOperation>, Boxed<SheetOperation>, Boxed<SearchOperation>>;

/// The value of an attribute not written: absent, line 0.
inline const Field kNoField{};

/// One operation of a dépôt, in document order. 120 bytes whatever its kind, and nothing more for an
/// operation without body, reference nor demandeur of its own (docs/design.md "Memory bound").
struct Operation {
  int rank = 0;                              // 1-based position among the Depot's element children
  int line = 0;                              // line of the operation element
  OmittedDiagnostics omitted_schema_errors;  // schema findings past the cap: counted, not kept
  std::string element_name;                  // local name, e.g. "FicheEDI"; echoed as the accusé's `type`
  Diagnostics schema_errors;                 // SCHEMA_INVALIDE findings inside this operation (details of the
                                             // dépôt's first kMaxListedDiagnostics findings only)
  OperationBody body;

  /// @reference, echoed in the accusé (kNoField when not written).
  const Field& reference() const { return reference_ ? *reference_ : kNoField; }
  /// @demandeur, or the Depot's @demandeur (kNoField when neither applies).
  const Field& requester() const { return requester_ ? *requester_ : kNoField; }
  void set_reference(Field f) { reference_ = shared(std::move(f)); }
  void set_requester(Field f) { requester_ = shared(std::move(f)); }
  /// The Depot's @demandeur, one copy shared by the operations that inherit it.
  void set_requester(std::shared_ptr<const Field> f) { requester_ = std::move(f); }

  /// True when the reader found a schema error in it (kept or only counted): it is not applied.
  bool schema_invalid() const { return has_error(schema_errors, omitted_schema_errors); }

 private:
  static std::shared_ptr<const Field> shared(Field f) {
    if (!f.present && f.line == 0 && f.value.empty()) return nullptr;
    return std::make_shared<const Field>(std::move(f));
  }
  std::shared_ptr<const Field> reference_;
  std::shared_ptr<const Field> requester_;
};

/// The body of `op` when it is a T (boxed or not), else null.
template <class T>
const T* body_if(const Operation& op) {
  if constexpr (std::is_same_v<T, UnknownOperation>) {
    return std::get_if<UnknownOperation>(&op.body);
  } else {
    const auto* boxed = std::get_if<Boxed<T>>(&op.body);
    return boxed == nullptr ? nullptr : &**boxed;
  }
}

/// The body of `op`, which must be a T (std::bad_variant_access otherwise).
template <class T>
const T& body_as(const Operation& op) {
  if constexpr (std::is_same_v<T, UnknownOperation>) {
    return std::get<UnknownOperation>(op.body);
  } else {
    return *std::get<Boxed<T>>(op.body);
  }
}

/// A readable dépôt.
struct Deposit {
  Field identifier;  // Depot/@identifiant (optional)
  DepositMode mode = DepositMode::Complete;
  /// In blocks of a few operations, not one array: while the reader frees its tree, the blocks
  /// reuse that memory (one array of 250,000 operations would be 30 MB next to the whole tree;
  /// docs/design.md "Memory bound").
  std::deque<Operation> operations;
};

/// Result of reading a dépôt file: either a Deposit or dépôt-level errors (XML_MALFORME,
/// ENCODAGE_INVALIDE, DTD_INTERDITE, FICHIER_VIDE, FICHIER_TROP_VOLUMINEUX, SCHEMA_INVALIDE on the
/// root). Exactly one of the two is meaningful: `deposit` is set iff `errors` is empty.
struct DepositReadResult {
  std::optional<Deposit> deposit;
  Diagnostics errors;                 // the first kMaxListedDiagnostics
  OmittedDiagnostics omitted_errors;  // the others (a Depot holding 250,000 stray texts), counted
};

}  // namespace raccord
