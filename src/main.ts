// Entry point: load sluice.yaml (or the embedded defaults), start the gateway and admin listeners, stop gracefully.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSluice } from './app.js';
import { defaultConfig } from './config/defaults.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { SluiceConfig } from './config/schema.js';
import { createLogger } from './observability/logger.js';
import { sqlitePath } from './store/sqlite.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } }, allowPositionals: true });
  const configPath = values.config ?? process.env.SLUICE_CONFIG;
  let config: SluiceConfig;
  let notice: string | null = null;
  if (configPath !== undefined) {
    config = await loadConfigFile(configPath);
  } else {
    const defaults = defaultConfig();
    config = defaults.config;
    const found = defaults.providers.length > 0 ? defaults.providers.join(', ') : 'none (set OPENAI_API_KEY or ANTHROPIC_API_KEY)';
    notice = `no config file (--config or SLUICE_CONFIG): running on embedded defaults; providers from the environment: ${found}; ledger at ${sqlitePath(config.storage)}`;
    if (defaults.generatedKey !== null) {
      // The generated key goes to a file readable only by this user, never to the log.
      const keyFile = join(dirname(sqlitePath(config.storage)), 'default-consumer.key');
      mkdirSync(dirname(keyFile), { recursive: true });
      writeFileSync(keyFile, `${defaults.generatedKey}\n`, { mode: 0o600 });
      notice += `; the default consumer's key is in ${keyFile} (set SLUICE_API_KEY to choose it)`;
    }
  }
  const logger = createLogger(config.log.level);
  if (notice !== null) logger.info(notice);
  const sluice = await startSluice(config, logger);
  logger.info({ gateway: sluice.gateway, admin: sluice.admin, models: sluice.context.routing.routes.size }, 'sluice is listening');

  const stop = (signal: string) => {
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

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`sluice: invalid configuration\n${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`sluice: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
