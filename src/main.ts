// Runs the gateway: load sluice.yaml (or the embedded defaults), start the listeners, stop gracefully on a signal.
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { startSluice, type RunningSluice } from './app.js';
import type { WorkerLink } from './cluster/worker-link.js';
import { ADMIN_PORT_VARIABLE, GATEWAY_PORT_VARIABLE, runPrimary, WORKER_SLOT_VARIABLE } from './cluster/primary.js';
import { PrimaryLink } from './cluster/primary-link.js';
import { SharedCounterStore } from './cluster/shared-counters.js';
import { SharedResponseRecords } from './cluster/shared-response-records.js';
import { SharedFollowedRecords, workerOwner } from './cluster/shared-followed-records.js';
import { SharedLedgerSink } from './cluster/shared-ledger.js';
import { MAX_WORKERS } from './config/schema.js';
import { defaultConfig, NO_PROVIDER_HINT, type DefaultConfig } from './config/defaults.js';
import { withListenerOverrides, type ListenerFlags } from './config/listeners.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import { watchConfigFile } from './config/watch.js';
import { tuneHeapForGateway } from './gateway/heap-tuning.js';
import type { SluiceConfig } from './config/schema.js';
import { createProcessLogger, logFormat } from './observability/logger.js';
import { createDataFile, dataFile, readDataFile } from './config/data-folder.js';
import { LedgerOpenFailed } from './ledger/open-sink.js';
import { SpoolInUse } from './ledger/spool.js';
import { StoreOpenFailed } from './store/errors.js';
import { MasterKey, MasterKeyError } from './store/master-key.js';

/** Resolves once listening; the process then lives until SIGTERM or SIGINT, which drain, flush and exit. */
export interface RunOptions {
  /** A lone gateway: take consumers, keys, budgets and resource statuses from this director (token: SLUICE_DIRECTOR_TOKEN). */
  director?: string;
  /** --port, --host, --admin-port, --admin-host: over SLUICE_PORT and the like, over sluice.yaml. */
  listeners?: ListenerFlags;
  /** --workers: over SLUICE_WORKERS, over gateway.workers, over the available cores. */
  workers?: string;
}

/** A start that cannot go on for a reason the operator can fix (a port in use): its message is all that is printed. */
export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartError';
  }
}

/** A secret made by this start, written to its file only once the listeners are up: a failed start leaves no file. */
interface NewDataFile {
  path: string;
  value: string;
  /** What the file holds, for the log line. */
  holds: string;
  hint: string;
}

