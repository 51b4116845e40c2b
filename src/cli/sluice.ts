#!/usr/bin/env -S node --max-semi-space-size=4
// The `sluice` command: `sluice [start] [--config FILE]` runs the gateway; `sluice check --config FILE` validates a config.
// The admin commands (`sluice consumers ...`, `sluice apply -f FILE`, ...) talk to the director API (src/cli/commands/).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile, teamsBeyondFile } from '../config/load.js';
import type { RunOptions } from '../main.js';
import type { RunningDemo } from '../demo/demo.js';
import { isAdminCommand, runAdminCommand } from './commands/index.js';
import { runCa, runDiscover } from './discover.js';

const HELP = `Usage: sluice [command] [options]

Commands:
  start              start the gateway and admin listeners (the default)
  gateway --director URL
                     start a lone gateway that takes consumers, keys, budgets and resource statuses from the
                     director at URL (token: SLUICE_DIRECTOR_TOKEN)
  check              validate a config file and print a summary, then exit
  discover           start the discovery gateway: a forward proxy that inventories AI traffic (docs/discovery.md)
  ca init            write the discovery gateway's organisation CA (certificate and 0600 key)
  demo               try Sluice with nothing to set up: a simulated provider, weeks of history and live traffic on
                     a temporary database; prints the console's URL and an admin token (--port, --admin-port)

Admin commands (the director API on the admin port; run "sluice COMMAND --help" for each):
  consumers          list, get, create, update, delete consumers
  keys               list, create, rotate, revoke a consumer's keys (a new key is shown once)
  teams              list, create, delete teams
  budgets            list, get, delete budgets; "budgets burn-down NAME": spend so far and projected exhaustion
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
  admin-tokens       list, create, revoke admin tokens (a new token is shown once)
  webhooks           list, create, update, delete alert webhooks (a generated secret is shown once)
  compliance         assess now; export the OSCAL component definition, assessment results or POA&M (JSON, YAML)
  They take --url URL (default $SLUICE_ADMIN_URL, else http://127.0.0.1:4001), --token TOKEN
  (default $SLUICE_ADMIN_TOKEN, else ./data/admin.token) and --json.

Options:
  -c, --config FILE  the sluice.yaml to use (default: $SLUICE_CONFIG, else the embedded defaults)
  -h, --help         this help ("sluice start --help": the listeners' flags and variables)
  -v, --version      the version
`;

const START_HELP = `Usage: sluice start [options]
       sluice gateway --director URL [options]

Starts the gateway (OpenAI and Anthropic APIs, default http://127.0.0.1:4000) and the admin listener (director API,
metrics, health; default http://127.0.0.1:4001). Runs until SIGTERM or SIGINT, which finish the calls in flight and
write the ledger. sluice.yaml is reloaded when it changes or on SIGHUP.

Options (a flag wins over its variable, which wins over sluice.yaml, which wins over the default):
  -c, --config FILE      the sluice.yaml to use ($SLUICE_CONFIG); without one, the embedded defaults: every provider
                         whose API key is in the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY or
                         GOOGLE_API_KEY), SQLite in ./data ($SLUICE_STORAGE) and one consumer, "default"
  --port PORT            the gateway's port ($SLUICE_PORT, default 4000; 0: any free port)
  --host HOST            the gateway's address ($SLUICE_HOST, default 127.0.0.1; 0.0.0.0: every interface)
  --admin-port PORT      the admin listener's port ($SLUICE_ADMIN_PORT, default 4001)
  --admin-host HOST      the admin listener's address ($SLUICE_ADMIN_HOST, default 127.0.0.1)
  --workers N            processes serving the listeners, sharing their sockets, counters and ledger
                         ($SLUICE_WORKERS, gateway.workers; default: one per available core; 1: one process)
  --director URL         (sluice gateway) the director to take consumers, keys and budgets from;
                         its token in $SLUICE_DIRECTOR_TOKEN
  -h, --help             this help

Logs: pretty on a terminal, JSON lines otherwise; $SLUICE_LOG_FORMAT (json or pretty) or log.format decides.

Files in the data folder (beside the SQLite file, else ./data), made on the first start, read back on every other:
  admin.token            the director API's bootstrap admin token, unless admin.token or $SLUICE_ADMIN_TOKEN is set;
                         the admin commands read it from ./data/admin.token
  default-consumer.key   without sluice.yaml: the default consumer's key, unless $SLUICE_API_KEY is set
  master.key             seals provider credentials in the store, unless $SLUICE_MASTER_KEY is set
                         ($SLUICE_MASTER_KEY_PREVIOUS: the keys it replaces, in a rotation)
A start that fails (a port in use) leaves admin.token and default-consumer.key as they were.
`;

const CHECK_HELP = `Usage: sluice check --config FILE

Validates a sluice.yaml without starting anything: every field, and what one names elsewhere in the file (a model's
providers, a consumer's models, a budget's consumer), with \${VAR} references resolved from the environment. Prints
a summary and exits 0; on an invalid config prints each error, with the path of the field, and exits 2. A team that
none of the file's consumers belongs to is a warning (it may exist in the director's store, which check does not open).

Options:
  -c, --config FILE      the sluice.yaml to check ($SLUICE_CONFIG)
  -h, --help             this help
`;

