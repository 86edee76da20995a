// xmllint for the tests: is a document well-formed, and valid against one of the XSDs of samples/xsd/
// (accuse.xsd docs/reference.md §5.1, export.xsd §5.2, rapport.xsd §5.3, fiche.xsd §7 `raccord show`)?
// Runs the real tool (libxml2-utils): `xmllint --noout [--schema XSD] FILE`, output captured.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace raccord::testing {

/// samples/xsd/NAME in the source tree, e.g. xsd_path("accuse.xsd").
std::filesystem::path xsd_path(std::string_view name);

/// True when an `xmllint` is on the PATH (tests that only add a schema check skip without it).
bool xmllint_available();

/// What xmllint answered.
struct XmllintResult {
  int status = -1;  // raw std::system() status: 0 when well-formed (and valid, with a schema)
  std::string log;  // its stdout and stderr (the errors with their line numbers)

  bool ok() const { return status == 0; }
};

/// `xmllint --noout [--schema XSD] FILE` on an existing file; no --schema when `xsd` is empty.
XmllintResult xmllint_file(const std::filesystem::path& file, const std::filesystem::path& xsd = {});

/// The same on `xml` written to a temporary file (removed afterwards).
XmllintResult xmllint_text(std::string_view xml, const std::filesystem::path& xsd = {});

}  // namespace raccord::testing
