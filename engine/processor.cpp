#include "engine/processor.hpp"

#include <fmt/format.h>

#include <map>
#include <string>

#include "domain/allocation_fault.hpp"
#include "engine/certificates_ahead.hpp"
#include "engine/identity_audit.hpp"
#include "engine/lifecycle.hpp"
#include "engine/prerequisites.hpp"
#include "engine/search.hpp"
#include "rules/sheet_rules.hpp"
#include "rules/siret.hpp"

namespace raccord {
namespace {

/// Everything one operation needs while it is applied.
class OperationApplier {
 public:
  /// `certificates`: the certificate report of this sheet already computed (check_certificates), or null.
  /// `budget`: the dépôt's findings so far (details kept for the first kMaxListedDiagnostics only).
  OperationApplier(Store& store, const ProcessingContext& ctx, const Operation& op, OperationOutcome& out,
                   std::optional<rules::CertificateReport>* certificates, DiagnosticBudget& budget)
      : store_(store), ctx_(ctx), op_(op), out_(out), certificates_(certificates), budget_(budget) {}

  void apply() {
    std::visit([this](const auto& body) { apply_body(unboxed(body)); }, op_.body);
  }

 private:
  template <class T>
  static const T& unboxed(const Boxed<T>& body) {
    return *body;
  }
  static const UnknownOperation& unboxed(const UnknownOperation& body) { return body; }

  /// Every finding of the operation goes through here: kept, or only counted past the cap.
  void add(Diagnostic d) { budget_.add(out_.diagnostics, out_.omitted, std::move(d)); }
  void error(ErrorCode code, std::string field, int line, std::string message) {
    add(Diagnostic::error(code, std::move(field), line ? line : op_.line, std::move(message)));
  }
  void warning(ErrorCode code, std::string field, int line, std::string message) {
    add(Diagnostic::warning(code, std::move(field), line ? line : op_.line, std::move(message)));
  }
  bool failed() const { return has_error(out_.diagnostics, out_.omitted); }

  /// The requester, or nullopt after reporting UTILISATEUR_INCONNU.
  std::optional<UserRecord> requester() { return reported(store_.find_user(op_.requester().value)); }

  /// `user`, the requester as read; UTILISATEUR_INCONNU reported when it is nullopt.
  std::optional<UserRecord> reported(std::optional<UserRecord> user) {
    if (!user) {
      error(ErrorCode::UtilisateurInconnu, "@demandeur", op_.requester().line,
            fmt::format("L'utilisateur « {} » (demandeur) est inconnu de l'annuaire.", op_.requester().value));
    }
    return user;
  }

  /// `s`, the structure read for `siret`, if it is known and the SIRET valid; nullopt after reporting
  /// (SIRET rule first: a SIRET the rule refuses names no structure, whatever was read).
  std::optional<StructureRecord> structure(const Field& siret, const std::string& field, bool require_active,
                                           std::optional<StructureRecord> s) {
    if (auto d = rules::validate_siret(siret, field, ctx_.config->environment)) {
      add(std::move(*d));
      return std::nullopt;
    }
    if (!s) {
      error(ErrorCode::StructureInconnue, field, siret.line,
            fmt::format("La structure de SIRET {} est inconnue de l'annuaire.", siret.value));
      return std::nullopt;
    }
    if (require_active && !s->active) {
      error(ErrorCode::StructureInactive, field, siret.line,
            fmt::format("La structure {} - {} est inactive.", s->siret, s->raison_sociale));
    }
    return s;
  }

