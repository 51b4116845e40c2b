// sluice.yaml's `responses` section: where Sluice records whose each stored Responses API response is (docs/agents.md).
import { z } from 'zod';
import { TEXT_LIMITS } from './limits.js';

/** OpenAI keeps a stored response 30 days (store: true, its default); a record need not outlive it. */
export const RESPONSE_RECORD_TTL_SECONDS = 30 * 86_400;

export const responsesSchema = z
  .object({
    /**
     * memory: this process, a bounded LRU; redis://...: shared by every gateway on that Redis. Absent: the counters'
     * backend (their Redis when `counters` is one, else memory).
     */
    store: z
      .string()
      .max(TEXT_LIMITS.url)
      .regex(/^(memory|rediss?:\/\/.+)$/, 'memory or redis://host:port')
      .optional(),
    /** How long a record is kept: OpenAI's own retention of a stored response. */
    ttlSeconds: z.number().int().positive().max(RESPONSE_RECORD_TTL_SECONDS).default(RESPONSE_RECORD_TTL_SECONDS),
    /** Memory store: the most records held; past it the least recently used is dropped. */
    maxEntries: z.number().int().positive().max(10_000_000).default(100_000),
    /** Redis store: put before every key. Absent: the counters' keyPrefix and `responses:` (`sluice:responses:`). */
    keyPrefix: z.string().max(64).optional(),
    /**
     * `background: true` calls: refused (400), or served and followed by the gateway until they end, then metered
     * (stored-responses/background.ts).
     */
    background: z.enum(['refuse', 'meter']).default('refuse'),
    /** The most background responses one gateway follows at once; past it, a background call is a 429. */
    maxBackground: z.number().int().positive().max(1_000_000).default(10_000),
    /**
     * Where the record of stored responses is shared (Redis, or the primary of --workers N): how long a gateway's claim
     * on a background response it follows lasts unrenewed. A gateway that dies leaves its claims to expire; another
     * adopts them within this and a third of it.
     */
    backgroundClaimSeconds: z.number().int().positive().max(3_600).default(60),
    /**
     * A `previous_response_id` while the record cannot be read: open sends it on unchecked (logged, counted), closed
     * refuses the call with 503 response_records_unavailable. Absent: the counters' failMode.
     */
    failMode: z.enum(['open', 'closed']).optional(),
  })
  .strict();

export const RESPONSES_DEFAULTS = {
  ttlSeconds: RESPONSE_RECORD_TTL_SECONDS,
  maxEntries: 100_000,
  background: 'refuse' as const,
  maxBackground: 10_000,
  backgroundClaimSeconds: 60,
};

export type ResponsesConfig = z.infer<typeof responsesSchema>;
