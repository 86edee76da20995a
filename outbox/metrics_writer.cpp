#include "outbox/metrics_writer.hpp"

#include <fmt/format.h>

#include <array>

#include "domain/vocabulary.hpp"

namespace raccord::outbox {
namespace {

constexpr auto kAllStates = enum_values<SheetState>();  // the table's order

/// Escapes a label value (exposition format: backslash, double quote and line feed).
std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, std::string_view label, std::string_view value, std::int64_t n) {
  out += fmt::format("{}{{{}=\"{}\"}} {}\n", name, label, escape_label(value), n);
}

}  // namespace

std::string render_metrics(const MetricsSnapshot& m) {
  std::string out;
  header(out, "raccord_depots_total", "counter", "Dépôts traités (un accusé chacun), par statut de l'accusé.");
  for (const DepositStatus s : enum_values<DepositStatus>()) {
    const std::string_view status = to_code(s);
    const auto found = m.deposits_by_status.find(std::string(status));
    sample(out, "raccord_depots_total", "statut", status, found == m.deposits_by_status.end() ? 0 : found->second);
  }
  header(out, "raccord_operations_total", "counter", "Opérations des dépôts traités, acceptées ou rejetées.");
  sample(out, "raccord_operations_total", "statut", "ACCEPTEE", m.operations_accepted);
  sample(out, "raccord_operations_total", "statut", "REJETEE", m.operations_rejected);
  header(out, "raccord_sheets", "gauge", "Fiches de raccordement par état courant (brouillons supprimés exclus).");
  for (SheetState state : kAllStates) {
    const auto found = m.sheets_by_state.find(state);
    sample(out, "raccord_sheets", "etat", to_code(state), found == m.sheets_by_state.end() ? 0 : found->second);
  }
  const auto gauge = [&out](std::string_view name, std::string_view help, std::int64_t value) {
    header(out, name, "gauge", help);
    out += fmt::format("{} {}\n", name, value);
  };
  gauge("raccord_blocked_activations", "Activations laissées bloquées par le dernier traitement nocturne.",
        m.blocked_activations);
  gauge("raccord_late_sheets",
        "Fiches non activées plus d'un jour après leur échéance (soumission ou début de période), au dernier "
        "traitement nocturne.",
        m.late_sheets);
  gauge("raccord_leaves_expiring_30d",
        "Certificats finaux de fiches activées ou en attente d'activation qui expirent dans les 30 jours, au dernier "
        "traitement nocturne.",
        m.leaves_expiring_30d);
  gauge("raccord_inbox_waiting_files", "Dépôts en attente dans inbox/ et ses dossiers (hors .work/).",
        m.inbox_waiting_files);
  gauge("raccord_error_files", "Originaux mis en quarantaine dans error/.", m.error_files);
  gauge("raccord_unopenable_files", "Fichiers que le dernier passage n'a pas pu ouvrir (droits).", m.unopenable_files);
  header(out, "raccord_refus_identite_total", "counter",
         "Refus d'identité des comptes d'envoi (propriétaire, signature, demandeur), par compte et par code.");
  for (const auto& [key, n] : m.identity_refusals) {
    out += fmt::format("raccord_refus_identite_total{{compte=\"{}\",code=\"{}\"}} {}\n", escape_label(key.first),
                       escape_label(key.second), n);
  }
  header(out, "raccord_crl_age_seconds", "gauge",
         "Âge (secondes depuis thisUpdate) de la CRL complète vérifiée la plus récente en vigueur (à défaut, la "
         "seule à venir : âge négatif), par autorité émettrice (la plus ancienne de ses clés valides).");
  for (const CrlAge& crl : m.crl_ages) sample(out, "raccord_crl_age_seconds", "emetteur", crl.issuer, crl.age_seconds);
  if (m.last_run_finished) {
    header(out, "raccord_nightly_last_run_timestamp_seconds", "gauge",
           "Fin du dernier traitement nocturne (secondes Unix, UTC).");
    out +=
        fmt::format("raccord_nightly_last_run_timestamp_seconds {}\n", m.last_run_finished->time_since_epoch().count());
  }
  if (m.last_run_duration_seconds) {
    header(out, "raccord_nightly_last_run_duration_seconds", "gauge",
           "Durée du dernier traitement nocturne (secondes).");
    out += fmt::format("raccord_nightly_last_run_duration_seconds {}\n", *m.last_run_duration_seconds);
  }
  return out;
}

}  // namespace raccord::outbox
