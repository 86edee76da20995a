// Running the real `raccord` binary as a child of the test, with the limits and measures the
// memory tests need (issue 20): an environment of its own, an address-space limit (RLIMIT_AS), and
// the child's own peak resident set (wait4's ru_maxrss), whatever else the test process does.
#pragma once

#include <sys/resource.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace raccord::testing {

/// How a child ended.
struct ChildRun {
  int exit_code = -1;     // its exit status; -1 when it did not exit normally
  int signal = 0;         // the signal that ended it, 0 when it exited
  long peak_rss_kib = 0;  // its peak resident set size in KiB (ru_maxrss of wait4)
};

/// Runs RACCORD_BINARY with `args` in `cwd`, stdout to /dev/null and stderr appended to `log`,
/// with the test's environment minus RACCORD_CONFIG, RACCORD_NOW, RACCORD_TEST_* and the systemd
/// variables, plus `env` ("NAME=value" each, replacing an inherited NAME). `address_space_bytes`: RLIMIT_AS of the
/// child (as `ulimit -v`), none when nullopt. Waits for it.
ChildRun run_raccord(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                     const std::filesystem::path& log, const std::vector<std::string>& env = {},
                     std::optional<rlim_t> address_space_bytes = std::nullopt);

/// run_raccord through GNU time (/usr/bin/time, Debian package `time`), whose report gives
/// peak_rss_kib: the peak of raccord alone. A direct child's ru_maxrss starts from the test
/// process's resident set (fork copies it, and exec keeps the larger of the two peaks: Linux
/// exec_mmap), so it measures the test, not raccord; time's own resident set is a few hundred KiB.
/// exit_code is raccord's; -1 and no measure when time is missing or raccord did not exit normally.
ChildRun run_raccord_measured(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                              const std::filesystem::path& log, const std::vector<std::string>& env = {});

/// True when this test executable (hence the raccord binary built with it) is built with
/// AddressSanitizer, which reserves terabytes of address space and inflates the resident set.
constexpr bool built_with_address_sanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace raccord::testing
