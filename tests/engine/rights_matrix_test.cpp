// The rights matrix of issue 8: every operation a dépôt can hold (docs/reference.md §3.1 directory upserts,
// §3.2 space and subscriptions, §3.3 sheet actions, §3.4 Recherche) × every kind of actor, each cell
// asserting the reference's answer: ACCEPTEE with its effect in the store, or REJETEE with the exact error
// codes of docs/reference.md §4 (DROIT_INSUFFISANT, UTILISATEUR_INCONNU, ABONNEMENT_INCONNU) and nothing
// changed in the store. Searches and exports never show another structure's sheets (docs/reference.md §3.4).
//
// How a row runs (fast: the world is built once per TEST, a row costs at most three dépôts):
// 1. its targets are prepared (one draft, one activated sheet, one pending request... per actor);
// 2. the cells expected REJETEE are sent together in one `partielle` dépôt: every operation must be
//    REJETEE with exactly its codes, the dépôt REJETE, and the store (every table but the dépôt
//    ledger) byte for byte as before;
// 3. the cells expected ACCEPTEE are sent together in a second `partielle` dépôt: INTEGRE, and each
//    cell's effect is checked (state, history actor, subscription status, export rows...).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>

#include "outbox/export_writer.hpp"
#include "tests/support/engine_fixture.hpp"

