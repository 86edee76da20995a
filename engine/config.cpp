#include "engine/config.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Util/IniFileConfiguration.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include "engine/clock.hpp"
#include "rules/input_file.hpp"

namespace raccord {
namespace {

namespace fs = std::filesystem;

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys{"engine.environment",
                                          "engine.code_prefix",
                                          "engine.timezone",
                                          "paths.root",
                                          "paths.rules",
                                          "inbox.settle_ms",
                                          "inbox.rescan_s",
                                          "inbox.max_bytes",
                                          "store.backend",
                                          "store.connection",
                                          "certificates.trust_dir",
                                          "certificates.min_rsa_bits",
                                          "certificates.expiry_warning_days",
                                          "certificates.clock_skew_s",
                                          "certificates.crl_dir",
                                          "certificates.crl_allow_private",
                                          "certificates.revocation",
                                          "certificates.crl_max_age_days",
                                          "certificates.crl_grace_h",
                                          "nightly.time",
                                          "outbox.retention_days",
                                          "archive.retention_days",
                                          "aife.sftp_address",
                                          "aife.sftp_port",
                                          "aife.as2_identifiant",
                                          "aife.as2_address",
                                          "aife.as2_port",
                                          "aife.as2_path",
                                          "aife.pesit_address",
                                          "aife.pesit_port",
                                          "files.umask"};
  return keys;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void collect_keys(const Poco::Util::AbstractConfiguration& conf, const std::string& prefix,
                  std::vector<std::string>& out) {
  Poco::Util::AbstractConfiguration::Keys keys;
  conf.keys(prefix, keys);
  if (keys.empty() && !prefix.empty()) {
    out.push_back(prefix);
    return;
  }
  for (const auto& k : keys) {
    std::string key = prefix;
    if (!key.empty()) key += '.';
    key += k;
    collect_keys(conf, key, out);
  }
}

/// Refuses what Poco's INI reader would silently misread (it takes "[engine" for a section and a
/// line without "=" for a key with no value): every line is blank, a comment (";" or "#"), a
/// "[section]" header or a "key = value" line. Throws ConfigError naming the file and the line.
void check_ini_syntax(const fs::path& path, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == ';' || line[first] == '#') continue;
    const auto last = line.find_last_not_of(" \t\r");
    const bool header = line[first] == '[';
    if (header ? line[last] == ']' : line.find('=') != std::string::npos) continue;
    throw ConfigError(fmt::format(
        "Configuration : {} ligne {} illisible « {} » : attendu [section], clé = valeur ou un commentaire (;).",
        path.string(), number, line.substr(first, last - first + 1)));
  }
}

long long to_integer(const std::string& key, const std::string& raw, long long min, long long max) {
  long long value = 0;
  std::size_t used = 0;
  try {
    value = std::stoll(raw, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != raw.size() || value < min || value > max) {
    throw ConfigError(fmt::format("Configuration : la clé {} vaut « {} », un entier entre {} et {} est attendu.", key,
                                  raw, min, max));
  }
  return value;
}

fs::path resolve(const fs::path& base, const std::string& value) {
  fs::path p{value};
  return p.is_absolute() ? p : (base / p).lexically_normal();
}

/// The names of the [compte.X] section headers of `text` (X as written, possibly invalid), in file
/// order: read from the text itself, since Poco's reader does not show a section without keys.
std::vector<std::string> account_section_names(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] != '[') continue;
    const auto last = line.find_last_not_of(" \t\r");
    std::string section = line.substr(first + 1, last - first - 1);
    section.erase(0, section.find_first_not_of(" \t"));
    section.erase(section.find_last_not_of(" \t") + 1);
    if (lower(section).starts_with("compte.")) out.push_back(section.substr(7));
  }
  return out;
}

