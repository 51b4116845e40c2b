// Runs the gateway: load sluice.yaml (or the embedded defaults), start the listeners, stop gracefully on a signal.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startSluice } from './app.js';
import { defaultConfig } from './config/defaults.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import { watchConfigFile } from './config/watch.js';
import { tuneHeapForGateway } from './gateway/heap-tuning.js';
import type { SluiceConfig } from './config/schema.js';
import { createLogger } from './observability/logger.js';
import { MasterKey } from './store/master-key.js';
import { describeStorage } from './store/open.js';
import { sqlitePath } from './store/sqlite.js';

/** Resolves once listening; the process then lives until SIGTERM or SIGINT, which drain, flush and exit. */
export interface RunOptions {
  /** A lone gateway: take consumers, keys, budgets and resource statuses from this director (token: SLUICE_DIRECTOR_TOKEN). */
  director?: string;
}

export async function runGateway(configPath: string | undefined, run: RunOptions = {}): Promise<void> {
  tuneHeapForGateway();
  let config: SluiceConfig;
  let notice: string | null = null;
  if (configPath !== undefined) {
    config = await loadConfigFile(configPath);
  } else {
    const defaults = defaultConfig();
    config = defaults.config;
    const found = defaults.providers.length > 0 ? defaults.providers.join(', ') : 'none (set OPENAI_API_KEY or ANTHROPIC_API_KEY)';
    notice = `no config file (--config or SLUICE_CONFIG): running on embedded defaults; providers from the environment: ${found}; ledger at ${describeStorage(config.storage)}`;
    if (defaults.generatedKey !== null) {
      // The generated key goes to a file readable only by this user, never to the log.
      const keyFile = join(dataDir(config), 'default-consumer.key');
      mkdirSync(dirname(keyFile), { recursive: true });
      writeFileSync(keyFile, `${defaults.generatedKey}\n`, { mode: 0o600 });
      notice += `; the default consumer's key is in ${keyFile} (set SLUICE_API_KEY to choose it)`;
    }
  }
  const logger = createLogger(config.log.level);
  if (notice !== null) logger.info(notice);
  let director: { url: string; token: string } | undefined;
  let adminToken: string | undefined;
  if (run.director !== undefined) {
    const token = process.env.SLUICE_DIRECTOR_TOKEN;
    if (token === undefined || token === '') throw new ConfigError('sluice gateway --director: set SLUICE_DIRECTOR_TOKEN to an admin or operator token of the director');
    director = { url: run.director, token };
  } else {
    // The director API's bootstrap admin token: admin.token (or SLUICE_ADMIN_TOKEN), else one generated into a file.
    adminToken = config.admin.token ?? process.env.SLUICE_ADMIN_TOKEN ?? generateAdminToken(config, logger);
    config.admin.token = adminToken;
  }
  const masterKey = director === undefined ? directorMasterKey(config, logger) : undefined;
  const sluice = await startSluice(config, logger, director === undefined ? { ...(masterKey === undefined ? {} : { masterKey }) } : { director });
  logger.info({ gateway: sluice.gateway, admin: sluice.admin, models: sluice.context.snapshot.routing.routes.size }, 'sluice is listening');

  let stopWatching = () => {};
  if (configPath !== undefined) {
    const path = configPath;
    let reloading = Promise.resolve();
    // A config that fails to load or validate is logged and the running one stays: a typo never takes the gateway down.
    const reload = () => {
      reloading = reloading.then(async () => {
        try {
          const next = await loadConfigFile(path);
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

function dataDir(config: SluiceConfig): string {
  return config.storage.startsWith('sqlite:') ? dirname(sqlitePath(config.storage)) : './data';
}

/**
 * SLUICE_MASTER_KEY, else the key in the data folder, made on first start (readable by this user only). Two processes
 * starting together on one PostgreSQL both end up with the file's one key: only one can create it.
 */
function directorMasterKey(config: SluiceConfig, logger: { info(message: string): void; warn(message: string): void }): MasterKey | undefined {
  if (process.env.SLUICE_MASTER_KEY !== undefined && process.env.SLUICE_MASTER_KEY !== '') return undefined;
  const file = join(dataDir(config), 'master.key');
  mkdirSync(dirname(file), { recursive: true });
  const generated = MasterKey.generate();
  // Written aside, then linked into place: link() fails if the file exists, and never shows a half-written one.
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, `${generated.text}\n`, { mode: 0o600 });
  try {
    linkSync(aside, file);
    const where = config.storage.startsWith('sqlite:') ? '' : ' (with PostgreSQL, give every director the same SLUICE_MASTER_KEY instead)';
    logger.warn(`provider credentials are sealed with a master key generated into ${file}: keep it apart from the database's backups${where}`);
    return generated.key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return MasterKey.parse(readFileSync(file, 'utf8'), file);
  } finally {
    unlinkSync(aside);
  }
}

function generateAdminToken(config: SluiceConfig, logger: { info(message: string): void }): string {
  const token = `sa-sluice-${randomBytes(32).toString('base64url')}`;
  const file = join(dataDir(config), 'admin.token');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  logger.info(`the director API's bootstrap admin token is in ${file} (set admin.token or SLUICE_ADMIN_TOKEN to choose it)`);
  return token;
}
