#include "engine/migrations.hpp"

namespace raccord {

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all{
      {1,
       {
           "CREATE TABLE sequences (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
           "INSERT INTO sequences (name, value) VALUES ('code_appli', 0), ('abonnement', 0), ('history', 0), "
           "('version', 0), ('deposit', 0)",
           // PostgreSQL: real sequences, shared by every engine and never rolled back (dialect.cpp).
           "postgresql:CREATE SEQUENCE raccord_seq_code_appli",
           "postgresql:CREATE SEQUENCE raccord_seq_abonnement",
           "postgresql:CREATE SEQUENCE raccord_seq_history",
           "postgresql:CREATE SEQUENCE raccord_seq_version",
           "postgresql:CREATE SEQUENCE raccord_seq_deposit",
           "CREATE TABLE users (login TEXT PRIMARY KEY, email TEXT NOT NULL, support INTEGER NOT NULL DEFAULT 0, "
           "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
           "CREATE TABLE structures (siret TEXT PRIMARY KEY, raison_sociale TEXT NOT NULL, active INTEGER NOT NULL, "
           "is_public INTEGER NOT NULL, connected_in_qualification INTEGER NOT NULL, editor_siret TEXT, "
           "uses_tiers INTEGER NOT NULL, space_active INTEGER NOT NULL DEFAULT 0, space_activated_at TEXT, "
           "space_activated_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
           "CREATE TABLE managers (siret TEXT NOT NULL REFERENCES structures(siret), "
           "login TEXT NOT NULL REFERENCES users(login), role TEXT NOT NULL, PRIMARY KEY (siret, login))",
           "CREATE TABLE technical_users (siret TEXT NOT NULL REFERENCES structures(siret), login TEXT NOT NULL, "
           "PRIMARY KEY (siret, login))",
           "CREATE TABLE subscriptions (id TEXT PRIMARY KEY, siret TEXT NOT NULL REFERENCES structures(siret), "
           "login TEXT NOT NULL REFERENCES users(login), consultation INTEGER NOT NULL, modification INTEGER NOT NULL, "
           "requested_on TEXT, comment TEXT, status TEXT NOT NULL, requested_at TEXT NOT NULL, decided_by TEXT, "
           "decided_at TEXT)",
           "CREATE INDEX subscriptions_by_user ON subscriptions (login, siret)",
           "CREATE TABLE sheets (code_appli TEXT PRIMARY KEY, kind TEXT NOT NULL, "
           "partner_siret TEXT NOT NULL REFERENCES structures(siret), state TEXT NOT NULL, "
           "deleted INTEGER NOT NULL DEFAULT 0, active_version BIGINT, pending_version BIGINT, submitted_at TEXT, "
           "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
           "CREATE INDEX sheets_by_partner ON sheets (partner_siret, code_appli)",
           "CREATE INDEX sheets_by_state ON sheets (state)",
           "CREATE TABLE sheet_versions (id BIGINT PRIMARY KEY, code_appli TEXT NOT NULL REFERENCES "
           "sheets(code_appli), "
           "action TEXT NOT NULL, protocol TEXT, period_from TEXT, period_to TEXT, contact_name TEXT, contact_phone "
           "TEXT, "
           "contact_email TEXT, contact_fax TEXT, network_identifier TEXT, network_address TEXT, network_port TEXT, "
           "network_path TEXT, comments TEXT, created_at TEXT NOT NULL, created_by TEXT NOT NULL, deposit_sha256 TEXT)",
           "CREATE INDEX sheet_versions_by_sheet ON sheet_versions (code_appli)",
           "CREATE TABLE sheet_interfaces (version_id BIGINT NOT NULL REFERENCES sheet_versions(id), "
           "position INTEGER NOT NULL, code TEXT NOT NULL, mode TEXT NOT NULL, PRIMARY KEY (version_id, position))",
           "CREATE TABLE sheet_bundles (version_id BIGINT NOT NULL REFERENCES sheet_versions(id), "
           "bundle_index INTEGER NOT NULL, name TEXT, content TEXT NOT NULL, PRIMARY KEY (version_id, bundle_index))",
           "CREATE TABLE sheet_certificates (version_id BIGINT NOT NULL REFERENCES sheet_versions(id), "
           "position INTEGER NOT NULL, bundle_index INTEGER NOT NULL, subject TEXT NOT NULL, subject_cn TEXT, "
           "issuer TEXT NOT NULL, serial TEXT NOT NULL, not_before TEXT NOT NULL, not_after TEXT NOT NULL, "
           "fingerprint TEXT NOT NULL, is_ca INTEGER NOT NULL, is_leaf INTEGER NOT NULL, client_auth INTEGER NOT NULL, "
           "server_auth INTEGER NOT NULL, has_eku INTEGER NOT NULL, key_type TEXT, key_bits INTEGER, "
           "signature_algorithm TEXT, PRIMARY KEY (version_id, position))",
           "CREATE INDEX sheet_certificates_leaf_expiry ON sheet_certificates (is_leaf, not_after)",
           "CREATE TABLE history (id BIGINT PRIMARY KEY, code_appli TEXT NOT NULL REFERENCES sheets(code_appli), "
           "instant TEXT NOT NULL, actor TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, reason TEXT, "
           "deposit_sha256 TEXT)",
           "CREATE INDEX history_by_sheet ON history (code_appli, id)",
           "CREATE TABLE deposits (id BIGINT PRIMARY KEY, sha256 TEXT NOT NULL, file_name TEXT NOT NULL, "
           "file_identity TEXT, identifier TEXT, status TEXT NOT NULL, received_at TEXT NOT NULL, "
           "processed_at TEXT NOT NULL, ack_name TEXT NOT NULL, ack_content TEXT NOT NULL, "
           "destination TEXT NOT NULL, reason TEXT)",
           // The same bytes are applied at most once (docs/reference.md §2 "Exactly once").
           "CREATE UNIQUE INDEX deposits_applied_once ON deposits (sha256) "
           "WHERE status IN ('INTEGRE', 'INTEGRE_PARTIEL')",
           "CREATE INDEX deposits_by_sha ON deposits (sha256)",
           "CREATE INDEX deposits_by_identifier ON deposits (identifier)",
           "CREATE UNIQUE INDEX deposits_ack_name ON deposits (ack_name)",
       }},
      {2,
       {
           // The nightly run's ledger (docs/reference.md §6): one row per business date run, with its report so
           // that a crash after the commit can still write the files.
           "CREATE TABLE nightly_runs (run_date TEXT PRIMARY KEY, run_instant TEXT NOT NULL, "
           "started_at TEXT NOT NULL, finished_at TEXT NOT NULL, activations BIGINT NOT NULL, "
           "deactivations BIGINT NOT NULL, blocked BIGINT NOT NULL, report_xml TEXT NOT NULL, "
           "report_csv TEXT NOT NULL)",
           // Named locks held across transactions and engines (the nightly run never overlaps).
           "CREATE TABLE locks (name TEXT PRIMARY KEY, holder TEXT, acquired_at TEXT, heartbeat TEXT)",
           "INSERT INTO locks (name) VALUES ('nightly')",
       }},
      {3,
       {
           // Running counters of metrics.prom (docs/reference.md §5.4), updated in each dépôt's transaction so
           // that the figures never need the accusés parsed. Seeded from the dépôts already recorded
           // (operations counted by their statut attribute in the stored accusé).
           "CREATE TABLE metric_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
           "INSERT INTO metric_counters (name, value) VALUES "
           "('depots_INTEGRE', (SELECT COUNT(*) FROM deposits WHERE status = 'INTEGRE')), "
           "('depots_INTEGRE_PARTIEL', (SELECT COUNT(*) FROM deposits WHERE status = 'INTEGRE_PARTIEL')), "
           "('depots_REJETE', (SELECT COUNT(*) FROM deposits WHERE status = 'REJETE')), "
           "('depots_DOUBLON', (SELECT COUNT(*) FROM deposits WHERE status = 'DOUBLON')), "
           "('operations_ACCEPTEE', (SELECT COALESCE(SUM((LENGTH(ack_content) - "
           "LENGTH(REPLACE(ack_content, 'statut=\"ACCEPTEE\"', ''))) / 17), 0) FROM deposits)), "
           "('operations_REJETEE', (SELECT COALESCE(SUM((LENGTH(ack_content) - "
           "LENGTH(REPLACE(ack_content, 'statut=\"REJETEE\"', ''))) / 16), 0) FROM deposits))",
           // The nightly report's HTML page, kept like its XML and CSV so that a lost file can be
           // rewritten from the ledger (NULL for runs recorded before this migration).
           "ALTER TABLE nightly_runs ADD COLUMN report_html TEXT",
       }},
      {4,
       {
           // The exports of Recherche operations: written under a temporary name before their dépôt's
           // commit and renamed after it, like accusés; the record lets start-up recovery publish an
           // export whose dépôt committed just before a crash, and reserves its name for every engine.
           "CREATE TABLE exports (name TEXT PRIMARY KEY, temporary TEXT NOT NULL, ack_name TEXT NOT NULL)",
           "CREATE INDEX exports_by_ack ON exports (ack_name)",
           "CREATE INDEX exports_by_temporary ON exports (temporary)",
       }},
      {5,
       {
           // Facts about the store itself: 'created_at', the business instant of its creation, the
           // first date a nightly run may be asked for (engine/nightly.hpp record_store_creation).
           "CREATE TABLE store_info (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
       }},
      {6,
       {
           // An empty optional value is absent (docs/design.md "Empty values"): earlier versions
           // stored a value written empty (au="", fax="", <Commentaires/>, identifiant="") as '',
           // which the nightly run read as a date ("terminée le ."). Every optional column holds
           // NULL instead, so that the nightly run, searches and `show` agree on old rows too.
           "UPDATE structures SET editor_siret = NULL WHERE editor_siret = ''",
           "UPDATE subscriptions SET requested_on = NULL WHERE requested_on = ''",
           "UPDATE subscriptions SET comment = NULL WHERE comment = ''",
           "UPDATE sheet_versions SET protocol = NULLIF(protocol, ''), period_from = NULLIF(period_from, ''), "
           "period_to = NULLIF(period_to, ''), contact_name = NULLIF(contact_name, ''), "
           "contact_phone = NULLIF(contact_phone, ''), contact_email = NULLIF(contact_email, ''), "
           "contact_fax = NULLIF(contact_fax, ''), network_identifier = NULLIF(network_identifier, ''), "
           "network_address = NULLIF(network_address, ''), network_port = NULLIF(network_port, ''), "
           "network_path = NULLIF(network_path, ''), comments = NULLIF(comments, '') "
           "WHERE '' IN (protocol, period_from, period_to, contact_name, contact_phone, contact_email, contact_fax, "
           "network_identifier, network_address, network_port, network_path, comments)",
           "UPDATE sheet_bundles SET name = NULL WHERE name = ''",
           "UPDATE deposits SET identifier = NULL WHERE identifier = ''",
       }},
      {7,
       {
           // A dépôt's identifiant is held by at most one INTEGRE / INTEGRE_PARTIEL dépôt of its
           // channel (docs/design.md "Identifiant held once"): the store itself refuses a second
           // holder, even when two engines check at the same instant under READ COMMITTED.
           // `channel` is the sender's channel ('' for inbox/, the only one today);
           // `held_identifier` is the identifiant while the dépôt holds it (NULL otherwise: no
           // identifiant, or the dépôt was REJETE / DOUBLON, after which the identifiant may be reused).
           "ALTER TABLE deposits ADD COLUMN channel TEXT NOT NULL DEFAULT ''",
           "ALTER TABLE deposits ADD COLUMN held_identifier TEXT",
           // A store written before this migration may already hold one identifiant twice (the
           // defect this migration closes): the first applied dépôt keeps it.
           "UPDATE deposits SET held_identifier = identifier WHERE identifier IS NOT NULL AND "
           "status IN ('INTEGRE', 'INTEGRE_PARTIEL') AND id = (SELECT MIN(d.id) FROM deposits d WHERE "
           "d.identifier = deposits.identifier AND d.status IN ('INTEGRE', 'INTEGRE_PARTIEL'))",
           "CREATE UNIQUE INDEX deposits_identifier_held_once ON deposits (channel, held_identifier)",
       }},
      {8,
       {
           // The codes, fields and messages of a blocked activation written in a sheet's history by the
           // nightly run (docs/reference.md §6, engine/blocks.hpp): `show` gives them back, and the next run
           // writes the block again only when its set of (code, champ) changes.
           "CREATE TABLE history_reasons (history_id BIGINT NOT NULL REFERENCES history(id), "
           "position INTEGER NOT NULL, code TEXT NOT NULL, field TEXT, message TEXT NOT NULL, "
           "PRIMARY KEY (history_id, position))",
           // Gauges of metrics.prom decided by the run (docs/reference.md §5.4): late sheets and leaves expiring
           // within 30 days at its run instant (NULL for runs recorded before).
           "ALTER TABLE nightly_runs ADD COLUMN late BIGINT",
           "ALTER TABLE nightly_runs ADD COLUMN expiring_30d BIGINT",
       }},
      {9,
       {
           // Signatures that came with a REJETE dépôt of a sender account (docs/accounts.md "Replay"): never
           // accepted again, whichever account or engine presents them, so that a rejected dépôt cannot be
           // replayed at a later, more favourable moment. `replay_key` identifies the signature whatever its
           // encoding (rules/deposit_signature.hpp); the channel and the accusé say where it was first refused.
           "CREATE TABLE refused_signatures (replay_key TEXT PRIMARY KEY, channel TEXT NOT NULL, "
           "ack_name TEXT NOT NULL, refused_at TEXT NOT NULL)",
       }},
      {10,
       {
           // The structures a user manages, by login: every Recherche of a user who is not support reads them
           // (engine/search.cpp consultation_filter), which scanned the whole table (its key starts with siret).
           "CREATE INDEX IF NOT EXISTS managers_by_login ON managers (login, siret)",  // one made by hand is kept
       }},
      {11,
       {
           // The CA certificates of chains an engine's checks proved to a trust anchor (metrics.prom's CRL ages,
           // docs/reference.md §5.4): every engine and command that writes metrics.prom names the same
           // authorities, whatever dépôts it checked itself. `anchor`: the fingerprint of the anchor the chain
           // ended at (an authority counts only while that anchor is trusted).
           "CREATE TABLE proved_authorities (fingerprint TEXT PRIMARY KEY, certificate TEXT NOT NULL, "
           "anchor TEXT NOT NULL, recorded_at TEXT NOT NULL)",
       }},
  };
  return all;
}

}  // namespace raccord
