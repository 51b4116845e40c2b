// PostgreSQL going away under load, a commit whose answer is lost, and a row PostgreSQL refuses: the ledger keeps
// every call's record exactly once. Sluice reaches PostgreSQL through a TCP relay the test cuts and restores.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import pg from 'pg';
import { LedgerWriter } from '../../src/ledger/writer.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { ledgerOptions, writerRecord } from '../support/ledger.js';
import { describeOnStore } from '../support/director-stores.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { TcpRelay } from '../support/tcp-relay.js';
import { until } from '../support/until.js';

async function metric(sluice: TestSluice, name: string): Promise<number> {
  const text = await sluice.sluice.context.metrics.registry.metrics();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `) || candidate.startsWith(`${name}{`));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describeOnStore('postgres', 'the ledger through a PostgreSQL outage', (db) => {
  let client: pg.Client;
  let relay: TcpRelay;
  let upstream: MockProvider;

  before(async () => {
    client = new pg.Client({ connectionString: db.storage });
    await client.connect();
    relay = await TcpRelay.start({ host: '127.0.0.1', port: 5432 });
    upstream = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('ok', { prompt_tokens: 3, completion_tokens: 1 })),
    );
  });

  after(async () => {
    await upstream?.close();
    await relay?.close();
    await client?.end();
  });

  const throughRelay = () => db.storage.replace('127.0.0.1:5432', `127.0.0.1:${relay.port}`);

  test('PostgreSQL cut off under load: every call answered 200 has its ledger row, once, and readiness is red meanwhile', async () => {
    const sluice = await startTestSluice({
      storage: throughRelay(),
      // A small memory bound, so the outage also goes through the spool file.
      ledger: { flushIntervalMs: 250, maxBufferedRecords: 500, retry: { initialBackoffMs: 10, maxBackoffMs: 100 } },
      providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const answered: string[] = [];
    let failed = 0;
    let running = true;
    let next = 0;
    const worker = async () => {
      while (running) {
        const id = `outage-${next++}`;
        try {
          await openai.chat.completions.create(
            { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
            { headers: { 'x-request-id': id } },
          );
          answered.push(id);
        } catch {
          failed++;
        }
      }
    };
    const load = Array.from({ length: 4 }, worker);
    const readiness = async () => (await fetch(`${sluice.baseURL}/readyz`)).status;
    try {
      await until('calls are answered', () => answered.length >= 200);
      relay.cut();
      const atCut = answered.length;
      await until('readiness turns red', async () => (await readiness()) === 503);
      await until(
        'the outage holds more than the memory bound',
        async () => answered.length >= atCut + 600 && (await metric(sluice, 'sluice_ledger_spooled_records')) > 0,
      );
      assert.equal(await metric(sluice, 'sluice_ledger_behind'), 1);
      assert.ok((await metric(sluice, 'sluice_ledger_write_failures_total')) > 0);
      relay.restore();
      await until('calls go on after the outage', () => answered.length >= atCut + 800);
    } finally {
      running = false;
      await Promise.all(load);
    }
    try {
      // Green once the spool is replayed (with the load stopped, whatever this machine's write rate).
      await until('readiness turns green again', async () => (await readiness()) === 200);
      await sluice.sluice.settled();
      assert.equal(failed, 0, 'the gateway answered every call');
      const { rows } = await client.query<{ request_id: string; status: number }>('SELECT request_id, status FROM transactions');
      const ok = rows
        .filter((row) => row.status === 200)
        .map((row) => row.request_id)
        .sort();
      assert.equal(ok.length, answered.length, 'one ledger row per 200 answer');
      assert.deepEqual(ok, [...answered].sort());
      assert.equal(rows.length, answered.length, 'no row written twice');
      const rollup = await client.query<{ calls: string }>('SELECT SUM(calls) AS calls FROM usage_hourly');
      assert.equal(Number(rollup.rows[0]!.calls), answered.length, 'the rollups count each call once');
      assert.equal(await metric(sluice, 'sluice_ledger_behind'), 0);
      assert.equal(await metric(sluice, 'sluice_ledger_spooled_records'), 0);
    } finally {
      await sluice.stop();
    }
  });

  test('a batch whose commit succeeded but whose answer was lost is not written twice, nor counted twice in the rollups', async () => {
    const writer = await LedgerWriter.open(
      ledgerOptions(throughRelay(), { flushIntervalMs: 60_000, retry: { initialBackoffMs: 10, maxBackoffMs: 50 } }),
    );
    try {
      // PostgreSQL gets the COMMIT and commits; the writer sees its connection reset and sends the batch again.
      relay.loseAnswerAfter(Buffer.from('COMMIT\0'));
      for (let i = 0; i < 100; i++) writer.append(writerRecord(`lost-answer-${i}`, 'lost-answer'));
      await writer.drain();
      assert.equal(writer.status().writeFailures.unavailable, 1, 'the lost answer failed the first write');
      const rows = await client.query<{ count: number }>("SELECT COUNT(*)::int AS count FROM transactions WHERE consumer = 'lost-answer'");
      assert.equal(rows.rows[0]!.count, 100);
      const rollup = await client.query<{ calls: string }>("SELECT SUM(calls) AS calls FROM usage_hourly WHERE consumer = 'lost-answer'");
      assert.equal(Number(rollup.rows[0]!.calls), 100);
      assert.equal(writer.written, 0, 'the second send found the batch committed and wrote nothing');
    } finally {
      await writer.close();
    }
  });

  test('a model name with a NUL is stored repaired, and costs no other call its record', async () => {
    const sluice = await startTestSluice({
      storage: db.storage,
      ledger: { flushIntervalMs: 60_000 },
      providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    try {
      const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const call = (i: number) =>
        openai.chat.completions.create(
          { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-request-id': `poison-neighbour-${i}` } },
        );
      for (let i = 0; i < 5; i++) await call(i);
      const poisoned = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.checkout}`, 'x-request-id': 'poison-itself' },
        body: '{"model":"poison\\u0000\\ud800","messages":[{"role":"user","content":"hi"}]}',
      });
      assert.equal(poisoned.status, 404);
      await poisoned.arrayBuffer();
      for (let i = 5; i < 10; i++) await call(i);
      await sluice.sluice.settled();
      const { rows } = await client.query<{ request_id: string; requested_model: string; status: number }>(
        "SELECT request_id, requested_model, status FROM transactions WHERE request_id LIKE 'poison-%' ORDER BY request_id",
      );
      assert.equal(rows.length, 11, 'the poisoned call and its ten neighbours');
      assert.deepEqual(
        rows.find((row) => row.request_id === 'poison-itself'),
        { request_id: 'poison-itself', requested_model: 'poison\uFFFD\uFFFD', status: 404 },
      );
      assert.equal(await metric(sluice, 'sluice_ledger_repaired_values_total'), 1);
      assert.equal(sluice.sluice.context.ledger.status().droppedRecords.refused, 0);
    } finally {
      await sluice.stop();
    }
  });
});
