// npm run bench -- analytics: usage analytics on a large ledger. Generates the same synthetic ledger (ledger-generator.ts)
// into a fresh SQLite file and a fresh PostgreSQL database through the store's own insertTransactions (so the hourly
// rollups are maintained as in production), then times a 90-day usage query by team in daily buckets, read from the
// rollups through the store, beside the same figures computed from the raw transactions table: the baseline.
// Loading is not what is measured; it is reported so the run can be judged. Both results are checked to agree.
//
//   BENCH_ROWS      ledger rows per store (default 10000000)
//   BENCH_STORES    comma list: sqlite, postgres (default both)
//   BENCH_DAYS      days of ledger, ending at 2026-12-01T00:00Z (default 92; the query reads the last 90)
//   BENCH_RUNS      timed runs of each query, after one warm-up run (default 7)
//   BENCH_BATCH     rows per insertTransactions call, one transaction each (default 20000)
//   BENCH_POSTGRES  the PostgreSQL server (default postgres://postgres@127.0.0.1:5432); a database is made and dropped
//   BENCH_KEEP      set to keep the SQLite file and the PostgreSQL database afterwards
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DirectorStore, UsageRow } from '../src/store/director-store.js';
import { openDirectorStore } from '../src/store/open.js';
import { generateLedger, type LedgerShape } from './ledger-generator.js';

const DAY_MS = 86_400_000;
const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const STORES = (process.env.BENCH_STORES ?? 'sqlite,postgres')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
const DAYS = Number(process.env.BENCH_DAYS ?? 92);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const BATCH = Number(process.env.BENCH_BATCH ?? 20_000);
const POSTGRES_SERVER = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const KEEP = process.env.BENCH_KEEP !== undefined;
const END = Date.UTC(2026, 11, 1);
const QUERY = { from: END - 90 * DAY_MS, to: END };

/** The baseline: the same daily-by-team figures straight from the ledger's rows, as a report would compute them without rollups. */
const BASELINE_SQL = `SELECT (started_at / 86400000) * 86400000 AS day, COALESCE(team, '') AS team, COUNT(*) AS calls,
    SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, SUM(cached_input_tokens) AS cached_input_tokens,
    COALESCE(SUM(COALESCE(cost_nano_usd, cost_micro_usd * 1000)), 0) AS cost, SUM(CASE WHEN cost_micro_usd IS NULL THEN 1 ELSE 0 END) AS unpriced
  FROM transactions WHERE started_at >= ? AND started_at < ? GROUP BY 1, 2 ORDER BY 1, 2`;

/** What the bench needs of a database beyond the store: the baseline, statistics, sizes. */
interface Bench {
  name: string;
  storage: string;
  baseline(): Promise<string[]>;
  /** What a database that has been running a while would have: planner statistics (and PostgreSQL's visibility map). */
  settle(): Promise<void>;
  sizes(): Promise<{ bytes: number; rollupRows: number; dailyRows: number; ledgerRows: number }>;
  close(): Promise<void>;
}

/** One line per (day, team), the same shape from both paths, so the two answers can be compared. */
function line(day: number, team: string, values: number[]): string {
  return `${new Date(day).toISOString().slice(0, 10)} ${team} ${values.join(' ')}`;
}

function fromRollups(rows: UsageRow[]): string[] {
  return rows.map((row) =>
    line(row.bucketStart, row.group.team ?? '', [
      row.calls,
      row.inputTokens,
      row.outputTokens,
      row.cachedInputTokens,
      row.costNanoUsd,
      row.unpricedCalls,
    ]),
  );
}

function fromBaseline(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((row) =>
    line(
      Number(row.day),
      String(row.team),
      ['calls', 'input_tokens', 'output_tokens', 'cached_input_tokens', 'cost', 'unpriced'].map((column) => Number(row[column])),
    ),
  );
}

async function sqliteBench(): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-analytics-'));
  const path = join(dir, 'ledger.db');
  let db: Database.Database | null = null;
  const connection = () => {
    db ??= new Database(path);
    return db;
  };
  let baseline: Database.Statement | null = null;
  return {
    name: 'sqlite',
    storage: `sqlite:${path}`,
    baseline: async () => {
      baseline ??= connection().prepare(BASELINE_SQL);
      return fromBaseline(baseline.all(QUERY.from, QUERY.to) as Array<Record<string, unknown>>);
    },
    settle: async () => {
      connection().pragma('wal_checkpoint(TRUNCATE)');
      connection().exec('ANALYZE');
    },
    sizes: async () => {
      const count = (table: string) =>
        Number((connection().prepare(`SELECT COUNT(*) AS count FROM ${table}`).get() as { count: number }).count);
      return {
        bytes: statSync(path).size,
        rollupRows: count('usage_hourly'),
        dailyRows: count('usage_daily'),
        ledgerRows: count('transactions'),
      };
    },
    close: async () => {
      db?.close();
      if (!KEEP) rmSync(dir, { recursive: true, force: true });
      else console.log(`kept ${path}`);
    },
  };
}

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${POSTGRES_SERVER}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function postgresBench(): Promise<Bench> {
  const name = `sluice_bench_${randomBytes(4).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`);
  const url = `${POSTGRES_SERVER}/${name}`;
  const client = new pg.Client({ connectionString: url });
  let connected = false;
  const connection = async () => {
    if (!connected) {
      await client.connect();
      connected = true;
    }
    return client;
  };
  let index = 0;
  const text = BASELINE_SQL.replace(/\?/g, () => `$${++index}`);
  return {
    name: 'postgres',
    storage: url,
    // A named statement, prepared once like the store's.
    baseline: async () => fromBaseline((await (await connection()).query({ name: 'baseline', text, values: [QUERY.from, QUERY.to] })).rows),
    settle: async () => {
      await (await connection()).query('VACUUM ANALYZE transactions');
      await (await connection()).query('VACUUM ANALYZE usage_hourly');
      await (await connection()).query('VACUUM ANALYZE usage_daily');
    },
    sizes: async () => {
      const c = await connection();
      const count = async (table: string) => Number((await c.query(`SELECT COUNT(*) AS count FROM ${table}`)).rows[0].count);
      const bytes = Number((await c.query('SELECT pg_database_size(current_database()) AS bytes')).rows[0].bytes);
      return {
        bytes,
        rollupRows: await count('usage_hourly'),
        dailyRows: await count('usage_daily'),
        ledgerRows: await count('transactions'),
      };
    },
    close: async () => {
      if (connected) await client.end();
      if (!KEEP) await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      else console.log(`kept ${url}`);
    },
  };
}

