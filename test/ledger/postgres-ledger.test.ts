// The ledger on PostgreSQL: a Sluice with `storage: postgres://...` records its calls there, batched, and flushes them on stop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import OpenAI from 'openai';
import pg from 'pg';
import type { Transaction } from '../../src/ledger/transaction.js';
import { LedgerWriter } from '../../src/ledger/writer.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { ledgerOptions } from '../support/ledger.js';
import { describeOnStore } from '../support/director-stores.js';
import { KEYS, startTestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

function record(i: number): Transaction {
  return {
    requestId: `batch-${i}`,
    startedAt: Date.now(),
    operation: 'chat',
    api: 'openai',
    consumer: 'c',
    team: null,
    requestedModel: 'm',
    provider: 'p',
    providerModel: 'pm',
    stream: false,
    inputTokens: i,
    outputTokens: 1,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: null,
    latencyMs: 1,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
  };
}

describeOnStore('postgres', 'the ledger on PostgreSQL', (db) => {
  let client: pg.Client;

  before(async () => {
    client = new pg.Client({ connectionString: db.storage });
    await client.connect();
  });

  after(async () => {
    await client?.end();
  });

  test('a Sluice with postgres storage serves calls, and after stop every call is a row of transactions', async () => {
    const upstream = await MockProvider.start(async (request, res) => {
      if (request.body.stream === true) return sse(res, openaiStreamFrames(['Hel', 'lo'], { prompt_tokens: 9, completion_tokens: 2 }));
      json(res, 200, openaiCompletion('Hello from the mock', { prompt_tokens: 12, completion_tokens: 5 }));
    });
    // A long flush interval: nothing is written before the stop, so the stop must write it.
    const sluice = await startTestSluice({
      storage: db.storage,
      ledger: { flushIntervalMs: 60_000 },
      providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    try {
      const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const answer = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
      assert.equal(answer.choices[0]?.message.content, 'Hello from the mock');
      const stream = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      assert.equal(text, 'Hello');
      const early = await client.query('SELECT COUNT(*)::int AS count FROM transactions');
      assert.equal(early.rows[0].count, 0, 'still buffered');
    } finally {
      await sluice.stop();
      await upstream.close();
    }
    const { rows } = await client.query(
      'SELECT consumer, team, requested_model, provider, stream, input_tokens, output_tokens, status, attempts FROM transactions ORDER BY id',
    );
    assert.deepEqual(rows, [
      {
        consumer: 'checkout-service',
        team: 'payments',
        requested_model: 'gpt-4o-mini',
        provider: 'openai',
        stream: 0,
        input_tokens: 12,
        output_tokens: 5,
        status: 200,
        attempts: 1,
      },
      {
        consumer: 'checkout-service',
        team: 'payments',
        requested_model: 'gpt-4o-mini',
        provider: 'openai',
        stream: 1,
        input_tokens: 9,
        output_tokens: 2,
        status: 200,
        attempts: 1,
      },
    ]);
    const migrations = await client.query('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(
      migrations.rows.map((row) => row.version),
      MIGRATIONS.map((migration) => migration.version),
      'the same migrations as SQLite',
    );
  });

  test('batches by maxBatch and the flush interval, and drain waits for every batch to commit', async () => {
    const writer = await LedgerWriter.open(ledgerOptions(db.storage, { flushIntervalMs: 20, maxBatch: 100 }));
    try {
      const before = (await client.query('SELECT COUNT(*)::int AS count FROM transactions')).rows[0].count as number;
      for (let i = 0; i < 250; i++) writer.append(record(i));
      assert.equal(writer.buffered, 250, 'in memory until committed: two full batches sent, 50 records filling the next');
      await writer.drain();
      assert.deepEqual([writer.buffered, writer.written, writer.failedWrites], [0, 250, 0]);
      const after = (await client.query("SELECT COUNT(*)::int AS count FROM transactions WHERE request_id LIKE 'batch-%'")).rows[0].count;
      assert.equal(after, 250);
      assert.equal((await client.query('SELECT COUNT(*)::int AS count FROM transactions')).rows[0].count, before + 250);
      writer.append(record(1_000));
      await until('the flush interval writes the partial batch', () => writer.written > 250, 10_000);
      assert.equal(writer.written, 251, 'the flush interval writes a partial batch');
    } finally {
      await writer.close();
    }
  });

  test('a server it cannot reach fails the open naming host and database, never the password', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const storage = `postgresql://ledger:Pa55-w0rd-x@127.0.0.1:${port}/sluice_ledger`;
    await assert.rejects(LedgerWriter.open(ledgerOptions(storage, { flushIntervalMs: 20, maxBatch: 10 })), (error: Error) => {
      assert.match(error.message, /^cannot open the ledger: /);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}/sluice_ledger`));
      assert.ok(!error.message.includes('Pa55-w0rd-x'), error.message);
      return true;
    });
  });
});
