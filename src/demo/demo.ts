// `sluice demo`: Sluice on a temporary SQLite file with a simulated provider, weeks of made-up history written through
// the store's ledger insert (the rollups follow in the same transaction), teams, consumers, budgets (one exhausted), a
// template, an unsanctioned model in monitor mode, undeclared callers reported to the reconciliation intake, and live
// traffic. It prints the console's URL and an admin token, and cleans up on Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSluice, type RunningSluice } from '../app.js';
import { listenFailure } from '../main.js';
import { validateConfig } from '../config/load.js';
import { openDirectorStore } from '../store/open.js';
import { MasterKey } from '../store/master-key.js';
import { startSimulatedProvider, type SimulatedProvider } from './simulated-provider.js';
import {
  DEMO_CONSUMERS,
  DEMO_ROUTES,
  DEMO_TEAMS,
  historyCalls,
  historyObservations,
  MISTRAL_PRICING,
  RESPONSE_CACHED,
} from './scenario.js';
import { startTraffic } from './traffic.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/**
 * Nine weeks: the forecast's 28 days of weekday history, last month for "this month against last", and two full 30-day
 * windows for the cost drivers (with five weeks, their earlier window held five days, and every driver read as growth).
 */
const HISTORY_DAYS = 63;

export interface DemoOptions {
  port: number;
  adminPort: number;
  host?: string;
  /** Live traffic every this many milliseconds (0: none). */
  intervalMs?: number;
  log?: (line: string) => void;
}

export interface RunningDemo {
  consoleURL: string;
  gatewayURL: string;
  adminURL: string;
  adminToken: string;
  viewerToken: string;
  /** How many consumers send the live traffic. */
  consumers: number;
  stop(): Promise<void>;
}

