// The response cache's store: answers under a key, each with a TTL. One interface, two implementations (memory.ts,
// redis.ts); a store that fails answers a miss (lookups) or drops the answer (stores): the cache never fails a call.

/** A cached answer: the bytes the client got, and what the call that made them used and cost. */
export interface CachedAnswer {
  /** application/json or text/event-stream. */
  contentType: string;
  body: Buffer;
  inputTokens: number;
  outputTokens: number;
  tokensEstimated: boolean;
  /**
   * What the original call cost in whole micro-USD, the saving of each hit; null when unpriced. Kept in this unit, as the
   * field every version sharing a store (Redis) reads; costNanoUsd is the exact figure beside it.
   */
  costMicroUsd: number | null;
  /** The same to the nano-USD; absent in entries an earlier version wrote (their costMicroUsd x 1,000). */
  costNanoUsd?: number | null;
  provider: string;
  providerModel: string;
  /** The configuration of the provider that made it (its routing target's providerFingerprint); absent in older entries. */
  providerFingerprint?: string;
}

export interface ResponseCache {
  get(key: string): Promise<CachedAnswer | null>;
  set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The header holding a cached answer's metadata in its serialized form; the body follows it. */
export function encodeAnswer(answer: CachedAnswer): Buffer {
  const { body, ...meta } = answer;
  const head = Buffer.from(JSON.stringify(meta), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return Buffer.concat([length, head, body]);
}

export function decodeAnswer(bytes: Buffer): CachedAnswer | null {
  if (bytes.length < 4) return null;
  const headLength = bytes.readUInt32BE(0);
  if (4 + headLength > bytes.length) return null;
  try {
    const meta = JSON.parse(bytes.toString('utf8', 4, 4 + headLength)) as Omit<CachedAnswer, 'body'>;
    return { ...meta, body: bytes.subarray(4 + headLength) };
  } catch {
    return null;
  }
}
