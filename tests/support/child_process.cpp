#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string_view>
#include <utility>

extern char** environ;

namespace raccord::testing {

namespace fs = std::filesystem;

namespace {

/// Runs `argv_text` (its first element the program's path) as run_raccord says.
ChildRun run_child(std::vector<std::string> argv_text, const fs::path& cwd, const fs::path& log,
                   const std::vector<std::string>& env, std::optional<rlim_t> address_space_bytes) {
  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  const auto given = [&env](std::string_view v) {  // a variable `env` sets replaces the inherited one
    const std::string_view name = v.substr(0, v.find('=') + 1);
    for (const auto& e : env) {
      if (e.starts_with(name)) return true;
    }
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view v(*e);
    if (v.starts_with("RACCORD_CONFIG=") || v.starts_with("RACCORD_NOW=") || v.starts_with("RACCORD_TEST_") ||
        v.starts_with("NOTIFY_SOCKET=") || v.starts_with("WATCHDOG_") || given(v)) {
      continue;
    }
    env_text.emplace_back(v);
  }
  env_text.insert(env_text.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string dir = cwd.string();
  const std::string log_path = log.string();

  ChildRun run;
  const pid_t pid = ::fork();
  if (pid < 0) return run;
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    const int err = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (null < 0 || err < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    if (address_space_bytes) {
      const rlimit limit{*address_space_bytes, *address_space_bytes};
      if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(126);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) != pid) return run;
  run.peak_rss_kib = usage.ru_maxrss;
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  return run;
}

}  // namespace

ChildRun run_raccord(const std::vector<std::string>& args, const fs::path& cwd, const fs::path& log,
                     const std::vector<std::string>& env, std::optional<rlim_t> address_space_bytes) {
  std::vector<std::string> argv_text{RACCORD_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  return run_child(std::move(argv_text), cwd, log, env, address_space_bytes);
}

ChildRun run_raccord_measured(const std::vector<std::string>& args, const fs::path& cwd, const fs::path& log,
                              const std::vector<std::string>& env) {
  const fs::path report = cwd / ".peak_rss_kib";
  std::vector<std::string> argv_text{"/usr/bin/time", "-q", "-f", "%x %M", "-o", report.string(), RACCORD_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  ChildRun run = run_child(std::move(argv_text), cwd, log, env, std::nullopt);
  std::ifstream in(report);
  int exit_code = -1;
  long peak = 0;
  if (!(in >> exit_code >> peak)) return ChildRun{-1, run.signal, 0};
  std::error_code ec;
  fs::remove(report, ec);
  return ChildRun{exit_code, run.signal, peak};
}

}  // namespace raccord::testing
