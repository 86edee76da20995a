// Renders the nightly run's report (docs/reference.md §5.3) as XML and CSV, and names its files.
#pragma once

#include <string>
#include <string_view>

#include "domain/civil_date.hpp"
#include "domain/nightly_report.hpp"

namespace raccord::outbox {

/// The report's XML (UTF-8, namespace urn:raccord:rapport:1, valid against samples/xsd/rapport.xsd),
/// well-formed for any input: every value goes through sanitize_xml_text (docs/field-cases.md F16).
/// No time zone is involved: dates are the values' civil dates, instants are UTC.
///
///   <RapportNocturne date="D" instant="run ISO" debut="started ISO" fin="finished ISO">
///     <Transition codeAppli partenaire de vers motif/>            one per transition, in order
///     <ActivationBloquee codeAppli partenaire etat>               one per blocked sheet
///       <Motif code champ?>message</Motif>                        one per reason (champ if set)
///     </ActivationBloquee>
///     <Retard codeAppli partenaire etat soumis="ISO instant" echeance="YYYY-MM-DD"/>  one per late sheet
///     <ExpirationProche codeAppli partenaire sujet serie finValidite="YYYY-MM-DD"/>
///     <Revocation codeAppli partenaire etat> <Motif code champ?>message</Motif>… </Revocation>
///     <FichierIgnore chemin taille age="seconds" modifie="ISO instant" motif/>
///     <Totaux transitions activations desactivations bloquees retards expirationsProches revocations
///             fichiersIgnores>
///       <Etat code nombre/>                                       one per SheetState, enum order
///     </Totaux>
///   </RapportNocturne>
///
/// - Instants are "YYYY-MM-DDTHH:MM:SSZ"; states are codes (to_code).
/// - finValidite is the UTC calendar date of the certificate's notAfter.
/// - Totaux: activations = transitions to ACTIVEE, desactivations = transitions to DESACTIVEE; every
///   state has an Etat, with 0 when absent from sheets_by_state.
std::string render_nightly_report_xml(const NightlyReport& report);

/// Every row of the report as CSV for French Excel, the file support opens (docs/reference.md §5.3, §5.2;
/// written by CsvWriter: BOM, ';', CRLF, RFC 4180, F31 prefix). Header exactly
/// "Type;Code Appli partenaire;Partenaire;De;Vers;Motif;Date", then, in this order, one row per:
///   Transition     De/Vers the state LABELS ("Envoyée", "Activée"…), Motif its reason, Date the run date;
///   Blocage        Motif "CODE (champ) : message ; …", Date the run date;
///   Retard         Motif the state and the date it became due, Date that date (LateSheet::due);
///   Expiration     Motif the subject, serial and end, Date the leaf's end (UTC calendar date);
///   Revocation     Motif "CODE (champ) : message ; …", Date the run date;
///   FichierIgnore  no sheet, Motif "path, size octet(s), age, why", Date IgnoredFile::modified_on.
/// Partenaire is "SIRET - RAISON SOCIALE" (partner_cell); De/Vers are empty outside transitions; dates
/// are dd/mm/yyyy. Values go through sanitize_xml_text too, so the file is valid UTF-8.
std::string render_nightly_report_csv(const NightlyReport& report);

/// "SIRET - RAISON SOCIALE" from report.partner_names, or the SIRET alone when its name is unknown.
std::string partner_cell(const NightlyReport& report, const std::string& siret);

/// "NIGHTLY_<YYYY-MM-DD>.<extension>" (docs/reference.md §5.3), e.g. (2026-11-30, "xml") →
/// "NIGHTLY_2026-11-30.xml". `extension` may be given with or without its leading '.'.
std::string nightly_report_name(CivilDate date, std::string_view extension);

}  // namespace raccord::outbox