async function load(bench: Bench, store: DirectorStore, shape: LedgerShape): Promise<number> {
  const started = performance.now();
  let written = 0;
  let reported = 0;
  for (const rows of generateLedger(shape, BATCH)) {
    await store.insertTransactions(rows);
    written += rows.length;
    if (written - reported >= shape.rows / 10 || written === shape.rows) {
      reported = written;
      const seconds = (performance.now() - started) / 1_000;
      console.log(
        `  ${bench.name}: loaded ${written.toLocaleString('en-US')} rows in ${seconds.toFixed(0)} s (${Math.round(written / seconds).toLocaleString('en-US')} rows/s)`,
      );
    }
  }
  return (performance.now() - started) / 1_000;
}

interface Timing {
  warmUp: number;
  median: number;
  min: number;
  result: string[];
}

async function time(run: () => Promise<string[]>): Promise<Timing> {
  let started = performance.now();
  const result = await run();
  const warmUp = performance.now() - started;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const middle = Math.floor(times.length / 2);
  const median = times.length % 2 === 1 ? times[middle]! : (times[middle - 1]! + times[middle]!) / 2;
  return { warmUp, median, min: times[0]!, result };
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)).padStart(8);
const count = (value: number) => value.toLocaleString('en-US');

async function measure(kind: string, shape: LedgerShape): Promise<string[]> {
  const bench = kind === 'sqlite' ? await sqliteBench() : await postgresBench();
  const store = await openDirectorStore(bench.storage);
  try {
    const loadSeconds = await load(bench, store, shape);
    await bench.settle();
    const sizes = await bench.sizes();
    const rollups = await time(async () => fromRollups(await store.usage({ ...QUERY, bucket: 'day', groupBy: ['team'] })));
    const baseline = await time(() => bench.baseline());
    const agree = JSON.stringify(rollups.result) === JSON.stringify([...baseline.result].sort());
    return [
      `${kind}: ${count(sizes.ledgerRows)} ledger rows -> ${count(sizes.rollupRows)} hourly rollup rows ` +
        `(${(sizes.ledgerRows / Math.max(1, sizes.rollupRows)).toFixed(1)} calls per rollup row), ${count(sizes.dailyRows)} daily; loaded in ${loadSeconds.toFixed(0)} s ` +
        `through insertTransactions; database ${(sizes.bytes / 2 ** 30).toFixed(2)} GiB`,
      `  ${'query: 90 days by team, daily buckets'.padEnd(44)}${'warm-up'.padStart(8)}${'median'.padStart(8)}${'min'.padStart(8)}  (ms)  rows`,
      `  ${'usage() from the rollups'.padEnd(44)}${ms(rollups.warmUp)}${ms(rollups.median)}${ms(rollups.min)}        ${rollups.result.length}`,
      `  ${'baseline: the same from transactions'.padEnd(44)}${ms(baseline.warmUp)}${ms(baseline.median)}${ms(baseline.min)}        ${baseline.result.length}`,
      `  rollups ${(baseline.median / rollups.median).toFixed(1)}x faster by median (${(baseline.min / rollups.min).toFixed(1)}x by min); ` +
        `results ${agree ? 'agree' : 'DIFFER'}`,
    ];
  } finally {
    await store.close();
    await bench.close();
  }
}

async function main(): Promise<void> {
  const shape: LedgerShape = { rows: ROWS, end: END, days: DAYS, consumers: 200, teams: 20 };
  console.log(
    `Sluice analytics benchmark: ${count(ROWS)} ledger rows over ${DAYS} days (200 consumers, 20 teams, 15 models) per store, ` +
      `batches of ${count(BATCH)}; ${RUNS} timed runs after a warm-up; host: ${availableParallelism()} CPUs`,
  );
  const report: string[] = [];
  for (const kind of STORES) {
    if (kind !== 'sqlite' && kind !== 'postgres') throw new Error(`BENCH_STORES: unknown store "${kind}" (sqlite, postgres)`);
    try {
      report.push(...(await measure(kind, shape)));
    } catch (error) {
      report.push(`${kind}: NOT MEASURED: ${(error as Error).message}`);
    }
  }
  console.log(report.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `bench: ${error.message}` : error);
  process.exitCode = 1;
});
