#include "outbox/outbox.hpp"

#include <signal.h>

#include <cerrno>

#include "files/atomic_file.hpp"
#include "outbox/acknowledgement_writer.hpp"
#include "outbox/metrics_writer.hpp"
#include "outbox/nightly_report_writer.hpp"

namespace raccord::outbox {
namespace {

namespace fs = std::filesystem;

bool process_is_dead(long pid) {
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

Outbox::Outbox(fs::path dir) : dir_(std::move(dir)) {}

std::string Outbox::acknowledgement_name(std::string_view deposit_file_name, Instant processed,
                                         const NameTaken& recorded) const {
  return files::free_name(dir_, acknowledgement_base_name(deposit_file_name, processed), ".xml", recorded);
}

std::vector<bool> Outbox::write_acknowledgements(
    const std::vector<std::pair<std::string, std::string>>& accuses) const {
  return files::create_files_atomically(dir_, accuses);
}

bool Outbox::publish_export(const std::string& name, const std::string& temporary) const {
  const fs::path target = dir_ / name;
  const fs::path source = dir_ / temporary;
  std::error_code ec;
  if (fs::exists(source, ec)) {
    if (files::move_no_replace(source, target)) return true;
    fs::remove(source, ec);  // published before a crash: the name is there
    return true;
  }
  return fs::is_regular_file(target, ec);
}

std::vector<std::string> Outbox::dead_temporaries(std::error_code& error) const {
  static const std::string host = files::host_name();
  error.clear();
  std::vector<std::string> dead;
  // it.increment(error), never a range-for's increment, which throws without the directory's name (the
  // fault sweep's getdents64:EIO:@var/outbox): the caller logs the failure naming the directory.
  for (fs::directory_iterator it(dir_, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    const auto pid = files::temporary_pid(name, host);
    std::error_code type_error;
    if (pid && process_is_dead(*pid) && it->is_regular_file(type_error)) dead.push_back(name);
  }
  return dead;
}

void Outbox::remove_temporary(const std::string& temporary) const {
  std::error_code ignored;
  fs::remove(dir_ / temporary, ignored);
}

void Outbox::write_report(CivilDate date, std::string_view extension, std::string_view content) const {
  files::write_file_atomically(dir_, nightly_report_name(date, extension), content);
}

bool Outbox::has_report(CivilDate date, std::string_view extension) const {
  return fs::exists(dir_ / nightly_report_name(date, extension));
}

void Outbox::write_metrics(std::string_view text) const {
  files::replace_file(dir_, kMetricsFileName, text);
}

}  // namespace raccord::outbox
