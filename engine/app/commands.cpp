#include "engine/app/commands.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>

#include "engine/app/cert_command.hpp"
#include "engine/app/daemon.hpp"
#include "engine/app/search_command.hpp"
#include "engine/app/show_command.hpp"
#include "engine/app/trust_command.hpp"
#include "engine/app/version.hpp"
#include "engine/clock.hpp"
#include "engine/config.hpp"
#include "engine/database.hpp"
#include "engine/engine.hpp"
#include "engine/log.hpp"
#include "engine/nightly.hpp"
#include "engine/trust_permissions.hpp"

namespace raccord::app {
namespace {

namespace fs = std::filesystem;

struct GlobalOptions {
  std::string config;
  std::string now;
};

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::optional<fs::path> config_file(const GlobalOptions& g) {
  if (!g.config.empty()) return fs::path(g.config);
  if (auto e = env("RACCORD_CONFIG")) return fs::path(*e);
  return std::nullopt;
}

Config load(const GlobalOptions& g) {
  Config config = load_config(config_file(g), fs::current_path());
  // files.umask (issue 8), before the command opens any file, directory or store: directories,
  // the SQLite store and its -wal/-shm, and anything else created with the process umask.
  apply_umask(config);
  for (const auto& w : config.warnings) log::warning("{}", w);
  return config;
}

/// load, for the commands that start the engine (`init`, `process`, `nightly`, `daemon` at start and at each
/// SIGHUP): also checks who may write what decides trust (engine/trust_permissions.hpp; TrustPermissionError: exit 1).
Config load_to_start(const GlobalOptions& g) {
  Config config = load(g);
  check_trust_permissions(config, ::geteuid());
  return config;
}

/// docs/reference.md §7: `init`, `process` and `daemon` (engine/app/daemon.cpp) say once, as warnings, which AIFE
/// sides still carry example values (aife_example_warnings).
void warn_aife_examples(const Config& config) {
  for (const auto& w : aife_example_warnings(config)) log::warning("{}", w);
}

/// The business clock of --now / RACCORD_NOW, checked against `config`'s engine.timezone
/// (parse_business_instant): a usage error (exit 2) when invalid or outside the years 1970-9999.
BusinessClock clock_of(const GlobalOptions& g, const Config& config) {
  std::string text = g.now;
  if (text.empty()) text = env("RACCORD_NOW").value_or("");
  if (text.empty()) return BusinessClock{};
  const auto instant = parse_business_instant(text, CivilZone(config.timezone));
  if (!instant) {
    throw CLI::ValidationError(
        "--now", fmt::format("instant ISO 8601 invalide ou hors des années 1970 à 9999 (en UTC et dans le fuseau {}) : "
                             "« {} » (ex. 2026-11-29T22:10:04Z)",
                             config.timezone, text));
  }
  return BusinessClock{*instant};
}

/// Adds --config and --now to a (sub)command so they are accepted after its name too.
void add_globals(CLI::App& app, GlobalOptions& g) {
  app.add_option("--config", g.config, "Fichier de configuration INI (ou variable RACCORD_CONFIG)");
  app.add_option("--now", g.now,
                 "Instant métier ISO 8601 (ou RACCORD_NOW), ex. 2026-11-29T22:10:04Z : contrôles de certificats, "
                 "dates, accusés");
}

/// Exit codes shared by every command (docs/reference.md §7 table; README "Commandes").
constexpr int kExitFailure = 1;  // the command failed (store, files...); check: a dépôt would not be INTEGRE
constexpr int kExitUsage = 2;    // usage error: bad arguments or a configuration that cannot be used

/// The one place where a command's failure becomes its exit code. A usage error is 2 for every
/// command, before anything is done: a bad argument value (CLI::ValidationError) or a configuration
/// that cannot be used (ConfigError: --config or RACCORD_CONFIG file missing or unreadable, an invalid
/// value such as an unknown engine.timezone). So 1 keeps its meaning for each command (cert: not
/// acceptable; check: not all INTEGRE; show: unknown code; init, nightly: failure) and a broken
/// configuration is never taken for one of those answers. Anything else (store, files) is 1.
int exit_code_of_failure(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const CLI::ValidationError& e) {
    std::cerr << e.what() << "\n";
    return kExitUsage;
  } catch (const ConfigError& e) {
    log::error("{} (code de sortie {} : corrigez la configuration)", e.what(), kExitUsage);
    return kExitUsage;
  } catch (const StoreError& e) {
    log::error("store : {}", e.what());
    return kExitFailure;
  } catch (const std::exception& e) {
    log::error("échec : {}", e.what());
    return kExitFailure;
  } catch (...) {
    log::error("échec : erreur inconnue");
    return kExitFailure;
  }
}

int run_init(const GlobalOptions& g, const std::string& support, const std::string& email) {
  Config config = load_to_start(g);
  warn_aife_examples(config);
  const BusinessClock clock = clock_of(g, config);
  Engine engine(std::move(config), clock);
  const SupportUserOutcome outcome = engine.init(support.empty() ? std::nullopt : std::optional<std::string>(support),
                                                 email.empty() ? std::nullopt : std::optional<std::string>(email));
  std::cout << fmt::format("Store prêt : {}\nRépertoires sous : {}\n", engine.config().effective_connection(),
                           engine.config().root.string());
  switch (outcome) {
    case SupportUserOutcome::None:
      break;
    case SupportUserOutcome::Created:
      std::cout << fmt::format("Utilisateur support : {} (créé)\n", support);
      break;
    case SupportUserOutcome::MadeSupport:
      std::cout << fmt::format("Utilisateur support : {} (utilisateur existant, rendu support)\n", support);
      break;
    case SupportUserOutcome::AlreadySupport:
      std::cout << fmt::format("Utilisateur support : {} (déjà support)\n", support);
      break;
  }
  return 0;
}

int run_process(const GlobalOptions& g) {
  Config config = load_to_start(g);
  warn_aife_examples(config);
  const BusinessClock clock = clock_of(g, config);
  Engine engine(std::move(config), clock);
  engine.open();
  const PassSummary s = engine.process_pass();
  std::cout << fmt::format(
      "{} dépôt(s) traité(s) : {} intégré(s), {} partiellement, {} rejeté(s), {} doublon(s) ; {} laissé(s) pour "
      "le prochain passage.\nAccusés dans : {}\n",
      s.processed, s.integre, s.integre_partiel, s.rejete, s.doublon, s.left_for_later,
      engine.inbox().outbox_dir().string());
  if (s.unopenable > 0) {  // docs/reference.md §2: never a failure of the pass (exit 0), said and logged
    std::cout << fmt::format(
        "{} dépôt(s) illisible(s) (droits) laissé(s) dans la boîte de dépôt : voir le journal pour leurs noms.\n",
        s.unopenable);
  }
  return 0;
}

/// `account`: --compte NAME (empty: none). An account the configuration does not define is a usage
/// error (exit 2, before anything is checked: docs/design.md "check --compte").
int run_check(const GlobalOptions& g, const std::vector<std::string>& files, const std::string& account) {
  Config config = load(g);
  const BusinessClock clock = clock_of(g, config);
  if (!account.empty() && config.account(account) == nullptr) {
    std::string known;
    for (const auto& a : config.accounts) known += (known.empty() ? "" : ", ") + a.name;
    throw CLI::ValidationError(
        "--compte",
        fmt::format("compte d'envoi inconnu : « {} » ; la configuration {}. Donnez le NAME d'une section "
                    "[compte.NAME] de la configuration (--config)",
                    account, known.empty() ? std::string("n'en définit aucun") : fmt::format("définit : {}", known)));
  }
  if (!config.store_exists()) {
    // Issue 18 item 5: on a workstation without the store every dépôt read UTILISATEUR_INCONNU and
    // nothing said why (docs/design.md "check without a store").
    std::cerr << fmt::format(
        "raccord check : aucun store à {} ; les dépôts sont vérifiés contre un store VIDE (utilisateurs, "
        "structures et fiches y sont tous inconnus : UTILISATEUR_INCONNU, STRUCTURE_INCONNUE…). Pour vérifier "
        "contre le store réel, donnez sa configuration : --config FICHIER (ou RACCORD_CONFIG) dont store.connection "
        "(ou paths.root) désigne ce store.\n",
        config.effective_connection());
  }
  Engine engine(std::move(config), clock);
  std::vector<fs::path> paths(files.begin(), files.end());
  const auto answers = engine.check(paths, account.empty() ? nullptr : engine.config().account(account));
  bool all_integre = true;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    std::cout << fmt::format("==> {} : {}\n", files[i], to_code(answers[i].status)) << answers[i].ack_content;
    if (answers[i].status != DepositStatus::Integre) all_integre = false;
  }
  return all_integre ? 0 : 1;
}

