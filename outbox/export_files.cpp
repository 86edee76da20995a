#include "outbox/export_files.hpp"

#include <algorithm>
#include <stdexcept>

#include "files/atomic_file.hpp"
#include "outbox/export_writer.hpp"

namespace raccord::outbox {
namespace {

namespace fs = std::filesystem;

std::string_view extension_of(ExportFormat format) {
  switch (format) {
    case ExportFormat::Csv:
      return "csv";
    case ExportFormat::Xml:
      return "xml";
  }
  return "xml";
}

/// The first of "base.ext", "base_2.ext"... of `request` that is not in `outbox_dir` nor `taken`.
std::string free_export_name(const fs::path& outbox_dir, const ExportRequest& request, const NameTaken& taken) {
  return files::free_name(outbox_dir, export_base_name(request.kind, request.reference, request.at),
                          extension_of(request.format), taken);
}

void write_rows(const ExportRequest& request, const RowSource& rows, std::ostream& out) {
  ExportWriter writer(out, request.kind, request.format, request.reference, request.at);
  rows([&writer](const SearchRow& row) { writer.row(row); });
  writer.finish();
}

}  // namespace

std::string write_export(const fs::path& outbox_dir, const ExportRequest& request, const NameTaken& recorded,
                         const RowSource& rows) {
  for (;;) {
    const std::string name = free_export_name(outbox_dir, request, recorded);
    files::AtomicFileStream file(outbox_dir, name);
    write_rows(request, rows, file.stream());
    if (file.commit()) return name;  // else another writer took the name meanwhile: next one
  }
}

StagedExports::StagedExports(fs::path outbox_dir) : outbox_dir_(std::move(outbox_dir)) {}

StagedExports::~StagedExports() {
  discard_staged();
}

std::string StagedExports::stage(const ExportRequest& request, const NameTaken& recorded, const RowSource& rows) {
  const std::string name = free_export_name(outbox_dir_, request, [this, &recorded](const std::string& n) {
    const bool here = std::any_of(entries_.begin(), entries_.end(), [&n](const Entry& e) { return e.name == n; });
    return here || (recorded && recorded(n));
  });
  files::AtomicFileStream file(outbox_dir_, name);
  write_rows(request, rows, file.stream());
  entries_.push_back(Entry{name, file.keep(), State::Staged});
  return name;
}

const std::string& StagedExports::temporary_of(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name && e.state == State::Staged) return e.temporary;
  }
  throw std::out_of_range("export non préparé : " + name);
}

void StagedExports::discard_staged() {
  remove_if([](const Entry& e) { return e.state == State::Staged; });
}

void StagedExports::committing(const std::vector<std::string>& names) {
  for (auto& e : entries_) {
    if (e.state == State::Staged && std::find(names.begin(), names.end(), e.name) != names.end()) {
      e.state = State::Committing;
    }
  }
}

void StagedExports::settle(bool committed) {
  if (committed) {
    std::erase_if(entries_, [](const Entry& e) { return e.state == State::Committing; });
  } else {
    remove_if([](const Entry& e) { return e.state == State::Committing; });
  }
}

void StagedExports::settle(const std::function<bool(const std::string& temporary)>& recorded) {
  std::erase_if(entries_,
                [&recorded](const Entry& e) { return e.state == State::Committing && recorded(e.temporary); });
  settle(false);
}

void StagedExports::remove_if(const std::function<bool(const Entry&)>& doomed) {
  std::erase_if(entries_, [this, &doomed](const Entry& e) {
    if (!doomed(e)) return false;
    std::error_code ignored;
    fs::remove(outbox_dir_ / e.temporary, ignored);
    return true;
  });
}

}  // namespace raccord::outbox
