// The response cache on the chat path: a hit answered from the cache (recorded at zero cost, its saving in the row and
// counted), a miss's successful answer kept for the next identical call.
import type { ServerResponse } from 'node:http';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Transaction } from '../../ledger/transaction.js';
import { violationsOf, type RecordSinks } from '../pipeline/record.js';
import type { Call } from '../pipeline/call.js';
import { CACHE_HEADER, type CacheSlot } from './policy.js';
import type { CachedAnswer, ResponseCache } from './response-cache.js';
import { MemoryResponseCache } from './memory.js';
import { RedisResponseCache } from './redis.js';
import type { CacheConfig } from '../../config/cache-schema.js';
import type { FrontDoor } from '../frontdoors/frontdoor.js';
import { tryParseJson } from '../../wire/json.js';
import { microFromNano, NANOS_PER_MICRO } from '../../metering/cost.js';
import { SseParser } from '../../wire/sse.js';

export class ChatCache {
  readonly store: ResponseCache;
  private readonly hits: Counter<'model'>;
  private readonly saved: Counter<'model'>;

  constructor(config: CacheConfig, registry: Registry, logger: Logger) {
    this.store =
      config.store === 'memory'
        ? new MemoryResponseCache(config.maxEntries)
        : new RedisResponseCache(config.store, config.keyPrefix, logger);
    this.hits = new Counter({
      name: 'sluice_response_cache_hits_total',
      help: 'Calls answered from the response cache',
      labelNames: ['model'],
      registers: [registry],
    });
    this.saved = new Counter({
      name: 'sluice_response_cache_saved_micro_usd_total',
      // Micro-USD as always, counted from the exact nano-USD (a fraction for a hit on a call under a micro-USD).
      help: 'What the calls answered from the response cache would have cost, in micro-USD',
      labelNames: ['model'],
      registers: [registry],
    });
  }

  /**
   * Answers the call from the cache and records it: cost 0, no upstream attempt, the original tokens, the call's
   * violations. `guard`: the caller's output guardrails, which a whole answer passes as one from the provider would (it
   * may be another consumer's, with scope team or shared, or older than a guardrail); throws a block before anything is
   * sent or recorded. A stream is replayed as it was: output guardrails do not apply to streams.
   */
  answerHit(sinks: RecordSinks, call: Call, res: ServerResponse, hit: CachedAnswer, guard: ((text: string) => string) | null): void {
    const body = guard !== null && hit.contentType === 'application/json' ? Buffer.from(guard(hit.body.toString('utf8'))) : hit.body;
    res.writeHead(200, { 'content-type': hit.contentType, 'content-length': body.length, [CACHE_HEADER]: 'hit' });
    res.end(body);
    const usage = {
      inputTokens: hit.inputTokens,
      outputTokens: hit.outputTokens,
      cachedInputTokens: hit.inputTokens,
      cacheWriteTokens: 0,
      reported: !hit.tokensEstimated,
    };
    // An entry an earlier version wrote has whole micro-USD only: its saving is those, to the nano-USD.
    const savedNanoUsd = hit.costNanoUsd ?? (hit.costMicroUsd === null ? null : hit.costMicroUsd * NANOS_PER_MICRO);
    const transaction: Transaction = {
      ...call.toTransaction({ usage, cost: 0 }, violationsOf(sinks, call)),
      provider: hit.provider,
      providerModel: hit.providerModel,
      attempts: 0,
      savedMicroUsd: hit.costMicroUsd ?? 0,
      savedNanoUsd: savedNanoUsd ?? 0,
    };
    sinks.ledger.append(transaction);
    sinks.metrics.observe(transaction);
    const model = call.requestedModel ?? '';
    this.hits.labels(model).inc();
    if (savedNanoUsd !== null) this.saved.labels(model).inc(savedNanoUsd / NANOS_PER_MICRO);
  }

  /**
   * Keeps a successful answer (bounded by maxEntryBytes); never awaited by the client's answer. `body` is the answer
   * before output guardrails: each hit applies its own caller's (answerHit). A refusal is not kept: asked again, the
   * model may answer, and one caller's refusal must not stand for everyone's calls for the TTL.
   */
  keep(
    slot: CacheSlot,
    call: Call,
    door: FrontDoor,
    contentType: string,
    body: Buffer,
    costNanoUsd: number | null,
    maxEntryBytes: number,
  ): void {
    if (body.length > maxEntryBytes || call.target === null || call.status !== 200 || call.errorClass !== null) return;
    if (holdsRefusal(door, contentType, body)) return;
    void this.store.set(
      slot.key,
      {
        contentType,
        body,
        inputTokens: call.usage.inputTokens,
        outputTokens: call.usage.outputTokens,
        tokensEstimated: !call.usage.reported,
        // Whole micro-USD, the unit of the field every version sharing the store reads (one before costNanoUsd would
        // otherwise record 1,000 times the saving); the exact figure beside it.
        costMicroUsd: costNanoUsd === null ? null : microFromNano(costNanoUsd),
        costNanoUsd,
        provider: call.target.provider.name,
        providerModel: call.target.model,
        providerFingerprint: call.target.providerFingerprint,
      },
      slot.ttlMs,
    );
  }
}

/**
 * Whether an answer as the client got it, whole (JSON) or streamed (SSE), says the model refused. Every front door's
 * refusal marker holds 'refusal' or 'content_filter': an answer with neither is read no further.
 */
function holdsRefusal(door: FrontDoor, contentType: string, body: Buffer): boolean {
  if (!body.includes('refusal') && !body.includes('content_filter')) return false;
  if (contentType === 'application/json') return door.isModelRefusal(tryParseJson(body.toString('utf8')));
  const parser = new SseParser();
  const events = parser.end(parser.push(body));
  return events.some((event) => event.data !== '[DONE]' && door.isModelRefusal(tryParseJson(event.data)));
}
