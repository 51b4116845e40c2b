// The ledger's schema history: its table and the columns added to it since, the observers' rows (reconciliation) and
// batch keys. Versions 1 and 2 render for SQLite exactly as first shipped.
import type { Migration } from './migration.js';

export const LEDGER_MIGRATIONS: readonly Migration[] = [
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
    version: 14,
    name: "the ledger's saved_micro_usd: what a call answered from the response cache would have cost",
    // A cache hit's own cost is 0; its saving (the original call's cost, integer micro-USD) is kept beside it, and summed
    // in the rollups. 0 for every other call and for rows before this version.
    sql: ({ types }) => `
      ALTER TABLE transactions ADD COLUMN saved_micro_usd ${types.int64} NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 16,
    name: "the ledger's cache_write_1h_tokens: prompt-cache writes to the 1-hour cache",
    // Of cache_write_tokens, those written to a 1-hour cache (Anthropic's ttl '1h', billed at 2x input; the rest are
    // 5-minute writes at 1.25x), so that the ledger shows what the cost already counts. 0 when the provider stated no
    // split, for observers' rows, and for rows before this version (their split is in their cost only). Hashed by the
    // compliance chain in blocks of row layout 2 on (migration 19); blocks sealed before hash version 12's columns.
    sql: () => `
      ALTER TABLE transactions ADD COLUMN cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 18,
    name: "the ledger's web_searches, file_searches and service_tier: what a call was billed for beside its tokens",
    // Web and file searches the provider ran and bills per search (Anthropic's web search tool, OpenAI's web_search and
    // file_search; Gemini's grounding queries, as discovery reads them), and the
    // tier priced apart that served the call (OpenAI's priority or flex; NULL for the standard tier), so that a row says
    // why its cost is above its tokens' price. 0 and NULL for rows before this version and for observers' rows. Hashed
    // by the compliance chain in blocks of row layout 2 on (migration 19), like cache_write_1h_tokens.
    sql: () => `
      ALTER TABLE transactions ADD COLUMN web_searches INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE transactions ADD COLUMN service_tier TEXT;
      ALTER TABLE transactions ADD COLUMN file_searches INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 22,
    name: "the ledger's cost_nano_usd: a call's cost to the nano-USD",
    // A call's cost in integer nano-USD (1e-9 USD, src/metering/cost.ts), so that a call under half a micro-USD (a
    // few-token embedding) no longer costs 0. cost_micro_usd, the same rounded to whole micro-USD, is still written: the
    // compliance chain's blocks sealed before hash it, and its NULL still marks an unpriced call. Rows before this version
    // keep cost_nano_usd NULL rather than the ledger being rewritten, and are read as cost_micro_usd x 1,000
    // (rollup.ts' LEDGER_NANO_COST_SQL), what they cost to their precision. Hashed by the compliance chain in blocks of
    // row layout 3 on.
    sql: ({ types }) => `
      ALTER TABLE transactions ADD COLUMN cost_nano_usd ${types.int64};
    `,
  },
  {
    version: 25,
    name: "the ledger's reasoning_tokens: of a call's output tokens, those the model spent reasoning",
    // Of output_tokens, those the provider states the model spent reasoning (OpenAI's
    // completion_tokens_details.reasoning_tokens and output_tokens_details.reasoning_tokens, Gemini's
    // thoughtsTokenCount), already priced within output_tokens. NULL where the provider states no split (Anthropic bills
    // thinking as output tokens and its usage object has no figure apart: platform.claude.com/docs/en/build-with-claude/
    // extended-thinking; Claude on Bedrock alike), for observers' rows and for rows before this version.
    // Hashed by the compliance chain in blocks of row layout 5 on.
    sql: () => `
      ALTER TABLE transactions ADD COLUMN reasoning_tokens INTEGER;
    `,
  },
];
