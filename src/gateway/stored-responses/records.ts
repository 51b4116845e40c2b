// The record of stored Responses API responses: which consumer owns each response id, and which provider holds it. One
// interface, two implementations (memory.ts, redis.ts), chosen as the response cache's store is.

/** Who a stored response belongs to and where it lives. */
export interface ResponseOwner {
  /** The consumer whose call created it: only that consumer may read, delete or cancel it. */
  consumer: string;
  /** The provider (its name in sluice.yaml) that answered: the follow-up calls go to it, with its credentials. */
  provider: string;
  /** The model as that provider knows it (an Azure deployment), for logs and metrics. */
  model: string;
}

export interface ResponseRecords {
  readonly kind: 'memory' | 'redis';
  /** The owner of a response id; null when none is recorded. Rejects when the store cannot be read. */
  get(id: string): Promise<ResponseOwner | null>;
  /** Records the owner for `ttlMs`; rejects when the store cannot be written. */
  set(id: string, owner: ResponseOwner, ttlMs: number): Promise<void>;
  /** Forgets a response (deleted upstream). */
  delete(id: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The response ids recorded: OpenAI's (`resp_` and hex) and Azure's, any id of this form; anything longer or stranger is
 * not an id an upstream gave, and is neither recorded nor looked up.
 */
const RESPONSE_ID = /^[A-Za-z0-9_.:-]{1,256}$/;

export function isResponseId(id: string): boolean {
  return RESPONSE_ID.test(id);
}

export function encodeOwner(owner: ResponseOwner): string {
  return JSON.stringify({ consumer: owner.consumer, provider: owner.provider, model: owner.model });
}

export function decodeOwner(text: string): ResponseOwner | null {
  try {
    const value = JSON.parse(text) as Partial<ResponseOwner>;
    if (typeof value.consumer !== 'string' || typeof value.provider !== 'string') return null;
    return { consumer: value.consumer, provider: value.provider, model: typeof value.model === 'string' ? value.model : '' };
  } catch {
    return null;
  }
}
