// Consumers (applications with owners) and their Sluice keys, which are held only as SHA-256 hashes.
import { createHash } from 'node:crypto';
import type { ConsumerConfig } from '../config/schema.js';

export interface Consumer {
  name: string;
  team: string | null;
  owner: string | null;
  /** Model names this consumer may use; null means every configured model. */
  models: ReadonlySet<string> | null;
  labels: Readonly<Record<string, string>>;
}

const RECENT_KEYS = 10_000;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class ConsumerDirectory {
  private readonly byKeyHash: Map<string, Consumer>;
  /** Keys already seen to be valid, so a busy consumer is not hashed on every call. Only valid keys enter, bounded. */
  private readonly recent: Map<string, Consumer>;
  readonly consumers: readonly Consumer[];

  constructor(configs: readonly ConsumerConfig[]) {
    this.byKeyHash = new Map();
    this.recent = new Map();
    const consumers: Consumer[] = [];
    for (const config of configs) {
      const consumer: Consumer = {
        name: config.name,
        team: config.team ?? null,
        owner: config.owner ?? null,
        models: config.models ? new Set(config.models) : null,
        labels: config.labels,
      };
      consumers.push(consumer);
      for (const key of config.keys) this.byKeyHash.set(hashKey(key), consumer);
    }
    this.consumers = consumers;
  }

  /** The consumer holding this key, or undefined. */
  find(key: string): Consumer | undefined {
    const seen = this.recent.get(key);
    if (seen !== undefined) return seen;
    const consumer = this.byKeyHash.get(hashKey(key));
    if (consumer !== undefined) {
      if (this.recent.size >= RECENT_KEYS) this.recent.clear();
      this.recent.set(key, consumer);
    }
    return consumer;
  }
}

export function mayUse(consumer: Consumer, model: string): boolean {
  return consumer.models === null || consumer.models.has(model);
}
