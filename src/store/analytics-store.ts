// The analytics part of the store: usage read from the hourly rollups, cost drivers, and what gateways admitted.
import type { Transaction } from '../ir/transaction.js';
import type { ServiceTier } from '../ir/usage.js';
import type { EpochMs, Page } from './records.js';
import type { SortOrder, TransactionSort } from '../schemas/listing-order.js';

/** What usage can be grouped by. `model` is the Sluice model asked for; `resource` is provider/provider-model; `status` is
 * `ok` or `error` (HTTP 400 and above); `resourceStatus` is the resource's sanctioned / unsanctioned / unreviewed now. */
export const USAGE_DIMENSIONS = ['consumer', 'team', 'model', 'provider', 'resource', 'status', 'resourceStatus'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];
export const USAGE_BUCKETS = ['hour', 'day', 'month'] as const;
/** UTC hours, days and calendar months. */
export type UsageBucket = (typeof USAGE_BUCKETS)[number];

/** Usage of these only; '' matches calls the ledger has no such name for (a call refused before it was known). */
export interface UsageFilter {
  team?: string;
  consumer?: string;
  model?: string;
  provider?: string;
  /** provider/provider-model */
  resource?: string;
}

/** What gateways admitted and routed for one rollup key (consumer, team, model asked for, provider, provider model). */
export interface AdmittedUsageRow {
  consumer: string;
  /** '' where the ledger had none; likewise model and providerModel. */
  team: string;
  model: string;
  provider: string;
  providerModel: string;
  /** Calls a target answered, whatever their status. */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Integer nano-USD, as budget counters count cost; an unpriced call adds nothing. */
  costNanoUsd: number;
}

/** A span of whole UTC hours, [from, to): the rollups' grain. */
export interface UsagePeriod {
  from: EpochMs;
  to: EpochMs;
}

export interface UsageQuery extends UsagePeriod {
  bucket: UsageBucket;
  /** Empty: one total per bucket. */
  groupBy: readonly UsageDimension[];
  filter?: UsageFilter;
}

/**
 * Every call is served, refused or failed (src/store/sql/rollup.ts' callOutcome): `calls` counts all three; what a budget of
 * requests counts, the calls the gateway admitted, is calls - refusedCalls; the served are calls - refusedCalls - failedCalls.
 */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Integer nano-USD of the priced calls (migration 22; calls before it to their whole micro-USD). */
  costNanoUsd: number;
  /** Served calls whose model had no known price: their cost is not in costNanoUsd. */
  unpricedCalls: number;
  /** Calls the gateway refused before admitting them (401, 403, 404, 429 and the like): no provider was asked, no budget counts them. */
  refusedCalls: number;
  /** Calls admitted that the provider did not serve (upstream errors and timeouts, no target able to serve them). */
  failedCalls: number;
  /** Input tokens written to a prompt cache (billed above the input price: 1.25x for 5 minutes, 2x for an hour at Anthropic). */
  cacheWriteTokens: number;
  /** Of cacheWriteTokens, the 1-hour cache's; 0 for calls before migration 16 and providers that state no split. */
  cacheWrite1hTokens: number;
  /** Integer nano-USD: what the calls answered from the response cache would have cost (their own cost is 0). */
  savedNanoUsd: number;
  /**
   * Calls answered from the response cache, and their tokens (the answers' they replay), counted in calls, inputTokens and
   * outputTokens too: no budget counts them (a hit is not admitted), so budget figures take them out.
   */
  cacheHitCalls: number;
  cacheHitInputTokens: number;
  cacheHitOutputTokens: number;
}

export interface UsageRow extends UsageTotals {
  /** The bucket's start; its hours before `from` are not in it. */
  bucketStart: EpochMs;
  /** The value of each dimension grouped by ('' where the ledger had none). */
  group: Partial<Record<UsageDimension, string>>;
}

export interface TopDriversQuery {
  current: UsagePeriod;
  previous: UsagePeriod;
  groupBy: readonly UsageDimension[];
  filter?: UsageFilter;
  /** 1 to 1000. */
  limit: number;
}

/** A group's cost in two periods; the largest changes (either way) first. */
export interface CostDriver {
  group: Partial<Record<UsageDimension, string>>;
  currentCostNanoUsd: number;
  previousCostNanoUsd: number;
  /** current - previous. */
  deltaNanoUsd: number;
  currentCalls: number;
  previousCalls: number;
  /**
   * Served calls of models with no known price, in each period: not in the costs, so a group whose calls moved to such a
   * model shows a fall in cost it did not make.
   */
  currentUnpricedCalls: number;
  previousUnpricedCalls: number;
}

