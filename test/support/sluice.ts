// Starts a real Sluice for a test: in-process on port 0 with a fresh SQLite file, or as a child process for signal tests.
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import Database from 'better-sqlite3';
import { startSluice, type RunningSluice, type StartOptions } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import type { SluiceConfig } from '../../src/config/schema.js';
import { MasterKey } from '../../src/store/master-key.js';
import { scratchDir } from './scratch.js';
import { until } from './until.js';

/** The master key test directors seal provider credentials with; lone gateways under test are given it too. */
export const TEST_MASTER_KEY_TEXT = 'c2x1aWNlLXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE=';
export const TEST_MASTER_KEY = MasterKey.parse(TEST_MASTER_KEY_TEXT);

export const KEYS = { checkout: 'sk-sluice-test-checkout-0001', search: 'sk-sluice-test-search-0002' } as const;

export interface TestSluice {
  sluice: RunningSluice;
  baseURL: string;
  adminURL: string;
  dbPath: string;
  /** The validated config it was started with, for a test to change and reload. */
  config: SluiceConfig;
  stop(): Promise<void>;
}

/**
 * `overrides` is merged over a config with two consumers and no providers; tests add providers and models.
 * `options.logger`: where the log goes (silent unless given), for tests that read it.
 */
export async function startTestSluice(
  overrides: Record<string, unknown>,
  options: StartOptions & { logger?: Logger } = {},
): Promise<TestSluice> {
  const dir = scratchDir('sluice-test-');
  const dbPath = join(dir, 'sluice.db');
  const { ledger, ...rest } = overrides;
  const config = validateConfig(
    {
      gateway: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      storage: `sqlite:${dbPath}`,
      // The spool in the test's own folder whatever the storage (with PostgreSQL it would default to ./data).
      ledger: { flushIntervalMs: 20, spoolDir: join(dir, 'ledger-spool'), ...(ledger as Record<string, unknown> | undefined) },
      routing: { retry: { attempts: 1, backoffMs: 5, timeoutMs: 5_000 } },
      log: { level: 'silent' },
      consumers: [
        { name: 'checkout-service', team: 'payments', owner: 'alice@example.com', keys: [KEYS.checkout] },
        { name: 'search-service', team: 'discovery', owner: 'bob@example.com', keys: [KEYS.search], models: ['gpt-4o-mini'] },
      ],
      ...rest,
    },
    'test config',
  );
  const { logger = pino({ level: 'silent' }), ...start } = options;
  const sluice = await startSluice(config, logger, { masterKey: TEST_MASTER_KEY, ...start });
  return {
    sluice,
    baseURL: `http://127.0.0.1:${sluice.gateway.port}`,
    adminURL: `http://127.0.0.1:${sluice.admin.port}`,
    dbPath,
    config,
    stop: () => sluice.stop(2_000),
  };
}

export interface LedgerRow {
  request_id: string;
  operation: string;
  api: string;
  consumer: string | null;
  team: string | null;
  requested_model: string | null;
  provider: string | null;
  provider_model: string | null;
  stream: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  tokens_estimated: number;
  cost_micro_usd: number | null;
  /** Migration 22's; NULL in rows written before it. */
  cost_nano_usd: number | null;
  latency_ms: number;
  time_to_first_token_ms: number | null;
  status: number;
  error_class: string | null;
  attempts: number;
  served_model: string | null;
  violations: string | null;
  identity: string | null;
  saved_micro_usd: number;
}

/** Waits until the ledger's writer has committed what was appended, then reads the rows. */
export async function ledgerRows(test: TestSluice): Promise<LedgerRow[]> {
  await test.sluice.settled();
  const db = new Database(test.dbPath, { readonly: true });
  try {
    return db.prepare('SELECT * FROM transactions ORDER BY id').all() as LedgerRow[];
  } finally {
    db.close();
  }
}

/**
 * The first ledger row `found` picks, once written: for a call finished after its answer (a background response the
 * gateway follows, whose retrievals back off to one every 30 s: the 90 s deadline leaves a slow machine room for two).
 */
export async function ledgerRowWhere(test: TestSluice, what: string, found: (row: LedgerRow) => boolean): Promise<LedgerRow> {
  let row: LedgerRow | undefined;
  await until(
    what,
    async () => {
      row = (await ledgerRows(test)).find(found);
      return row !== undefined;
    },
    90_000,
    100,
  );
  return row!;
}

/** Sluice's own logger at debug level, writing to lines the test reads back. */
export function capturedLogger(): { logger: Logger; lines: () => string[] } {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
  return { logger, lines: () => lines };
}
