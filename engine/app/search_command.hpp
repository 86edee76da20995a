// `raccord search` (docs/reference.md §3.4, §5.2, §7): the search of a Recherche from the command line, limited
// to what --demandeur may consult (engine/search.hpp), printed as a table for a terminal, or as the
// export's CSV/XML bytes, or written to the outbox with --export. Reads the store; never processes the
// inbox nor runs nightly jobs.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "domain/civil_date.hpp"
#include "engine/config.hpp"
#include "engine/database.hpp"

namespace CLI {
class App;
}

namespace raccord::app {

struct SearchCommandOptions {
  // Criteria of docs/reference.md §3.4, each optional ("" = not given).
  std::string partner;           // --partenaire SIRET
  std::string state;             // --etat state code or label (ACTIVEE, Activée...), accents and case ignored
  std::string code_appli;        // --code-appli
  std::string protocol;          // --protocole PESIT|SFTP|AS2
  std::string interface_code;    // --code-interface
  std::string submitted_from;    // --soumis-depuis YYYY-MM-DD (inclusive, civil date in engine.timezone)
  std::string submitted_to;      // --soumis-jusqua YYYY-MM-DD (inclusive)
  std::string raison_sociale;    // --raison-sociale part of the partner's name, accents and case ignored
  std::string type;              // --type EDI|API ("": the --code-appli's sheet's type, else EDI)
  std::string format = "table";  // --format table|csv|xml
  bool write_export = false;     // --export: write the outbox file (csv for table) and print its path
  std::string reference;         // --reference: in the export's name and XML `reference`
  std::string requester;         // --demandeur LOGIN (required)
};

/// Adds the `search` subcommand to `app`, bound to `options`, and returns it (the caller adds the global
/// options --config/--now to it). Usage errors (missing --demandeur, bad date, malformed SIRET, unknown
/// type, format, state or protocol) are CLI11 parse errors, hence exit 2.
CLI::App* add_search_command(CLI::App& app, SearchCommandOptions& options);

/// Runs the search against the store of `config` (opened as is, never created). `now` is the business
/// instant: the XML `genere` and the export's name. Exit 2 with the reason on `err` (docs/reference.md §7): a
/// malformed date, a --partenaire that is not 14 digits, a --etat that names no state (codes and labels
/// are accepted, accents and case ignored: engine/search.hpp parse_state_criterion), an unknown type,
/// format or protocol, and a demandeur unknown to the store (or no store at all). Without --type, the
/// type is that of the --code-appli's sheet when the demandeur may consult it (search_kind_of_code),
/// else EDI. Output on `out`:
/// - table: one line of the CSV header's column names, then one aligned line per row (dates dd/mm/yyyy,
///   state labels, control characters shown as spaces); a known demandeur without rights gets the
///   header only;
/// - csv / xml: exactly the bytes of the export file (BOM, ';', CRLF... / urn:raccord:export:1);
/// - with write_export: the file is written atomically to <root>/outbox (docs/reference.md §5.2 name, "_2"... when
///   taken; csv for the table format) and its full path is printed, alone on its line.
/// Returns 0, or 2 as above. Throws StoreError on the store's own failures.
int run_search_command(const SearchCommandOptions& options, const Config& config, Instant now, std::ostream& out,
                       std::ostream& err);

/// The same on std::cout and std::cerr.
int run_search_command(const SearchCommandOptions& options, const Config& config, Instant now);

/// Opens the store of `config` for reading, never creating or migrating it: the PostgreSQL store, or
/// the SQLite file when it exists; nullptr when that SQLite file does not exist. Throws StoreError.
std::unique_ptr<Database> open_store_for_reading(const Config& config);

}  // namespace raccord::app
