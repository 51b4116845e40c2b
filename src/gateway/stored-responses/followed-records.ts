// The records of the background responses the gateways follow (background.ts), kept outside the process that follows
// each one, so that when it dies (kill -9, a crash) another process finishes the following and writes the ledger row.
// Each record carries everything its row and its settlement need, and names its provider by its sluice.yaml name (its
// credentials come from the config of whoever reads it: no secret, and no prompt, is kept). Each is claimed by one owner
// until an expiry its owner renews; a claim left to expire (its owner dead) is adopted by another. Whoever takes a
// record (an atomic read-and-delete) is the one that records the call: exactly one row, whoever gets there first.
// One interface, three homes: a lone gateway's folder in its ledger spool (followed-file.ts), the primary's memory for the
// workers of `sluice start --workers N` (src/cluster/), Redis for gateways sharing one (followed-redis.ts).
import type { Measure } from '../../config/governance-schema.js';
import { ledgerReasoningTokens, type Usage } from '../../ir/usage.js';
import type { Transaction } from '../../ledger/transaction.js';
import { microFromNano, type Pricing } from '../../metering/cost.js';
import { estimatePromptTokens } from '../../metering/tokenizer.js';
import { coversTarget } from '../../policy/budgets.js';
import { AMOUNT, FIGURES, PREVIOUS_WEIGHT, TTL_MS } from '../pipeline/admit.js';
import type { Call } from '../pipeline/call.js';

/** One budget line the call was reserved in, for its settlement by whichever process records it. */
export interface FollowedBudgetLine {
  key: string;
  previousKey: string | null;
  previousWeight: number;
  limit: number;
  ttlMs: number;
  measure: Measure;
  /** Whether the budget's resource scope covers the target that serves the call (known once it was sent). */
  covers: boolean;
  /** What admission added to the shared counter for it; 0 where the counters are this process's own (they die with it). */
  reserved: number;
}

export interface FollowedRecord {
  /** The response id, as the provider gave it. */
  id: string;
  /** The provider holding it, by its name in sluice.yaml. */
  provider: string;
  /** When the following began (epoch ms): a response still running 24 h later is recorded as it stands. */
  since: number;
  /** The call's ledger row as known once its queued answer was sent: usage, cost, status and latency come at the end. */
  row: Pick<
    Transaction,
    | 'requestId'
    | 'startedAt'
    | 'operation'
    | 'api'
    | 'stream'
    | 'consumer'
    | 'team'
    | 'requestedModel'
    | 'provider'
    | 'providerModel'
    | 'attempts'
    | 'servedModel'
    | 'violations'
    | 'identity'
  >;
  /** The prompt's tokens as Sluice counts them: the input recorded when the ended response's usage cannot be read. */
  promptTokens: number;
  /** The target's price when the call was served (null: none). */
  pricing: Pricing | null;
  budgets: FollowedBudgetLine[];
}

/** Where the records are kept, and so what survives: see the file's head. */
export type FollowedRecordsKind = 'file' | 'primary' | 'redis';

export interface FollowedRecords {
  readonly kind: FollowedRecordsKind;
  /** Keeps a record, claimed by `owner` for `claimMs`. */
  put(record: FollowedRecord, owner: string, claimMs: number): Promise<void>;
  /** Extends `owner`'s claims on `ids`; answers those no longer its own (finished or adopted by another). */
  renew(ids: readonly string[], owner: string, claimMs: number): Promise<string[]>;
  /** Claims for `owner` at most `max` records whose claims have expired, and answers them. */
  adopt(owner: string, claimMs: number, max: number): Promise<FollowedRecord[]>;
  /** The record of a response id, or null. */
  get(id: string): Promise<FollowedRecord | null>;
  /** Removes the record and answers it (null: none, or another took it first): the taker records the call. */
  take(id: string): Promise<FollowedRecord | null>;
  /** Lets `owner`'s claims on `ids` expire now, for another process to adopt them. */
  release(ids: readonly string[], owner: string): Promise<void>;
  close(): Promise<void>;
}

export function encodeFollowed(record: FollowedRecord): string {
  return JSON.stringify(record);
}

/** Null for a record that is not one (written by another version, or damaged): it is dropped, not followed. */
export function decodeFollowed(text: string): FollowedRecord | null {
  try {
    const value = JSON.parse(text) as Partial<FollowedRecord>;
    if (
      typeof value.id !== 'string' ||
      typeof value.provider !== 'string' ||
      typeof value.since !== 'number' ||
      typeof value.row !== 'object' ||
      value.row === null ||
      !Array.isArray(value.budgets)
    )
      return null;
    return value as FollowedRecord;
  } catch {
    return null;
  }
}

/**
 * What another process needs to finish a followed call: its row as known now, its prompt's count, its price and its
 * budgets. `sharedCounters`: whether its reservation is in counters that outlive this process (Redis, the primary's).
 */
