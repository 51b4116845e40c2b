// What the ledger keeps of refused calls: a missing or unknown key is counted in a metric, not written; a call refused
// while the gateway drains is recorded when its key is valid (the operator must see it) and counted when it is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import Database from 'better-sqlite3';

async function metricLines(sluice: TestSluice, name: string): Promise<string[]> {
  return (await sluice.sluice.context.metrics.registry.metrics()).split('\n').filter((line) => line.startsWith(`${name}{`));
}

function chatRequest(key: string, requestId: string): string {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  return (
    `POST /v1/chat/completions HTTP/1.1\r\nhost: sluice\r\ncontent-type: application/json\r\nauthorization: Bearer ${key}\r\n` +
    `x-request-id: ${requestId}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

test('calls with a missing or unknown key are counted by route, and write no ledger row', async () => {
  const upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('ok')));
  const sluice = await startTestSluice({
    providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-key-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
  });
  try {
    const post = (path: string, headers: Record<string, string>) =>
      fetch(`${sluice.baseURL}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"model":"gpt-4o-mini","messages":[]}',
      });
    for (let i = 0; i < 20; i++) {
      const garbage = await post('/v1/chat/completions', { authorization: `Bearer sk-garbage-${i}` });
      assert.equal(garbage.status, 401);
      await garbage.arrayBuffer();
    }
    for (const [path, headers] of [
      ['/v1/messages', { 'x-api-key': 'sk-garbage' }],
      ['/v1/embeddings', {}],
    ] as const) {
      const refused = await post(path, headers);
      assert.equal(refused.status, 401);
      await refused.arrayBuffer();
    }
    const models = await fetch(`${sluice.baseURL}/v1/models`, { headers: { authorization: 'Bearer sk-garbage' } });
    assert.equal(models.status, 401);
    await models.arrayBuffer();
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      rows.map((row) => [row.consumer, row.status]),
      [['checkout-service', 200]],
      'only the authenticated call',
    );
    assert.deepEqual((await metricLines(sluice, 'sluice_unauthenticated_requests_total')).sort(), [
      'sluice_unauthenticated_requests_total{route="/v1/chat/completions"} 20',
      'sluice_unauthenticated_requests_total{route="/v1/embeddings"} 1',
      'sluice_unauthenticated_requests_total{route="/v1/messages"} 1',
      'sluice_unauthenticated_requests_total{route="/v1/models"} 1',
    ]);
  } finally {
    await sluice.stop();
    await upstream.close();
  }
});

test('while draining, a refused call with a valid key is recorded as 503 shutting_down; one without is counted', async () => {
  let held = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const upstream = await MockProvider.start(async (_request, res) => {
    held++;
    await released;
    json(res, 200, openaiCompletion('ok'));
  });
  const sluice = await startTestSluice({
    providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-key-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
  });
  // One call in flight keeps the drain waiting. Two more connections have begun their requests (so the drain does not
  // close them as idle) and finish them once it has begun.
  const connect = () => {
    const socket = net.connect(sluice.sluice.gateway.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    return { socket, answer: () => answer, closed };
  };
  const refused = connect();
  const unauthenticated = connect();
  const refusedRequest = chatRequest(KEYS.checkout, 'drain-refused');
  const unauthenticatedRequest = chatRequest('sk-garbage-key-000', 'drain-unauthenticated');
  refused.socket.write(refusedRequest.slice(0, 20));
  unauthenticated.socket.write(unauthenticatedRequest.slice(0, 20));
  const inFlight = connect();
  try {
    inFlight.socket.write(chatRequest(KEYS.checkout, 'drain-in-flight'));
    while (held < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const stopped = sluice.sluice.stop(10_000);
    refused.socket.write(refusedRequest.slice(20));
    unauthenticated.socket.write(unauthenticatedRequest.slice(20));
    await Promise.all([refused.closed, unauthenticated.closed]);
    release();
    await inFlight.closed;
    await stopped;
    assert.match(refused.answer(), /^HTTP\/1\.1 503 [^]*"code":"shutting_down"/);
    assert.match(unauthenticated.answer(), /^HTTP\/1\.1 503 [^]*"code":"shutting_down"/);
    assert.match(inFlight.answer(), /^HTTP\/1\.1 200 /);
  } finally {
    release();
    for (const connection of [refused, unauthenticated, inFlight]) connection.socket.destroy();
    await upstream.close();
  }
  const db = new Database(sluice.dbPath, { readonly: true });
  const rows = db.prepare('SELECT request_id, consumer, status, error_class FROM transactions ORDER BY request_id').all();
  db.close();
  assert.deepEqual(rows, [
    { request_id: 'drain-in-flight', consumer: 'checkout-service', status: 200, error_class: null },
    { request_id: 'drain-refused', consumer: 'checkout-service', status: 503, error_class: 'shutting_down' },
  ]);
  assert.deepEqual(await metricLines(sluice, 'sluice_unauthenticated_requests_total'), [
    'sluice_unauthenticated_requests_total{route="/v1/chat/completions"} 1',
  ]);
});

test('a stream still running when the drain times out is cut, and recorded with the output it delivered', async () => {
  let streaming!: () => void;
  const started = new Promise<void>((resolve) => (streaming = resolve));
  const pieces = Array.from({ length: 200 }, (_, i) => `word${i} `);
  const upstream = await MockProvider.start(async (_request, res) => {
    streaming();
    await sse(res, openaiStreamFrames(pieces, { prompt_tokens: 9, completion_tokens: 200 }), 25);
  });
  const sluice = await startTestSluice({
    providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-key-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
  });
  const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  let text = '';
  const outcome = (async () => {
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a long answer' }], stream: true },
      { headers: { 'x-request-id': 'drain-cut' } },
    );
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  })().then(
    () => 'whole',
    () => 'cut',
  );
  try {
    await started;
    while (text.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // The stream needs 5 s; the drain gives it 300 ms.
    await sluice.sluice.stop(300);
    assert.equal(await outcome, 'cut');
  } finally {
    await upstream.close();
  }
  const db = new Database(sluice.dbPath, { readonly: true });
  const rows = db.prepare('SELECT request_id, status, error_class, output_tokens, tokens_estimated FROM transactions').all() as Array<{
    request_id: string;
    status: number;
    error_class: string;
    output_tokens: number;
    tokens_estimated: number;
  }>;
  db.close();
  assert.equal(rows.length, 1, 'the cut call is in the ledger');
  const row = rows[0]!;
  assert.deepEqual([row.request_id, row.status, row.error_class, row.tokens_estimated], ['drain-cut', 499, 'cut_by_stop', 1]);
  assert.ok(row.output_tokens > 0 && row.output_tokens < 200, `${row.output_tokens} output tokens: what was streamed before the cut`);
});
