// Keeps the gateway's snapshot in step with the director store: rebuilt after every change made through the API, and
// when the store's config version moves (another director process on the same PostgreSQL). Calls in flight keep the
// snapshot they started with; a store that cannot be read leaves the last good snapshot serving.
import type { Logger } from 'pino';
import type { SluiceConfig } from '../config/schema.js';
import type { IdentityRuleDefinition } from '../identity/rules.js';
import type { DirectoryEntry } from '../policy/consumers.js';
import type { AdminStore } from '../store/admin-store.js';
import type { IdentityRuleStore } from '../store/identity-rule-store.js';
import type { MasterKey } from '../store/master-key.js';
import { openProvider, type SnapshotProvider } from './provider-credentials.js';

/** What the director owns, as one versioned document: what `GET /api/gateway/snapshot` serves to lone gateways. */
export interface DirectoryParts {
  version: number;
  consumers: DirectoryEntry[];
  budgets: SluiceConfig['budgets'];
  budgetTemplates: SluiceConfig['budgetTemplates'];
  rateLimits: SluiceConfig['rateLimits'];
  resources: SluiceConfig['resources'];
  /**
   * Providers with their credentials sealed, and models with their routes; null: the file's (a lone gateway before the
   * director answers).
   */
  providers: Record<string, SnapshotProvider> | null;
  models: SluiceConfig['models'] | null;
  /** Which consumer a certificate, mesh identity or JWT stands for; absent from a director older than identity rules. */
  identityRules?: IdentityRuleDefinition[];
}

/** The file's config with the parts the director owns taken from it, and the consumers with their key hashes. */
export interface DirectoryState {
  version: number;
  config: SluiceConfig;
  consumers: DirectoryEntry[];
  identityRules: IdentityRuleDefinition[];
}

export async function readParts(store: AdminStore & IdentityRuleStore): Promise<DirectoryParts> {
  const version = await store.configVersion();
  const consumers: DirectoryEntry[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listConsumers({ limit: 1000, cursor });
    for (const consumer of page.items)
      consumers.push({
        name: consumer.name,
        team: consumer.team,
        owner: consumer.owner,
        labels: consumer.labels,
        models: consumer.models,
        keys: [],
      });
    cursor = page.nextCursor;
  } while (cursor !== null);
  const byName = new Map(consumers.map((consumer) => [consumer.name, consumer]));
  for (const key of await store.activeKeys()) {
    const owner = byName.get(key.consumer);
    if (owner !== undefined)
      (owner.keys as Array<{ id: string; hash: string; expiresAt: number | null }>).push({
        id: key.id,
        hash: key.hash,
        expiresAt: key.expiresAt,
      });
  }
  const resources: SluiceConfig['resources'] = {};
  for (const resource of await store.listResources()) resources[resource.id] = resource.status;
  return {
    version,
    consumers,
    budgets: (await store.listDefinitions('budget')).map((item) => item.definition),
    budgetTemplates: (await store.listDefinitions('budgetTemplate')).map((item) => item.definition),
    rateLimits: (await store.listDefinitions('rateLimit')).map((item) => item.definition),
    resources,
    providers: Object.fromEntries((await store.listProviders()).map((p) => [p.name, { settings: p.settings, credentials: p.credentials }])),
    models: (await store.listModels()).map((item) => item.definition),
    identityRules: (await store.listIdentityRules()).map(({ id, field, match, value, issuer, consumer }) => ({
      id,
      field,
      match,
      value,
      issuer,
      consumer,
    })),
  };
}

/** Throws (MasterKeyError) when a provider's credentials cannot be opened with `masterKey`: the last good snapshot then stays. */
export function stateOf(file: SluiceConfig, parts: DirectoryParts, masterKey: MasterKey | null): DirectoryState {
  const providers =
    parts.providers === null
      ? file.providers
      : Object.fromEntries(Object.entries(parts.providers).map(([name, provider]) => [name, openProvider(masterKey, name, provider)]));
  const config: SluiceConfig = {
    ...file,
    providers,
    models: parts.models ?? file.models,
    consumers: parts.consumers.map((c) => ({
      name: c.name,
      keys: [],
      labels: c.labels,
      ...(c.team === null ? {} : { team: c.team }),
      ...(c.owner === null ? {} : { owner: c.owner }),
      ...(c.models === null ? {} : { models: c.models }),
    })),
    budgets: parts.budgets,
    budgetTemplates: parts.budgetTemplates,
    rateLimits: parts.rateLimits,
    resources: parts.resources,
  };
  return { version: parts.version, config, consumers: parts.consumers, identityRules: parts.identityRules ?? [] };
}

/** Where a gateway's directory comes from: the store in this process, or a director over HTTP (remote.ts). */
export interface DirectorySource {
  /** Everything, now. */
  read(): Promise<DirectoryParts>;
  /** Everything if it changed since `version`, else null: the cheap question asked every poll. */
  changedSince(version: number): Promise<DirectoryParts | null>;
}

export function storeSource(store: AdminStore & IdentityRuleStore): DirectorySource {
  return {
    read: () => readParts(store),
    changedSince: async (version) => ((await store.configVersion()) === version ? null : readParts(store)),
  };
}

/** Serializes rebuilds and coalesces bursts: a change during a rebuild causes exactly one more. */
export class DirectorSync {
  private running: Promise<void> | null;
  private again: boolean;
  /** Set while the director cannot be read, so an outage is logged once, and its end once. */
  private failing: boolean;
  private version: number;
  private readonly poller: NodeJS.Timeout;

  constructor(
    private readonly source: DirectorySource,
    /** The file's config as it is now (reloads replace it). */
    private readonly file: () => SluiceConfig,
    private readonly apply: (state: DirectoryState) => Promise<void>,
    private readonly logger: Logger,
    private readonly masterKey: MasterKey | null,
    initialVersion: number,
    pollMs: number,
  ) {
    this.running = null;
    this.again = false;
    this.failing = false;
    this.version = initialVersion;
    this.poller = setInterval(() => void this.poll(), pollMs);
    this.poller.unref();
  }

  get currentVersion(): number {
    return this.version;
  }

  /** Rebuilds now (after a change through the API, or a reload of the file); resolves when the new snapshot serves. */
  refresh(): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.run(() => this.source.read()).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(fetch: () => Promise<DirectoryParts | null>): Promise<void> {
    do {
      this.again = false;
      try {
        const parts = await fetch();
        if (parts !== null) {
          await this.apply(stateOf(this.file(), parts, this.masterKey));
          this.version = parts.version;
        }
        if (this.failing) this.logger.info({ version: this.version }, 'the director answers again');
        this.failing = false;
      } catch (error) {
        if (!this.failing)
          this.logger.error({ err: (error as Error).message }, 'cannot read the director; still serving the last good snapshot');
        this.failing = true;
      }
      fetch = () => this.source.read();
    } while (this.again);
  }

  private async poll(): Promise<void> {
    if (this.running !== null) return;
    this.running = this.run(() => this.source.changedSince(this.version)).finally(() => {
      this.running = null;
    });
    await this.running;
  }

  close(): void {
    clearInterval(this.poller);
  }
}
