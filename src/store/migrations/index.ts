// Versioned schema migrations, written once for both databases, applied in order once each and recorded in schema_migrations.
// Types that differ come from the dialect (src/store/dialect.ts); versions 1 and 2 render for SQLite exactly as first shipped.
// Version 6 (usage rollups) also fills its table from the ledger's existing rows, so an upgraded ledger is covered at once.
import type { Dialect } from '../dialect.js';
import { OUTCOME_SQL } from '../sql/rollup.js';

export interface Migration {
  version: number;
  name: string;
  sql(dialect: Dialect): string;
}

/** Created before any migration, the same in both databases. */
export const SCHEMA_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger',
    sql: ({ types }) => `
      CREATE TABLE transactions (
        id ${types.serialKey},
        request_id TEXT NOT NULL,
        started_at ${types.int64} NOT NULL,
        operation TEXT NOT NULL,
        api TEXT NOT NULL,
        consumer TEXT,
        team TEXT,
        requested_model TEXT,
        provider TEXT,
        provider_model TEXT,
        stream INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cached_input_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        tokens_estimated INTEGER NOT NULL,
        cost_micro_usd ${types.int64},
        latency_ms ${types.duration} NOT NULL,
        time_to_first_token_ms ${types.duration},
        status INTEGER NOT NULL,
        error_class TEXT,
        attempts INTEGER NOT NULL
      );
      CREATE INDEX transactions_started_at ON transactions (started_at);
      CREATE INDEX transactions_consumer_started_at ON transactions (consumer, started_at);
    `,
  },
  {
    version: 2,
    name: 'ledger governance columns',
    sql: () => `
      ALTER TABLE transactions ADD COLUMN served_model TEXT;
      ALTER TABLE transactions ADD COLUMN violations TEXT;
    `,
  },
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
    version: 6,
    name: 'hourly usage rollups',
    // One row per hour and (consumer, team, model, provider, provider model, status class), kept up to date by every
    // ledger batch in its own transaction (src/store/sql/rollup.ts). Absent names are '' so the key is NOT NULL and unique.
    // The primary key leads with the hour: every analytics read is a range of hours. The team index serves a team's own
    // reads (a team-owner's), which PostgreSQL plans with the team bound. The INSERT ... SELECT rolls up the rows the ledger
    // already holds, with the same hour and status class rollup.ts computes (hours in UTC; status 400 and above is 'error').
    sql: ({ types, clusteredTable }) => `
      CREATE TABLE usage_hourly (
        hour_start ${types.int64} NOT NULL,
        consumer ${types.key} NOT NULL,
        team ${types.key} NOT NULL,
        requested_model ${types.key} NOT NULL,
        provider ${types.key} NOT NULL,
        provider_model ${types.key} NOT NULL,
        status_class TEXT NOT NULL CHECK (status_class IN ('ok', 'error')),
        calls ${types.int64} NOT NULL,
        input_tokens ${types.int64} NOT NULL,
        output_tokens ${types.int64} NOT NULL,
        cached_input_tokens ${types.int64} NOT NULL,
        cost_micro_usd ${types.int64} NOT NULL,
        unpriced_calls ${types.int64} NOT NULL,
        PRIMARY KEY (hour_start, consumer, team, requested_model, provider, provider_model, status_class)
      )${clusteredTable};
      CREATE INDEX usage_hourly_team_hour ON usage_hourly (team, hour_start);
      INSERT INTO usage_hourly (hour_start, consumer, team, requested_model, provider, provider_model, status_class,
          calls, input_tokens, output_tokens, cached_input_tokens, cost_micro_usd, unpriced_calls)
        SELECT (started_at / 3600000) * 3600000, COALESCE(consumer, ''), COALESCE(team, ''), COALESCE(requested_model, ''),
          COALESCE(provider, ''), COALESCE(provider_model, ''), CASE WHEN status >= 400 THEN 'error' ELSE 'ok' END,
          COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cached_input_tokens), COALESCE(SUM(cost_micro_usd), 0),
          SUM(CASE WHEN cost_micro_usd IS NULL THEN 1 ELSE 0 END)
        FROM transactions
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
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
    version: 8,
    name: 'reconciliation: discovered consumers and rules',
    // Traffic observers report (src/store/sql/reconciliation.ts) goes into the ledger like a gateway's, one row per
    // observation: `calls` is how many calls the row stands for (NULL, every gateway row, is one) and `discovered_consumer`
    // the discovered consumer it came from, whose resolution later gives the row its consumer and team. The partial index
    // holds only those rows. A discovered consumer is unique by its identity (its strongest hint; host only for user agents).
    // Rules name their consumer without a foreign key: a rule whose consumer is deleted matches nothing, and never holds
    // the deletion up.
    sql: ({ types }) => `
      ALTER TABLE transactions ADD COLUMN calls INTEGER;
      ALTER TABLE transactions ADD COLUMN discovered_consumer ${types.int64};
      CREATE INDEX transactions_discovered_consumer ON transactions (discovered_consumer, started_at) WHERE discovered_consumer IS NOT NULL;
      CREATE TABLE discovered_consumers (
        id ${types.serialKey},
        identity_kind TEXT NOT NULL CHECK (identity_kind IN ('keyFingerprint', 'ip', 'userAgent')),
        identity_value ${types.key} NOT NULL,
        identity_host ${types.key} NOT NULL,
        hints ${types.json} NOT NULL,
        first_seen_at ${types.int64} NOT NULL,
        last_seen_at ${types.int64} NOT NULL,
        calls ${types.int64} NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'resolved', 'ignored')),
        consumer ${types.key},
        resolved_by TEXT,
        resolved_at ${types.int64},
        UNIQUE (identity_kind, identity_value, identity_host),
        CHECK ((status = 'resolved' AND consumer IS NOT NULL) OR (status <> 'resolved' AND consumer IS NULL))
      );
      CREATE INDEX discovered_consumers_status ON discovered_consumers (status, id);
      CREATE TABLE reconciliation_rules (
        id ${types.serialKey},
        match_cidr TEXT,
        match_key_fingerprint TEXT,
        match_user_agent TEXT,
        consumer ${types.key} NOT NULL,
        note TEXT,
        created_at ${types.int64} NOT NULL,
        CHECK (match_cidr IS NOT NULL OR match_key_fingerprint IS NOT NULL OR match_user_agent IS NOT NULL)
      );
    `,
  },
  {
    version: 9,
    name: 'daily usage rollups',
    // The hourly rollups summed per UTC day, kept by the same ledger batches (src/store/sql/rollup.ts): a 90-day query by
    // day or month reads the whole days here and only the partial days at its ends from usage_hourly, some 24 times fewer
    // rows. Filled from usage_hourly, so an upgraded ledger is covered at once.
    sql: ({ types, clusteredTable }) => `
      CREATE TABLE usage_daily (
        day_start ${types.int64} NOT NULL,
        consumer ${types.key} NOT NULL,
        team ${types.key} NOT NULL,
        requested_model ${types.key} NOT NULL,
        provider ${types.key} NOT NULL,
        provider_model ${types.key} NOT NULL,
        status_class TEXT NOT NULL CHECK (status_class IN ('ok', 'error')),
        calls ${types.int64} NOT NULL,
        input_tokens ${types.int64} NOT NULL,
        output_tokens ${types.int64} NOT NULL,
        cached_input_tokens ${types.int64} NOT NULL,
        cost_micro_usd ${types.int64} NOT NULL,
        unpriced_calls ${types.int64} NOT NULL,
        PRIMARY KEY (day_start, consumer, team, requested_model, provider, provider_model, status_class)
      )${clusteredTable};
      CREATE INDEX usage_daily_team_day ON usage_daily (team, day_start);
      INSERT INTO usage_daily (day_start, consumer, team, requested_model, provider, provider_model, status_class,
          calls, input_tokens, output_tokens, cached_input_tokens, cost_micro_usd, unpriced_calls)
        SELECT (hour_start / 86400000) * 86400000, consumer, team, requested_model, provider, provider_model, status_class,
          SUM(calls), SUM(input_tokens), SUM(output_tokens), SUM(cached_input_tokens), SUM(cost_micro_usd), SUM(unpriced_calls)
        FROM usage_hourly
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
    `,
  },
  {
    version: 10,
    name: 'usage rollups: refused and failed calls',
    // Each rollup row also counts its calls the gateway refused before admitting them and those admitted but not served
    // (src/store/sql/rollup.ts' callOutcome), and unpriced_calls now counts served calls only: a refusal has no price
    // either, and was counted as unpriced. The sums are recomputed from the ledger, which the rollups are always the sum
    // of (reconciliation moves both alike), with the outcome rollup.ts computes. The ALTERs come first: on PostgreSQL they
    // lock both tables until commit, so a ledger batch committing meanwhile waits and adds its sums to the new rows.
    sql: ({ types }) => `
      ALTER TABLE usage_hourly ADD COLUMN refused_calls ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_hourly ADD COLUMN failed_calls ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN refused_calls ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN failed_calls ${types.int64} NOT NULL DEFAULT 0;
      DELETE FROM usage_hourly;
      DELETE FROM usage_daily;
      INSERT INTO usage_hourly (hour_start, consumer, team, requested_model, provider, provider_model, status_class,
          calls, input_tokens, output_tokens, cached_input_tokens, cost_micro_usd, unpriced_calls, refused_calls, failed_calls)
        SELECT (started_at / 3600000) * 3600000, COALESCE(consumer, ''), COALESCE(team, ''), COALESCE(requested_model, ''),
          COALESCE(provider, ''), COALESCE(provider_model, ''), CASE WHEN status >= 400 THEN 'error' ELSE 'ok' END,
          SUM(COALESCE(calls, 1)), SUM(input_tokens), SUM(output_tokens), SUM(cached_input_tokens), COALESCE(SUM(cost_micro_usd), 0),
          SUM(CASE WHEN cost_micro_usd IS NULL AND ${OUTCOME_SQL} = 'served' THEN COALESCE(calls, 1) ELSE 0 END),
          SUM(CASE WHEN ${OUTCOME_SQL} = 'refused' THEN COALESCE(calls, 1) ELSE 0 END),
          SUM(CASE WHEN ${OUTCOME_SQL} = 'failed' THEN COALESCE(calls, 1) ELSE 0 END)
        FROM transactions
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
      INSERT INTO usage_daily (day_start, consumer, team, requested_model, provider, provider_model, status_class,
          calls, input_tokens, output_tokens, cached_input_tokens, cost_micro_usd, unpriced_calls, refused_calls, failed_calls)
        SELECT (hour_start / 86400000) * 86400000, consumer, team, requested_model, provider, provider_model, status_class,
          SUM(calls), SUM(input_tokens), SUM(output_tokens), SUM(cached_input_tokens), SUM(cost_micro_usd), SUM(unpriced_calls),
          SUM(refused_calls), SUM(failed_calls)
        FROM usage_hourly
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
    `,
  },
  {
    version: 11,
    name: 'ledger batch keys',
    // A ledger batch's key, written in the transaction that inserts its rows (src/store/sql/ledger.ts): a batch sent again
    // after a commit whose answer was lost finds its key taken and writes nothing, so neither its rows nor the rollups
    // count twice. A key per batch rather than a unique request id: a client may send one x-request-id on several calls,
    // each a call of its own. Keys older than a week are pruned; by then no gateway still holds the batch.
    sql: ({ types }) => `
      CREATE TABLE ledger_batches (
        id ${types.key} PRIMARY KEY,
        committed_at ${types.int64} NOT NULL,
        records INTEGER NOT NULL
      );
      CREATE INDEX ledger_batches_committed_at ON ledger_batches (committed_at);
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
    version: 14,
    name: "the ledger's saved_micro_usd: what a call answered from the response cache would have cost",
    // A cache hit's own cost is 0; its saving (the original call's cost, integer micro-USD) is kept beside it, and summed
    // in the rollups. 0 for every other call and for rows before this version.
    sql: ({ types }) => `
      ALTER TABLE transactions ADD COLUMN saved_micro_usd ${types.int64} NOT NULL DEFAULT 0;
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
    version: 16,
    name: "the ledger's cache_write_1h_tokens: prompt-cache writes to the 1-hour cache",
    // Of cache_write_tokens, those written to a 1-hour cache (Anthropic's ttl '1h', billed at 2x input; the rest are
    // 5-minute writes at 1.25x), so that the ledger shows what the cost already counts. 0 when the provider stated no
    // split, for observers' rows, and for rows before this version (their split is in their cost only). Not part of a
    // row's digest in the compliance hash chain, like saved_micro_usd, so blocks sealed before it still verify.
    sql: () => `
      ALTER TABLE transactions ADD COLUMN cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 17,
    name: 'usage rollups: prompt-cache writes and response-cache savings',
    // The rollups also sum the ledger's cache_write_tokens, cache_write_1h_tokens and saved_micro_usd, so that usage and
    // chargeback show what the cost already counts (cache writes are billed above the input price) and what the response
    // cache saved. Existing rows get their sums from the ledger, which the rollups are always the sum of; only keys that
    // have any are updated, in place (no other sum is touched), hourly first and the days from the hours, as migration 9
    // filled them. As in migration 10, the ALTERs come first so a PostgreSQL ledger batch committing meanwhile waits.
    sql: ({ types }) => `
      ALTER TABLE usage_hourly ADD COLUMN cache_write_tokens ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_hourly ADD COLUMN cache_write_1h_tokens ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_hourly ADD COLUMN saved_micro_usd ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN cache_write_tokens ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN cache_write_1h_tokens ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN saved_micro_usd ${types.int64} NOT NULL DEFAULT 0;
      UPDATE usage_hourly SET cache_write_tokens = s.cache_write_tokens, cache_write_1h_tokens = s.cache_write_1h_tokens,
          saved_micro_usd = s.saved_micro_usd
        FROM (SELECT (started_at / 3600000) * 3600000 AS hour_start, COALESCE(consumer, '') AS consumer, COALESCE(team, '') AS team,
            COALESCE(requested_model, '') AS requested_model, COALESCE(provider, '') AS provider,
            COALESCE(provider_model, '') AS provider_model, CASE WHEN status >= 400 THEN 'error' ELSE 'ok' END AS status_class,
            SUM(cache_write_tokens) AS cache_write_tokens, SUM(cache_write_1h_tokens) AS cache_write_1h_tokens,
            SUM(saved_micro_usd) AS saved_micro_usd
          FROM transactions
          WHERE cache_write_tokens <> 0 OR cache_write_1h_tokens <> 0 OR saved_micro_usd <> 0
          GROUP BY 1, 2, 3, 4, 5, 6, 7) AS s
        WHERE usage_hourly.hour_start = s.hour_start AND usage_hourly.consumer = s.consumer AND usage_hourly.team = s.team
          AND usage_hourly.requested_model = s.requested_model AND usage_hourly.provider = s.provider
          AND usage_hourly.provider_model = s.provider_model AND usage_hourly.status_class = s.status_class;
      UPDATE usage_daily SET cache_write_tokens = s.cache_write_tokens, cache_write_1h_tokens = s.cache_write_1h_tokens,
          saved_micro_usd = s.saved_micro_usd
        FROM (SELECT (hour_start / 86400000) * 86400000 AS day_start, consumer, team, requested_model, provider, provider_model,
            status_class, SUM(cache_write_tokens) AS cache_write_tokens, SUM(cache_write_1h_tokens) AS cache_write_1h_tokens,
            SUM(saved_micro_usd) AS saved_micro_usd
          FROM usage_hourly
          WHERE cache_write_tokens <> 0 OR cache_write_1h_tokens <> 0 OR saved_micro_usd <> 0
          GROUP BY 1, 2, 3, 4, 5, 6, 7) AS s
        WHERE usage_daily.day_start = s.day_start AND usage_daily.consumer = s.consumer AND usage_daily.team = s.team
          AND usage_daily.requested_model = s.requested_model AND usage_daily.provider = s.provider
          AND usage_daily.provider_model = s.provider_model AND usage_daily.status_class = s.status_class;
    `,
  },
];