namespace raccord::testing {
namespace {

using ::testing::ElementsAreArray;

// ---------------------------------------------------------------------------------------------
// The actors (columns of the matrix).

enum Actor : std::size_t {
  kGp,          // g.martin: gestionnaire principal of kAcme (space active)
  kGs,          // a.leroy: gestionnaire secondaire of kAcme
  kMod,         // j.dupont: validated subscription to kAcme, Consultation + Modification (ABO-000001)
  kCons,        // c.lecture: validated subscription to kAcme, Consultation only (ABO-000002)
  kRef,         // r.refuse: refused request Consultation + Modification (ABO-000003)
  kAtt,         // p.attente: pending request Consultation + Modification (ABO-000004)
  kHors,        // x.durand: known user, no link to any structure
  kAutre,       // b.gest: gestionnaire principal of ANOTHER structure (kBeta, space active)
  kInconnu,     // inconnu.z: never in the directory
  kSupportCol,  // support.n1: support user
  // Support users given roles on kAcme (docs/reference.md §3.2: they still modify no sheet, activate no space
  // and decide no subscription, whatever roles or subscriptions the directory gives them).
  kSupGp,   // s.principal: support user listed as gestionnaire principal of kAcme
  kSupGs,   // s.secondaire: support user listed as gestionnaire secondaire of kAcme
  kSupMod,  // s.abonne: support user with a validated subscription to kAcme, Consultation + Modification
};
inline constexpr std::size_t kActorCount = 13;

inline constexpr std::array<const char*, kActorCount> kLogins{
    "g.martin", "a.leroy",   "j.dupont",   "c.lecture",   "r.refuse",     "p.attente", "x.durand",
    "b.gest",   "inconnu.z", "support.n1", "s.principal", "s.secondaire", "s.abonne"};

bool is_support_actor(std::size_t actor) {
  return actor >= kSupportCol;
}

inline constexpr const char* kBeta = "11111111800001";      // Béta Transports, manager b.gest, space active
inline constexpr const char* kRequester = "demandeur.abo";  // requests the subscriptions decided in the matrix

// Expected answers of one cell: "ACCEPTEE", or the error codes of the REJETEE operation joined by '+'.
inline constexpr const char* kOk = "ACCEPTEE";
inline constexpr const char* kDroit = "DROIT_INSUFFISANT";
inline constexpr const char* kUser = "UTILISATEUR_INCONNU";
inline constexpr const char* kAbo = "ABONNEMENT_INCONNU";
inline constexpr const char* kUserAbo = "UTILISATEUR_INCONNU+ABONNEMENT_INCONNU";

using Cells = std::array<const char*, kActorCount>;

// Who may consult which structure (docs/reference.md §3.4): "A" kAcme, "B" kBeta. The export of every
// Recherche row below must hold exactly the rows of these structures, never another's.
// clang-format off
//                                   g.martin a.leroy j.dupont c.lecture r.refuse p.attente x.durand b.gest inconnu support
//                                   s.principal s.secondaire s.abonne
inline constexpr std::array<const char*, kActorCount> kVisible{"A", "A", "A", "A",  "",   "",  "",
                                                               "B", "",  "AB", "AB", "AB", "AB"};
// clang-format on

// ---------------------------------------------------------------------------------------------
// The operations (rows of the matrix).

enum class Op {
  // §3.4 — a Recherche is never refused for lack of rights; its export is filtered.
  kSearchEdi,         // <Recherche type="EDI"/>, no criterion
  kSearchApi,         // <Recherche type="API"/>
  kSearchEdiPartner,  // <Partenaire>kAcme</Partenaire>
  kSearchEdiCode,     // <CodeAppli> of kAcme's submitted EDI sheet
  // §3.1 — the directory is the support's.
  kUserCreate,       // <Utilisateur> of a new login
  kStructureCreate,  // <Structure> of a new SIRET
  kStructureUpdate,  // <Structure> upsert of kAcme (same gestionnaires, another raison sociale)
  // §3.2 — the space and subscriptions.
  kActivateActive,  // <ActivationEspace> of kAcme, already active (idempotent)
  kActivateNew,     // <ActivationEspace> of a structure managed by g.martin / a.leroy, not yet active
  kRequest,         // <DemandeAbonnement> to kAcme (Consultation + Modification)
  kDecideValider,   // <DecisionAbonnement decision="valider"> on a pending request to kAcme
  kDecideRefuser,   // <DecisionAbonnement decision="refuser"> on a pending request to kAcme
  kDecideDecided,   // <DecisionAbonnement> on ABO-000003, already refused
  kDecideUnknown,   // <DecisionAbonnement> on ABO-999999, never requested
  // §3.3 — connection sheets of kAcme.
  kEdiEnregistrerNew,
  kEdiSoumettreNew,
  kEdiEnregistrerDraft,
  kEdiSoumettreDraft,
  kEdiSoumettreActivee,     // ACTIVEE → ENVOYEE_MAJ
  kEdiSoumettreDesactivee,  // DESACTIVEE → ENVOYEE
  kEdiSupprimerDraft,
  kEdiDesactiverActivee,
  kApiEnregistrerNew,
  kApiSoumettreNew,
  kApiSoumettreDraft,
  kApiSupprimerDraft,
  kApiDesactiverActivee,
};

struct Row {
  Op op;
  const char* label;
  Cells expected;
};

// clang-format off
// The matrix. Columns: the actors above; each cell is the reference's answer (docs/reference.md §3.1–§3.4, §4).
const std::vector<Row>& matrix() {
  static const std::vector<Row> rows{
  //                                                        g.martin a.leroy j.dupont c.lecture r.refuse p.attente x.durand b.gest  inconnu.z support.n1 s.principal s.secondaire s.abonne
  {Op::kSearchEdi,              "Recherche EDI",              {kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk, kOk, kOk, kOk}},
  {Op::kSearchApi,              "Recherche API",              {kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk, kOk, kOk, kOk}},
  {Op::kSearchEdiPartner,       "Recherche Partenaire=ACME",  {kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk, kOk, kOk, kOk}},
  {Op::kSearchEdiCode,          "Recherche CodeAppli ACME",   {kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk, kOk, kOk, kOk}},
  // §3.1: "Structure and Utilisateur ... may only be sent by a support user".
  {Op::kUserCreate,             "Utilisateur (création)",     {kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kOk, kOk, kOk, kOk}},
  {Op::kStructureCreate,        "Structure (création)",       {kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kOk, kOk, kOk, kOk}},
  {Op::kStructureUpdate,        "Structure (mise à jour)",    {kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kOk, kOk, kOk, kOk}},
  // §3.2: "Only a gestionnaire (principal or secondaire) of the structure may activate its space or
  // decide on a subscription"; support "modify none".
  {Op::kActivateActive,         "ActivationEspace (active)",  {kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kActivateNew,            "ActivationEspace (nouvelle)",{kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  // §3.2 sets no right on a request: any known user may ask (it grants nothing until validated).
  {Op::kRequest,                "DemandeAbonnement",          {kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kOk,    kUser,  kOk, kOk, kOk, kOk}},
  {Op::kDecideValider,          "DecisionAbonnement valider", {kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kDecideRefuser,          "DecisionAbonnement refuser", {kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  // §3.2: "A decision on an unknown or already decided request is ABONNEMENT_INCONNU" (§4: all
  // failures of an operation are reported: an unknown demandeur gets both codes).
  {Op::kDecideDecided,          "Décision déjà décidée",      {kAbo,   kAbo,   kAbo,   kAbo,   kAbo,   kAbo,   kAbo,   kAbo,   kUserAbo, kAbo, kAbo, kAbo, kAbo}},
  {Op::kDecideUnknown,          "Décision demande inconnue",  {kAbo,   kAbo,   kAbo,   kAbo,   kAbo,   kAbo,   kAbo,   kAbo,   kUserAbo, kAbo, kAbo, kAbo, kAbo}},
  // §3.3 / §4: sheets need the Modification right (gestionnaires of an active space, validated
  // subscription with Modification); "Support users consult every structure but modify none".
  {Op::kEdiEnregistrerNew,      "FicheEDI enregistrer",       {kOk,    kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kEdiSoumettreNew,        "FicheEDI soumettre",         {kOk,    kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kEdiEnregistrerDraft,    "FicheEDI enregistrer BROUILLON",{kOk, kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kEdiSoumettreDraft,      "FicheEDI soumettre BROUILLON",{kOk,   kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kEdiSoumettreActivee,    "FicheEDI soumettre ACTIVEE", {kOk,    kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kEdiSoumettreDesactivee, "FicheEDI soumettre DESACTIVEE",{kOk,  kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kEdiSupprimerDraft,      "FicheEDI supprimer BROUILLON",{kOk,   kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kEdiDesactiverActivee,   "FicheEDI desactiver ACTIVEE",{kOk,    kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kApiEnregistrerNew,      "FicheAPI enregistrer",       {kOk,    kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kApiSoumettreNew,        "FicheAPI soumettre",         {kOk,    kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kApiSoumettreDraft,      "FicheAPI soumettre BROUILLON",{kOk,   kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kApiSupprimerDraft,      "FicheAPI supprimer BROUILLON",{kOk,   kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  {Op::kApiDesactiverActivee,   "FicheAPI desactiver ACTIVEE",{kOk,    kOk,    kOk,    kDroit, kDroit, kDroit, kDroit, kDroit, kUser,  kDroit, kDroit, kDroit, kDroit}},
  };
  return rows;
}
// clang-format on

enum class Group { kSearch, kDirectory, kEdi, kApi };

Group group_of(Op op) {
  switch (op) {
    case Op::kSearchEdi:
    case Op::kSearchApi:
    case Op::kSearchEdiPartner:
    case Op::kSearchEdiCode:
      return Group::kSearch;
    case Op::kUserCreate:
    case Op::kStructureCreate:
    case Op::kStructureUpdate:
    case Op::kActivateActive:
    case Op::kActivateNew:
    case Op::kRequest:
    case Op::kDecideValider:
    case Op::kDecideRefuser:
    case Op::kDecideDecided:
    case Op::kDecideUnknown:
      return Group::kDirectory;
    case Op::kEdiEnregistrerNew:
    case Op::kEdiSoumettreNew:
    case Op::kEdiEnregistrerDraft:
    case Op::kEdiSoumettreDraft:
    case Op::kEdiSoumettreActivee:
    case Op::kEdiSoumettreDesactivee:
    case Op::kEdiSupprimerDraft:
    case Op::kEdiDesactiverActivee:
      return Group::kEdi;
    case Op::kApiEnregistrerNew:
    case Op::kApiSoumettreNew:
    case Op::kApiSoumettreDraft:
    case Op::kApiSupprimerDraft:
    case Op::kApiDesactiverActivee:
      return Group::kApi;
  }
  return Group::kSearch;
}

/// The 14-digit string `payload` + its Luhn check digit.
std::string with_luhn_digit(const std::string& payload) {
  int sum = 0;
  bool twice = true;  // the rightmost payload digit is doubled
  for (auto it = payload.rbegin(); it != payload.rend(); ++it) {
    int d = *it - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return payload + static_cast<char>('0' + (10 - sum % 10) % 10);
}

/// A SIRET valid in production (SIREN and SIRET Luhn), distinct for each n.
std::string fresh_siret(int n) {
  const std::string siren = with_luhn_digit("5" + std::to_string(1000000 + n));  // 8 digits + key
  return with_luhn_digit(siren + "0001");
}

std::string split_codes_joined(const std::vector<std::string>& codes) {
  std::vector<std::string> sorted = codes;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& c : sorted) out += (out.empty() ? "" : "+") + c;
  return out;
}

std::string sorted_expected(const std::string& expected) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t plus = expected.find('+', start);
    parts.push_back(expected.substr(start, plus == std::string::npos ? std::string::npos : plus - start));
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  return split_codes_joined(parts);
}

/// `<FicheEDI|FicheAPI demandeur action codeAppli><Partenaire/></...>` (supprimer, desactiver need
/// nothing else, docs/reference.md §3.3).
std::string short_sheet_xml(bool api, const std::string& demandeur, const std::string& action, const std::string& code,
                            const std::string& partner) {
  const std::string element = api ? "FicheAPI" : "FicheEDI";
  return "  <" + element + " demandeur=\"" + demandeur + "\" action=\"" + action + "\" codeAppli=\"" + code +
         "\"><Partenaire>" + partner + "</Partenaire></" + element + ">\n";
}

std::string search_xml(const std::string& demandeur, const std::string& type, const std::string& reference,
                       const std::string& criteria) {
  return "  <Recherche demandeur=\"" + demandeur + "\" type=\"" + type + "\" reference=\"" + reference + "\">" +
         criteria + "</Recherche>\n";
}

// ---------------------------------------------------------------------------------------------
// The fixture: the world of the matrix, built once per TEST by dépôts.

class RightsMatrixTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped()) return;
    // These tests compare every diagnostic; they have no CRL, so the default revocation mode (souple) would
    // add CERT_REVOCATION_INCONNUE warnings to every valid chain. Revocation is tested on its own (CodeTest,
    // NightlyRevocationTest).
    config_.revocation = rules::RevocationMode::Aucune;
    start();
    setup_world();  // support.n1, g.martin, j.dupont (ABO-000001 validated), x.durand; kAcme, kNoSpace
    StructureSpec acme = acme_spec(kSupport, "ACME Logistique SAS");
    StructureSpec beta;
    beta.siret = kBeta;
    beta.raison_sociale = "Béta Transports";
    beta.managers = {{"b.gest", "principal"}};
    beta.technical_users = {"TECH_BETA@example.com"};
    ok(user_xml("a.leroy") + user_xml("c.lecture") + user_xml("r.refuse") + user_xml("p.attente") + user_xml("b.gest") +
       user_xml(kRequester) + user_xml("s.principal", true) + user_xml("s.secondaire", true) +
       user_xml("s.abonne", true) + structure_xml(acme) + structure_xml(beta));
    const ParsedAck requests =
        ok(activation_xml("b.gest", kBeta) + subscription_request_xml("c.lecture", kAcme, false) +
           subscription_request_xml("r.refuse", kAcme) + subscription_request_xml("p.attente", kAcme) +
           subscription_request_xml("s.abonne", kAcme));
    ASSERT_EQ(requests.operations.size(), 5U);
    ASSERT_EQ(requests.operations[1].demande, "ABO-000002");
    ASSERT_EQ(requests.operations[2].demande, "ABO-000003");
    ASSERT_EQ(requests.operations[3].demande, "ABO-000004");
    ASSERT_EQ(requests.operations[4].demande, "ABO-000005");
    ok(decision_xml(kManager, "ABO-000002") + decision_xml(kManager, "ABO-000003", "refuser") +
       decision_xml(kManager, "ABO-000005"));

    // Sheets: kAcme by j.dupont (one submitted EDI, one EDI draft, one deleted EDI draft, one API);
    // kBeta by b.gest (one submitted EDI, one EDI draft, one API).
    SheetSpec acme_edi = sftp_sheet();
    SheetSpec acme_draft = sftp_sheet();
    acme_draft.action = "enregistrer";
    SheetSpec acme_api = api_sheet();
    SheetSpec beta_edi = sftp_sheet();
    beta_edi.demandeur = "b.gest";
    beta_edi.partner = kBeta;
    SheetSpec beta_draft = beta_edi;
    beta_draft.action = "enregistrer";
    SheetSpec beta_api = api_sheet();
    beta_api.demandeur = "b.gest";
    beta_api.partner = kBeta;
    const ParsedAck sheets =
        ok(sheet_xml(acme_edi) + sheet_xml(acme_draft) + sheet_xml(acme_draft) + sheet_xml(acme_api) +
           sheet_xml(beta_edi) + sheet_xml(beta_draft) + sheet_xml(beta_api));
    ASSERT_EQ(sheets.operations.size(), 7U);
    acme_edi_ = sheets.operations[0].code_appli;
    acme_draft_ = sheets.operations[1].code_appli;
    acme_deleted_ = sheets.operations[2].code_appli;
    acme_api_ = sheets.operations[3].code_appli;
    beta_edi_ = sheets.operations[4].code_appli;
    beta_draft_ = sheets.operations[5].code_appli;
    beta_api_ = sheets.operations[6].code_appli;
    ok(short_sheet_xml(false, kSubscriber, "supprimer", acme_deleted_, kAcme));
  }

  /// kAcme as the directory holds it in this world (g.martin principal, a.leroy secondaire, and the
  /// support users s.principal principal and s.secondaire secondaire).
  static StructureSpec acme_spec(const std::string& demandeur, const std::string& raison_sociale) {
    StructureSpec acme;
    acme.raison_sociale = raison_sociale;
    acme.managers = {{kManager, "principal"},
                     {"a.leroy", "secondaire"},
                     {"s.principal", "principal"},
                     {"s.secondaire", "secondaire"}};
    acme.demandeur = demandeur;
    return acme;
  }

  /// Processes a dépôt of `operations` (complete mode) that must be INTEGRE; returns its accusé.
  ParsedAck ok(const std::string& operations) {
    const ParsedAck ack = send(operations, "");
    EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
    return ack;
  }
  /// Processes a dépôt of `operations` with the `Depot` attributes `attributes`.
  ParsedAck send(const std::string& operations, const std::string& attributes) {
    ++n_;
    const std::string id = "RIGHTS-" + std::to_string(n_);
    char name[32];
    std::snprintf(name, sizeof name, "r_%04d.xml", n_);
    return process(name, depot_xml(operations, "identifiant=\"" + id + "\" " + attributes));
  }

  /// Every table a rejected operation could change (the dépôt ledger, counters and sequences
  /// excepted), as text: equal before and after a dépôt means nothing was applied.
  std::string snapshot() {
    static const std::vector<std::string> queries{
        "SELECT login, email, support, created_at, updated_at FROM users ORDER BY login",
        "SELECT siret, raison_sociale, active, is_public, connected_in_qualification, editor_siret, uses_tiers, "
        "space_active, space_activated_at, space_activated_by, updated_at FROM structures ORDER BY siret",
        "SELECT siret, login, role FROM managers ORDER BY siret, login",
        "SELECT siret, login FROM technical_users ORDER BY siret, login",
        "SELECT id, siret, login, consultation, modification, status, decided_by, decided_at FROM subscriptions "
        "ORDER BY id",
        "SELECT code_appli, kind, partner_siret, state, deleted, active_version, pending_version, submitted_at, "
        "updated_at FROM sheets ORDER BY code_appli",
        "SELECT COUNT(*) FROM sheet_versions",
        "SELECT COUNT(*) FROM sheet_interfaces",
        "SELECT COUNT(*) FROM sheet_certificates",
        "SELECT COUNT(*) FROM history",
    };
    std::string out;
    for (const auto& q : queries) {
      out += q + "\n";
      for (const auto& r : sql(q)) {
        for (std::size_t i = 0; i < r.size(); ++i) out += (i ? "|" : "") + r.text(i);
        out += "\n";
      }
    }
    return out;
  }

  /// One fresh target per actor for `op` (prepared by dépôts of the gestionnaire or the support),
  /// or "" where the operation needs none.
  std::array<std::string, kActorCount> prepare(Op op, std::size_t row) {
    std::array<std::string, kActorCount> targets;
    auto drafts = [&](bool api, const std::string& action) {
      std::string ops;
      for (std::size_t a = 0; a < kActorCount; ++a) {
        SheetSpec s = api ? api_sheet() : sftp_sheet();
        s.demandeur = kManager;
        s.action = action;
        ops += sheet_xml(s);
      }
      const ParsedAck ack = ok(ops);
      for (std::size_t a = 0; a < kActorCount && a < ack.operations.size(); ++a) {
        targets[a] = ack.operations[a].code_appli;
      }
    };
    switch (op) {
      case Op::kSearchEdi:
      case Op::kSearchApi:
      case Op::kSearchEdiPartner:
      case Op::kSearchEdiCode:
      case Op::kStructureUpdate:
      case Op::kActivateActive:
      case Op::kRequest:
      case Op::kEdiEnregistrerNew:
      case Op::kEdiSoumettreNew:
      case Op::kApiEnregistrerNew:
      case Op::kApiSoumettreNew:
        break;
      case Op::kUserCreate:
        for (std::size_t a = 0; a < kActorCount; ++a) {
          targets[a] = "nouveau.r" + std::to_string(row) + "c" + std::to_string(a);
        }
        break;
      case Op::kStructureCreate:
        for (std::size_t a = 0; a < kActorCount; ++a) targets[a] = fresh_siret(++sirets_);
        break;
      case Op::kActivateNew: {
        std::string ops;
        for (std::size_t a = 0; a < kActorCount; ++a) {
          targets[a] = fresh_siret(++sirets_);
          StructureSpec s = acme_spec(kSupport, "Structure à activer " + std::to_string(a));
          s.siret = targets[a];
          s.technical_users = {};
          ops += structure_xml(s);
        }
        ok(ops);
        break;
      }
      case Op::kDecideValider:
      case Op::kDecideRefuser: {
        std::string ops;
        for (std::size_t a = 0; a < kActorCount; ++a) ops += subscription_request_xml(kRequester, kAcme);
        const ParsedAck ack = ok(ops);
        for (std::size_t a = 0; a < kActorCount && a < ack.operations.size(); ++a) {
          targets[a] = ack.operations[a].demande;
        }
        break;
      }
      case Op::kDecideDecided:
        targets.fill("ABO-000003");
        break;
      case Op::kDecideUnknown:
        targets.fill("ABO-999999");
        break;
      case Op::kEdiEnregistrerDraft:
      case Op::kEdiSoumettreDraft:
      case Op::kEdiSupprimerDraft:
        drafts(false, "enregistrer");
        break;
      case Op::kApiSoumettreDraft:
      case Op::kApiSupprimerDraft:
        drafts(true, "enregistrer");
        break;
      case Op::kEdiSoumettreActivee:
      case Op::kEdiDesactiverActivee:
      case Op::kEdiSoumettreDesactivee:
      case Op::kApiDesactiverActivee: {
        const bool api = op == Op::kApiDesactiverActivee;
        drafts(api, "soumettre");
        for (const auto& code : targets) activate_by_sql(code);
        if (op == Op::kEdiSoumettreDesactivee) {
          std::string ops;
          for (const auto& code : targets) ops += short_sheet_xml(false, kManager, "desactiver", code, kAcme);
          ok(ops);
        }
        break;
      }
    }
    return targets;
  }

  /// The operation of one cell.
  std::string operation(Op op, std::size_t row, std::size_t actor, const std::string& target) const {
    const std::string login = kLogins[actor];
    auto sheet = [&](bool api, const std::string& action, const std::string& code) {
      SheetSpec s = api ? api_sheet() : sftp_sheet();
      s.demandeur = login;
      s.action = action;
      s.code_appli = code;
      return sheet_xml(s);
    };
    const std::string reference = "m" + std::to_string(row) + "-" + std::to_string(actor);
    switch (op) {
      case Op::kSearchEdi:
        return search_xml(login, "EDI", reference, "");
      case Op::kSearchApi:
        return search_xml(login, "API", reference, "");
      case Op::kSearchEdiPartner:
        return search_xml(login, "EDI", reference, "<Partenaire>" + std::string(kAcme) + "</Partenaire>");
      case Op::kSearchEdiCode:
        return search_xml(login, "EDI", reference, "<CodeAppli>" + acme_edi_ + "</CodeAppli>");
      case Op::kUserCreate:
        return user_xml(target, false, login);
      case Op::kStructureCreate: {
        StructureSpec s = acme_spec(login, "Nouvelle structure " + std::to_string(actor));
        s.siret = target;
        s.technical_users = {};
        return structure_xml(s);
      }
      case Op::kStructureUpdate:
        return structure_xml(acme_spec(login, "ACME Logistique SAS (" + login + ")"));
      case Op::kActivateActive:
        return activation_xml(login, kAcme);
      case Op::kActivateNew:
        return activation_xml(login, target);
      case Op::kRequest:
        return subscription_request_xml(login, kAcme);
      case Op::kDecideValider:
      case Op::kDecideDecided:
      case Op::kDecideUnknown:
        return decision_xml(login, target, "valider");
      case Op::kDecideRefuser:
        return decision_xml(login, target, "refuser");
      case Op::kEdiEnregistrerNew:
        return sheet(false, "enregistrer", "");
      case Op::kEdiSoumettreNew:
        return sheet(false, "soumettre", "");
      case Op::kEdiEnregistrerDraft:
        return sheet(false, "enregistrer", target);
      case Op::kEdiSoumettreDraft:
      case Op::kEdiSoumettreActivee:
      case Op::kEdiSoumettreDesactivee:
        return sheet(false, "soumettre", target);
      case Op::kEdiSupprimerDraft:
        return short_sheet_xml(false, login, "supprimer", target, kAcme);
      case Op::kEdiDesactiverActivee:
        return short_sheet_xml(false, login, "desactiver", target, kAcme);
      case Op::kApiEnregistrerNew:
        return sheet(true, "enregistrer", "");
      case Op::kApiSoumettreNew:
        return sheet(true, "soumettre", "");
      case Op::kApiSoumettreDraft:
        return sheet(true, "soumettre", target);
      case Op::kApiSupprimerDraft:
        return short_sheet_xml(true, login, "supprimer", target, kAcme);
      case Op::kApiDesactiverActivee:
        return short_sheet_xml(true, login, "desactiver", target, kAcme);
    }
    return {};
  }

  /// Rows "SIRET;CODE" of the export of the Recherche `reference` (docs/reference.md §5.2), after checking
  /// its header line.
  std::vector<std::string> export_rows(bool api, const std::string& reference) {
    const std::string prefix = std::string("EXPORT_") + (api ? "API" : "EDI") + "_" + reference + "_";
    std::vector<std::string> names;
    for (const auto& n : files_in(outbox())) {
      if (n.rfind(prefix, 0) == 0) names.push_back(n);
    }
    if (names.size() != 1) {
      ADD_FAILURE() << "expected one export " << prefix << "*, found " << names.size();
      return {};
    }
    std::string text = read_file(outbox() / names.front());
    if (text.rfind("\xEF\xBB\xBF", 0) != 0) ADD_FAILURE() << "no BOM in " << names.front();
    text.erase(0, 3);
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t end; (end = text.find("\r\n", start)) != std::string::npos; start = end + 2) {
      lines.push_back(text.substr(start, end - start));
    }
    EXPECT_EQ(start, text.size()) << "the export must end with CRLF: " << names.front();
    if (lines.empty()) {
      ADD_FAILURE() << "empty export " << names.front();
      return {};
    }
    EXPECT_EQ(lines.front(), outbox::export_csv_header(api ? SheetKind::Api : SheetKind::Edi));
    std::vector<std::string> rows;
    for (std::size_t i = 1; i < lines.size(); ++i) {
      std::vector<std::string> cells;
      std::size_t s = 0;
      for (std::size_t e; (e = lines[i].find(';', s)) != std::string::npos; s = e + 1) {
        cells.push_back(lines[i].substr(s, e - s));
      }
      cells.push_back(lines[i].substr(s));
      const std::size_t code_column = api ? 1 : 2;
      if (cells.size() <= code_column || cells[0].size() < 14) {
        ADD_FAILURE() << "bad export row: " << lines[i];
        continue;
      }
      rows.push_back(cells[0].substr(0, 14) + ";" + cells[code_column]);
    }
    return rows;
  }

  /// Every row of a search row as the support sees it (partner, codeAppli order; one interface
  /// per EDI sheet; deleted drafts never appear).
  std::vector<std::string> all_rows(Op op) const {
    const std::string beta = std::string(kBeta) + ";";
    const std::string acme = std::string(kAcme) + ";";
    if (op == Op::kSearchEdi) return {beta + beta_edi_, beta + beta_draft_, acme + acme_edi_, acme + acme_draft_};
    if (op == Op::kSearchApi) return {beta + beta_api_, acme + acme_api_};
    if (op == Op::kSearchEdiPartner) return {acme + acme_edi_, acme + acme_draft_};
    if (op == Op::kSearchEdiCode) return {acme + acme_edi_};
    return {};
  }

  /// Checks the effect of an ACCEPTEE cell.
  void check_accepted(Op op, std::size_t actor, const std::string& target, const std::string& reference,
                      const AckOperation& ack) {
    const std::string login = kLogins[actor];
    auto sheet_effect = [&](const std::string& code, const std::string& state, bool deleted) {
      if (!target.empty()) {
        EXPECT_EQ(code, target);
      }
      ASSERT_FALSE(code.empty());
      EXPECT_EQ(ack.etat, state);
      EXPECT_EQ(state_of(code), state);
      EXPECT_EQ(count("SELECT COUNT(*) FROM sheets WHERE code_appli = $1 AND partner_siret = $2 AND deleted = $3",
                      {code, std::string(kAcme), std::int64_t{deleted ? 1 : 0}}),
                1);
      const auto h = history(code);
      ASSERT_FALSE(h.empty());
      EXPECT_EQ(h.back().substr(0, login.size() + 1), login + ":") << h.back();
    };
    switch (op) {
      case Op::kSearchEdi:
      case Op::kSearchApi:
      case Op::kSearchEdiPartner:
      case Op::kSearchEdiCode: {
        std::vector<std::string> expected;
        const std::string visible = kVisible[actor];
        for (const auto& r : all_rows(op)) {
          const bool is_acme = r.rfind(kAcme, 0) == 0;
          if (visible.find(is_acme ? 'A' : 'B') != std::string::npos) expected.push_back(r);
        }
        EXPECT_THAT(export_rows(op == Op::kSearchApi, reference), ElementsAreArray(expected));
        break;
      }
      case Op::kUserCreate:
        EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = $1", {target}), 1);
        break;
      case Op::kStructureCreate:
        EXPECT_EQ(count("SELECT COUNT(*) FROM structures WHERE siret = $1", {target}), 1);
        break;
      case Op::kStructureUpdate:
        // The support users' upserts are applied in order: the last one's name stands.
        EXPECT_EQ(count("SELECT COUNT(*) FROM structures WHERE siret = $1 AND raison_sociale = $2 AND "
                        "space_active = 1",
                        {std::string(kAcme), "ACME Logistique SAS (" + std::string(kLogins[kActorCount - 1]) + ")"}),
                  1);
        EXPECT_EQ(count("SELECT COUNT(*) FROM managers WHERE siret = $1", {std::string(kAcme)}), 4);
        break;
      case Op::kActivateActive:
        EXPECT_EQ(count("SELECT space_active FROM structures WHERE siret = $1", {std::string(kAcme)}), 1);
        break;
      case Op::kActivateNew:
        EXPECT_EQ(count("SELECT COUNT(*) FROM structures WHERE siret = $1 AND space_active = 1 AND "
                        "space_activated_by = $2",
                        {target, login}),
                  1);
        break;
      case Op::kRequest:
        EXPECT_THAT(ack.demande, ::testing::MatchesRegex("ABO-[0-9]{6}"));
        EXPECT_EQ(count("SELECT COUNT(*) FROM subscriptions WHERE id = $1 AND login = $2 AND siret = $3 AND "
                        "status = 'EN_ATTENTE'",
                        {ack.demande, login, std::string(kAcme)}),
                  1);
        break;
      case Op::kDecideValider:
      case Op::kDecideRefuser:
        EXPECT_EQ(count("SELECT COUNT(*) FROM subscriptions WHERE id = $1 AND status = $2 AND decided_by = $3",
                        {target, std::string(op == Op::kDecideValider ? "VALIDEE" : "REFUSEE"), login}),
                  1);
        break;
      case Op::kDecideDecided:
      case Op::kDecideUnknown:
        ADD_FAILURE() << "no decision on a decided or unknown request may be accepted";
        break;
      case Op::kEdiEnregistrerNew:
      case Op::kApiEnregistrerNew:
      case Op::kEdiEnregistrerDraft:
        sheet_effect(ack.code_appli, "BROUILLON", false);
        break;
      case Op::kEdiSoumettreNew:
      case Op::kApiSoumettreNew:
      case Op::kEdiSoumettreDraft:
      case Op::kApiSoumettreDraft:
      case Op::kEdiSoumettreDesactivee:
        sheet_effect(ack.code_appli, "ENVOYEE", false);
        break;
      case Op::kEdiSoumettreActivee:
        sheet_effect(ack.code_appli, "ENVOYEE_MAJ", false);
        break;
      case Op::kEdiSupprimerDraft:
      case Op::kApiSupprimerDraft:
        sheet_effect(ack.code_appli, "BROUILLON", true);
        EXPECT_EQ(ack.supprimee, "true");
        break;
      case Op::kEdiDesactiverActivee:
      case Op::kApiDesactiverActivee:
        sheet_effect(ack.code_appli, "DESACTIVEE", false);
        break;
    }
  }

  /// Runs every row of `group`: rejected cells in one dépôt (nothing changes), accepted cells in
  /// another (each effect checked).
  void run_group(Group group) {
    const auto& rows = matrix();
    int ran = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const Row& row = rows[r];
      if (group_of(row.op) != group) continue;
      ++ran;
      SCOPED_TRACE(::testing::Message() << "ligne « " << row.label << " »");
      const auto targets = prepare(row.op, r);
      std::vector<std::size_t> rejected;
      std::vector<std::size_t> accepted;
      for (std::size_t a = 0; a < kActorCount; ++a) {
        (std::string(row.expected[a]) == kOk ? accepted : rejected).push_back(a);
      }
      for (const auto* cells : {&rejected, &accepted}) {
        if (cells->empty()) continue;
        const bool expect_accepted = cells == &accepted;
        std::string ops;
        for (const std::size_t a : *cells) ops += operation(row.op, r, a, targets[a]);
        const std::string before = snapshot();
        const ParsedAck ack = send(ops, "mode=\"partielle\"");
        EXPECT_EQ(ack.statut, expect_accepted ? "INTEGRE" : "REJETE") << ack.xml;
        if (ack.operations.size() != cells->size()) {
          ADD_FAILURE() << "expected " << cells->size() << " operations in the accusé:\n" << ack.xml;
          continue;
        }
        for (std::size_t i = 0; i < cells->size(); ++i) {
          const std::size_t a = (*cells)[i];
          const AckOperation& op = ack.operations[i];
          SCOPED_TRACE(::testing::Message() << "cellule « " << row.label << " » × " << kLogins[a]);
          const std::string got = op.statut == "ACCEPTEE" ? std::string(kOk) : split_codes_joined(op.error_codes());
          EXPECT_EQ(got, sorted_expected(row.expected[a])) << ack.xml;
          if (expect_accepted) {
            EXPECT_EQ(op.statut, "ACCEPTEE");
            check_accepted(row.op, a, targets[a], "m" + std::to_string(r) + "-" + std::to_string(a), op);
          } else {
            EXPECT_EQ(op.statut, "REJETEE");
            for (const auto& d : op.diagnostics) {
              if (d.code == kDroit || d.code == kUser) {
                EXPECT_EQ(d.champ, "@demandeur") << d.code;
              }
              if (d.code == kDroit && is_support_actor(a)) {
                // Says what to do: a support user acts for no structure; a user of it must.
                EXPECT_NE(d.message.find("est un utilisateur support"), std::string::npos) << d.message;
                EXPECT_NE(d.message.find("par un utilisateur de la structure"), std::string::npos) << d.message;
              }
              if (d.error) {
                EXPECT_FALSE(d.message.empty()) << d.code;
              }
            }
          }
        }
        // A rejected operation changes nothing; a Recherche never changes anything.
        if (!expect_accepted || group == Group::kSearch) {
          EXPECT_EQ(snapshot(), before);
        }
      }
    }
    EXPECT_GT(ran, 0);
  }

  int n_ = 0;
  int sirets_ = 0;
  std::string acme_edi_, acme_draft_, acme_deleted_, acme_api_, beta_edi_, beta_draft_, beta_api_;
};

// Every Recherche row × every actor: never refused, the export holds only what the actor may consult.
TEST_F(RightsMatrixTest, Searches) {
  run_group(Group::kSearch);
}

// Directory upserts, space activation, subscription requests and decisions × every actor.
TEST_F(RightsMatrixTest, DirectorySpaceAndSubscriptions) {
  run_group(Group::kDirectory);
}

// Every FicheEDI action on kAcme × every actor.
TEST_F(RightsMatrixTest, EdiSheets) {
  run_group(Group::kEdi);
}

// Every FicheAPI action on kAcme × every actor.
TEST_F(RightsMatrixTest, ApiSheets) {
  run_group(Group::kApi);
}

// Cells across structures, each alone in its dépôt (complete mode): a codeAppli is looked up under
// the Partenaire sent (docs/reference.md §3.3 "A codeAppli names a sheet of that partner"), so a gestionnaire
// of kBeta naming kAcme's sheet under kBeta gets FICHE_INCONNUE and kAcme's sheet is untouched; rights
// on one structure give none on another; nobody validates their own request; a gestionnaire removed
// from the directory loses his rights at once.
TEST_F(RightsMatrixTest, CrossStructureCells) {
  const std::string beta_request = ok(subscription_request_xml(kRequester, kBeta)).operations.at(0).demande;
  ASSERT_FALSE(beta_request.empty());
  SheetSpec submit_acme_draft_as_beta = sftp_sheet();
  submit_acme_draft_as_beta.demandeur = "b.gest";
  submit_acme_draft_as_beta.code_appli = acme_draft_;
  submit_acme_draft_as_beta.partner = kBeta;
  SheetSpec new_beta_by_subscriber = sftp_sheet();
  new_beta_by_subscriber.partner = kBeta;
  SheetSpec api_beta_by_manager = api_sheet();
  api_beta_by_manager.demandeur = kManager;
  api_beta_by_manager.partner = kBeta;
  SheetSpec no_space_by_manager = sftp_sheet();
  no_space_by_manager.demandeur = kManager;
  no_space_by_manager.partner = kNoSpace;
  struct Cell {
    const char* label;
    std::string operation;
    const char* expected;
  };
  const std::vector<Cell> cells{
      {"b.gest supprime le brouillon d'ACME sous le Partenaire Béta",
       short_sheet_xml(false, "b.gest", "supprimer", acme_draft_, kBeta), "FICHE_INCONNUE"},
      {"b.gest soumet le brouillon d'ACME sous le Partenaire Béta", sheet_xml(submit_acme_draft_as_beta),
       "FICHE_INCONNUE"},
      {"b.gest désactive la fiche d'ACME sous le Partenaire Béta",
       short_sheet_xml(false, "b.gest", "desactiver", acme_edi_, kBeta), "FICHE_INCONNUE"},
      {"b.gest supprime la fiche API d'ACME sous le Partenaire Béta",
       short_sheet_xml(true, "b.gest", "supprimer", acme_api_, kBeta), "FICHE_INCONNUE"},
      {"j.dupont (Modification sur ACME) supprime le brouillon de Béta",
       short_sheet_xml(false, kSubscriber, "supprimer", beta_draft_, kBeta), kDroit},
      {"j.dupont supprime le brouillon de Béta sous le Partenaire ACME",
       short_sheet_xml(false, kSubscriber, "supprimer", beta_draft_, kAcme), "FICHE_INCONNUE"},
      {"j.dupont soumet une nouvelle fiche pour Béta", sheet_xml(new_beta_by_subscriber), kDroit},
      {"g.martin (gestionnaire d'ACME) soumet une fiche API pour Béta", sheet_xml(api_beta_by_manager), kDroit},
      {"g.martin décide une demande d'abonnement à Béta", decision_xml(kManager, beta_request), kDroit},
      {"b.gest refuse une demande d'abonnement à ACME", decision_xml("b.gest", "ABO-000004", "refuser"), kDroit},
      {"p.attente valide sa propre demande", decision_xml("p.attente", "ABO-000004"), kDroit},
      {"j.dupont (Modification sur ACME) valide la demande de p.attente", decision_xml(kSubscriber, "ABO-000004"),
       kDroit},
      {"g.martin soumet une fiche pour une structure sans espace activé", sheet_xml(no_space_by_manager),
       "ESPACE_NON_ACTIVE"},
  };
  for (const auto& cell : cells) {
    SCOPED_TRACE(cell.label);
    const std::string before = snapshot();
    const ParsedAck ack = send(cell.operation, "");
    EXPECT_EQ(ack.statut, "REJETE") << ack.xml;
    ASSERT_EQ(ack.operations.size(), 1U) << ack.xml;
    EXPECT_EQ(ack.operations[0].statut, "REJETEE");
    EXPECT_EQ(split_codes_joined(ack.operations[0].error_codes()), sorted_expected(cell.expected)) << ack.xml;
    EXPECT_EQ(snapshot(), before);
  }

  // The support removes a.leroy from kAcme's gestionnaires: from then on he has no right there.
  StructureSpec acme = acme_spec(kSupport, "ACME Logistique SAS");
  acme.managers = {{kManager, "principal"}};
  ok(structure_xml(acme));
  SheetSpec by_former = sftp_sheet();
  by_former.demandeur = "a.leroy";
  const std::string before = snapshot();
  const ParsedAck rejected =
      send(sheet_xml(by_former) + activation_xml("a.leroy", kAcme) + decision_xml("a.leroy", "ABO-000004"),
           "mode=\"partielle\"");
  EXPECT_EQ(rejected.statut, "REJETE") << rejected.xml;
  ASSERT_EQ(rejected.operations.size(), 3U);
  for (const auto& op : rejected.operations) EXPECT_EQ(split_codes_joined(op.error_codes()), kDroit) << op.type;
  EXPECT_EQ(snapshot(), before);
  ok(search_xml("a.leroy", "EDI", "ancien", ""));
  EXPECT_TRUE(export_rows(false, "ancien").empty());
}

/// The accusé of one operation as text, with the codeAppli string `code` replaced by "<CODE>":
/// everything a demandeur learns from it (statut, etat, codeAppli, supprimee, every diagnostic).
std::string answer_without_code(const AckOperation& op, const std::string& code) {
  auto hide = [&code](std::string text) {
    for (std::size_t at; !code.empty() && (at = text.find(code)) != std::string::npos;)
      text.replace(at, code.size(), "<CODE>");
    return text;
  };
  std::string out = op.type + " " + op.statut + " etat=" + op.etat + " codeAppli=" + hide(op.code_appli) +
                    " supprimee=" + op.supprimee + "\n";
  for (const auto& d : op.diagnostics) {
    out += (d.error ? "Erreur " : "Avertissement ") + d.code + " " + d.champ + " " + std::to_string(d.ligne) + " " +
           hide(d.message) + "\n";
  }
  return out;
}

// docs/reference.md §3.3: a demandeur who may not consult the partner learns nothing of its sheets. For every
// action naming a sheet by codeAppli (enregistrer/soumettre of a draft, supprimer, desactiver; EDI
// and API) and every such demandeur (known user without any right, gestionnaire of another structure,
// refused or pending request, unknown user), the accusé is the same, codeAppli string aside, whether
// the code names a draft, a submitted sheet, a deleted draft, another partner's sheet, a sheet of the
// other kind, or nothing at all: DROIT_INSUFFISANT (or UTILISATEUR_INCONNU) and the checks that do
// not read the sheet; never an état, FICHE_INCONNUE or TRANSITION_INTERDITE.
TEST_F(RightsMatrixTest, OutsiderLearnsNothingOfSheets) {
  const std::vector<std::string> outsiders{"x.durand", "b.gest", "r.refuse", "p.attente", "inconnu.z"};
  const std::string missing = "VFE999";
  ASSERT_TRUE(sql("SELECT 1 FROM sheets WHERE code_appli = $1", {missing}).empty());
  // (label, codes to try: the first is compared with every other)
  const std::vector<std::string> codes{missing,   acme_edi_, acme_draft_, acme_deleted_,
                                       acme_api_, beta_edi_, beta_draft_, "ZZZ001"};
  for (const std::string& login : outsiders) {
    SCOPED_TRACE(login);
    auto operations = [&](const std::string& code) {
      std::string ops;
      for (const bool api : {false, true}) {
        for (const char* action : {"enregistrer", "soumettre"}) {
          SheetSpec sheet = api ? api_sheet() : sftp_sheet();
          sheet.demandeur = login;
          sheet.action = action;
          sheet.code_appli = code;
          ops += sheet_xml(sheet);
        }
        ops += short_sheet_xml(api, login, "supprimer", code, kAcme);
        ops += short_sheet_xml(api, login, "desactiver", code, kAcme);
      }
      return ops;
    };
    std::vector<std::string> reference;
    for (const std::string& code : codes) {
      SCOPED_TRACE(code);
      const std::string before = snapshot();
      const ParsedAck ack = send(operations(code), "mode=\"partielle\"");
      EXPECT_EQ(ack.statut, "REJETE") << ack.xml;
      EXPECT_EQ(snapshot(), before);
      std::vector<std::string> answers;
      for (const auto& op : ack.operations) {
        EXPECT_EQ(op.statut, "REJETEE");
        EXPECT_TRUE(op.etat.empty()) << ack.xml;
        EXPECT_TRUE(op.code_appli.empty()) << ack.xml;
        for (const auto& d : op.diagnostics) {
          EXPECT_NE(d.code, "FICHE_INCONNUE") << ack.xml;
          EXPECT_NE(d.code, "TRANSITION_INTERDITE") << ack.xml;
        }
        const std::string expected = login == "inconnu.z" ? kUser : kDroit;
        EXPECT_EQ(split_codes_joined(op.error_codes()), expected) << ack.xml;
        answers.push_back(answer_without_code(op, code));
      }
      ASSERT_EQ(answers.size(), 8U) << ack.xml;
      if (reference.empty()) {
        reference = answers;
      } else {
        EXPECT_THAT(answers, ElementsAreArray(reference));
      }
    }
  }
}

// The other side of docs/reference.md §3.3: a demandeur who may consult the partner but not modify it
// (c.lecture, Consultation only) and a support user learn what the sheet is (FICHE_INCONNUE,
// TRANSITION_INTERDITE with its state), next to DROIT_INSUFFISANT.
TEST_F(RightsMatrixTest, ConsultingDemandeurLearnsSheetStates) {
  for (const std::string login : {"c.lecture", "support.n1", "s.principal"}) {
    SCOPED_TRACE(login);
    const ParsedAck ack = send(short_sheet_xml(false, login, "supprimer", acme_edi_, kAcme) +
                                   short_sheet_xml(false, login, "supprimer", "VFE999", kAcme),
                               "mode=\"partielle\"");
    ASSERT_EQ(ack.operations.size(), 2U) << ack.xml;
    EXPECT_EQ(split_codes_joined(ack.operations[0].error_codes()), "DROIT_INSUFFISANT+TRANSITION_INTERDITE");
    const AckDiagnostic* transition = ack.operations[0].find("TRANSITION_INTERDITE");
    ASSERT_NE(transition, nullptr);
    EXPECT_NE(transition->message.find(acme_edi_ + " à l'état Envoyée"), std::string::npos) << transition->message;
    EXPECT_EQ(split_codes_joined(ack.operations[1].error_codes()), "DROIT_INSUFFISANT+FICHE_INCONNUE");
  }
}

// The matrix is complete: every operation of docs/reference.md §3 has a row, and no row is listed twice.
TEST(RightsMatrixTable, EveryOperationHasOneRow) {
  std::set<int> seen;
  for (const auto& row : matrix()) EXPECT_TRUE(seen.insert(static_cast<int>(row.op)).second) << row.label;
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(Op::kApiDesactiverActivee) + 1);
}

}  // namespace
}  // namespace raccord::testing
