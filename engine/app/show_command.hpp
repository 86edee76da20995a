// `raccord show CODE [--format text|xml]` (docs/reference.md §7): one sheet for the support team — identity,
// current state, the activated and the pending versions (protocol, period, interfaces with their
// modes, certificates with their end dates, contact), and the whole history. Deleted drafts are
// shown too, marked "supprimée". Reads the store; processes nothing, writes nothing.
#pragma once

#include <iosfwd>
#include <string>

#include "engine/clock.hpp"
#include "engine/config.hpp"
#include "engine/sheet_view.hpp"

namespace CLI {
class App;
}

namespace raccord::app {

struct ShowCommandOptions {
  std::string code;             // the codeAppli (exact)
  std::string format = "text";  // text or xml
};

/// Adds the `show` subcommand to `app`, bound to `options`, and returns it (the caller adds the global
/// options --config/--now to it). A missing CODE or an unknown format is a CLI11 parse error (exit 2).
CLI::App* add_show_command(CLI::App& app, ShowCommandOptions& options);

/// Runs the command against the store of `config` (opened as is, never created nor migrated).
/// Prints the sheet on `out` and problems on `err` (French). Returns 0 when shown, 1 for an unknown code
/// (or no store at all), 2 for an unknown format (docs/reference.md §7).
int run_show_command(const ShowCommandOptions& options, const Config& config, std::ostream& out, std::ostream& err);

/// The same on std::cout and std::cerr.
int run_show_command(const ShowCommandOptions& options, const Config& config);

/// Text for a support engineer. Instants (history, versions, submission) in local time of `zone`
/// ("dd/mm/yyyy HH:MM:SS", CivilZone::format_local); periods dd/mm/yyyy; certificate end dates
/// dd/mm/yyyy of the UTC instant (as in the accusés and `raccord cert`); state labels (docs/reference.md §1);
/// versions numbered per sheet ("version n° 2": VersionView::number). A sheet waiting for activation
/// gets, after "Soumise le", a line "En attente : activation bloquée depuis le <local instant>
/// (exécution nocturne), motif(s) :" followed by one line "  CODE (champ) : message" per reason, or
/// "En attente : du dd/mm/yyyy — …", or "En attente : la prochaine exécution nocturne…" (API).
void print_sheet_text(std::ostream& out, const SheetView& sheet, const CivilZone& zone);

/// XML (samples/xsd/fiche.xsd, no namespace): root `Fiche` with attributes codeAppli, type,
/// partenaire, etat (state code), raisonSociale, libelleEtat, supprimee, soumis (xs:dateTime, when
/// submitted); then `Version role="active|pending"` children (attributes numero (per sheet), id (the
/// store's), action, protocole, debut, fin, creeLe, creePar; children Contact, Reseau, Interface
/// code/mode, Certificat sujet emetteur numeroSerie debut fin finale, Commentaires); for a sheet waiting
/// for activation an `Attente` with attribute `du` (xs:date), or `depuis` (xs:dateTime UTC) and `Motif
/// code champ?` children holding the messages, or neither (the next nightly run); and `Historique` with
/// `Evenement instant acteur de vers motif` children (instant as xs:dateTime UTC; `de` is "" for the
/// creation).
void print_sheet_xml(std::ostream& out, const SheetView& sheet);

}  // namespace raccord::app
