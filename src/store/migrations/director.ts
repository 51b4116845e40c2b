// The director's schema history: config versions and the audit log, teams, consumers and keys, governance, providers
// and models, compliance, identity rules.
import type { Migration } from './migration.js';

export const DIRECTOR_MIGRATIONS: readonly Migration[] = [
  {
    version: 3,
    name: 'director config version and audit log',
    // One row whose version every admin change increments; taking its row lock first also serializes admin changes.
    sql: ({ types, appendOnly }) => `
      CREATE TABLE director_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        config_version ${types.int64} NOT NULL
      );
      INSERT INTO director_state (id, config_version) VALUES (1, 0);
      CREATE TABLE audit_log (
        id ${types.serialKey},
        at ${types.int64} NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        entity_id ${types.key} NOT NULL,
        before_json ${types.json},
        after_json ${types.json}
      );
      CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, id);
      CREATE INDEX audit_log_actor ON audit_log (actor, id);
      CREATE INDEX audit_log_at ON audit_log (at);
      ${appendOnly('audit_log')}
    `,
  },
  {
    version: 4,
    name: 'director teams, consumers, keys and admin tokens',
    // No ON DELETE actions: the store deletes dependents itself, so that each deletion is audited.
    sql: ({ types }) => `
      CREATE TABLE teams (
        name ${types.key} PRIMARY KEY,
        owner TEXT NOT NULL,
        created_at ${types.int64} NOT NULL
      );
      CREATE TABLE consumers (
        name ${types.key} PRIMARY KEY,
        team ${types.key} REFERENCES teams (name),
        owner TEXT,
        labels ${types.json} NOT NULL,
        models ${types.json},
        created_at ${types.int64} NOT NULL,
        updated_at ${types.int64} NOT NULL
      );
      CREATE INDEX consumers_team ON consumers (team, name);
      CREATE TABLE consumer_keys (
        id ${types.key} PRIMARY KEY,
        consumer ${types.key} NOT NULL REFERENCES consumers (name),
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at ${types.int64} NOT NULL,
        expires_at ${types.int64},
        revoked_at ${types.int64},
        last_used_at ${types.int64}
      );
      CREATE INDEX consumer_keys_consumer ON consumer_keys (consumer, created_at);
      CREATE TABLE admin_tokens (
        id ${types.key} PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'team-owner')),
        team ${types.key} REFERENCES teams (name),
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at ${types.int64} NOT NULL,
        revoked_at ${types.int64},
        CHECK ((role = 'team-owner' AND team IS NOT NULL) OR (role <> 'team-owner' AND team IS NULL))
      );
      CREATE INDEX admin_tokens_team ON admin_tokens (team);
    `,
  },
  {
    version: 5,
    name: 'director governance and webhooks',
    // Budgets, templates and rate limits are the caller's validated definitions, kept whole as JSON documents.
    sql: ({ types }) =>
      ['budgets', 'budget_templates', 'rate_limits']
        .map(
          (table) => `
      CREATE TABLE ${table} (
        name ${types.key} PRIMARY KEY,
        definition ${types.json} NOT NULL,
        created_at ${types.int64} NOT NULL,
        updated_at ${types.int64} NOT NULL
      );`,
        )
        .join('') +
      `
      CREATE TABLE resources (
        id ${types.key} PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('sanctioned', 'unsanctioned', 'unreviewed')),
        note TEXT
      );
      CREATE TABLE webhooks (
        id ${types.key} PRIMARY KEY,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at ${types.int64} NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'director providers and models',
    // A provider's settings are a JSON document; its credentials arrive sealed with the master key (src/store/master-key.ts)
    // and are kept as that ciphertext, beside the names of the fields it holds. Models (with their routes: the targets)
    // are whole definitions like budgets. References between them are checked by the store, in the change's transaction.
    sql: ({ types }) => `
      CREATE TABLE providers (
        name ${types.key} PRIMARY KEY,
        settings ${types.json} NOT NULL,
        credential_fields ${types.json},
        credentials TEXT,
        created_at ${types.int64} NOT NULL,
        updated_at ${types.int64} NOT NULL
      );
      CREATE TABLE models (
        name ${types.key} PRIMARY KEY,
        definition ${types.json} NOT NULL,
        created_at ${types.int64} NOT NULL,
        updated_at ${types.int64} NOT NULL
      );
    `,
  },
  {
    version: 12,
    name: 'compliance: assessments, POA&M items, hash chains of the ledger and audit log',
    // Assessments are kept whole (their observations and findings as JSON) and never changed. A POA&M item is one
    // objective's not-satisfied spell: at most one open per objective (the partial unique index), closed by the first
    // assessment that satisfies it. chain_blocks seals the ledger's and the audit log's rows in id order, block after
    // block, each block's hash over the previous one and its rows' hashes (src/compliance/chain/); chain_anchors records
    // the head after each sealing, to be copied elsewhere. The sealer only reads the sealed tables: their inserts are untouched.
    // PostgreSQL hands out ids before commit; its chain_horizon_* functions lock the sealed table in SHARE mode (waiting
    // for the inserts in progress) before reading the highest id, so a sealing never passes over a row committed later.
    sql: ({ name, types, appendOnly }) => `
      CREATE TABLE compliance_assessments (
        id ${types.serialKey},
        uuid ${types.key} NOT NULL UNIQUE,
        started_at ${types.int64} NOT NULL,
        ended_at ${types.int64} NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('schedule', 'on-demand')),
        actor TEXT NOT NULL,
        satisfied INTEGER NOT NULL,
        not_satisfied INTEGER NOT NULL,
        result ${types.json} NOT NULL
      );
      CREATE INDEX compliance_assessments_started_at ON compliance_assessments (started_at);
      ${appendOnly('compliance_assessments')}
      CREATE TABLE compliance_poam_items (
        id ${types.serialKey},
        uuid ${types.key} NOT NULL UNIQUE,
        objective_id ${types.key} NOT NULL,
        control_id ${types.key} NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        first_seen_at ${types.int64} NOT NULL,
        first_assessment ${types.key} NOT NULL,
        last_seen_at ${types.int64} NOT NULL,
        last_assessment ${types.key} NOT NULL,
        closed_at ${types.int64},
        closed_by_assessment ${types.key}
      );
      CREATE UNIQUE INDEX compliance_poam_items_open ON compliance_poam_items (objective_id) WHERE closed_at IS NULL;
      CREATE TABLE chain_blocks (
        chain ${types.key} NOT NULL CHECK (chain IN ('transactions', 'audit_log')),
        block ${types.int64} NOT NULL,
        after_row_id ${types.int64} NOT NULL,
        last_row_id ${types.int64} NOT NULL,
        row_count ${types.int64} NOT NULL,
        row_digests TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        sealed_at ${types.int64} NOT NULL,
        PRIMARY KEY (chain, block)
      );
      ${appendOnly('chain_blocks')}
      CREATE TABLE chain_anchors (
        id ${types.serialKey},
        chain ${types.key} NOT NULL,
        block ${types.int64} NOT NULL,
        head_hash TEXT NOT NULL,
        sealed_rows ${types.int64} NOT NULL,
        last_row_id ${types.int64} NOT NULL,
        anchored_at ${types.int64} NOT NULL
      );
      CREATE INDEX chain_anchors_chain ON chain_anchors (chain, id);
      ${appendOnly('chain_anchors')}
      ${
        name === 'postgres'
          ? ['transactions', 'audit_log']
              .map(
                (table) => `
      CREATE FUNCTION chain_horizon_${table}() RETURNS BIGINT LANGUAGE plpgsql AS $$
        BEGIN
          LOCK TABLE ${table} IN SHARE MODE;
          RETURN (SELECT COALESCE(MAX(id), 0) FROM ${table});
        END $$;`,
              )
              .join('')
          : ''
      }
    `,
  },
  {
    version: 13,
    name: "identity: rules mapping certificates, mesh identities and JWTs to consumers; the ledger's identity column",
    // A ledger row names the credential its consumer was authenticated by (key id, SPIFFE id or certificate subject, JWT
    // issuer and subject), never a secret; NULL for rows before this version and for observers' rows. Identity rules name
    // their consumer without a foreign key, like reconciliation rules.
    sql: ({ types }) => `
      ALTER TABLE transactions ADD COLUMN identity TEXT;
      CREATE TABLE identity_rules (
        id ${types.serialKey},
        field TEXT NOT NULL CHECK (field IN ('spiffe', 'subject', 'sub', 'team', 'group')),
        match_kind TEXT NOT NULL CHECK (match_kind IN ('exact', 'prefix', 'pattern')),
        value TEXT NOT NULL,
        issuer TEXT,
        consumer ${types.key} NOT NULL,
        note TEXT,
        created_at ${types.int64} NOT NULL
      );
    `,
  },
  {
    version: 15,
    name: 'rule ids never handed out twice',
    // Reconciliation and identity rules are the serial-key tables whose rows are deleted, and their ids name them in the
    // audit log and in /api/.../{id}. SQLite gave a deleted newest rule's id to the next rule made (PostgreSQL's identity
    // never does), so GET of a deleted id answered with another rule and two rules shared an audit trail. SQLite cannot add
    // AUTOINCREMENT to a column: each table is rebuilt the way SQLite's ALTER TABLE page documents (a new table, the rows
    // copied with their ids, the old one dropped, the new one renamed), in the migration's one transaction. Neither table
    // has an index or trigger to recreate, nor a foreign key to or from it, so foreign_keys stays on and has nothing to check.
    // The ledger, the logs and discovered consumers keep serialKey: their rows are never deleted, so no id is reused,
    // and the ledger's inserts are spared AUTOINCREMENT's sqlite_sequence update on each row.
    // sqlite_sequence is then seeded per table with its highest id ever used. The table's own MAX(id) misses rules already
    // deleted (an id reused before this version is past saving); the audit log, append-only, names every rule ever made,
    // so the highest of the two is the highest id anyone has seen. PostgreSQL: nothing to do.
    sql: ({ name, types }) =>
      name === 'postgres'
        ? 'SELECT 1'
        : `
      CREATE TABLE reconciliation_rules_rebuilt (
        id ${types.serialKeyNeverReused},
        match_cidr TEXT,
        match_key_fingerprint TEXT,
        match_user_agent TEXT,
        consumer ${types.key} NOT NULL,
        note TEXT,
        created_at ${types.int64} NOT NULL,
        CHECK (match_cidr IS NOT NULL OR match_key_fingerprint IS NOT NULL OR match_user_agent IS NOT NULL)
      );
      INSERT INTO reconciliation_rules_rebuilt (id, match_cidr, match_key_fingerprint, match_user_agent, consumer, note, created_at)
        SELECT id, match_cidr, match_key_fingerprint, match_user_agent, consumer, note, created_at FROM reconciliation_rules;
      DROP TABLE reconciliation_rules;
      ALTER TABLE reconciliation_rules_rebuilt RENAME TO reconciliation_rules;
      CREATE TABLE identity_rules_rebuilt (
        id ${types.serialKeyNeverReused},
        field TEXT NOT NULL CHECK (field IN ('spiffe', 'subject', 'sub', 'team', 'group')),
        match_kind TEXT NOT NULL CHECK (match_kind IN ('exact', 'prefix', 'pattern')),
        value TEXT NOT NULL,
        issuer TEXT,
        consumer ${types.key} NOT NULL,
        note TEXT,
        created_at ${types.int64} NOT NULL
      );
      INSERT INTO identity_rules_rebuilt (id, field, match_kind, value, issuer, consumer, note, created_at)
        SELECT id, field, match_kind, value, issuer, consumer, note, created_at FROM identity_rules;
      DROP TABLE identity_rules;
      ALTER TABLE identity_rules_rebuilt RENAME TO identity_rules;
      ${[
        ['reconciliation_rules', 'reconciliation-rule'],
        ['identity_rules', 'identity-rule'],
      ]
        .map(
          ([table, entityType]) => `
      DELETE FROM sqlite_sequence WHERE name = '${table}';
      INSERT INTO sqlite_sequence (name, seq)
        SELECT '${table}', seq FROM (
          SELECT MAX(id) AS seq FROM (
            SELECT id FROM ${table}
            UNION ALL SELECT CAST(entity_id AS INTEGER) FROM audit_log WHERE entity_type = '${entityType}'
          ) AS used
        ) AS highest
        WHERE seq IS NOT NULL;`,
        )
        .join('')}
    `,
  },
  {
    version: 19,
    name: "compliance: each chain block's row layout, so that blocks hash every ledger column",
    // A block's rows were hashed over version 12's columns until this version; a block records the layout of columns
    // it hashed (src/store/sql/compliance-statements.ts), so that later blocks cover the columns added since while the
    // blocks sealed before keep verifying over theirs. Those blocks, and any a director of an earlier version still
    // seals (it names no layout), take layout 1: the columns it hashed. Adding a column changes no row: the
    // append-only triggers stay as they are.
    sql: () => `
      ALTER TABLE chain_blocks ADD COLUMN row_layout INTEGER NOT NULL DEFAULT 1;
    `,
  },
  {
    version: 20,
    name: 'ledger retention: the chain blocks whose rows were pruned',
    // ledger.retention deletes the ledger's rows whole sealed block by whole sealed block (src/compliance/chain/pruner.ts),
    // and records here, before deleting, the last block pruned: verification trusts the blocks up to it (their rows
    // cannot be rehashed any more) and still rehashes every later one. The blocks themselves stay (chain_blocks is
    // append-only, and the next block links to the last pruned one's hash). Append-only like the chains: a pruning is
    // never taken back. Two directors on one PostgreSQL recording the same block: one insert wins, the other's fails on
    // the key, and both go on to delete the same rows.
    sql: ({ types, appendOnly }) => `
      CREATE TABLE chain_prunings (
        chain ${types.key} NOT NULL CHECK (chain = 'transactions'),
        through_block ${types.int64} NOT NULL,
        through_row_id ${types.int64} NOT NULL,
        through_hash TEXT NOT NULL,
        pruned_rows ${types.int64} NOT NULL,
        sealed_before ${types.int64} NOT NULL,
        pruned_at ${types.int64} NOT NULL,
        PRIMARY KEY (chain, through_block)
      );
      ${appendOnly('chain_prunings')}
    `,
  },
];
