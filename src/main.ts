// Runs the gateway: load sluice.yaml (or the embedded defaults), start the listeners, stop gracefully on a signal.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startSluice } from './app.js';
import { defaultConfig } from './config/defaults.js';
import { loadConfigFile } from './config/load.js';
import { watchConfigFile } from './config/watch.js';
import type { SluiceConfig } from './config/schema.js';
import { createLogger } from './observability/logger.js';
import { describeStorage } from './store/open.js';
import { sqlitePath } from './store/sqlite.js';

/** Resolves once listening; the process then lives until SIGTERM or SIGINT, which drain, flush and exit. */
export async function runGateway(configPath: string | undefined): Promise<void> {
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
      const dataDir = config.storage.startsWith('sqlite:') ? dirname(sqlitePath(config.storage)) : './data';
      const keyFile = join(dataDir, 'default-consumer.key');
      mkdirSync(dirname(keyFile), { recursive: true });
      writeFileSync(keyFile, `${defaults.generatedKey}\n`, { mode: 0o600 });
      notice += `; the default consumer's key is in ${keyFile} (set SLUICE_API_KEY to choose it)`;
    }
  }
  const logger = createLogger(config.log.level);
  if (notice !== null) logger.info(notice);
  const sluice = await startSluice(config, logger);
  logger.info({ gateway: sluice.gateway, admin: sluice.admin, models: sluice.context.snapshot.routing.routes.size }, 'sluice is listening');

  let stopWatching = () => {};
  if (configPath !== undefined) {
    const path = configPath;
    let reloading = Promise.resolve();
    // A config that fails to load or validate is logged and the running one stays: a typo never takes the gateway down.
    const reload = () => {
      reloading = reloading.then(async () => {
        try {
          await sluice.reload(await loadConfigFile(path));
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
