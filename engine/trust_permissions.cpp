// Who may change what decides trust (see trust_permissions.hpp; docs/accounts.md).
#include "engine/trust_permissions.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace raccord {
namespace {

namespace fs = std::filesystem;

/// The stat(2) of `path`, symbolic links followed; nullopt when it does not exist. Throws std::system_error
/// naming `path` otherwise.
std::optional<struct stat> stat_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return st;
  if (errno == ENOENT) return std::nullopt;
  throw std::system_error(errno, std::generic_category(), "stat " + path.string());
}

/// Refuses `path` (what `role` says it is) when group or others may write it or when it is owned by a uid
/// other than root or the engine's.
void check_trust_path(const fs::path& path, const struct stat& st, std::string_view role, unsigned engine_uid) {
  const std::string why = fmt::format(
      " Seuls root et l'utilisateur du moteur (uid {}) doivent pouvoir y écrire : qui peut y écrire décide de ce "
      "qui est de confiance.",
      engine_uid);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    throw TrustPermissionError(
        fmt::format("{} {} est modifiable par {} (droits {:04o}) : retirez ces droits avec « chmod go-w {} ».{}", role,
                    path.string(), (st.st_mode & S_IWOTH) != 0 ? "tous les utilisateurs" : "son groupe",
                    st.st_mode & 07777, path.string(), why));
  }
  if (st.st_uid != 0 && st.st_uid != engine_uid) {
    throw TrustPermissionError(
        fmt::format("{} {} appartient à l'uid {}, ni root ni l'utilisateur du moteur : "
                    "donnez-le à root avec « chown root {} ».{}",
                    role, path.string(), st.st_uid, path.string(), why));
  }
}

/// check_trust_path on directory `dir` and on the files in it that the engine reads (regular, non-hidden files,
/// symbolic links followed), when `dir` exists.
void check_trust_dir(const fs::path& dir, std::string_view role, std::string_view file_role, unsigned engine_uid) {
  const auto st = stat_of(dir);
  if (!st) return;
  check_trust_path(dir, *st, role, engine_uid);
  if (!S_ISDIR(st->st_mode)) return;  // not a directory: said by the code that reads it
  std::vector<fs::path> entries;
  // Every failure of the listing names the directory and the system's error (a range-for's increment
  // throws "directory iterator cannot advance" without the path: the fault sweep's getdents64:EIO:@trust).
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
  if (ec) throw std::system_error(ec, "lecture impossible du répertoire " + dir.string());
  std::sort(entries.begin(), entries.end());  // the first offender named is the same at every start
  for (const auto& entry : entries) {
    if (entry.filename().string().starts_with('.')) continue;
    const auto est = stat_of(entry);
    if (est && S_ISREG(est->st_mode)) check_trust_path(entry, *est, file_role, engine_uid);
  }
}

}  // namespace

void check_trust_permissions(const Config& config, unsigned engine_uid) {
  if (!config.trust_dir.empty()) {
    check_trust_dir(config.trust_dir, "Le répertoire des certificats de confiance (certificates.trust_dir)",
                    "Le certificat de confiance", engine_uid);
  }
  check_trust_dir(config.effective_crl_dir(), "Le répertoire des CRL (certificates.crl_dir)", "La CRL", engine_uid);
  for (const auto& account : config.accounts) {
    if (account.signers_file.empty()) continue;
    const auto st = stat_of(account.signers_file);
    if (!st) continue;  // checked by load_config; removed since: said by the code that reads it
    check_trust_path(
        account.signers_file, *st,
        fmt::format("Le fichier des signataires du compte {} (compte.{}.signataires)", account.name, account.name),
        engine_uid);
  }
}

}  // namespace raccord
