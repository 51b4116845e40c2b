// Faults under load, with real processes: a private Redis restarted (without persistence) under a two-worker gateway
// leasing from it, a worker killed with SIGKILL, and a whole gateway killed with SIGKILL. Bounded in time; no timing
// assertions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { chatStatus, freePort } from '../support/sluice-process.js';
import { childrenOf } from '../support/processes.js';
import { scratchDir } from '../support/scratch.js';

const KEY = 'sk-sluice-faults-key-000001';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One chat call with a deadline: a hung call would fail the test as status -1; a dropped connection is 0. */
const call = (port: number, requestId?: string, deadlineMs = 20_000): Promise<number> => chatStatus(port, KEY, { requestId, deadlineMs });

/** A Redis server of this test's own, on a free port, keeping nothing on disk: a restart loses every key. */
async function privateRedis(port: number): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--bind', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => output, /Ready to accept connections/, 20_000);
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

function config(dir: string, name: string, mockUrl: string, gatewayPort: number, counters: string): { file: string; dbPath: string } {
  const dbPath = join(dir, `${name}.db`);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `
gateway: { host: 127.0.0.1, port: ${gatewayPort} }
admin: { host: 127.0.0.1, port: 0, token: admin-token-for-the-faults-test }
storage: sqlite:${dbPath}
ledger: { flushIntervalMs: 100 }
counters: ${counters}
providers:
  openai: { type: openai, baseUrl: ${mockUrl}/v1, apiKey: upstream-not-real }
models:
  - name: gpt-4o-mini
    targets: [{ provider: openai, model: gpt-4o-mini }]
consumers:
  - { name: checkout-service, team: payments, owner: alice@example.com, keys: ["${KEY}"] }
budgets:
  - { name: roomy, consumers: everyone, measure: requests, limit: 1000000, window: day, mode: enforce }
`,
  );
  return { file, dbPath };
}

function ledgerRows(dbPath: string): Array<{ status: number; request_id: string }> {
  const db = new Database(dbPath, { readonly: true });
  const rows = db.prepare('SELECT status, request_id FROM transactions').all() as Array<{ status: number; request_id: string }>;
  db.close();
  return rows;
}

