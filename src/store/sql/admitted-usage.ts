// What gateways admitted and routed in a span of time, per consumer, team, model and target: the ledger's figure budget
// counters are seeded with (src/policy/counter-seeding.ts). Whole hours come from the rollups (whole days from the daily
// ones), the partial hours at either end from the ledger's rows: at most an hour of rows at each end, by started_at.
import type { AdmittedUsageRow, UsagePeriod } from '../analytics-store.js';
import type { Dialect } from '../dialect.js';
import { StoreInvalid } from '../errors.js';
import { periodParts } from './analytics.js';
import type { Reader } from './change.js';
import { CACHE_HIT_SQL, HOUR_MS, LEDGER_NANO_COST_SQL } from './rollup.js';

export type AdmittedUsageStatement = 'admittedUsage';

const inRange = (column: string) => `(${column} >= CAST(? AS BIGINT) AND ${column} < CAST(? AS BIGINT))`;
const KEY = 'consumer, team, requested_model, provider, provider_model';
/** A rollup line's sums less its response-cache hits (calls, tokens; a hit costs 0), which no budget admits. */
const ADMITTED_SUMS = `calls - cache_hit_calls AS calls, input_tokens - cache_hit_input_tokens AS input_tokens,
  output_tokens - cache_hit_output_tokens AS output_tokens, cost_nano_usd`;
/** A ledger row's rollup key, as rollup.ts makes it ('' for a name the row lacks). */
const ROW_KEY = "consumer, COALESCE(team, ''), COALESCE(requested_model, ''), provider, COALESCE(provider_model, '')";

/**
 * Counted: calls with a consumer that a target answered (a provider in the ledger), whatever their status; their tokens
 * and cost (a call that failed after its target answered carries none). Not counted: calls refused before routing (401,
 * 403, 404, 429: no provider), and traffic observers reported (reconciliation: in the rollups like gateway calls, so
 * their rows in the whole hours are taken back out; the partial index on discovered_consumer finds them), and calls
 * answered from the response cache (never admitted: docs/agents.md#response-cache).
 *
 * Parameters: the rollups' whole hours before the first whole day and after the last (two ranges), the whole days, the
 * observed rows' span (the whole hours), then the ledger rows' two partial hours. Empty ranges are [0, 0).
 */
function admittedUsageStatement(dialect: Dialect): string {
  const counted = "consumer <> '' AND provider <> ''";
  return `SELECT ${KEY}, CAST(SUM(calls) AS BIGINT) AS calls, CAST(SUM(input_tokens) AS BIGINT) AS input_tokens,
      CAST(SUM(output_tokens) AS BIGINT) AS output_tokens, CAST(SUM(cost_nano_usd) AS BIGINT) AS cost_nano_usd
    FROM (
      SELECT ${KEY}, ${ADMITTED_SUMS}
        FROM usage_hourly WHERE (${inRange('hour_start')} OR ${inRange('hour_start')}) AND ${counted}
      UNION ALL
      SELECT ${KEY}, ${ADMITTED_SUMS}
        FROM usage_daily WHERE ${inRange('day_start')} AND ${counted}
      UNION ALL
      SELECT ${ROW_KEY}, -COALESCE(calls, 1), -input_tokens, -output_tokens, -COALESCE(${LEDGER_NANO_COST_SQL}, 0)
        FROM transactions${dialect.observedRowsIndex}
        WHERE discovered_consumer IS NOT NULL AND ${inRange('started_at')} AND consumer IS NOT NULL AND provider IS NOT NULL
      UNION ALL
      SELECT ${ROW_KEY}, 1, input_tokens, output_tokens, COALESCE(${LEDGER_NANO_COST_SQL}, 0)
        FROM transactions
        WHERE (${inRange('started_at')} OR ${inRange('started_at')}) AND discovered_consumer IS NULL AND consumer IS NOT NULL AND provider IS NOT NULL
          AND NOT ${CACHE_HIT_SQL}
    ) AS u
    GROUP BY ${KEY}
    ORDER BY ${KEY}`;
}

export function admittedUsageStatements(dialect: Dialect): Record<AdmittedUsageStatement, string> {
  return { admittedUsage: admittedUsageStatement(dialect) };
}

interface AdmittedUsageSqlRow {
  consumer: string;
  team: string;
  requested_model: string;
  provider: string;
  provider_model: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cost_nano_usd: number;
}

/** See DirectorStore.admittedUsage. */
export async function admittedUsage(read: Reader, period: UsagePeriod): Promise<AdmittedUsageRow[]> {
  const { from, to } = period;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from >= to) {
    throw new StoreInvalid(`admitted usage: from and to must be epoch milliseconds, from before to (got ${String(from)}, ${String(to)})`, {
      field: 'from',
    });
  }
  const firstHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  let params: number[];
  if (firstHour >= lastHour) {
    // Within one hour, or across one hour's edge: the rows alone.
    params = [0, 0, 0, 0, 0, 0, 0, 0, from, to, 0, 0];
  } else {
    const [headFrom, headTo, tailFrom, tailTo, daysFrom, daysTo] = periodParts({ from: firstHour, to: lastHour }) as number[];
    params = [headFrom!, headTo!, tailFrom!, tailTo!, daysFrom!, daysTo!, firstHour, lastHour, from, firstHour, lastHour, to];
  }
  const rows = await read.session.all<AdmittedUsageSqlRow>('admittedUsage', params);
  return rows.filter(holdsUsage).map((row) => ({
    consumer: row.consumer,
    team: row.team,
    model: row.requested_model,
    provider: row.provider,
    providerModel: row.provider_model,
    calls: Number(row.calls),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costNanoUsd: Number(row.cost_nano_usd),
  }));
}

/** A key whose observed rows were all taken back out sums to nothing. */
function holdsUsage(row: AdmittedUsageSqlRow): boolean {
  return Number(row.calls) !== 0 || Number(row.input_tokens) !== 0 || Number(row.output_tokens) !== 0 || Number(row.cost_nano_usd) !== 0;
}
