// sluice.yaml's `cache` section: the exact-match response cache of chat completions (docs/agents.md).
import { z } from 'zod';
import { nameText, TEXT_LIMITS } from './limits.js';

const ttlSeconds = z
  .number()
  .int()
  .positive()
  .max(30 * 86_400);

export const cacheSchema = z
  .object({
    /** memory: this process, a bounded LRU; redis://...: shared by every gateway on that Redis. */
    store: z
      .string()
      .max(TEXT_LIMITS.url)
      .regex(/^(memory|rediss?:\/\/.+)$/, 'memory or redis://host:port')
      .default('memory'),
    /** Whose answers a hit may return: the same consumer's only, its team's, or anyone's. */
    scope: z.enum(['consumer', 'team', 'shared']).default('consumer'),
    /** How long an answer is kept, unless its model says otherwise. */
    ttlSeconds: ttlSeconds.default(300),
    /** Models whose calls are cached without asking (opt-in per model), each with its own TTL if given. */
    models: z.record(nameText(), z.object({ ttlSeconds: ttlSeconds.optional() }).strict()).default({}),
    /** Memory store: the most answers held. */
    maxEntries: z.number().int().positive().default(10_000),
    /** Answers larger than this are not cached. */
    maxEntryBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Redis store: put before every key. */
    keyPrefix: z.string().max(64).default('sluice:cache:'),
  })
  .strict();

export const CACHE_DEFAULTS = {
  store: 'memory',
  scope: 'consumer' as const,
  ttlSeconds: 300,
  models: {},
  maxEntries: 10_000,
  maxEntryBytes: 1024 * 1024,
  keyPrefix: 'sluice:cache:',
};

export type CacheConfig = z.infer<typeof cacheSchema>;
