// Two gateways of two workers each lease room of one Redis budget (counters.leaseShare left at its default, 1/64): 200
// concurrent calls against a budget that fits 50 admit at most 50 plus the bound of docs/scale-out.md (0 for a budget of
// requests under 64), and the two ledgers agree with what was admitted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_LEASE_SHARE } from '../../src/counters/open.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { chatStatus, freePort, oneModelYaml } from '../support/sluice-process.js';
import { scratchDir } from '../support/scratch.js';

const KEY = 'sk-sluice-redis-gateways-key-01';
const LIMIT = 50;
/** counters.leaseShare's default on Redis (src/counters/open.ts). */
const SHARE = DEFAULT_LEASE_SHARE;
const WORKERS = 4;

const call = (port: number): Promise<number> => chatStatus(port, KEY);

describe('two gateways of two workers sharing one Redis budget through leases', () => {
  const keyPrefix = testKeyPrefix();
  const gateways: Array<{ sluice: SluiceProcess; port: number; dbPath: string }> = [];
  let mock: MockProvider;

  before(async () => {
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hello', { prompt_tokens: 3, completion_tokens: 2 })),
    );
    const dir = scratchDir('sluice-redis-gateways-');
    for (const name of ['one', 'two']) {
      const dbPath = join(dir, `${name}.db`);
      const port = await freePort();
      const config = join(dir, `${name}.yaml`);
      writeFileSync(
        config,
        `
gateway: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: ${await freePort()}, token: admin-token-for-the-redis-test }
storage: sqlite:${dbPath}
ledger: { flushIntervalMs: 50 }
counters: { url: "${TEST_REDIS_URL}", keyPrefix: "${keyPrefix}", failMode: closed, timeoutMs: 5000 }
${oneModelYaml(mock.url, KEY)}
budgets:
  - { name: fifty-calls, consumers: everyone, measure: requests, limit: ${LIMIT}, window: day, mode: enforce }
`,
      );
      const sluice = runSluice(['start', '--workers', '2', '--config', config], {
        SLUICE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
      });
      gateways.push({ sluice, port, dbPath });
    }
    for (const { sluice } of gateways) await waitFor(sluice.output, /sluice workers are listening/, 90_000);
  });

  after(async () => {
    for (const { sluice } of gateways) if (sluice.child.exitCode === null) await stopSluice(sluice);
    await mock.close();
    await deleteTestKeys(keyPrefix);
  });

  test('200 concurrent calls admit at most 50 plus the lease bound, and the ledgers agree', { timeout: 180_000 }, async () => {
    // The bound of docs/scale-out.md: each of the W workers can hold at most floor(limit x share) units beyond what it admitted.
    const bound = WORKERS * Math.floor(LIMIT * SHARE);
    const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => call(gateways[i % 2]!.port)));
    const admitted = statuses.filter((status) => status === 200).length;
    assert.deepEqual(
      statuses.filter((status) => status !== 200 && status !== 429),
      [],
      'every call is served or refused by the budget',
    );
    assert.ok(admitted <= LIMIT + bound, `admitted ${admitted}`);
    // Leased room only ever holds back: near the limit each call asks Redis alone, so the budget is used up.
    assert.ok(admitted >= LIMIT - bound, `admitted ${admitted}`);
    let served = 0;
    let rows = 0;
    for (const { sluice, dbPath } of gateways) {
      assert.equal(await stopSluice(sluice), 0);
      const db = new Database(dbPath, { readonly: true });
      const ledger = db.prepare('SELECT status FROM transactions').all() as Array<{ status: number }>;
      db.close();
      rows += ledger.length;
      served += ledger.filter((row) => row.status === 200).length;
    }
    assert.equal(rows, 200);
    assert.equal(served, admitted);
  });
});