  /// What `user` may do on structure `s`: the one place where the rights on a structure are decided
  /// (docs/design.md "Rights"). Consultation: a support user (every structure), a gestionnaire of an
  /// active space, a validated subscription (Consultation or Modification). Modification of sheets:
  /// a gestionnaire of an active space or a validated subscription with Modification. Gestion (space
  /// activation, subscription decisions): a gestionnaire. A support user consults every structure but
  /// modifies no sheet, activates no space and decides no subscription, whatever roles or
  /// subscriptions the directory gives him (guide: the sheets are the structures' own).
  /// engine/search.cpp filters searches by the same Consultation rule, in SQL.
  struct Rights {
    bool consult = false;
    bool modify = false;
    bool manage = false;
    bool modify_once_active = false;  // modify, were the space active (what activation alone would give)
  };
  Rights rights_on(const UserRecord& user, const StructureRecord& s) {
    return rights_from(user, s, store_.rights_facts(s.siret, user.login));
  }
  /// The Rights `facts` (Store::rights_facts of `user` on `s`) give.
  static Rights rights_from(const UserRecord& user, const StructureRecord& s, const Store::RightsFacts& facts) {
    Rights r;
    const bool manager = facts.manager.has_value();
    const bool modification = facts.modification;
    r.consult = user.support || (manager && s.space_active) || modification || facts.consultation;
    if (user.support) return r;  // acts for no structure
    r.modify_once_active = manager || modification;
    r.modify = s.space_active && r.modify_once_active;
    r.manage = manager;
    return r;
  }

  /// The requester and the structure named by `siret` (`field`: where the SIRET is), each known or
  /// nullopt after its report, in the order the rules run: UTILISATEUR_INCONNU, then the SIRET rule,
  /// STRUCTURE_INCONNUE, STRUCTURE_INACTIVE (`require_active`); with what the one may do on the other
  /// (all false unless both are known). Read together (Store::requester_on: one round trip on
  /// PostgreSQL instead of three; issue 21).
  struct RequesterOnStructure {
    std::optional<UserRecord> user;
    std::optional<StructureRecord> structure;
    Rights rights;
  };
  RequesterOnStructure requester_on(const Field& siret, const std::string& field, bool require_active) {
    Store::RequesterOnStructure read = store_.requester_on(op_.requester().value, siret.value);
    RequesterOnStructure out;
    out.user = reported(std::move(read.user));
    out.structure = structure(siret, field, require_active, std::move(read.structure));
    if (out.user && out.structure) out.rights = rights_from(*out.user, *out.structure, read.rights);
    return out;
  }

  /// DROIT_INSUFFISANT for a support user acting for structure `s` (`what`: the action, in French).
  void refuse_support(const UserRecord& user, const StructureRecord& s, std::string_view what) {
    error(ErrorCode::DroitInsuffisant, "@demandeur", op_.requester().line,
          fmt::format("« {} » est un utilisateur support : le support consulte toutes les structures mais n'agit pour "
                      "aucune, quels que soient ses rôles ou abonnements ; il ne peut pas {} de {} - {}. Faites "
                      "envoyer cette opération par un utilisateur de la structure (gestionnaire ou abonné).",
                      user.login, what, s.siret, s.raison_sociale));
  }

  void require_support(const std::optional<UserRecord>& user) {
    if (user && !user->support) {
      error(ErrorCode::DroitInsuffisant, "@demandeur", op_.requester().line,
            fmt::format("L'annuaire (structures et utilisateurs) n'est modifiable que par le support ; « {} » n'est "
                        "pas un utilisateur support.",
                        user->login));
    }
  }

  void apply_body(const UnknownOperation&) {}

  void apply_body(const UserOperation& u) {
    const auto user = requester();
    require_support(user);
    if (u.email.filled() && !rules::is_valid_email(u.email.value)) {
      error(ErrorCode::EmailInvalide, "@email", u.email.line,
            fmt::format("L'adresse électronique « {} » n'est pas valide (forme attendue : nom@domaine.fr).",
                        u.email.value));
    }
    if (failed()) return;
    store_.upsert_user(UserRecord{u.login.value, u.email.value, u.support}, ctx_.now);
  }

