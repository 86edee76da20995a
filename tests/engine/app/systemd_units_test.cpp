// Tests of systemd/ (issue 4; SPEC.md §7 `raccord daemon` under systemd, §6 the timer): the units
// pass `systemd-analyze verify` (with ExecStart pointing at the built binary), raccord.service's
// `systemd-analyze security --offline=true` exposure is below 3.0 ("OK"), and the directives the
// issue asks for are present. PID 1 is not systemd here (TOOLCHAIN.md #19): only offline checks.
// Skipped when systemd-analyze is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path kUnits = fs::path(RACCORD_SOURCE_DIR) / "systemd";
const char* const kUnitFiles[] = {"raccord.service", "raccord-nightly.service", "raccord-nightly.timer",
                                   "raccord-trust-refresh.service", "raccord-trust-refresh.timer"};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Outcome {
  int code = -1;
  std::string output;  // stdout and stderr
};

Outcome run(const std::string& command) {
  Outcome r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool have_systemd_analyze() {
  return std::system("command -v systemd-analyze >/dev/null 2>&1") == 0;
}

class SystemdUnitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_systemd_analyze()) GTEST_SKIP() << "systemd-analyze absent";
    ASSERT_TRUE(fs::exists(RACCORD_BINARY)) << RACCORD_BINARY;
    std::string pattern = (fs::temp_directory_path() / "raccord-units-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    // Copies whose ExecStart runs the built binary instead of /usr/bin/raccord (verify checks
    // that the command exists and is executable).
    for (const char* name : kUnitFiles) {
      std::string text = read_file(kUnits / name);
      ASSERT_FALSE(text.empty()) << name;
      text = std::regex_replace(text, std::regex("/usr/bin/raccord"), std::string(RACCORD_BINARY));
      std::ofstream(dir_ / name, std::ios::binary) << text;
    }
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  std::string unit(const char* name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(SystemdUnitsTest, VerifyAcceptsTheServicesAndTheTimer) {
  std::string command = "systemd-analyze verify";
  for (const char* name : kUnitFiles) command += " " + quote(unit(name));
  const Outcome r = run(command);
  RecordProperty("systemd_analyze_verify", r.output.empty() ? "(aucune sortie)" : r.output);
  EXPECT_EQ(r.code, 0) << r.output;
  for (const char* name : kUnitFiles) EXPECT_THAT(r.output, Not(HasSubstr(name))) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("raccord"))) << r.output;
}

TEST_F(SystemdUnitsTest, VerifyCanFailHere) {
  // The check above means something: a unit whose command does not exist is refused.
  std::ofstream(dir_ / "casse.service") << "[Service]\nType=notify\nExecStart=/nonexistent/raccord daemon\n";
  const Outcome r = run("systemd-analyze verify " + quote(unit("casse.service")));
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("casse.service"));
}

TEST_F(SystemdUnitsTest, SecurityExposureOfTheDaemonIsBelowThree) {
  if (run("systemd-analyze --help").output.find("--offline") == std::string::npos) {
    GTEST_SKIP() << "systemd-analyze security sans --offline";
  }
  for (const char* name : {"raccord.service", "raccord-nightly.service", "raccord-trust-refresh.service"}) {
    SCOPED_TRACE(name);
    const Outcome r = run("systemd-analyze security --offline=true " + quote(unit(name)));
    ASSERT_EQ(r.code, 0) << r.output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        r.output, m, std::regex(std::string("Overall exposure level for ") + name + ": ([0-9]+\\.[0-9]+) ([A-Z]+)")))
        << r.output;
    RecordProperty(std::string("exposure_") + name, m[1].str() + " " + m[2].str());
    EXPECT_LT(std::stod(m[1].str()), 3.0) << r.output;
    EXPECT_EQ(m[2].str(), "OK") << r.output;
  }
}

TEST_F(SystemdUnitsTest, TimerCalendarIsParisAtTwo) {
  const Outcome r = run("systemd-analyze calendar '*-*-* 02:00:00 Europe/Paris'");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Normalized form: *-*-* 02:00:00 Europe/Paris"));
}