const DEMO_HELP = `Usage: sluice demo [options]

Sluice with nothing to set up: a simulated provider, weeks of history and live traffic, on a temporary database that
is deleted when it stops (Ctrl-C). Prints the console's URL and an admin token to sign in with.

Options:
  --port PORT            the gateway's port (default 4000; 0: any free port)
  --admin-port PORT      the admin listener's port, where the console is (default 4001)
  --host HOST            the listeners' address (default 127.0.0.1)
  -h, --help             this help
`;

/** A command's own help, or the general one. */
function helpFor(command: string | undefined): string {
  if (command === 'start' || command === 'gateway') return START_HELP;
  if (command === 'check') return CHECK_HELP;
  if (command === 'demo') return DEMO_HELP;
  return HELP;
}

async function cli(argv: string[]): Promise<number> {
  // Admin commands parse their own flags, so they are dispatched before the gateway's options are read.
  if (isAdminCommand(argv[0])) return runAdminCommand(argv[0], argv.slice(1));
  if (argv[0] === 'discover') return runDiscover(argv.slice(1));
  if (argv[0] === 'ca') return runCa(argv.slice(1));
  const { values, positionals } = parseStartArgs(argv);
  const command = positionals[0] ?? 'start';
  if (values.help) {
    process.stdout.write(helpFor(positionals[0]));
    return 0;
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`sluice ${pkg.version}\n`);
    return 0;
  }
  const configPath = values.config ?? process.env.SLUICE_CONFIG;
  const listeners = { port: values.port, host: values.host, adminPort: values['admin-port'], adminHost: values['admin-host'] };
  const workers = values.workers === undefined ? {} : { workers: values.workers };
  switch (command) {
    case 'start':
      return start(configPath, { listeners, ...workers });
    case 'gateway':
      if (values.director === undefined) {
        process.stderr.write('sluice gateway: name the director with --director URL\n');
        return 2;
      }
      return start(configPath, { director: values.director, listeners, ...workers });
    case 'demo':
      return demo(values.port, values['admin-port'], values.host);
    case 'check': {
      if (configPath === undefined) {
        process.stderr.write('sluice check: name a config file with --config\n');
        return 2;
      }
      const config = await loadConfigFile(configPath);
      // Teams may exist only in the director's store, which check does not open: named, not refused.
      for (const { path, team } of teamsBeyondFile(config)) {
        process.stderr.write(
          `warning: ${configPath}: ${path}: no consumer in this file is of team "${team}"; it binds no consumer unless the director's store has that team\n`,
        );
      }
      process.stdout.write(
        `${configPath}: valid; ${Object.keys(config.providers).length} providers, ${config.models.length} models, ${config.consumers.length} consumers\n`,
      );
      return 0;
    }
    default:
      process.stderr.write(`sluice: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

class UsageError extends Error {}

function parseStartArgs(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        director: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'admin-port': { type: 'string' },
        'admin-host': { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      allowPositionals: true,
    });
  } catch (error) {
    // An unknown flag or one without its value: parseArgs's own message is clear; the stack would not be.
    throw new UsageError((error as Error).message);
  }
}

/** Runs the gateway; resolves to -1 (keep running) once it listens, or 1 when it cannot start for a reason it names. */
async function start(configPath: string | undefined, options: RunOptions): Promise<number> {
  // Loaded only for the commands that run it: the admin commands start in a fraction of the time.
  const { runGateway, StartError } = await import('../main.js');
  try {
    await runGateway(configPath, options);
    return -1;
  } catch (error) {
    if (!(error instanceof StartError)) throw error;
    process.stderr.write(`sluice: ${error.message}\n`);
    return 1;
  }
}

/** Runs `sluice demo` until Ctrl-C; its temporary database is removed on the way out. */
async function demo(port: string | undefined, adminPort: string | undefined, host: string | undefined): Promise<number> {
  const { runDemo } = await import('../demo/demo.js');
  const portOf = (text: string | undefined, fallback: number, flag: string) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0 || value > 65535)
      throw new UsageError(`${flag}: expected a port from 0 to 65535, got "${text}"`);
    return value;
  };
  const { StartError } = await import('../main.js');
  const log = (line: string) => process.stdout.write(`sluice demo: ${line}\n`);
  let running: RunningDemo;
  try {
    running = await runDemo({
      port: portOf(port, 4000, '--port'),
      adminPort: portOf(adminPort, 4001, '--admin-port'),
      ...(host === undefined ? {} : { host }),
      log,
    });
  } catch (error) {
    if (!(error instanceof StartError)) throw error;
    process.stderr.write(`sluice: ${error.message}\n`);
    return 1;
  }
  process.stdout.write(
    [
      '',
      `  Console:      ${running.consoleURL}`,
      `  Admin token:  ${running.adminToken}`,
      `  Viewer token: ${running.viewerToken}   (read-only: no edit controls)`,
      `  Gateway:      ${running.gatewayURL}/v1   (live traffic from ${running.consumers} demo consumers)`,
      '',
      '  Sign in to the console with the admin token. Everything lives in a temporary folder, removed on Ctrl-C.',
      '',
    ].join('\n'),
  );
  const stop = () => {
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

cli(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`sluice: ${error.message} (see "sluice --help" and "sluice start --help")\n`);
      process.exit(2);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`sluice: invalid configuration\n${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`sluice: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