  void apply_body(const StructureOperation& s) {
    const auto user = requester();
    require_support(user);
    if (auto d = rules::validate_siret(s.siret, "@siret", ctx_.config->environment)) add(std::move(*d));
    if (s.editor_siret.filled()) {
      if (auto d = rules::validate_siret(s.editor_siret, "@editeur", ctx_.config->environment)) add(std::move(*d));
    }
    std::vector<std::pair<std::string, ManagerRole>> managers;
    int index = 0;
    for (const auto& m : s.managers) {
      ++index;
      if (!store_.find_user(m.login.value)) {
        error(ErrorCode::UtilisateurInconnu, fmt::format("Gestionnaire[{}]/@login", index), m.line,
              fmt::format("Le gestionnaire « {} » est inconnu : créez d'abord l'utilisateur (opération Utilisateur).",
                          m.login.value));
      }
      managers.emplace_back(m.login.value, m.role);
    }
    if (failed()) return;
    std::vector<std::string> technical;
    for (const auto& t : s.technical_users) technical.push_back(t.value);
    StructureRecord record{s.siret.value,
                           s.raison_sociale.value,
                           s.active,
                           s.is_public,
                           s.connected_in_qualification,
                           s.editor_siret.filled() ? std::optional<std::string>(s.editor_siret.value) : std::nullopt,
                           s.uses_tiers_teletransmission,
                           false};
    store_.upsert_structure(record, managers, technical, ctx_.now);
  }

  void apply_body(const SpaceActivationOperation& a) {
    const auto [user, s, rights] = requester_on(a.structure, "@structure", true);
    if (user && s && !rights.manage) {
      if (user->support) return refuse_support(*user, *s, "activer l'espace raccordements");
      error(ErrorCode::DroitInsuffisant, "@demandeur", op_.requester().line,
            fmt::format("Seul un gestionnaire (principal ou secondaire) de {} - {} peut activer son espace "
                        "raccordements ; « {} » ne l'est pas.",
                        s->siret, s->raison_sociale, user->login));
    }
    if (failed()) return;
    if (!s->space_active) store_.activate_space(s->siret, user->login, ctx_.now);
  }

  void apply_body(const SubscriptionRequestOperation& r) {
    const auto [user, s, rights] = requester_on(r.structure, "@structure", true);
    if (s && !s->space_active) {
      error(ErrorCode::EspaceNonActive, "@structure", r.structure.line,
            fmt::format("L'espace raccordements de {} - {} n'est pas activé : un gestionnaire doit d'abord l'activer.",
                        s->siret, s->raison_sociale));
    }
    if (failed()) return;
    out_.subscription_request = store_.create_subscription(
        s->siret, user->login, r.consultation, r.modification,
        r.date.filled() ? std::optional<std::string>(r.date.value) : std::nullopt,
        r.comment.filled() ? std::optional<std::string>(r.comment.value) : std::nullopt, ctx_.now);
  }

  void apply_body(const SubscriptionDecisionOperation& d) {
    const auto user = requester();
    // Locked: a decision of another engine on the same request is waited for, then seen here.
    const auto sub = store_.lock_subscription(d.request_id.value);
    const auto already_decided = [&] {
      error(ErrorCode::AbonnementInconnu, "@demande", d.request_id.line,
            fmt::format("La demande d'abonnement {} a déjà été traitée.", d.request_id.value));
    };
    if (!sub) {
      error(ErrorCode::AbonnementInconnu, "@demande", d.request_id.line,
            fmt::format("La demande d'abonnement « {} » est inconnue.", d.request_id.value));
      return;
    }
    if (sub->status != SubscriptionStatus::EnAttente) {
      already_decided();
      return;
    }
    const auto s = store_.find_structure(sub->siret);
    if (user && !(s && rights_on(*user, *s).manage)) {
      if (user->support && s) {
        return refuse_support(*user, *s, fmt::format("valider ou refuser la demande d'abonnement {}", sub->id));
      }
      error(ErrorCode::DroitInsuffisant, "@demandeur", op_.requester().line,
            fmt::format("Seul un gestionnaire de la structure {} peut valider ou refuser la demande {} ; « {} » ne "
                        "l'est pas.",
                        sub->siret, sub->id, user->login));
    }
    if (failed()) return;
    if (!store_.decide_subscription(
            sub->id, d.decision == Decision::Valider ? SubscriptionStatus::Validee : SubscriptionStatus::Refusee,
            user->login, ctx_.now)) {
      already_decided();  // decided by another transaction since the read (never two decisions)
    }
  }

