// Keeps the gateway's snapshot in step with the director store: rebuilt after every change made through the API, and
// when the store's config version moves (another director process on the same PostgreSQL). Calls in flight keep the
// snapshot they started with; a store that cannot be read leaves the last good snapshot serving.
import type { Logger } from 'pino';
import type { SluiceConfig } from '../config/schema.js';
import type { DirectoryEntry } from '../policy/consumers.js';
import type { DirectorStore } from '../store/director-store.js';

/** The parts of the config the store owns, read from it; the rest of the config stays the file's. */
export interface DirectoryState {
  version: number;
  config: SluiceConfig;
  consumers: DirectoryEntry[];
}

export async function readDirectory(store: DirectorStore, file: SluiceConfig): Promise<DirectoryState> {
  const version = await store.configVersion();
  const consumers: DirectoryEntry[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listConsumers({ limit: 1000, cursor });
    for (const consumer of page.items) consumers.push({ ...consumer, keys: [] });
    cursor = page.nextCursor;
  } while (cursor !== null);
  const byName = new Map(consumers.map((consumer) => [consumer.name, consumer]));
  for (const key of await store.activeKeys()) {
    const owner = byName.get(key.consumer);
    if (owner !== undefined) (owner.keys as Array<{ id: string; hash: string; expiresAt: number | null }>).push({ id: key.id, hash: key.hash, expiresAt: key.expiresAt });
  }
  const resources: SluiceConfig['resources'] = {};
  for (const resource of await store.listResources()) resources[resource.id] = resource.status;
  const config: SluiceConfig = {
    ...file,
    consumers: consumers.map((c) => ({ name: c.name, keys: [], labels: c.labels, ...(c.team === null ? {} : { team: c.team }), ...(c.owner === null ? {} : { owner: c.owner }), ...(c.models === null ? {} : { models: c.models }) })),
    budgets: (await store.listBudgets()).map((item) => item.definition),
    budgetTemplates: (await store.listBudgetTemplates()).map((item) => item.definition),
    rateLimits: (await store.listRateLimits()).map((item) => item.definition),
    resources,
  };
  return { version, config, consumers };
}

/** Serializes rebuilds and coalesces bursts: a change during a rebuild causes exactly one more. */
export class DirectorSync {
  private running: Promise<void> | null;
  private again: boolean;
  private version: number;
  private readonly poller: NodeJS.Timeout;

  constructor(
    private readonly store: DirectorStore,
    /** The file's config as it is now (reloads replace it). */
    private readonly file: () => SluiceConfig,
    private readonly apply: (state: DirectoryState) => Promise<void>,
    private readonly logger: Logger,
    initialVersion: number,
    pollMs: number,
  ) {
    this.running = null;
    this.again = false;
    this.version = initialVersion;
    this.poller = setInterval(() => void this.poll(), pollMs);
    this.poller.unref();
  }

  /** Rebuilds now (after a change through the API); resolves when the new snapshot serves. */
  refresh(): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        const state = await readDirectory(this.store, this.file());
        await this.apply(state);
        this.version = state.version;
      } catch (error) {
        this.logger.error({ err: (error as Error).message }, 'cannot read the director store; still serving the previous snapshot');
      }
    } while (this.again);
  }

  private async poll(): Promise<void> {
    if (this.running !== null) return;
    try {
      if ((await this.store.configVersion()) !== this.version) await this.refresh();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'cannot poll the director store');
    }
  }

  close(): void {
    clearInterval(this.poller);
  }
}
