// `sluice start --workers 2` as a user runs it: two workers behind one pair of listeners share one budget's counters,
// one ledger and one /metrics; a worker killed with SIGKILL is replaced and the gateway keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { chatStatus, oneModelYaml } from '../support/sluice-process.js';
import { childrenOf, connectionsHeld } from '../support/processes.js';
import { SEMI_SPACE_FLAG, workerExecArgv } from '../../src/cluster/primary.js';
import { startWorkers } from '../support/workers.js';

const KEY = 'sk-sluice-workers-key-0001';

/** One chat call; its status, never throwing for a refusal or a dropped connection (0). */
const call = (port: number): Promise<number> => chatStatus(port, KEY);

function metric(text: string, pattern: RegExp): number {
  return [...text.matchAll(new RegExp(pattern, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('sluice start --workers 2', () => {
  let mock: MockProvider;
  let sluice: SluiceProcess;
  let dbPath: string;
  let gatewayPort: number;
  let adminPort: number;

  before(async () => {
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hello', { prompt_tokens: 3, completion_tokens: 2 })),
    );
    ({ sluice, gatewayPort, adminPort, dbPath } = await startWorkers(
      'workers',
      `
ledger: { flushIntervalMs: 50 }
${oneModelYaml(mock.url, KEY)}
budgets:
  - { name: fifty-calls, consumers: everyone, measure: requests, limit: 50, window: day, mode: enforce }
`,
    ));
  });

  after(async () => {
    if (sluice.child.exitCode === null) await stopSluice(sluice);
    await mock.close();
  });

  test(
    '16 keep-alive connections opened at once are spread over the workers, 8 each (the first connections made)',
    { timeout: 60_000 },
    async () => {
      const pool = new Pool(`http://127.0.0.1:${gatewayPort}`, { connections: 16, pipelining: 1 });
      try {
        // 16 calls at once make the pool open its 16 connections together, as an SDK's keep-alive pool does.
        const statuses = await Promise.all(
          Array.from({ length: 16 }, async () => {
            const response = await pool.request({ path: '/healthz', method: 'GET' });
            await response.body.text();
            return response.statusCode;
          }),
        );
        assert.deepEqual([...new Set(statuses)], [200]);
        const workers = childrenOf(sluice.child.pid!);
        assert.equal(workers.length, 2);
        assert.deepEqual(
          workers.map((pid) => connectionsHeld(pid, gatewayPort)),
          [8, 8],
        );
        assert.equal(connectionsHeld(sluice.child.pid!, gatewayPort), 0, 'the primary hands every connection on');
        // Workers run with a small young generation (memory per stream), the primary's flags kept.
        for (const pid of workers) assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(SEMI_SPACE_FLAG));
      } finally {
        await pool.close();
      }
    },
  );

  test(
    'a budget that fits 50 calls admits 50 of 200 concurrent calls across both workers, and /metrics sums them',
    { timeout: 120_000 },
    async () => {
      const statuses = await Promise.all(Array.from({ length: 200 }, () => call(gatewayPort)));
      assert.equal(statuses.filter((status) => status === 200).length, 50);
      assert.equal(statuses.filter((status) => status === 429).length, 150);
      // Both workers took calls: each one's own metrics hold only its share, the sum is every call.
      const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      assert.equal(metric(metrics, /^sluice_budget_refusals_total\{budget="fifty-calls",kind="budget"\} (\d+)$/), 150, metrics);
    },
  );

  test('a worker killed with SIGKILL is replaced and logged, and the gateway keeps serving', { timeout: 120_000 }, async () => {
    // The first test's calls all in the ledger first: what a killed worker had not flushed is lost by design.
    for (let rows = 0; rows < 200; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const db = new Database(dbPath, { readonly: true });
      rows = (db.prepare('SELECT count(*) AS n FROM transactions').get() as { n: number }).n;
      db.close();
    }
    const [victim] = childrenOf(sluice.child.pid!);
    assert.ok(victim !== undefined, 'the primary has workers');
    process.kill(victim, 'SIGKILL');
    await waitFor(sluice.output, /a worker died; starting another in its place/, 30_000);
    await waitFor(() => String(childrenOf(sluice.child.pid!).filter((pid) => pid !== victim).length), /^2$/, 30_000);
    // The budget is spent: a served call cannot be asked for, but a refusal still says the gateway answers.
    const statuses = await Promise.all(Array.from({ length: 20 }, () => call(gatewayPort)));
    assert.deepEqual([...new Set(statuses)], [429]);
  });

  test('SIGTERM stops every worker gracefully and the one ledger holds every call', { timeout: 120_000 }, async () => {
    assert.equal(await stopSluice(sluice), 0);
    const db = new Database(dbPath, { readonly: true });
    const rows = db.prepare('SELECT status, count(*) AS n FROM transactions GROUP BY status').all() as Array<{ status: number; n: number }>;
    db.close();
    const count = (status: number) => rows.find((row) => row.status === status)?.n ?? 0;
    assert.equal(count(200), 50);
    assert.equal(count(429), 170);
  });
});

test("workers get the young generation's size unless the operator's Node flags set their own", () => {
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], undefined), ['--enable-source-maps', SEMI_SPACE_FLAG]);
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=16'], undefined), ['--max-semi-space-size=16']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512 --max-semi-space-size=32'), []);
  assert.deepEqual(workerExecArgv([], '--max_semi_space_size=32'), []);
});
