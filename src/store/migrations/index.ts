// Versioned schema migrations, applied in order once each and recorded in schema_migrations.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger',
    sql: `
      CREATE TABLE transactions (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        started_at INTEGER NOT NULL,
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
        cost_micro_usd INTEGER,
        latency_ms INTEGER NOT NULL,
        time_to_first_token_ms INTEGER,
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
    sql: `
      ALTER TABLE transactions ADD COLUMN served_model TEXT;
      ALTER TABLE transactions ADD COLUMN violations TEXT;
    `,
  },
];