  /// Never refused for lack of rights (docs/reference.md §3.4): the export holds what the requester may consult.
  void apply_body(const SearchOperation& r) {
    SearchCriteria c;
    auto text = [](const Field& f) { return f.filled() ? std::optional<std::string>(f.value) : std::nullopt; };
    c.partner = text(r.partner);
    c.state = text(r.state);
    c.code_appli = text(r.code_appli);
    c.protocol = text(r.protocol);
    c.interface_code = text(r.interface_code);
    c.raison_sociale = text(r.raison_sociale);
    if (r.submitted_from.filled()) c.submitted_from = parse_iso_date(r.submitted_from.value);
    if (r.submitted_to.filled()) c.submitted_to = parse_iso_date(r.submitted_to.value);
    c.kind = r.kind ? *r.kind : search_kind_of_code(store_.database(), c, op_.requester().value);
    if (ctx_.outbox_dir.empty() || ctx_.exports == nullptr) {  // dry run (raccord check): search, write nothing
      search_sheets(store_.database(), *ctx_.zone, c, op_.requester().value, [](const SearchRow&) {});
      return;
    }
    out_.export_file = stage_export(*ctx_.exports, store_.database(), *ctx_.zone, c, op_.requester().value, r.format,
                                    op_.reference().value, ctx_.now);
  }

  void apply_body(const SheetOperation& sheet) {
    const bool is_draft = sheet.action == SheetAction::Enregistrer;
    const bool content_sent = sends_content(sheet);
    const auto [user, s, rights] = requester_on(sheet.partner, "Partenaire", true);
    if (s && !s->space_active) {
      error(ErrorCode::EspaceNonActive, "Partenaire", sheet.partner.line,
            fmt::format("L'espace raccordements de {} - {} n'est pas activé : un gestionnaire doit d'abord l'activer.",
                        s->siret, s->raison_sociale));
    }
    if (s && user && !rights.modify && user->support) {  // whatever the space's state
      refuse_support(*user, *s, "modifier les fiches de raccordement");
    } else if (s && user && !rights.modify && s->space_active) {
      error(ErrorCode::DroitInsuffisant, "@demandeur", op_.requester().line,
            fmt::format("« {} » n'a pas le droit de Modification sur l'espace raccordements de {} - {} : demandez un "
                        "abonnement avec Modification à un gestionnaire.",
                        user->login, s->siret, s->raison_sociale));
    } else if (s && user && !rights.modify_once_active) {
      // Space not active (ESPACE_NON_ACTIVE above), and activating it would not give this demandeur
      // Modification: said now, not after the activation (issue 18: no error hidden behind another).
      error(ErrorCode::DroitInsuffisant, "@demandeur", op_.requester().line,
            fmt::format("« {} » n'est pas gestionnaire de {} - {} : même une fois son espace raccordements activé, il "
                        "lui faudra un abonnement avec Modification, à demander à un gestionnaire après l'activation.",
                        user->login, s->siret, s->raison_sociale));
    }

    // The sheet named by codeAppli, when there is one. A demandeur who may not consult the partner
    // (unknown user or structure included) learns nothing of its sheets: the sheet is not read, and
    // the answer is the same whether the code exists or not (docs/design.md "Rights"). Such a
    // demandeur always has an error above (Modification implies Consultation).
    const bool sheet_hidden = sheet.code_appli.filled() && !rights.consult;
    std::optional<SheetRecord> existing;
    bool unknown_sheet = false;
    if (sheet_hidden) {
      unknown_sheet = true;  // nothing said about it
    } else if (sheet.code_appli.filled()) {
      existing = store_.find_sheet(sheet.code_appli.value);
      if (!existing || existing->deleted || existing->kind != sheet.kind ||
          existing->partner_siret != sheet.partner.value) {
        error(ErrorCode::FicheInconnue, "@codeAppli", sheet.code_appli.line,
              unknown_sheet_message(sheet, existing, content_sent));
        existing.reset();
        unknown_sheet = true;
      }
    } else if (!content_sent) {
      error(ErrorCode::FicheInconnue, "@codeAppli", op_.line,
            fmt::format("L'action « {} » doit nommer la fiche par son attribut codeAppli.", to_code(sheet.action)));
      return;
    }

    const std::optional<SheetState> from = existing ? std::optional<SheetState>(existing->state) : std::nullopt;
    const auto transition = find_transition(from, to_event(sheet.action));
    if (!transition && !unknown_sheet) {
      error(ErrorCode::TransitionInterdite, "@action", op_.line,
            forbidden_transition_message(sheet.action, from, existing ? existing->code_appli : std::string()));
    }

    std::vector<CertificateFacts> certificate_facts;
    if (content_sent) {
      Diagnostics content = check_content(sheet, s, certificate_facts);
      for (auto& d : content) {
        if (is_draft && d.is_error()) d.severity = Severity::Warning;  // enregistrer: warnings only
        add(std::move(d));
      }
    }
    if (failed() || sheet_hidden || !transition || !user || !s) return;

    // Apply the transition.
    SheetRecord record;
    const Store::DrawnIds ids =
        store_.draw_ids(ctx_.config->code_prefix, !existing, creates_version(transition->effect));
    if (existing) {
      record = *existing;
    } else {
      record.code_appli = ids.code_appli;
      record.kind = sheet.kind;
      record.partner_siret = s->siret;
      record.state = transition->to;
      store_.insert_sheet(record, ctx_.now);
    }
    std::optional<std::int64_t> created;
    if (ids.version_id != 0) {
      store_.insert_version(ids.version_id, record.code_appli, sheet, certificate_facts, user->login,
                            ctx_.deposit_sha256, ctx_.now);
      created = ids.version_id;
    }
    const SheetVersions versions =
        apply_version_effect(transition->effect, {record.active_version, record.pending_version}, created);
    record.active_version = versions.active;
    record.pending_version = versions.pending;
    record.state = transition->to;
    if (transition->marks_deleted) record.deleted = true;
    store_.update_sheet(record, awaits_activation(transition->to) ? std::optional<Instant>(ctx_.now) : std::nullopt,
                        ctx_.now);
    store_.add_history_unread(record.code_appli, ctx_.now, user->login, from, transition->to,
                              std::string(transition->reason), ctx_.deposit_sha256);

    out_.code_appli = record.code_appli;
    out_.state = record.state;
    out_.deleted = record.deleted;
    if (sheet.kind == SheetKind::Edi && content_sent) {
      if (auto p = parse<Protocol>(sheet.protocol.value)) out_.aife = aife_parameters(ctx_.config->aife, *p);
    }
  }