// The directives issue 4 asks for (a unit that still verifies without them would not be enough).
TEST(SystemdUnitsContentTest, DaemonUnitHasNotifyWatchdogRestartAndHardening) {
  const std::string text = read_file(kUnits / "raccord.service");
  for (const char* line :
       {"Type=notify\n", "WatchdogSec=", "TimeoutStartSec=", "Restart=on-failure\n", "User=raccord\n",
        "ProtectSystem=strict\n", "ReadWritePaths=/var/lib/raccord\n", "NoNewPrivileges=yes\n", "PrivateTmp=yes\n",
        "ExecReload=/bin/kill -HUP $MAINPID\n", "ExecStart=/usr/bin/raccord daemon "}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  // Only the root is writable: no other ReadWritePaths.
  const auto first = text.find("ReadWritePaths=");
  EXPECT_EQ(text.find("ReadWritePaths=", first + 1), std::string::npos);
}

TEST(SystemdUnitsContentTest, NightlyTimerIsPersistentInParisAndLockedRunIsNotAFailure) {
  const std::string timer = read_file(kUnits / "raccord-nightly.timer");
  EXPECT_THAT(timer, HasSubstr("OnCalendar=*-*-* 02:00:00 Europe/Paris\n"));
  EXPECT_THAT(timer, HasSubstr("Persistent=true\n"));
  const std::string service = read_file(kUnits / "raccord-nightly.service");
  EXPECT_THAT(service, HasSubstr("Type=oneshot\n"));
  EXPECT_THAT(service, HasSubstr("ExecStart=/usr/bin/raccord nightly "));
  EXPECT_THAT(service, HasSubstr("SuccessExitStatus=3\n"));  // SPEC.md §7: 3 = another run holds the lock
  EXPECT_THAT(read_file(kUnits / "raccord.sysusers"), HasSubstr("u raccord "));
  EXPECT_THAT(read_file(kUnits / "raccord.tmpfiles"), HasSubstr("d /var/lib/raccord/inbox "));
}

// Issue 17: `raccord trust refresh` every 6 hours, the only unit allowed to reach the outside network.
TEST_F(SystemdUnitsTest, TrustRefreshCalendarIsEverySixHours) {
  const Outcome r = run("systemd-analyze calendar --iterations=5 '*-*-* 00/6:00:00 UTC'");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Normalized form: *-*-* 00/6:00:00 UTC"));
  std::smatch m;
  std::vector<int> hours;
  std::string rest = r.output;
  while (std::regex_search(rest, m, std::regex(" ([0-9]{2}):00:00 UTC"))) {
    hours.push_back(std::stoi(m[1].str()));
    rest = m.suffix();
  }
  ASSERT_GE(hours.size(), 4u) << r.output;
  for (std::size_t i = 1; i < hours.size(); ++i) EXPECT_EQ((hours[i] - hours[i - 1] + 24) % 24, 6) << r.output;
}

TEST(SystemdUnitsContentTest, TrustRefreshTimerIsPersistentEverySixHoursAndOnlyItReachesTheNetwork) {
  const std::string timer = read_file(kUnits / "raccord-trust-refresh.timer");
  EXPECT_THAT(timer, HasSubstr("OnCalendar=*-*-* 00/6:00:00 UTC\n"));
  EXPECT_THAT(timer, HasSubstr("Persistent=true\n"));
  const std::string service = read_file(kUnits / "raccord-trust-refresh.service");
  for (const char* line : {"Type=oneshot\n", "ExecStart=/usr/bin/raccord trust refresh ", "User=raccord\n",
                           "ProtectSystem=strict\n", "ReadWritePaths=/var/lib/raccord\n", "NoNewPrivileges=yes\n",
                           "PrivateTmp=yes\n", "IPAddressAllow=any\n"}) {
    EXPECT_THAT(service, HasSubstr(line));
  }
  EXPECT_THAT(service, Not(HasSubstr("IPAddressDeny=")));
  for (const char* other : {"raccord.service", "raccord-nightly.service"}) {
    EXPECT_THAT(read_file(kUnits / other), HasSubstr("IPAddressDeny=any\n")) << other;
  }
  EXPECT_THAT(read_file(kUnits / "raccord.tmpfiles"), HasSubstr("d /var/lib/raccord/crl "));
}

}  // namespace