/// `proprietaire`: a numeric uid or a user name of this host (getpwnam_r), never 0 (root) nor 65534
/// (nobody: what an NFS or idmap owner that cannot be resolved reads as). Throws ConfigError naming `key`.
std::uint32_t parse_owner(const std::string& key, const std::string& raw) {
  std::optional<std::uint32_t> uid;
  if (!raw.empty() && std::all_of(raw.begin(), raw.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    try {
      uid = static_cast<std::uint32_t>(to_integer(key, raw, 0, 4'294'967'294LL));
    } catch (const ConfigError& e) {  // out of range: an account's value, exit 1 like the others (hostile16)
      throw AccountConfigError(e.what());
    }
  } else if (!raw.empty()) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwnam_r(raw.c_str(), &pw, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
      uid = static_cast<std::uint32_t>(found->pw_uid);
    }
  }
  if (!uid) {
    throw AccountConfigError(fmt::format(
        "Configuration : la clé {} vaut « {} » ; attendu un nom d'utilisateur de cette machine ou un uid numérique.",
        key, raw));
  }
  if (*uid == 0 || *uid == 65534) {
    throw AccountConfigError(fmt::format(
        "Configuration : la clé {} vaut « {} » (uid {}) : refusé ; ni root (0) ni nobody (65534, le propriétaire "
        "d'un fichier NFS non résolu) ne peuvent être le propriétaire d'un compte. Donnez l'utilisateur SFTP du "
        "compte.",
        key, raw, *uid));
  }
  return *uid;
}

/// One [compte.NAME] section: its keys are `compte.NAME.*` of `ini`. Throws AccountConfigError naming
/// the key (docs/accounts.md).
SenderAccount parse_account_section(const Poco::Util::AbstractConfiguration& ini, const std::string& name,
                                    const fs::path& base) {
  const std::string section = "compte." + name;
  if (!is_account_name(name)) {
    throw AccountConfigError(fmt::format(
        "Configuration : la section [{}] a un nom de compte invalide ; attendu 1 à 32 caractères parmi a-z, 0-9, _ "
        "et -, commençant par une lettre ou un chiffre.",
        section));
  }
  static const std::set<std::string> kKeys{"logins", "proprietaire", "signature", "signataires"};
  Poco::Util::AbstractConfiguration::Keys keys;
  ini.keys(section, keys);
  for (const auto& k : keys) {
    if (!kKeys.contains(lower(k))) {
      throw AccountConfigError(fmt::format(
          "Configuration : la clé {}.{} est inconnue ; un compte accepte logins, proprietaire, signature et "
          "signataires.",
          section, k));
    }
  }
  auto get = [&](const std::string& key) -> std::optional<std::string> {
    const std::string full = section + "." + key;
    if (!ini.hasProperty(full)) return std::nullopt;
    std::string v = ini.getRawString(full);
    v.erase(0, v.find_first_not_of(" \t\r"));
    v.erase(v.find_last_not_of(" \t\r") + 1);
    return v;
  };
  SenderAccount account;
  account.name = name;
  if (auto v = get("logins")) {
    std::istringstream in(*v);
    for (std::string login; std::getline(in, login, ',');) {
      login.erase(0, login.find_first_not_of(" \t"));
      login.erase(login.find_last_not_of(" \t") + 1);
      if (!login.empty()) account.logins.push_back(login);
    }
  }
  if (account.logins.empty()) {
    throw AccountConfigError(fmt::format(
        "Configuration : la clé {}.logins est obligatoire : donnez les logins (séparés par des virgules) qui "
        "peuvent être demandeur dans les dépôts de ce compte.",
        section));
  }
  if (auto v = get("proprietaire")) account.owner_uid = parse_owner(section + ".proprietaire", *v);
  if (auto v = get("signature")) {
    const auto requirement = parse<SignatureRequirement>(*v);
    if (!requirement) {
      throw AccountConfigError(
          fmt::format("Configuration : la clé {}.signature vaut « {} » ; attendu aucune ou obligatoire.", section, *v));
    }
    account.signature = *requirement;
  }
  if (auto v = get("signataires")) {
    account.signers_file = resolve(base, *v);
    std::error_code ec;
    if (!fs::is_regular_file(account.signers_file, ec)) {
      throw AccountConfigError(fmt::format(
          "Configuration : la clé {}.signataires désigne {}, qui n'est pas un fichier lisible ; donnez le fichier "
          "PEM des certificats des signataires du compte.",
          section, account.signers_file.string()));
    }
  }
  if (account.signature == SignatureRequirement::Required && account.signers_file.empty()) {
    throw AccountConfigError(fmt::format(
        "Configuration : la clé {}.signataires est obligatoire avec signature = obligatoire : donnez le fichier PEM "
        "des certificats dont ce compte accepte les signatures.",
        section));
  }
  return account;
}

fs::path default_rules_dir() {
#ifdef RACCORD_INSTALL_RULES_DIR
  if (fs::is_directory(RACCORD_INSTALL_RULES_DIR)) return RACCORD_INSTALL_RULES_DIR;
#endif
#ifdef RACCORD_SOURCE_RULES_DIR
  if (fs::is_directory(RACCORD_SOURCE_RULES_DIR)) return RACCORD_SOURCE_RULES_DIR;
#endif
  return {};
}

}  // namespace

unsigned parse_umask(const std::string& raw) {
  const bool octal = !raw.empty() && raw.size() <= 4 &&
                     std::all_of(raw.begin(), raw.end(), [](char c) { return c >= '0' && c <= '7'; });
  if (!octal) {
    throw ConfigError(fmt::format(
        "Configuration : la clé files.umask vaut « {} » ; un masque octal de 1 à 4 chiffres (0 à 7) est attendu, "
        "par exemple 0027.",
        raw));
  }
  unsigned value = 0;
  for (char c : raw) value = value * 8 + static_cast<unsigned>(c - '0');
  if (value > 0777) {
    throw ConfigError(fmt::format(
        "Configuration : la clé files.umask vaut « {} » ; le masque ne peut dépasser 0777 (pas de bits spéciaux), "
        "par exemple 0027.",
        raw));
  }
  if ((value & 0002) == 0) {
    throw ConfigError(fmt::format(
        "Configuration : la clé files.umask vaut « {} » : les fichiers et dossiers créés seraient modifiables par "
        "tous (le bit 0002 doit être dans le masque) ; utilisez par exemple 0027.",
        raw));
  }
  return value;
}

void apply_umask(const Config& config) {
  ::umask(static_cast<mode_t>(config.file_umask));
}

std::string Config::effective_connection() const {
  if (!store_connection.empty()) return store_connection;
  return (root / "raccord.db").string();
}

std::filesystem::path Config::effective_crl_dir() const {
  return crl_dir.empty() ? root / "crl" : crl_dir;
}

rules::CrlSettings Config::crl_settings() const {
  return rules::CrlSettings{clock_skew_s, crl_max_age_days, crl_grace_h};
}

bool Config::store_exists() const {
  std::error_code ec;
  return store_backend == Backend::Postgresql || fs::exists(effective_connection(), ec);
}

Config load_config(const std::optional<fs::path>& file, const fs::path& cwd) {
  Config config;
  config.root = (cwd / "var").lexically_normal();
  if (!file) {
    config.rules_dir = default_rules_dir();
    if (!config.rules_dir.empty()) config.trust_dir = config.rules_dir / "trust";
    return config;
  }
  const fs::path path = file->is_absolute() ? *file : (cwd / *file).lexically_normal();
  if (!fs::is_regular_file(path)) {
    throw ConfigError(fmt::format("Configuration : le fichier {} est introuvable ou illisible.", path.string()));
  }
  config.source = path;
  const fs::path base = path.parent_path();
  // Read once, here: a file that cannot be read is the operator's to fix (exit 2), a read that fails
  // (EIO...) is the machine's failure (std::system_error, exit 1); neither is ever taken for a shorter
  // file (issue 20: Poco's reader looped forever on a stream in error).
  std::optional<std::string> text;
  try {
    text = rules::read_input_file(path);
  } catch (const std::system_error& e) {
    const int error = e.code().value();
    if (error != EACCES && error != EPERM && error != ELOOP && error != EISDIR) throw;
  }
  if (!text) {
    throw ConfigError(fmt::format("Configuration : le fichier {} est introuvable ou illisible.", path.string()));
  }
  check_ini_syntax(path, *text);
  Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini;
  try {
    std::istringstream in(*text);
    ini = new Poco::Util::IniFileConfiguration(in);
  } catch (const Poco::Exception& e) {
    throw ConfigError(fmt::format("Configuration : lecture de {} impossible : {}", path.string(), e.displayText()));
  }
  std::vector<std::string> present;
  collect_keys(*ini, "", present);
  for (const auto& k : present) {
    if (lower(k).starts_with("compte.")) continue;  // checked with their section below
    if (!known_keys().contains(lower(k))) {
      config.warnings.push_back(fmt::format("clé de configuration inconnue ignorée : {}", k));
    } else {
      config.written_keys.insert(lower(k));
    }
  }
  auto get = [&](const std::string& key) -> std::optional<std::string> {
    // Poco keys are case-insensitive; values are kept raw (no ${} expansion).
    if (!ini->hasProperty(key)) return std::nullopt;
    std::string v = ini->getRawString(key);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
    std::size_t start = 0;
    while (start < v.size() && std::isspace(static_cast<unsigned char>(v[start]))) ++start;
    return v.substr(start);
  };
  auto get_int = [&](const std::string& key, auto& target, long long min, long long max) {
    if (auto v = get(key))
      target = static_cast<std::remove_reference_t<decltype(target)>>(to_integer(key, *v, min, max));
  };

  if (auto v = get("engine.environment")) {
    auto env = parse<Environment>(*v);
    if (!env)
      throw ConfigError(
          fmt::format("Configuration : engine.environment vaut « {} » ; attendu production ou qualification.", *v));
    config.environment = *env;
  }
  if (auto v = get("engine.code_prefix")) {
    if (v->size() != 3 || !std::all_of(v->begin(), v->end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      throw ConfigError(
          fmt::format("Configuration : engine.code_prefix vaut « {} » ; attendu 3 lettres majuscules.", *v));
    }
    config.code_prefix = *v;
  }
  if (auto v = get("engine.timezone")) {
    try {
      (void)CivilZone(*v);  // checked here, not at the first date: a bad name is a configuration error
    } catch (const std::exception&) {
      throw ConfigError(fmt::format(
          "Configuration : engine.timezone vaut « {} » ; attendu un fuseau IANA, par exemple Europe/Paris.", *v));
    }
    config.timezone = *v;
  }
  if (auto v = get("paths.root")) config.root = resolve(base, *v);
  if (auto v = get("paths.rules")) config.rules_dir = resolve(base, *v);
  get_int("inbox.settle_ms", config.settle_ms, 0, 3'600'000);
  get_int("inbox.rescan_s", config.rescan_s, 1, 86'400);
  get_int("inbox.max_bytes", config.max_bytes, 1, (1LL << 40));
  if (auto v = get("store.backend")) {
    const auto backend = parse<Backend>(*v);
    if (!backend) {
      throw ConfigError(fmt::format("Configuration : store.backend vaut « {} » ; attendu sqlite ou postgresql.", *v));
    }
    config.store_backend = *backend;
  }
  if (auto v = get("store.connection")) {
    config.store_connection = (config.store_backend == Backend::Sqlite) ? resolve(base, *v).string() : *v;
  }
  if (auto v = get("certificates.trust_dir")) config.trust_dir = resolve(base, *v);
  get_int("certificates.min_rsa_bits", config.min_rsa_bits, 512, 16384);
  get_int("certificates.expiry_warning_days", config.expiry_warning_days, 0, 3650);
  get_int("certificates.clock_skew_s", config.clock_skew_s, 0, 86'400);
  if (auto v = get("certificates.crl_dir")) config.crl_dir = resolve(base, *v);
  if (auto v = get("certificates.crl_allow_private")) {
    if (*v != "true" && *v != "false") {
      throw ConfigError(fmt::format(
          "Configuration : la clé certificates.crl_allow_private vaut « {} » ; attendu true ou false.", *v));
    }
    config.crl_allow_private = *v == "true";
  }
  if (auto v = get("certificates.revocation")) {
    const auto mode = rules::parse_revocation_mode(*v);
    if (!mode) {
      throw ConfigError(fmt::format(
          "Configuration : la clé certificates.revocation vaut « {} » ; attendu aucune, souple ou stricte.", *v));
    }
    config.revocation = *mode;
  }
  get_int("certificates.crl_max_age_days", config.crl_max_age_days, 1, 3650);
  get_int("certificates.crl_grace_h", config.crl_grace_h, 0, 8760);
  if (auto v = get("nightly.time")) {
    const bool ok = v->size() == 5 && (*v)[2] == ':' && std::isdigit(static_cast<unsigned char>((*v)[0])) &&
                    std::isdigit(static_cast<unsigned char>((*v)[1])) &&
                    std::isdigit(static_cast<unsigned char>((*v)[3])) &&
                    std::isdigit(static_cast<unsigned char>((*v)[4])) && std::stoi(v->substr(0, 2)) < 24 &&
                    std::stoi(v->substr(3, 2)) < 60;
    if (!ok) throw ConfigError(fmt::format("Configuration : nightly.time vaut « {} » ; attendu HH:MM.", *v));
    config.nightly_time = NightlyTime{std::stoi(v->substr(0, 2)), std::stoi(v->substr(3, 2))};
  }
  get_int("outbox.retention_days", config.outbox_retention_days, 1, 36500);
  get_int("archive.retention_days", config.archive_retention_days, 1, 36500);
  if (auto v = get("files.umask")) config.file_umask = parse_umask(*v);
  if (auto v = get("aife.sftp_address")) config.aife.sftp_address = *v;
  get_int("aife.sftp_port", config.aife.sftp_port, 1, 65535);
  if (auto v = get("aife.as2_identifiant")) config.aife.as2_identifiant = *v;
  if (auto v = get("aife.as2_address")) config.aife.as2_address = *v;
  get_int("aife.as2_port", config.aife.as2_port, 1, 65535);
  if (auto v = get("aife.as2_path")) config.aife.as2_path = *v;
  if (auto v = get("aife.pesit_address")) config.aife.pesit_address = *v;
  get_int("aife.pesit_port", config.aife.pesit_port, 1, 65535);

  // Sender accounts: every [compte.X] header of the file, a section without keys included.
  std::set<std::string> sections;
  for (const std::string& name : account_section_names(*text)) sections.insert(name);
  for (const auto& k : present) {  // a key written as compte.X.key outside a [compte.X] header
    if (!lower(k).starts_with("compte.")) continue;
    const std::string rest = k.substr(7);
    const auto dot = rest.rfind('.');
    sections.insert(dot == std::string::npos ? rest : rest.substr(0, dot));
  }
  for (const std::string& name : sections) {
    config.accounts.push_back(parse_account_section(*ini, name, base));
    const SenderAccount& account = config.accounts.back();
    if (account.signature == SignatureRequirement::None && !account.signers_file.empty()) {
      // A careless configuration, not a wrong one: the pinned signers are read only with signature = obligatoire.
      config.warnings.push_back(fmt::format(
          "compte.{}.signataires ({}) est ignorée : le compte a signature = aucune, ses dépôts sont acceptés sans "
          "signature ; écrivez signature = obligatoire pour exiger des signatures",
          account.name, account.signers_file.string()));
    }
  }

  if (config.rules_dir.empty()) config.rules_dir = default_rules_dir();
  if (config.trust_dir.empty() && !config.rules_dir.empty()) config.trust_dir = config.rules_dir / "trust";
  return config;
}

const SenderAccount* Config::account(std::string_view name) const {
  for (const auto& a : accounts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::vector<std::string> aife_example_warnings(const Config& config) {
  const AifeConfig example;
  struct Side {
    Protocol protocol;
    const char* origin_one;   // after "est"
    const char* origin_many;  // after "sont"
    std::vector<std::pair<const char*, std::string>> keys;
  };
  const Side sides[] = {
      {Protocol::Pesit,
       "inventée par le projet (le guide Chorus Pro n'en donne pas)",
       "inventées par le projet (le guide Chorus Pro n'en donne pas)",
       {{"aife.pesit_address", example.pesit_address}, {"aife.pesit_port", std::to_string(example.pesit_port)}}},
      {Protocol::Sftp,
       "la valeur d'exemple du guide Chorus Pro",
       "les valeurs d'exemple du guide Chorus Pro",
       {{"aife.sftp_address", example.sftp_address}, {"aife.sftp_port", std::to_string(example.sftp_port)}}},
      {Protocol::As2,
       "la valeur d'exemple du guide Chorus Pro",
       "les valeurs d'exemple du guide Chorus Pro",
       {{"aife.as2_identifiant", example.as2_identifiant},
        {"aife.as2_address", example.as2_address},
        {"aife.as2_port", std::to_string(example.as2_port)},
        {"aife.as2_path", example.as2_path}}},
  };
  const std::string where = config.source ? "la section [aife] de " + config.source->string()
                                          : "la section [aife] d'un fichier de configuration (--config ou "
                                            "RACCORD_CONFIG)";
  std::vector<std::string> out;
  for (const Side& side : sides) {
    std::vector<std::string> left;
    for (const auto& [key, value] : side.keys) {
      if (!config.written_keys.contains(key)) left.push_back(fmt::format("{} = {}", key, value));
    }
    if (left.empty()) continue;
    std::string listed;
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (i > 0) listed += (i + 1 == left.size()) ? " et " : ", ";
      listed += left[i];
    }
    out.push_back(fmt::format(
        "côté AIFE {0} non configuré : {1} (valeur{2} par défaut) {3} {4}, recopiée{2} telle{2} quelle{2} dans les "
        "accusés des fiches {0} acceptées (ParametresAIFE). Écrivez dans {5} les valeurs transmises par l'AIFE.",
        to_code(side.protocol), listed, left.size() > 1 ? "s" : "", left.size() > 1 ? "sont" : "est",
        left.size() > 1 ? side.origin_many : side.origin_one, where));
  }
  return out;
}

}  // namespace raccord