  /// The FICHE_INCONNUE message for `sheet`'s codeAppli, read as `existing` (the demandeur may consult
  /// the partner named by the operation): says what to do. A sheet of that partner sent in the
  /// other element (an API code in a FicheEDI, or the reverse) is named as such, with the element to
  /// use; a deleted draft, as deleted. A code of another partner is not described (the demandeur may
  /// not consult that partner): as an unknown code.
  static std::string unknown_sheet_message(const SheetOperation& sheet, const std::optional<SheetRecord>& existing,
                                           bool content_sent) {
    const auto element = [](SheetKind kind) { return kind == SheetKind::Edi ? "FicheEDI" : "FicheAPI"; };
    const std::string& code = sheet.code_appli.value;
    const bool same_partner = existing && existing->partner_siret == sheet.partner.value;
    if (same_partner && !existing->deleted && existing->kind != sheet.kind) {
      return fmt::format(
          "« {} » est une fiche {} du partenaire {}, pas une fiche {} : envoyez cette opération dans un élément "
          "<{}> (et non <{}>).",
          code, to_code(existing->kind), sheet.partner.value, to_code(sheet.kind), element(existing->kind),
          element(sheet.kind));
    }
    if (same_partner && existing->deleted) {
      return fmt::format(
          "La fiche {} « {} » du partenaire {} est un brouillon supprimé : elle ne peut plus être modifiée. {}",
          to_code(existing->kind), code, sheet.partner.value,
          content_sent ? "Pour une nouvelle fiche, retirez l'attribut codeAppli : un nouveau code sera attribué."
                       : "Vérifiez le codeAppli.");
    }
    return fmt::format(
        "Aucune fiche {} « {} » n'existe pour le partenaire {} : vérifiez le codeAppli (celui de l'accusé qui a "
        "créé la fiche) et le partenaire.{}",
        to_code(sheet.kind), code, sheet.partner.value,
        content_sent ? " Pour créer une nouvelle fiche, retirez l'attribut codeAppli." : "");
  }

