// PostgreSQL "restarted" under load, with real processes: `sluice start --workers 2` writes its ledger to a database of
// this test's own through a TCP relay; the relay is cut (every connection reset, new ones refused, as while the server
// restarts) and restored. The machine's PostgreSQL server itself is never touched: other tests use it. The gateway keeps
// answering, the ledger buffers (a small memory bound, then its spool) and catches up: every call answered 200 has
// exactly one row afterwards. Bounded in time; no timing assertions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { chatStatus, freePort, oneModelYaml } from '../support/sluice-process.js';
import { TcpRelay } from '../support/tcp-relay.js';
import { until } from '../support/until.js';
import { scratchDir } from '../support/scratch.js';

const KEY = 'sk-sluice-pg-outage-key-00001';

/** One chat call under its own request id, with a deadline: its status, -1 for a hung call, 0 for a dropped connection. */
const call = (port: number, requestId: string): Promise<number> => chatStatus(port, KEY, { requestId, deadlineMs: 20_000 });

describe('PostgreSQL restarted under load behind a two-worker gateway', () => {
  let database: TestDatabase;
  let relay: TcpRelay;
  let mock: MockProvider;
  let sluice: SluiceProcess | undefined;

  before(async () => {
    database = await freshDatabase();
    const server = new URL(database.url);
    relay = await TcpRelay.start({ host: server.hostname, port: Number(server.port || 5432) });
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hello', { prompt_tokens: 3, completion_tokens: 2 })),
    );
  });

  after(async () => {
    if (sluice !== undefined && sluice.child.exitCode === null && sluice.child.signalCode === null) await stopSluice(sluice);
    await mock?.close();
    await relay?.close();
    await database?.drop();
  });

  test('the gateway keeps serving, the ledger buffers and catches up: one row per answered call', { timeout: 180_000 }, async () => {
    const dir = scratchDir('sluice-pg-outage-');
    const url = new URL(database.url);
    url.host = `127.0.0.1:${relay.port}`;
    const gatewayPort = await freePort();
    const adminPort = await freePort();
    const file = join(dir, 'sluice.yaml');
    writeFileSync(
      file,
      `
gateway: { host: 127.0.0.1, port: ${gatewayPort} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: admin-token-for-the-pg-outage-test }
storage: "${url.toString()}"
# A small memory bound, so a longer outage goes to the spool; quick retries, so the catch-up is seen soon.
ledger: { flushIntervalMs: 100, maxBufferedRecords: 200, spoolDir: "${join(dir, 'spool')}", retry: { initialBackoffMs: 20, maxBackoffMs: 200 } }
${oneModelYaml(mock.url, KEY)}
`,
    );
    sluice = runSluice(['start', '--workers', '2', '--config', file], { SLUICE_MASTER_KEY: Buffer.alloc(32, 5).toString('base64') });
    await waitFor(sluice.output, /sluice workers are listening/, 90_000);

    const answered: string[] = [];
    const others: number[] = [];
    let load = true;
    let next = 0;
    const callers = Array.from({ length: 6 }, async () => {
      while (load) {
        const id = `pg-outage-${next++}`;
        const status = await call(gatewayPort, id);
        if (status === 200) answered.push(id);
        else others.push(status);
      }
    });
    const readiness = async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status;
    try {
      await until('calls are answered', () => answered.length >= 100);
      relay.cut();
      const atCut = answered.length;
      // "Down" while more calls are answered than the memory bound of 200 holds.
      await until('readiness turns red while the ledger cannot write', async () => (await readiness()) === 503);
      await until('calls go on during the outage, past the memory bound', () => answered.length >= atCut + 400);
      relay.restore();
      const atRestore = answered.length;
      await until('calls go on after the restart', () => answered.length >= atRestore + 100);
    } finally {
      load = false;
      await Promise.all(callers);
    }
    assert.deepEqual(others, [], 'the gateway answered every call 200 through the outage');
    // Caught up: every answered call's row is there (readiness green again once the spool is replayed).
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const count = async () => (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions')).rows[0]!.n;
      await until('the ledger catches up', async () => (await count()) >= answered.length, 120_000);
      await until('readiness turns green again', async () => (await readiness()) === 200);
      assert.equal(await stopSluice(sluice), 0);
      const { rows } = await client.query<{ request_id: string; status: number }>('SELECT request_id, status FROM transactions');
      assert.equal(rows.length, answered.length, 'exactly one row per answered call: none lost, none written twice');
      assert.deepEqual(rows.map((row) => row.request_id).sort(), [...answered].sort());
      assert.ok(rows.every((row) => row.status === 200));
      process.stdout.write(`# PostgreSQL outage: ${answered.length} calls answered, ${rows.length} ledger rows\n`);
    } finally {
      await client.end();
    }
  });
});
