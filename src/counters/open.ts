// Opens the counter store sluice.yaml names: `memory` (one process) or `redis://...` (shared by every gateway).
import type { SluiceConfig } from '../config/schema.js';
import type { CounterStore } from './counter-store.js';
import { MemoryCounterStore } from './memory.js';
import { RedisCounterStore } from './redis.js';

export interface CounterSettings {
  url: string;
  failMode: 'open' | 'closed';
  timeoutMs: number;
  keyPrefix: string;
}

export function counterSettings(config: SluiceConfig['counters']): CounterSettings {
  if (typeof config === 'string') return { url: config, failMode: 'open', timeoutMs: 1000, keyPrefix: 'sluice:' };
  return config;
}

/** Waits for Redis's first connection attempt, so the first calls find it ready; a Redis that is down does not stop the start. */
export async function openCounterStore(settings: CounterSettings): Promise<CounterStore> {
  if (settings.url === 'memory') return new MemoryCounterStore();
  return RedisCounterStore.open({ url: settings.url, commandTimeoutMs: settings.timeoutMs, keyPrefix: settings.keyPrefix });
}