int run_nightly_command(const GlobalOptions& g, const std::string& date_text) {
  Config config = load_to_start(g);
  const BusinessClock clock = clock_of(g, config);
  Engine engine(std::move(config), clock);
  engine.open();
  CivilDate date = engine.zone().date_of(engine.clock().now());
  if (!date_text.empty()) {
    auto parsed = parse_iso_date(date_text);
    if (!parsed)
      throw CLI::ValidationError("--date",
                                 fmt::format("date invalide : « {} » (AAAA-MM-JJ entre 1970 et 9999)", date_text));
    date = *parsed;
  }
  // A date after the business today or before the store's creation changes nothing (exit 2).
  if (auto problem = nightly_date_problem(engine, date)) throw CLI::ValidationError("--date", *problem);
  const NightlyResult result = run_nightly(engine, date);
  switch (result.status) {
    case NightlyStatus::Locked:
      std::cout << "Une exécution nocturne est déjà en cours sur ce store : rien n'a été fait.\n";
      return 3;
    case NightlyStatus::AlreadyRun:
      std::cout << fmt::format("La nuit du {} a déjà été exécutée : rien à faire.\n", format_iso_date(date));
      return 0;
    case NightlyStatus::Ran:
      break;
  }
  for (const auto& r : result.reports) {
    std::size_t activations = 0;
    for (const auto& t : r.transitions) activations += t.to == SheetState::Activee ? 1 : 0;
    std::cout << fmt::format(
        "Nuit du {} : {} activation(s), {} désactivation(s), {} activation(s) bloquée(s), {} "
        "fiche(s) en retard, {} certificat(s) expirant bientôt.\n",
        format_iso_date(r.date), activations, r.transitions.size() - activations, r.blocked.size(), r.late.size(),
        r.expiring.size());
  }
  std::cout << fmt::format("Rapports dans : {}\n", engine.inbox().outbox_dir().string());
  return 0;
}

}  // namespace