  /// Every rule on the content sent (docs/reference.md §4), errors as found; the caller downgrades them
  /// for enregistrer.
  Diagnostics check_content(const SheetOperation& sheet, const std::optional<StructureRecord>& s,
                            std::vector<CertificateFacts>& facts) {
    Diagnostics out;
    if (s) out = check_partner_prerequisites(store_, ctx_.config->environment, *s, sheet.kind, sheet.partner.line);
    rules::SheetContentContext content{ctx_.config->environment, ctx_.today, ctx_.catalogue};
    for (auto& d : rules::check_sheet_content(sheet, content)) out.push_back(std::move(d));
    std::optional<rules::CertificateReport> report;
    if (certificates_ != nullptr && *certificates_) {
      report = std::move(*certificates_);
    } else {
      report = check_certificates(*ctx_.certificates, sheet, ctx_.now);
    }
    if (report) {
      for (auto& d : report->diagnostics) out.push_back(std::move(d));
      facts = std::move(report->certificates);
    }
    return out;
  }

  Store& store_;
  const ProcessingContext& ctx_;
  const Operation& op_;
  OperationOutcome& out_;
  std::optional<rules::CertificateReport>* certificates_;
  DiagnosticBudget& budget_;
};

/// The only finding of an operation whose actor `login` may not act through `account`
/// (docs/reference.md §2.1): says what to do, and nothing about the login itself.
Diagnostic unauthorised_requester(const SenderAccount& account, const Operation& op) {
  const std::string& login = op.requester().value;
  if (login.empty()) {
    return Diagnostic::error(
        ErrorCode::DemandeurNonAutorise, "@demandeur", op.line,
        fmt::format("Cette opération ne nomme aucun demandeur (ni le sien, ni celui du Depot) : par le compte d'envoi "
                    "« {} », chaque opération doit nommer en demandeur un des utilisateurs du compte. Elle n'a pas "
                    "été examinée.",
                    account.name));
  }
  return Diagnostic::error(
      ErrorCode::DemandeurNonAutorise, "@demandeur", op.line,
      fmt::format("« {} » n'est pas un des utilisateurs du compte d'envoi « {} » : cette opération n'a pas été "
                  "examinée. Envoyez-la par le compte de la société dont l'utilisateur agit, ou demandez à "
                  "l'exploitant d'ajouter ce login aux logins du compte « {} ».",
                  login, account.name, account.name));
}

}  // namespace

AifeParameters aife_parameters(const AifeConfig& aife, Protocol protocol) {
  AifeParameters p;
  p.protocol = protocol;
  switch (protocol) {
    case Protocol::Sftp:
      p.values = {{"AdresseIP", aife.sftp_address}, {"Port", std::to_string(aife.sftp_port)}};
      break;
    case Protocol::As2:
      p.values = {{"Identifiant", aife.as2_identifiant},
                  {"AdresseIP", aife.as2_address},
                  {"Port", std::to_string(aife.as2_port)},
                  {"CheminDepot", aife.as2_path},
                  {"Chiffrement", "AES256"},
                  {"Signature", "SHA2"},
                  {"MDN", "Synchrone et signé"}};
      break;
    case Protocol::Pesit:
      p.values = {{"AdresseIP", aife.pesit_address}, {"Port", std::to_string(aife.pesit_port)}};
      break;
  }
  return p;
}

DepositOutcome apply_deposit(Store& store, const ProcessingContext& context, const Deposit& deposit,
                             const std::function<void(const OperationOutcome&)>& each) {
  Database& db = store.database();
  DepositOutcome result;
  std::optional<CertificatesAhead> own;  // this dépôt's alone, when the caller checks none ahead
  CertificatesAhead* certificates = context.certificates_ahead;
  std::size_t deposit_index = context.deposit_index;
  if (certificates == nullptr) {
    certificates = &own.emplace(*context.certificates, std::vector<const Deposit*>{&deposit}, context.now,
                                context.validation_threads);
    deposit_index = 0;
  }
  // The dépôt's savepoint undoes its accepted operations when a "complete" dépôt has a rejected one: a
  // dépôt of one operation, or a "partielle" one, never goes back to it (each operation has its own).
  // Two statements less per such dépôt (issue 21, figure 9).
  const bool whole = deposit.mode == DepositMode::Complete && deposit.operations.size() > 1;
  if (whole) db.savepoint("depot");
  DiagnosticBudget budget;  // the dépôt's findings, in document order
  // DEMANDEUR_NON_AUTORISE operations by demandeur, for the audit: at most kAuditedLogins of them
  // named, the others counted together (a dépôt naming a new login per operation stays small).
  constexpr std::size_t kAuditedLogins = 64;
  std::map<std::string, std::int64_t> unauthorised;
  std::int64_t unauthorised_others = 0;
  for (std::size_t i = 0; i < deposit.operations.size(); ++i) {
    const Operation& op = deposit.operations[i];
    OperationOutcome out;
    out.rank = op.rank;
    out.type = op.element_name;
    if (op.reference().present) out.reference = op.reference().value;
    db.savepoint("operation");
    if (context.account != nullptr && !context.account->allows(op.requester().value)) {
      // Before any other rule, schema errors included: its only error (docs/reference.md §2.1). Its
      // certificate report is not computed (or, if a worker computed it from the dépôt's own bytes,
      // which reveals nothing of the store, it is dropped unread).
      certificates->discard(deposit_index, i);
      budget.add(out.diagnostics, out.omitted, unauthorised_requester(*context.account, op));
      if (auto it = unauthorised.find(op.requester().value); it != unauthorised.end()) {
        ++it->second;
      } else if (unauthorised.size() < kAuditedLogins) {
        unauthorised.emplace(op.requester().value, 1);
      } else {
        ++unauthorised_others;
      }
    } else if (op.schema_invalid()) {
      // The reader kept the details of the first findings of its own budget; the rules' findings
      // before them may have used some of the room: the dépôt's budget decides again, in order.
      for (const Diagnostic& d : op.schema_errors) budget.add(out.diagnostics, out.omitted, d);
      out.omitted += op.omitted_schema_errors;
      budget.skip(op.omitted_schema_errors.total());
    } else {
      allocation_step(AllocationStep::Rules);
      std::optional<rules::CertificateReport> report = certificates->take(deposit_index, i);
      OperationApplier(store, context, op, out, report ? &report : nullptr, budget).apply();
    }
    for (auto& d : out.diagnostics) {
      if (d.line == 0) d.line = op.line;  // a missing element: point at its operation
    }
    out.accepted = !has_error(out.diagnostics, out.omitted);
    if (out.accepted) {
      db.release("operation");
      ++result.accepted;
    } else {
      db.rollback_to("operation");
      db.release("operation");
      out.code_appli.reset();
      out.state.reset();
      out.deleted = false;
      out.subscription_request.reset();
      out.aife.reset();
      out.export_file.reset();
      ++result.rejected;
    }
    each(out);
  }
  if (deposit.mode == DepositMode::Complete && result.rejected > 0) {
    if (whole) db.rollback_to("depot");
    result.rolled_back = result.accepted > 0;
    result.rejected += result.accepted;
    result.accepted = 0;
    result.status = DepositStatus::Rejete;
  } else if (result.rejected == 0) {
    result.status = DepositStatus::Integre;
  } else {
    result.status = result.accepted > 0 ? DepositStatus::IntegrePartiel : DepositStatus::Rejete;
  }
  if (whole) db.release("depot");
  if (context.account != nullptr && !context.outbox_dir.empty()) {  // never for a dry run (check)
    for (const auto& [login, count] : unauthorised) {
      audit_identity_refusal(db, IdentityRefusal{context.account->name, context.deposit_name, std::nullopt, login,
                                                 ErrorCode::DemandeurNonAutorise, count});
    }
    if (unauthorised_others > 0) {  // further demandeurs, not named
      audit_identity_refusal(db, IdentityRefusal{context.account->name, context.deposit_name, std::nullopt,
                                                 std::nullopt, ErrorCode::DemandeurNonAutorise, unauthorised_others});
    }
  }
  return result;
}

}  // namespace raccord
