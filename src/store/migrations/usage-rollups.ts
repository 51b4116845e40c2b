// The usage rollups' schema history: the hourly and daily tables every ledger batch adds to (src/store/sql/rollup.ts), and
// the sums added to them since. Each version that adds a sum also fills it from the ledger, so an upgraded ledger is
// covered at once.
import { CACHE_HIT_SQL, OUTCOME_SQL } from '../sql/rollup.js';
import type { Migration } from './migration.js';

export const USAGE_ROLLUP_MIGRATIONS: readonly Migration[] = [
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
  {
    version: 21,
    name: 'usage rollups: response-cache hits',
    // The rollups also count the calls answered from the response cache (rollup.ts' responseCacheHit) and their tokens,
    // which calls, input_tokens and output_tokens already include: a hit is not admitted against budgets, so burn-downs and
    // the counters a gateway seeds at start take them out. Filled from the ledger as migration 17 was: only keys with hits,
    // in place, hourly first and the days from the hours; the ALTERs first, so a PostgreSQL ledger batch waits.
    sql: ({ types }) => `
      ALTER TABLE usage_hourly ADD COLUMN cache_hit_calls ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_hourly ADD COLUMN cache_hit_input_tokens ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_hourly ADD COLUMN cache_hit_output_tokens ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN cache_hit_calls ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN cache_hit_input_tokens ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN cache_hit_output_tokens ${types.int64} NOT NULL DEFAULT 0;
      UPDATE usage_hourly SET cache_hit_calls = s.cache_hit_calls, cache_hit_input_tokens = s.cache_hit_input_tokens,
          cache_hit_output_tokens = s.cache_hit_output_tokens
        FROM (SELECT (started_at / 3600000) * 3600000 AS hour_start, COALESCE(consumer, '') AS consumer, COALESCE(team, '') AS team,
            COALESCE(requested_model, '') AS requested_model, COALESCE(provider, '') AS provider,
            COALESCE(provider_model, '') AS provider_model, CASE WHEN status >= 400 THEN 'error' ELSE 'ok' END AS status_class,
            COUNT(*) AS cache_hit_calls, SUM(input_tokens) AS cache_hit_input_tokens, SUM(output_tokens) AS cache_hit_output_tokens
          FROM transactions
          WHERE ${CACHE_HIT_SQL}
          GROUP BY 1, 2, 3, 4, 5, 6, 7) AS s
        WHERE usage_hourly.hour_start = s.hour_start AND usage_hourly.consumer = s.consumer AND usage_hourly.team = s.team
          AND usage_hourly.requested_model = s.requested_model AND usage_hourly.provider = s.provider
          AND usage_hourly.provider_model = s.provider_model AND usage_hourly.status_class = s.status_class;
      UPDATE usage_daily SET cache_hit_calls = s.cache_hit_calls, cache_hit_input_tokens = s.cache_hit_input_tokens,
          cache_hit_output_tokens = s.cache_hit_output_tokens
        FROM (SELECT (hour_start / 86400000) * 86400000 AS day_start, consumer, team, requested_model, provider, provider_model,
            status_class, SUM(cache_hit_calls) AS cache_hit_calls, SUM(cache_hit_input_tokens) AS cache_hit_input_tokens,
            SUM(cache_hit_output_tokens) AS cache_hit_output_tokens
          FROM usage_hourly
          WHERE cache_hit_calls <> 0
          GROUP BY 1, 2, 3, 4, 5, 6, 7) AS s
        WHERE usage_daily.day_start = s.day_start AND usage_daily.consumer = s.consumer AND usage_daily.team = s.team
          AND usage_daily.requested_model = s.requested_model AND usage_daily.provider = s.provider
          AND usage_daily.provider_model = s.provider_model AND usage_daily.status_class = s.status_class;
    `,
  },
  {
    version: 23,
    name: 'usage rollups: costs to the nano-USD',
    // The rollups also sum the ledger's cost_nano_usd (migration 22), which every figure Sluice shows reads: summed to the
    // nano-USD, calls under half a micro-USD each add up instead of counting 0. cost_micro_usd goes on summing the rows'
    // rounded figures, for readers of earlier versions. Existing sums are filled from cost_micro_usd x 1,000: the rows
    // they sum were all written before migration 22, to the micro-USD, so that is exactly what they cost. The ALTERs come
    // first, as in migration 10, so a PostgreSQL ledger batch committing meanwhile waits and adds its nano-USD to the
    // filled sums.
    sql: ({ types }) => `
      ALTER TABLE usage_hourly ADD COLUMN cost_nano_usd ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN cost_nano_usd ${types.int64} NOT NULL DEFAULT 0;
      UPDATE usage_hourly SET cost_nano_usd = cost_micro_usd * 1000 WHERE cost_micro_usd <> 0;
      UPDATE usage_daily SET cost_nano_usd = cost_micro_usd * 1000 WHERE cost_micro_usd <> 0;
    `,
  },
  {
    version: 24,
    name: 'response-cache savings to the nano-USD: the ledger and the usage rollups',
    // What a response-cache hit saved, to the nano-USD (as costs since migration 22), so that a hit on a call under half a
    // micro-USD saves what it cost rather than 0. saved_micro_usd, the same rounded to whole micro-USD, is still written
    // and summed, for readers of earlier versions (and the compliance chain's blocks sealed before). Ledger rows before
    // this version keep saved_nano_usd NULL, no rewrite, and are read as saved_micro_usd x 1,000 (rollup.ts'
    // LEDGER_NANO_SAVED_SQL), what they saved to their precision; the rollups' sums are filled the same way, exactly.
    // Hashed by the compliance chain in blocks of row layout 4 on. ALTERs first, as in migration 23.
    sql: ({ types }) => `
      ALTER TABLE transactions ADD COLUMN saved_nano_usd ${types.int64};
      ALTER TABLE usage_hourly ADD COLUMN saved_nano_usd ${types.int64} NOT NULL DEFAULT 0;
      ALTER TABLE usage_daily ADD COLUMN saved_nano_usd ${types.int64} NOT NULL DEFAULT 0;
      UPDATE usage_hourly SET saved_nano_usd = saved_micro_usd * 1000 WHERE saved_micro_usd <> 0;
      UPDATE usage_daily SET saved_nano_usd = saved_micro_usd * 1000 WHERE saved_micro_usd <> 0;
    `,
  },
];