describe('faults under load', () => {
  let mock: MockProvider;
  let dir: string;
  const running: SluiceProcess[] = [];

  before(async () => {
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hello', { prompt_tokens: 3, completion_tokens: 2 })),
    );
    dir = scratchDir('sluice-faults-');
  });

  after(async () => {
    for (const sluice of running) if (sluice.child.exitCode === null && sluice.child.signalCode === null) await stopSluice(sluice);
    await mock.close();
  });

  test('Redis restarted under load: no call hangs, counting resumes, the gateway keeps serving', { timeout: 180_000 }, async () => {
    const redisPort = await freePort();
    let redis = await privateRedis(redisPort);
    const gatewayPort = await freePort();
    const { file } = config(
      dir,
      'redis',
      mock.url,
      gatewayPort,
      `{ url: "redis://127.0.0.1:${redisPort}", keyPrefix: "sluice-faults:", failMode: open, timeoutMs: 2000, leaseShare: 0.015625 }`,
    );
    const sluice = runSluice(['start', '--workers', '2', '--config', file], { SLUICE_MASTER_KEY: Buffer.alloc(32, 3).toString('base64') });
    running.push(sluice);
    try {
      await waitFor(sluice.output, /sluice workers are listening/, 90_000);
      let load = true;
      const statuses: number[] = [];
      const callers = Array.from({ length: 8 }, async () => {
        while (load) statuses.push(await call(gatewayPort));
      });
      while (statuses.length < 50) await sleep(20);
      await redis.stop();
      const during = statuses.length;
      while (statuses.length < during + 50) await sleep(20);
      redis = await privateRedis(redisPort);
      // Counting resumes: the counter is back in the new Redis once calls go on.
      const { Redis } = await import('ioredis');
      const client = new Redis(`redis://127.0.0.1:${redisPort}`, { lazyConnect: true });
      await client.connect();
      try {
        for (let found = 0; found === 0; await sleep(100)) found = (await client.keys('sluice-faults:budget:roomy:*')).length;
      } finally {
        client.disconnect();
      }
      load = false;
      await Promise.all(callers);
      assert.equal(statuses.filter((status) => status === -1).length, 0, 'no call hung');
      assert.deepEqual([...new Set(statuses)], [200], 'fail-open: every call served through the outage');
      assert.match(sluice.output(), /ALARM: counters unreachable/);
      assert.equal(await stopSluice(sluice), 0);
    } finally {
      await redis.stop();
    }
  });

  test(
    'a worker killed with SIGKILL under load: replaced, the gateway keeps serving, only its last batch window is lost',
    { timeout: 180_000 },
    async () => {
      const gatewayPort = await freePort();
      const { file, dbPath } = config(dir, 'worker', mock.url, gatewayPort, 'memory');
      const sluice = runSluice(['start', '--workers', '2', '--config', file], {
        SLUICE_MASTER_KEY: Buffer.alloc(32, 8).toString('base64'),
      });
      running.push(sluice);
      await waitFor(sluice.output, /sluice workers are listening/, 90_000);
      let load = true;
      /** When each call was answered 200, by request id; and every other outcome. */
      const answeredAt = new Map<string, number>();
      const others: number[] = [];
      let next = 0;
      const callers = Array.from({ length: 8 }, async () => {
        while (load) {
          const id = `worker-kill-${next++}`;
          const status = await call(gatewayPort, id, 5_000);
          if (status === 200) answeredAt.set(id, Date.now());
          else others.push(status);
        }
      });
      while (answeredAt.size < 300) await sleep(20);
      const [victim] = childrenOf(sluice.child.pid!);
      assert.ok(victim !== undefined, 'the primary has workers');
      const killedAt = Date.now();
      process.kill(victim, 'SIGKILL');
      await waitFor(sluice.output, /a worker died; starting another in its place/, 30_000);
      await waitFor(() => String(childrenOf(sluice.child.pid!).filter((pid) => pid !== victim).length), /^2$/, 60_000);
      const replaced = answeredAt.size;
      while (answeredAt.size < replaced + 300) await sleep(20);
      load = false;
      await Promise.all(callers);
      // Only the calls in flight on the killed worker fail, as dropped connections, those on their way to it included
      // (the primary closes what it was handing it: test/cluster/handoff.test.ts). None waits for the client's deadline.
      assert.deepEqual(
        others.filter((status) => status !== 0),
        [],
        'every call is answered 200 or dropped with the worker',
      );
      assert.equal(await stopSluice(sluice), 0);
      const rows = ledgerRows(dbPath);
      const db = new Database(dbPath, { readonly: true });
      assert.equal((db.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check, 'ok');
      db.close();
      assert.equal(new Set(rows.map((row) => row.request_id)).size, rows.length, 'no row twice');
      const recorded = new Set(rows.filter((row) => row.status === 200).map((row) => row.request_id));
      const lost = [...answeredAt.keys()].filter((id) => !recorded.has(id));
      // A lost row is one the killed worker had answered but not yet sent on: answered within its last batch window
      // (ledger.flushIntervalMs, 100 ms here; 1 s allowed for a loaded machine's late timers) before the kill.
      const oldest = Math.min(...lost.map((id) => answeredAt.get(id)!));
      assert.ok(lost.length === 0 || oldest >= killedAt - 1_000, `a lost row was answered ${killedAt - oldest} ms before the kill`);
      process.stdout.write(
        `# kill -9 of a worker: ${answeredAt.size} calls answered, ${others.filter((status) => status === 0).length} dropped in flight, ` +
          `${others.filter((status) => status === -1).length} unanswered until the client's deadline, ${lost.length} answered calls without a row\n`,
      );
    },
  );

  test(
    'a whole gateway killed with SIGKILL under load: the ledger loses at most the last batch window, none corrupted',
    { timeout: 180_000 },
    async () => {
      const gatewayPort = await freePort();
      const { file, dbPath } = config(dir, 'kill', mock.url, gatewayPort, 'memory');
      const sluice = runSluice(['start', '--workers', '2', '--config', file], {
        SLUICE_MASTER_KEY: Buffer.alloc(32, 4).toString('base64'),
      });
      running.push(sluice);
      await waitFor(sluice.output, /sluice workers are listening/, 90_000);
      let load = true;
      const statuses: number[] = [];
      const callers = Array.from({ length: 8 }, async () => {
        while (load) statuses.push(await call(gatewayPort));
      });
      while (statuses.length < 300) await sleep(20);
      // The primary and its workers, all at once, as a node failure would.
      for (const pid of [...childrenOf(sluice.child.pid!), sluice.child.pid!]) process.kill(pid, 'SIGKILL');
      await sluice.exited;
      load = false;
      await Promise.all(callers);
      const served = statuses.filter((status) => status === 200).length;
      const rows = ledgerRows(dbPath);
      // Every row is whole and unique (none corrupted), and rows for all but the last batch window's calls are there.
      assert.equal(new Set(rows.map((row) => row.request_id)).size, rows.length);
      assert.ok(rows.every((row) => row.status === 200));
      const db = new Database(dbPath, { readonly: true });
      assert.equal((db.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check, 'ok');
      db.close();
      assert.ok(rows.length <= served, `${rows.length} rows for ${served} served calls`);
      assert.ok(rows.length > 0);
      process.stdout.write(
        `# kill -9 of a whole gateway: ${served} calls served, ${rows.length} in the ledger, ${served - rows.length} lost\n`,
      );
    },
  );
});
