// Opens the counter store sluice.yaml names: `memory` (one process) or `redis://...` (shared by every gateway).
import type { SluiceConfig } from '../config/schema.js';
import type { CounterStore } from './counter-store.js';
import { LeasedCounterStore } from './leased.js';
import { MemoryCounterStore } from './memory.js';

export interface CounterSettings {
  url: string;
  failMode: 'open' | 'closed';
  timeoutMs: number;
  keyPrefix: string;
  /** Room leased at once per counter, as a fraction of its limit (src/counters/leased.ts); 0: no leases. */
  leaseShare: number;
}

/**
 * 1/64 of a limit: a budget of 100,000 tokens leases about 1,560 at a time; one under 64 units admits every call alone.
 * The default both between the workers of one gateway (their counters are the primary's memory) and between gateways on
 * Redis: leased room is counted at once, so admissions never pass the limit; leases refuse a little early far from it
 * and, after a loss of Redis's keys, can pass it by at most W x floor(limit x share) (docs/scale-out.md).
 * `counters.leaseShare: 0` reserves every call alone in Redis.
 */
export const DEFAULT_LEASE_SHARE = 1 / 64;

export function counterSettings(config: SluiceConfig['counters']): CounterSettings {
  if (typeof config === 'string')
    return { url: config, failMode: 'open', timeoutMs: 1000, keyPrefix: 'sluice:', leaseShare: DEFAULT_LEASE_SHARE };
  return { ...config, leaseShare: config.leaseShare ?? DEFAULT_LEASE_SHARE };
}

/** Waits for Redis's first connection attempt, so the first calls find it ready; a Redis that is down does not stop the start. */
export async function openCounterStore(settings: CounterSettings, shared?: CounterStore): Promise<CounterStore> {
  // In a worker of `sluice start --workers N`, memory counters are the primary's, reached over IPC (src/cluster/).
  if (settings.url === 'memory') return shared === undefined ? new MemoryCounterStore() : leased(shared, settings);
  // ioredis is loaded only when the counters are on Redis: on memory counters it would only take memory.
  const { RedisCounterStore } = await import('./redis.js');
  return leased(
    await RedisCounterStore.open({ url: settings.url, commandTimeoutMs: settings.timeoutMs, keyPrefix: settings.keyPrefix }),
    settings,
  );
}

function leased(store: CounterStore, settings: CounterSettings): CounterStore {
  return settings.leaseShare > 0 ? new LeasedCounterStore(store, { share: settings.leaseShare }) : store;
}
