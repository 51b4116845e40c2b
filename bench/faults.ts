// npm run bench -- faults: kill -9 under load, counted. A `sluice start --workers 2` gateway (SQLite ledger) takes steady
// traffic from BENCH_FAULTS_CLIENTS (default 16) clients, each call under its own x-request-id; then one worker is killed
// with SIGKILL (the primary replaces it; the gateway is stopped gracefully afterwards), or the whole gateway, primary and
// workers at once. The ledger is then read: answered calls without a row (lost), rows twice or for no answered call,
// SQLite's integrity check, and how the loss compares with one batch window: the calls answered in the last
// ledger.flushIntervalMs before the kill (BENCH_FAULTS_FLUSH_MS, default the config's 200) and ledger.maxBatch.
import { fork, type ChildProcess } from 'node:child_process';
import { SEMI_SPACE_FLAG } from '../src/cluster/primary.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { childrenOf } from '../test/support/processes.js';
import { benchSluiceYaml } from './shared.js';

const CLIENTS = Number(process.env.BENCH_FAULTS_CLIENTS ?? 16);
const FLUSH_MS = Number(process.env.BENCH_FAULTS_FLUSH_MS ?? 200);
const MAX_BATCH = 1000;
const LOAD_MS = Number(process.env.BENCH_FAULTS_LOAD_MS ?? 3_000);
const KEY = 'sk-sluice-bench-faults-0001';
const CLI = fileURLToPath(new URL('../src/cli/sluice.js', import.meta.url));
const UPSTREAM = fileURLToPath(new URL('mock-upstream.js', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A port nothing listens on right now (the OS's pick, released at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

async function startUpstream(): Promise<{ child: ChildProcess; port: number }> {
  const child = track(fork(UPSTREAM, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const port = await new Promise<number>((resolve) => child.once('message', (message: { port: number }) => resolve(message.port)));
  return { child, port };
}

async function startSluice(
  dir: string,
  upstreamPort: number,
): Promise<{ child: ChildProcess; port: number; dbPath: string; output: () => string }> {
  const dbPath = join(dir, 'sluice.db');
  const config = join(dir, 'sluice.yaml');
  const port = await freePort();
  writeFileSync(
    config,
    benchSluiceYaml({
      database: dbPath,
      upstreamPort,
      key: KEY,
      gatewayPort: port,
      extra: `ledger: { flushIntervalMs: ${FLUSH_MS}, maxBatch: ${MAX_BATCH} }\n`,
    }),
  );
  const child = track(
    fork(CLI, ['start', '--workers', '2', '--config', config], {
      execArgv: [...process.execArgv, SEMI_SPACE_FLAG],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { PATH: process.env.PATH, SLUICE_MASTER_KEY: randomBytes(32).toString('base64') },
    }),
  );
  let out = '';
  child.stdout!.on('data', (data: Buffer) => (out += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (out += data.toString()));
  const deadline = Date.now() + 90_000;
  while (!out.includes('sluice workers are listening')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sluice did not start:\n${out}`);
    await sleep(50);
  }
  return { child, port, dbPath, output: () => out };
}

interface Outcome {
  scenario: string;
  answered: number;
  dropped: number;
  rows: number;
  lost: number;
  strays: number;
  duplicates: number;
  inWindow: number;
  integrity: string;
}

async function scenario(name: 'worker' | 'gateway', upstreamPort: number): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-faults-'));
  const sluice = await startSluice(dir, upstreamPort);
  const pool = new Pool(`http://127.0.0.1:${sluice.port}`, { connections: CLIENTS });
  const answeredAt = new Map<string, number>();
  let dropped = 0;
  let load = true;
  let next = 0;
  const body = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (load) {
      const id = `bench-fault-${name}-${next++}`;
      try {
        const response = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id },
          body,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        await response.body.text();
        if (response.statusCode === 200) answeredAt.set(id, Date.now());
        else dropped++;
      } catch {
        dropped++;
        // A gateway killed whole refuses every connection afterwards; do not spin.
        if (name === 'gateway') await sleep(20);
      }
    }
  });
  try {
    await sleep(LOAD_MS);
    const killedAt = Date.now();
    if (name === 'worker') {
      const [victim] = childrenOf(sluice.child.pid!);
      if (victim === undefined) throw new Error('the primary has no workers');
      process.kill(victim, 'SIGKILL');
      // Replaced, then more traffic, then a graceful stop that flushes the survivors' records.
      while (childrenOf(sluice.child.pid!).filter((pid) => pid !== victim).length < 2) await sleep(50);
      await sleep(LOAD_MS);
      load = false;
      await Promise.all(clients);
      const exited = new Promise((resolve) => sluice.child.once('exit', resolve));
      sluice.child.kill('SIGTERM');
      await exited;
    } else {
      const exited = new Promise((resolve) => sluice.child.once('exit', resolve));
      for (const pid of [...childrenOf(sluice.child.pid!), sluice.child.pid!]) process.kill(pid, 'SIGKILL');
      await exited;
      await sleep(200);
      load = false;
      await Promise.all(clients);
    }
    const db = new Database(sluice.dbPath, { readonly: true });
    const rows = db.prepare('SELECT request_id, status FROM transactions').all() as Array<{ request_id: string; status: number }>;
    const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check;
    db.close();
    const ids = new Set(rows.map((row) => row.request_id));
    return {
      scenario: name === 'worker' ? 'kill -9 of one of 2 workers' : 'kill -9 of a whole gateway',
      answered: answeredAt.size,
      dropped,
      rows: rows.length,
      lost: [...answeredAt.keys()].filter((id) => !ids.has(id)).length,
      strays: rows.filter((row) => !answeredAt.has(row.request_id)).length,
      duplicates: rows.length - ids.size,
      inWindow: [...answeredAt.values()].filter((at) => at >= killedAt - FLUSH_MS && at <= killedAt).length,
      integrity,
    };
  } finally {
    load = false;
    await Promise.all(clients);
    await pool.close().catch(() => undefined);
    for (const pid of [...childrenOf(sluice.child.pid!), sluice.child.pid!]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(
    `Faults under load: ${CLIENTS} clients, ${LOAD_MS} ms of load before the kill; ledger.flushIntervalMs ${FLUSH_MS}, ledger.maxBatch ${MAX_BATCH}`,
  );
  const upstream = await startUpstream();
  const outcomes: Outcome[] = [];
  try {
    for (const name of ['worker', 'gateway'] as const) outcomes.push(await scenario(name, upstream.port));
  } finally {
    upstream.child.kill('SIGTERM');
  }
  const header = ['scenario', 'answered', 'failed', 'rows', 'lost', `answered in last ${FLUSH_MS} ms`, 'stray', 'twice', 'integrity'];
  const rows = outcomes.map((o) =>
    [o.scenario, o.answered, o.dropped, o.rows, o.lost, o.inWindow, o.strays, o.duplicates, o.integrity].map(String),
  );
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  for (const o of outcomes)
    console.log(
      `${o.scenario}: ${o.lost} answered calls lost from the ledger, ` +
        (o.lost <= o.inWindow
          ? `within one batch window (${o.inWindow} answered in the last ${FLUSH_MS} ms before the kill)`
          : `MORE than one batch window (${o.inWindow} answered in the last ${FLUSH_MS} ms before the kill)`) +
        `; ${o.strays} rows for calls the clients never saw answered (in flight at the kill), ${o.duplicates} twice, integrity ${o.integrity}.`,
    );
}

process.on('SIGTERM', () => {
  for (const child of children) child.kill('SIGKILL');
  process.exit(143);
});
await main();