export async function followedRecordOf(
  call: Call,
  followed: { id: string; provider: string; since: number },
  sharedCounters: boolean,
): Promise<FollowedRecord> {
  const target = call.target!;
  const reservation = call.reservation;
  const budgets: FollowedBudgetLine[] = [];
  if (reservation !== null)
    for (let i = 0; i < reservation.budgets.length; i++) {
      const budget = reservation.budgets[i]!;
      const keys = reservation.keys[i]!;
      const at = i * FIGURES;
      budgets.push({
        key: keys.key,
        previousKey: keys.previousKey,
        previousWeight: reservation.figures[at + PREVIOUS_WEIGHT]!,
        limit: budget.limit,
        ttlMs: reservation.figures[at + TTL_MS]!,
        measure: budget.measure,
        covers: coversTarget(budget.resources, target),
        // Counters of this process's own die with it, the reservation in them too: the adopter counts the whole use.
        reserved: sharedCounters ? reservation.figures[at + AMOUNT]! : 0,
      });
    }
  const violations =
    target.resource.action === 'monitor' ? [...(call.violations ?? []), `resource:${target.resource.id}`] : call.violations;
  return {
    id: followed.id,
    provider: followed.provider,
    since: followed.since,
    row: {
      requestId: call.requestId,
      startedAt: call.startedAt,
      operation: call.operation,
      api: call.api,
      stream: call.stream,
      consumer: call.consumer?.name ?? null,
      team: call.consumer?.team ?? null,
      requestedModel: call.requestedModel,
      provider: target.provider.name,
      providerModel: target.model,
      attempts: call.attempts,
      servedModel: call.servedModel,
      violations: violations === null ? null : violations.join(','),
      identity: call.identity,
    },
    promptTokens: call.chat === null ? 0 : await estimatePromptTokens(call.chat),
    pricing: target.pricing ?? null,
    budgets,
  };
}

/** The ledger row of a followed call, from its record and what metering made of the usage it ended with. */
export function followedTransaction(
  record: FollowedRecord,
  metered: { usage: Usage; cost: number | null },
  errorClass: string | null,
  now: number,
): Transaction {
  const usage = metered.usage;
  return {
    ...record.row,
    // Absent from the records of a version before streamed calls were kept.
    stream: record.row.stream === true,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    cacheWrite1hTokens: usage.cacheWrite1hTokens ?? 0,
    reasoningTokens: ledgerReasoningTokens(usage),
    webSearches: usage.webSearches ?? 0,
    fileSearches: usage.fileSearches ?? 0,
    serviceTier: usage.serviceTier ?? null,
    tokensEstimated: !usage.reported && (usage.inputTokens > 0 || usage.outputTokens > 0),
    costMicroUsd: metered.cost === null ? null : microFromNano(metered.cost),
    costNanoUsd: metered.cost,
    latencyMs: Math.max(0, now - record.row.startedAt),
    timeToFirstTokenMs: null,
    status: 200,
    errorClass,
  };
}

interface Held {
  record: FollowedRecord;
  owner: string;
  expiresAt: number;
}

/** In the memory of the primary of `sluice start --workers N`, for its workers. */
export class MemoryFollowedRecords implements FollowedRecords {
  readonly kind = 'primary';
  private readonly held: Map<string, Held>;

  constructor() {
    this.held = new Map();
  }

  put(record: FollowedRecord, owner: string, claimMs: number): Promise<void> {
    this.held.set(record.id, { record, owner, expiresAt: Date.now() + claimMs });
    return Promise.resolve();
  }

  renew(ids: readonly string[], owner: string, claimMs: number): Promise<string[]> {
    const lost: string[] = [];
    const until = Date.now() + claimMs;
    for (const id of ids) {
      const held = this.held.get(id);
      if (held === undefined || held.owner !== owner) lost.push(id);
      else held.expiresAt = until;
    }
    return Promise.resolve(lost);
  }

  adopt(owner: string, claimMs: number, max: number): Promise<FollowedRecord[]> {
    const now = Date.now();
    const adopted: FollowedRecord[] = [];
    for (const held of this.held.values()) {
      if (adopted.length >= max) break;
      if (held.expiresAt > now) continue;
      held.owner = owner;
      held.expiresAt = now + claimMs;
      adopted.push(held.record);
    }
    return Promise.resolve(adopted);
  }

  get(id: string): Promise<FollowedRecord | null> {
    return Promise.resolve(this.held.get(id)?.record ?? null);
  }

  take(id: string): Promise<FollowedRecord | null> {
    const held = this.held.get(id);
    this.held.delete(id);
    return Promise.resolve(held?.record ?? null);
  }

  release(ids: readonly string[], owner: string): Promise<void> {
    for (const id of ids) {
      const held = this.held.get(id);
      if (held !== undefined && held.owner === owner) held.expiresAt = 0;
    }
    return Promise.resolve();
  }

  /** Every claim of `owner` expired at once: a worker that died (the primary knows it at once). */
  releaseOwner(owner: string): number {
    let released = 0;
    for (const held of this.held.values())
      if (held.owner === owner) {
        held.expiresAt = 0;
        released++;
      }
    return released;
  }

  close(): Promise<void> {
    this.held.clear();
    return Promise.resolve();
  }
}