int run(int argc, char** argv) {
  // The default files.umask from the first instant (whatever the caller's umask), until the
  // configuration, once loaded, sets its own (load()).
  ::umask(static_cast<mode_t>(Config{}.file_umask));
  CLI::App app{
      "raccord — moteur de traitement des fiches de raccordement Chorus Pro (EDI et API).\n"
      "Les dépôts XML déposés dans inbox/ sont validés, enregistrés et reçoivent un accusé dans outbox/."};
  app.require_subcommand(1);
  // --version needs no command (CLI11 answers it before checking that one was given): exit 0.
  app.set_version_flag(
      "--version", [] { return version_text(); },
      "Affiche la version de raccord et celles d'OpenSSL, SQLite et Poco chargées, puis s'arrête");
  GlobalOptions g;
  add_globals(app, g);

  auto* init = app.add_subcommand("init", "Crée le store (migrations) et les répertoires ; crée l'utilisateur support");
  std::string support, support_email;
  init->add_option("--support", support, "Identifiant (login) de l'utilisateur support à créer")
      ->transform(CLI::Validator(
          [](std::string& login) {
            // A login is trimmed like every dépôt value; nothing left is a usage error (exit 2).
            const auto first = login.find_first_not_of(" \t\r\n");
            if (first == std::string::npos) return std::string("le login de --support est vide");
            login = login.substr(first, login.find_last_not_of(" \t\r\n") - first + 1);
            return std::string();
          },
          "LOGIN"));
  init->add_option("--support-email", support_email, "Adresse électronique de cet utilisateur support");
  add_globals(*init, g);

  auto* process = app.add_subcommand(
      "process",
      "Un passage sur inbox/ : chaque dépôt stable est traité, reçoit son accusé dans outbox/, puis est "
      "archivé (archive/AAAA/MM/JJ/) ou mis en quarantaine (error/)");
  add_globals(*process, g);

  auto* check = app.add_subcommand(
      "check",
      "Essai à blanc : affiche les accusés que recevraient ces dépôts avec le store actuel, sans rien "
      "modifier ni créer (code 0 si tous seraient INTEGRE, 1 sinon). Sans store (store.connection absent), "
      "le dit sur la sortie d'erreur et vérifie contre un store vide : donnez --config pour le store réel");
  std::vector<std::string> check_files;
  std::string check_account;
  check->add_option("--compte", check_account,
                    "Vérifie les dépôts comme déposés par ce compte d'envoi (section [compte.NAME]) : une opération "
                    "dont le demandeur n'est pas un de ses logins est refusée DEMANDEUR_NON_AUTORISE");
  check->add_option("FILE", check_files, "Dépôts XML à vérifier")->required()->check(CLI::ExistingFile);
  add_globals(*check, g);

  CertCommandOptions cert_options;
  auto* cert = add_cert_command(app, cert_options);
  add_globals(*cert, g);

  SearchCommandOptions search_options;
  auto* search = add_search_command(app, search_options);
  add_globals(*search, g);

  ShowCommandOptions show_options;
  auto* show = add_show_command(app, show_options);
  add_globals(*show, g);

  TrustCommandOptions trust_options;
  const TrustCommands trust = add_trust_command(app, trust_options);
  for (CLI::App* sub : {trust.trust, trust.audit, trust.refresh}) add_globals(*sub, g);

  auto* nightly = app.add_subcommand(
      "nightly",
      "Exécution nocturne (activation des fiches envoyées, désactivation des fiches échues, rapport "
      "NIGHTLY_<date> dans outbox/) ; rattrape d'abord les dates manquées. Code 3 si une autre exécution "
      "tient le verrou");
  std::string nightly_date;
  nightly->add_option("--date", nightly_date, "Date métier AAAA-MM-JJ (défaut : aujourd'hui dans engine.timezone)");
  add_globals(*nightly, g);

  auto* daemon = app.add_subcommand(
      "daemon",
      "Surveille inbox/ (inotify et balayage périodique), lance l'exécution nocturne à nightly.time ; "
      "SIGHUP recharge la configuration, SIGTERM/SIGINT arrêtent après le dépôt en cours");
  add_globals(*daemon, g);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  try {
    if (*init) return run_init(g, support, support_email);
    if (*process) return run_process(g);
    if (*check) return run_check(g, check_files, check_account);
    if (*cert) {
      const Config config = load(g);
      return run_cert_command(cert_options, config, clock_of(g, config).now());
    }
    if (*search) {
      const Config config = load(g);
      return run_search_command(search_options, config, clock_of(g, config).now());
    }
    if (*show) {
      // show displays no business instant, but a --now that every other command refuses is refused here too.
      Config config = load(g);
      (void)clock_of(g, config);
      return run_show_command(show_options, config);
    }
    if (*trust.audit) {
      const Config config = load(g);
      return run_trust_audit(trust_options, config, clock_of(g, config).now(), std::cout, std::cerr);
    }
    if (*trust.refresh) {
      const Config config = load(g);
      return run_trust_refresh(config, clock_of(g, config).now(), std::cout, std::cerr);
    }
    if (*nightly) return run_nightly_command(g, nightly_date);
    if (*daemon) {
      // The zone of the configuration as it is at start (a reload keeps the clock).
      const BusinessClock clock = clock_of(g, load_config(config_file(g), fs::current_path()));
      return run_daemon([&g] { return load_to_start(g); }, clock);
    }
  } catch (...) {
    return exit_code_of_failure(std::current_exception());
  }
  return kExitUsage;
}

}  // namespace raccord::app
