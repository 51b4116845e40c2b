#!/usr/bin/env node
// The `sluice` command: `sluice [start] [--config FILE]` runs the gateway; `sluice check --config FILE` validates a config.
// The admin commands (`sluice consumers ...`, `sluice apply -f FILE`, ...) talk to the director API (src/cli/commands/).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { isAdminCommand, runAdminCommand } from './commands/index.js';

const HELP = `Usage: sluice [command] [options]

Commands:
  start              start the gateway and admin listeners (the default)
  gateway --director URL
                     start a lone gateway that takes consumers, keys, budgets and resource statuses from the
                     director at URL (token: SLUICE_DIRECTOR_TOKEN)
  check              validate a config file and print a summary, then exit

Admin commands (the director API on the admin port; run "sluice COMMAND --help" for each):
  consumers          list, get, create, update, delete consumers
  keys               list, create, rotate, revoke a consumer's keys (a new key is shown once)
  teams              list, create, delete teams
  budgets            list, get, delete budgets
  templates          list, get, delete budget templates
  ratelimits         list, get, delete rate limits
  providers          list, get, delete providers (credentials: only which are set)
  models             list, get, delete models and their routes
  resources          list resources, set one's status (sanctioned, unsanctioned, unreviewed)
  usage              usage and cost per bucket and group; "usage drivers": the top cost changes
  report             chargeback per team for a month (table, JSON or CSV); month-end forecast
  audit              the audit log, newest first
  apply -f FILE      create or update teams, models, consumers, policies and resources to match a YAML file
  reconcile          discovered consumers and resources: list, show, assign, create, ignore; rules
  They take --url URL (default $SLUICE_ADMIN_URL, else http://127.0.0.1:4001), --token TOKEN
  (default $SLUICE_ADMIN_TOKEN, else ./data/admin.token) and --json.

Options:
  -c, --config FILE  the sluice.yaml to use (default: $SLUICE_CONFIG, else the embedded defaults)
  -h, --help         this help
  -v, --version      the version
`;

async function cli(argv: string[]): Promise<number> {
  // Admin commands parse their own flags, so they are dispatched before the gateway's options are read.
  if (isAdminCommand(argv[0])) return runAdminCommand(argv[0], argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, director: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`sluice ${pkg.version}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'start';
  const configPath = values.config ?? process.env.SLUICE_CONFIG;
  switch (command) {
    case 'start':
      // Loaded only for the commands that run it: the admin commands start in a fraction of the time.
      await (await import('../main.js')).runGateway(configPath);
      return -1;
    case 'gateway':
      if (values.director === undefined) {
        process.stderr.write('sluice gateway: name the director with --director URL\n');
        return 2;
      }
      await (await import('../main.js')).runGateway(configPath, { director: values.director });
      return -1;
    case 'check': {
      if (configPath === undefined) {
        process.stderr.write('sluice check: name a config file with --config\n');
        return 2;
      }
      const config = await loadConfigFile(configPath);
      process.stdout.write(`${configPath}: valid; ${Object.keys(config.providers).length} providers, ${config.models.length} models, ${config.consumers.length} consumers\n`);
      return 0;
    }
    default:
      process.stderr.write(`sluice: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

cli(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`sluice: invalid configuration\n${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`sluice: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