class DemoAdmin {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`sluice demo: ${method} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }
}

function demoConfig(dir: string, provider: SimulatedProvider, options: DemoOptions, adminToken: string) {
  const host = options.host ?? '127.0.0.1';
  const simulated = { type: 'openai', baseUrl: provider.url, apiKey: 'sk-demo-simulated-provider' };
  return validateConfig(
    {
      gateway: { host, port: options.port },
      admin: { host, port: options.adminPort, token: adminToken },
      storage: `sqlite:${join(dir, 'sluice.db')}`,
      ledger: { spoolDir: join(dir, 'ledger-spool') },
      log: { level: 'warn' },
      providers: {
        openai: simulated,
        mistral: simulated,
        anthropic: { type: 'anthropic', baseUrl: provider.anthropicUrl, apiKey: 'sk-ant-demo-simulated-provider' },
      },
      models: [
        ...Object.entries(DEMO_ROUTES).map(([name, route]) => ({
          name,
          targets: [route],
          ...(route.provider === 'mistral' ? { pricing: MISTRAL_PRICING } : {}),
        })),
        { name: 'text-embedding-3-small', targets: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
      ],
      resources: {
        'openai/gpt-4o-mini': 'sanctioned',
        'openai/gpt-4.1': 'sanctioned',
        'openai/text-embedding-3-small': 'sanctioned',
        'openai/gpt-4o': 'unsanctioned',
        'anthropic/claude-sonnet-4-5': 'sanctioned',
      },
      // Repeated questions to gpt-4o-mini and gpt-4.1 are answered from the response cache, shared within a team.
      cache: { scope: 'team', ttlSeconds: 3_600, models: Object.fromEntries(RESPONSE_CACHED.map((model) => [model, {}])) },
      // gpt-4o is unsanctioned, but served and reported as a violation while the teams move off it.
      resourcePolicy: { unsanctioned: 'monitor', unreviewed: 'allow' },
    },
    'sluice demo',
  );
}

/** Weeks of history through the store's own ledger insert, before the gateway starts (its counters are seeded from it). */
async function writeHistory(storage: string, now: number): Promise<number> {
  const store = await openDirectorStore(storage);
  try {
    const calls = historyCalls(now - HISTORY_DAYS * DAY, now - 60_000);
    for (let at = 0; at < calls.length; at += 2_000) await store.insertTransactions(calls.slice(at, at + 2_000));
    return calls.length;
  } finally {
    await store.close();
  }
}

/**
 * Budgets sized from the history: research's month already spent (its limit what the history spent, to the nano-dollar
 * the usage gives it in: refused from now on, and shown spent to its limit, where a limit rounded down to the cent read
 * as a cent past it), payments' on course to run out.
 */
async function createPolicies(admin: DemoAdmin, now: number): Promise<void> {
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const to = Math.floor(now / HOUR) * HOUR + HOUR;
  const from = Math.min(monthStart, to - HOUR);
  const usage = await admin.send<{ items: Array<{ group: { team: string }; cost: { nanoUsd: number } }> }>(
    'GET',
    `/api/usage?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&bucket=month&groupBy=team`,
  );
  const spent = (team: string) =>
    usage.items.filter((item) => item.group.team === team).reduce((sum, item) => sum + item.cost.nanoUsd, 0) / 1e9;
  const monthEnd = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1);
  const elapsed = Math.max(0.05, (now - monthStart) / (monthEnd - monthStart));
  const usd = (value: number) => Math.max(1, Math.round(value * 100) / 100);
  await admin.send('POST', '/api/apply', {
    budgets: [
      {
        name: 'research-monthly',
        consumers: { team: 'research' },
        measure: 'cost_usd',
        limit: Math.max(1, spent('research')),
        window: 'month',
        alerts: [50, 80, 100],
      },
      {
        name: 'payments-monthly',
        consumers: { team: 'payments' },
        measure: 'cost_usd',
        limit: usd((spent('payments') / elapsed) * 0.9),
        window: 'month',
        alerts: [50, 80, 100],
      },
      {
        name: 'search-daily-tokens',
        consumers: { team: 'search' },
        measure: 'total_tokens',
        limit: 600_000,
        window: 'day',
        mode: 'monitor',
        alerts: [80, 100],
      },
    ],
    budgetTemplates: [
      {
        name: 'batch-daily',
        selector: { labels: { tier: 'batch' } },
        measure: 'total_tokens',
        limit: 2_000_000,
        window: 'day',
        alerts: [80],
      },
    ],
  });
}

export async function runDemo(options: DemoOptions): Promise<RunningDemo> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
  const adminToken = `sa-sluice-demo-${randomBytes(24).toString('base64url')}`;
  const provider = await startSimulatedProvider();
  let sluice: RunningSluice | null = null;
  let stopTraffic: (() => Promise<void>) | null = null;
  const stop = async () => {
    await stopTraffic?.();
    await sluice?.stop(2_000);
    await provider.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const config = demoConfig(dir, provider, options, adminToken);
    const now = Date.now();
    log(`writing ${HISTORY_DAYS} days of simulated history into ${join(dir, 'sluice.db')} ...`);
    const written = await writeHistory(config.storage, now);
    log(`${written.toLocaleString('en-US')} calls written`);
    // A port in use (`npm start` still running) is said as `sluice start` says it, not as a stack trace.
    sluice = await startSluice(config, pino({ level: 'warn' }), { masterKey: MasterKey.generate().key }).catch((error: unknown) => {
      throw listenFailure(error, config) ?? error;
    });
    const adminURL = `http://${config.admin.host}:${sluice.admin.port}`;
    const gatewayURL = `http://${config.gateway.host}:${sluice.gateway.port}`;
    const admin = new DemoAdmin(adminURL, adminToken);
    await admin.send('POST', '/api/apply', {
      teams: DEMO_TEAMS.map((team) => ({ ...team })),
      consumers: DEMO_CONSUMERS.map(({ name, team, owner, labels }) => ({ name, team, owner, labels })),
    });
    await createPolicies(admin, now);
    const keys = new Map<string, string>();
    for (const consumer of DEMO_CONSUMERS) {
      const made = await admin.send<{ plaintext: string }>('POST', `/api/consumers/${consumer.name}/keys`, { name: 'demo' });
      keys.set(consumer.name, made.plaintext);
    }
    await admin.send('POST', '/api/reconciliation/observations', { observations: historyObservations(now, 14) });
    const viewer = await admin.send<{ plaintext: string }>('POST', '/api/admin-tokens', { name: 'demo-viewer', role: 'viewer' });
    if ((options.intervalMs ?? 1_500) > 0) {
      stopTraffic = startTraffic({ gatewayURL, adminURL, adminToken, keys, intervalMs: options.intervalMs ?? 1_500 });
    }
    return {
      consoleURL: `${adminURL}/console/`,
      gatewayURL,
      adminURL,
      adminToken,
      viewerToken: viewer.plaintext,
      consumers: DEMO_CONSUMERS.length,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