/** Which ledger rows a listing returns; every field optional. `model` matches the model asked for or the one that served. */
export interface LedgerFilter {
  consumer?: string;
  team?: string;
  model?: string;
  provider?: string;
  outcome?: 'served' | 'refused' | 'failed';
  /** true: only rows of no consumer (observed traffic not yet attributed); false: only rows of a consumer. */
  unattributed?: boolean;
  /** [from, to) on the call's start, epoch milliseconds. */
  from?: EpochMs;
  to?: EpochMs;
  /** Default: time, newest first (desc); ties in order of row id, rows of no value (an unpriced cost, an observed call's latency) last. */
  sort?: TransactionSort;
  order?: SortOrder;
  /** 1 to 1000; default 100. */
  limit?: number;
  cursor?: string | null;
}

/** A ledger row as read back: the transaction, its row id, how it ended, and for observed traffic its calls and discovery. */
export interface LedgerEntry extends Omit<Transaction, 'operation' | 'violations'> {
  id: number;
  /** `chat`, `embeddings`, or `observed` for traffic reported through the reconciliation intake. */
  operation: string;
  violations: string[];
  outcome: 'served' | 'refused' | 'failed';
  /** How many calls the row stands for: 1 for a gateway's call. */
  calls: number;
  discoveredConsumer: number | null;
  /** `key:<id>`, `mtls:<SPIFFE id or subject>`, `xfcc:<...>`, `jwt:<issuer>#<sub>`; null before identities were recorded. */
  identity: string | null;
  /** A call answered from the response cache: what it would have cost (integer micro-USD); else 0. */
  savedMicroUsd: number;
  /** Of cacheWriteTokens, the 1-hour cache's; 0 for rows before migration 16. */
  cacheWrite1hTokens: number;
  /** Web searches billed beside the tokens; 0 for rows before migration 18. */
  webSearches: number;
  /** File searches billed beside the tokens; 0 for rows before migration 18. */
  fileSearches: number;
  /** The tier priced apart that served the call (priority, flex, fast); null for the standard tier and rows before migration 18. */
  serviceTier: ServiceTier | null;
  /** Of outputTokens, those spent reasoning; null where the provider stated no split, and for rows before migration 25. */
  reasoningTokens: number | null;
}

/**
 * Reads only: the rollups are written with the ledger's rows (ledger-store.ts) and with observations (reconciliation);
 * the ledger's rows themselves are read back one page at a time.
 */
export interface AnalyticsStore {
  /** Ledger rows, newest first, keyset-paginated on their id (sql/transactions.ts). */
  listTransactions(filter: LedgerFilter): Promise<Page<LedgerEntry>>;
  /** One ledger row by its id, or null. */
  getTransaction(id: number): Promise<LedgerEntry | null>;
  /**
   * Usage per bucket and group, read from the hourly rollups only (never the ledger's rows), ordered by bucket then group.
   * `from` and `to` must be whole UTC hours (StoreInvalid otherwise); a day or month bucket holds the hours of [from, to)
   * that fall in it. Resource statuses are today's, applied to all of the period.
   */
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /** The groups whose cost changed most between the two periods, from the rollups. */
  topDrivers(query: TopDriversQuery): Promise<CostDriver[]>;
  /** The first and last hour the rollups hold, or null while the ledger is empty. */
  usageExtent(): Promise<{ firstHour: EpochMs; lastHour: EpochMs } | null>;
  /**
   * The first hour the rollups hold a call of the filter's scope (a team, '' for calls without one; a consumer; a model,
   * provider or resource; or several of them), or null when they hold none. An empty filter: the rollups' first hour.
   */
  firstHour(filter: UsageFilter): Promise<EpochMs | null>;
  /**
   * What gateways admitted and routed in [from, to) (any epoch milliseconds), per rollup key: the figure budget counters
   * are seeded with at start. Calls a target answered, with a consumer; not refusals (no target), nor observed traffic.
   * Whole hours are read from the rollups, the partial hours at either end from the ledger's rows.
   */
  admittedUsage(period: UsagePeriod): Promise<AdmittedUsageRow[]>;
}
