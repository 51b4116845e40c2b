// Where this process's providers, models, consumers, keys, budgets and resource statuses come from: the director store it runs itself
// (the default: sluice.yaml applied to it, the API on the admin port), or a director elsewhere (`--director URL`).
import type { Logger } from 'pino';
import { teamsBeyondFile } from '../config/load.js';
import type { SluiceConfig } from '../config/schema.js';
import { hashKey } from '../policy/consumers.js';
import { DISCOVERY_POLICY } from '../policy/discovery.js';
import type { DirectorStore } from '../store/director-store.js';
import type { MasterKey } from '../store/master-key.js';
import { openDirectorStore } from '../store/open.js';
import { applyDeclared, type DeclaredOrigin } from './declared.js';
import { resealUnderCurrentKey } from './master-key-rotation.js';
import { RemoteDirector } from './remote.js';
import { sealStoredWebhookSecrets } from './webhook-secrets.js';
import { readParts, storeSource, type DirectoryParts, type DirectorySource } from './sync.js';

export interface Directory {
  source: DirectorySource;
  /** The parts to start with. */
  initial: DirectoryParts;
  /** The director store when this process is the director; null for a lone gateway. */
  store: DirectorStore | null;
  /** Called with a reloaded sluice.yaml before the snapshot is rebuilt. */
  reloaded(next: SluiceConfig): Promise<void>;
  /** Last-used times of keys: to the store, or reported to the director by a lone gateway. */
  recordKeyUse(usage: ReadonlyMap<string, number>): Promise<void>;
  close(): Promise<void>;
}

export async function openLocalDirectory(
  config: SluiceConfig,
  masterKey: MasterKey,
  logger: Logger,
  origin: DeclaredOrigin = 'sluice.yaml',
): Promise<Directory> {
  const store = await openDirectorStore(config.storage, { discovery: DISCOVERY_POLICY });
  await store.allOrNothing(() => applyDeclared(store, config, masterKey, origin));
  await warnOfMissingTeams(store, config, logger);
  await sealStoredWebhookSecrets(store, masterKey);
  const resealed = await resealUnderCurrentKey(store, masterKey);
  if (resealed.providers + resealed.webhooks > 0) {
    logger.info(
      { resealed, masterKey: masterKey.id, replaces: masterKey.replaces },
      `master key rotation: sealed again under master key ${masterKey.id} the credentials of ${resealed.providers} provider(s) and ${resealed.webhooks} webhook secret(s) that a replaced key sealed`,
    );
  }
  return {
    source: storeSource(store),
    initial: await readParts(store),
    store,
    reloaded: async (next) => {
      // All or nothing: a reload the store refuses (it would drop a model a consumer still names) is logged as refused,
      // and the previous config must then still be what the store holds, not the part of the new one applied before.
      await store.allOrNothing(() => applyDeclared(store, next, masterKey));
      await warnOfMissingTeams(store, next, logger);
    },
    recordKeyUse: (usage) => (usage.size === 0 ? Promise.resolve() : store.touchKeys(usage)),
    close: () => store.close(),
  };
}

/**
 * A team sluice.yaml names (a budget's, template's, rate limit's or MCP grant's) that neither its consumers nor the store
 * have binds no consumer: a typo would switch the control off unseen, so it is logged. Not refused, since the team may be
 * created through the API later; the API and `sluice apply` refuse such a name outright, as the store is theirs.
 */
async function warnOfMissingTeams(store: DirectorStore, config: SluiceConfig, logger: Logger): Promise<void> {
  for (const { path, team } of teamsBeyondFile(config)) {
    if ((await store.getTeam(team)) !== null) continue;
    logger.warn(
      { path, team },
      `sluice.yaml: ${path}: no team named "${team}", neither among the file's consumers nor in the director's store; it binds no consumer until that team exists`,
    );
  }
}

/**
 * A lone gateway starts from the director's snapshot; if the director cannot be reached at start, from what its own
 * sluice.yaml declares (logged), taking the director's as soon as it answers.
 */
export async function openRemoteDirectory(url: string, token: string, config: SluiceConfig, logger: Logger): Promise<Directory> {
  const source = new RemoteDirector(url, token);
  let initial: DirectoryParts;
  try {
    initial = await source.read();
  } catch (error) {
    logger.error(
      { director: url, err: (error as Error).message },
      'the director cannot be reached; starting on what sluice.yaml declares until it answers',
    );
    initial = declaredParts(config);
  }
  return {
    source,
    initial,
    store: null,
    reloaded: async () => undefined,
    recordKeyUse: (usage) => (usage.size === 0 ? Promise.resolve() : source.recordKeyUse(usage)),
    close: async () => undefined,
  };
}

/** What the file alone declares, in the snapshot's form; version -1 so the director's first answer always replaces it. */
function declaredParts(config: SluiceConfig): DirectoryParts {
  return {
    version: -1,
    consumers: config.consumers.map((c) => ({
      name: c.name,
      team: c.team ?? null,
      owner: c.owner ?? null,
      labels: c.labels,
      models: c.models ?? null,
      keys: c.keys.map((key, i) => ({ id: `${c.name}#${i}`, hash: hashKey(key), expiresAt: null })),
    })),
    budgets: config.budgets,
    budgetTemplates: config.budgetTemplates,
    rateLimits: config.rateLimits,
    resources: config.resources,
    providers: null,
    models: null,
  };
}