export async function runGateway(configPath: string | undefined, run: RunOptions = {}): Promise<void> {
  tuneHeapForGateway();
  const flags = run.listeners ?? {};
  const defaults = configPath === undefined ? defaultConfig() : null;
  let config = withListenerOverrides(defaults?.config ?? (await loadConfigFile(configPath!)), flags);
  const logger = createProcessLogger(config.log.level, logFormat(config.log.format, process.env, process.stdout.isTTY === true));
  const workers = workerCount(run.workers, config);
  if (cluster.isPrimary && workers > 1) {
    try {
      await runPrimary({
        workers,
        storage: config.storage,
        logger,
        gateway: config.gateway,
        admin: config.admin,
        responseRecords: config.responses.maxEntries,
      });
    } catch (error) {
      throw listenFailure(error, config) ?? error;
    }
    return;
  }
  const worker = cluster.isWorker ? workerLink() : undefined;
  const newFiles: NewDataFile[] = [];
  if (defaults !== null) {
    logger.info(defaultsNotice(defaults));
    if (defaults.providers.length === 0) logger.warn(NO_PROVIDER_HINT);
    const { value, origin, file } = defaults.consumerKey;
    if (origin === 'generated')
      newFiles.push({ path: file, value, holds: "the default consumer's key", hint: 'set SLUICE_API_KEY to choose it' });
  }
  let director: { url: string; token: string } | undefined;
  let adminToken: string | undefined;
  if (run.director !== undefined) {
    const token = process.env.SLUICE_DIRECTOR_TOKEN;
    if (token === undefined || token === '')
      throw new ConfigError('sluice gateway --director: set SLUICE_DIRECTOR_TOKEN to an admin or operator token of the director');
    director = { url: run.director, token };
  } else {
    adminToken = bootstrapAdminToken(config, logger, newFiles);
    config = { ...config, admin: { ...config.admin, token: adminToken } };
  }
  const masterKey = director === undefined ? directorMasterKey(config, logger) : undefined;
  let sluice: RunningSluice;
  try {
    sluice = await startSluice(config, logger, {
      ...(director === undefined ? {} : { director }),
      ...(masterKey === undefined ? {} : { masterKey }),
      ...(defaults === null ? {} : { declaredOrigin: 'embedded defaults' as const }),
      ...(worker === undefined ? {} : { worker: worker.link }),
    });
  } catch (error) {
    // What an operator can fix is said in its message alone: a second start in the same folder stops at the spool the
    // first one holds (before it would reach the port in use), a store that cannot be opened names itself and the cause,
    // credentials the master key does not open name the key they need.
    if (
      error instanceof SpoolInUse ||
      error instanceof StoreOpenFailed ||
      error instanceof LedgerOpenFailed ||
      error instanceof MasterKeyError
    )
      throw new StartError(error.message);
    throw listenFailure(error, config) ?? error;
  }
  logger.info({ gateway: sluice.gateway, admin: sluice.admin, models: sluice.context.snapshot.routing.routes.size }, 'sluice is listening');
  for (const file of newFiles) writeNewDataFile(file, logger);
  worker?.primary.listening({ gateway: sluice.gateway, admin: sluice.admin });

  let stopWatching = () => {};
  if (configPath !== undefined) {
    const path = configPath;
    let reloading = Promise.resolve();
    // A config that fails to load or validate is logged and the running one stays: a typo never takes the gateway down.
    const reload = () => {
      reloading = reloading.then(async () => {
        try {
          const next = withListenerOverrides(await loadConfigFile(path), flags);
          if (adminToken !== undefined) next.admin.token ??= adminToken;
          await sluice.reload(next);
        } catch (error) {
          logger.error({ err: (error as Error).message }, 'config reload refused; still serving the previous config');
        }
      });
    };
    stopWatching = watchConfigFile(path, reload);
  }

  const stop = (signal: string) => {
    stopWatching();
    logger.info({ signal }, 'stopping: draining calls in flight and flushing the ledger');
    sluice.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: (error as Error).message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** --workers, else SLUICE_WORKERS, else gateway.workers, else one per available core. */
function workerCount(flag: string | undefined, config: SluiceConfig): number {
  const given = flag ?? process.env.SLUICE_WORKERS;
  if (given === undefined || given === '') return config.gateway.workers ?? availableParallelism();
  const count = Number(given);
  if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) {
    throw new StartError(`--workers (or SLUICE_WORKERS) must be a whole number from 1 to ${MAX_WORKERS}, not "${given}"`);
  }
  return count;
}

/** What a worker shares with the others through its primary. */
function workerLink(): { primary: PrimaryLink; link: WorkerLink } {
  const primary = new PrimaryLink();
  return {
    primary,
    link: {
      slot: Number(process.env[WORKER_SLOT_VARIABLE] ?? '0'),
      counters: new SharedCounterStore(primary),
      responseRecords: new SharedResponseRecords(primary),
      followedRecords: new SharedFollowedRecords(primary),
      owner: workerOwner(process.pid),
      ledgerSink: new SharedLedgerSink(primary),
      metrics: () => primary.request<string>({ op: 'metrics' }),
      provideMetrics: (metrics) => primary.provideMetrics(metrics),
      gatewayPort: Number(process.env[GATEWAY_PORT_VARIABLE]),
      adminPort: Number(process.env[ADMIN_PORT_VARIABLE]),
      takeConnections: (listener, adopt) => primary.takeConnections(listener, adopt),
      draining: () => primary.draining(),
    },
  };
}

function defaultsNotice(defaults: DefaultConfig): string {
  const found = defaults.providers.length > 0 ? defaults.providers.join(', ') : 'none';
  const { origin, file } = defaults.consumerKey;
  const key =
    origin === 'SLUICE_API_KEY'
      ? 'SLUICE_API_KEY'
      : origin === 'file'
        ? `the one in ${file}`
        : `a new one, written to ${file} once listening`;
  return `no config file (--config or SLUICE_CONFIG): running on the embedded defaults; providers from the environment: ${found}; the default consumer's key is ${key}`;
}

/** admin.token, else SLUICE_ADMIN_TOKEN, else the token file of an earlier start, else a new one for that file. */
function bootstrapAdminToken(config: SluiceConfig, logger: { info(message: string): void }, newFiles: NewDataFile[]): string {
  const chosen = config.admin.token ?? process.env.SLUICE_ADMIN_TOKEN;
  if (chosen !== undefined && chosen !== '') return chosen;
  const file = dataFile(config.storage, 'admin.token');
  const kept = readDataFile(file);
  if (kept !== null) {
    logger.info(`the director API's bootstrap admin token is the one in ${file}`);
    return kept;
  }
  const token = `sa-sluice-${randomBytes(32).toString('base64url')}`;
  newFiles.push({
    path: file,
    value: token,
    holds: "the director API's bootstrap admin token",
    hint: 'set admin.token or SLUICE_ADMIN_TOKEN to choose it',
  });
  return token;
}

function writeNewDataFile(file: NewDataFile, logger: { info(message: string): void; warn(message: string): void }): void {
  if (createDataFile(file.path, file.value)) {
    logger.info(`${file.holds} is in ${file.path}, written now (${file.hint})`);
    return;
  }
  // Another process starting on the same data folder wrote it first; its file stays, and this process says so.
  logger.warn(
    `${file.path} was made by another process while this one started and was left as it is: it does not hold this process's ${file.holds.replace(/^the /, '')}; restart this one to use it`,
  );
}

/**
 * SLUICE_MASTER_KEY, else the key in the data folder, made on first start (readable by this user only). Unlike the
 * other files it is made before the listeners: the store seals credentials with it at start, and two processes starting
 * together on one PostgreSQL must both end up with the file's one key, which only one can create.
 */
function directorMasterKey(
  config: SluiceConfig,
  logger: { info(message: string): void; warn(message: string): void },
): MasterKey | undefined {
  if (process.env.SLUICE_MASTER_KEY !== undefined && process.env.SLUICE_MASTER_KEY !== '') return undefined;
  const file = dataFile(config.storage, 'master.key');
  const kept = readDataFile(file);
  if (kept !== null) return MasterKey.parse(kept, file);
  const generated = MasterKey.generate();
  if (!createDataFile(file, generated.text)) return MasterKey.parse(readDataFile(file) ?? '', file);
  const where = config.storage.startsWith('sqlite:') ? '' : ' (with PostgreSQL, give every director the same SLUICE_MASTER_KEY instead)';
  logger.warn(
    `provider credentials are sealed with a master key generated into ${file}: keep it apart from the database's backups${where}`,
  );
  return generated.key;
}

/** A port in use or not ours to take, said plainly with the way out; null for any other failure. */
export function listenFailure(error: unknown, config: SluiceConfig): StartError | null {
  const { code, syscall, port, address } = error as NodeJS.ErrnoException & { port?: number; address?: string };
  if (syscall !== 'listen' || code === undefined) return null;
  const listener =
    port === config.admin.port && port !== config.gateway.port
      ? { name: 'admin API', flag: '--admin-port', variable: 'SLUICE_ADMIN_PORT' }
      : { name: 'gateway', flag: '--port', variable: 'SLUICE_PORT' };
  const where = `${address ?? '?'}:${port ?? '?'}`;
  const why =
    code === 'EADDRINUSE'
      ? 'the address is already in use (EADDRINUSE): another process listens there'
      : code === 'EACCES'
        ? 'permission denied (EACCES): ports below 1024 need privileges'
        : code === 'EADDRNOTAVAIL'
          ? 'this machine has no such address (EADDRNOTAVAIL)'
          : code;
  return new StartError(
    `cannot listen on ${where} for the ${listener.name}: ${why}; choose another with ${listener.flag} or ${listener.variable}`,
  );
}
