// Which chat calls the response cache serves, for how long, and under which key: opted in per model (sluice.yaml) or per
// request (x-sluice-cache: on), never across consumers unless the configured scope says so.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CacheConfig } from '../../config/cache-schema.js';
import type { Consumer } from '../../policy/consumers.js';

/** The request header that opts a call in (on) or out (off) of the cache. */
export const CACHE_HEADER = 'x-sluice-cache';

export interface CacheSlot {
  key: string;
  ttlMs: number;
}

export class CachePolicy {
  private readonly config: CacheConfig;

  constructor(config: CacheConfig) {
    this.config = config;
  }

  /** The key and TTL of this call, or null when it is not cached. */
  slot(req: IncomingMessage, consumer: Consumer, dialect: string, model: string, body: Record<string, unknown>): CacheSlot | null {
    const asked = req.headers[CACHE_HEADER];
    if (asked === 'off') return null;
    const perModel = this.config.models[model];
    if (perModel === undefined && asked !== 'on') return null;
    const ttlSeconds = perModel?.ttlSeconds ?? this.config.ttlSeconds;
    // The request as the client sent it (after input guardrails), its keys in their order: not sorted, since key order
    // can change the answer (a JSON schema's properties are the order a structured answer's fields come in). An
    // Anthropic client's betas may change the answer (its shape, what the body may use): they are part of the request.
    const betas = dialect === 'anthropic' ? req.headers['anthropic-beta'] : undefined;
    // A Responses API answer the provider stores (unless store: false) carries an id that is its consumer's alone: a
    // teammate given it from the cache could neither retrieve it nor continue from it (previous_response_id of another
    // consumer's response is refused). Such answers are shared with no one, whatever the scope.
    const scope = this.scope(consumer, dialect === 'openai-responses' && body.store !== false);
    const canonical = JSON.stringify(betas === undefined ? [scope, dialect, model, body] : [scope, dialect, model, body, betas]);
    return { key: createHash('sha256').update(canonical).digest('hex'), ttlMs: ttlSeconds * 1000 };
  }

  get maxEntryBytes(): number {
    return this.config.maxEntryBytes;
  }

  /** Whose answers a hit may return; `owned`: an answer that is its consumer's alone, whatever the configured scope. */
  private scope(consumer: Consumer, owned: boolean): string {
    if (owned) return `consumer:${consumer.name}`;
    if (this.config.scope === 'shared') return '*';
    if (this.config.scope === 'team' && consumer.team !== null) return `team:${consumer.team}`;
    return `consumer:${consumer.name}`;
  }
}
