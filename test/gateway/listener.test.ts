// The gateway's listener under hostile or broken input: nothing a client sends ends the process or gets a bare 500.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { pino } from 'pino';
import { json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

/** A pino logger whose lines the test can read. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** A raw client connection: what it received, and a promise settled when the server has closed it. */
async function rawConnection(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  // A reset is one way for the server to close it.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => received, closed };
}

describe('the listener survives what clients send', () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    mock = await MockProvider.start((_r, res) => json(res, 200, openaiCompletion('ok')));
    sluice = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  const models = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${sluice.baseURL}${path}`, { headers: { authorization: `Bearer ${KEYS.checkout}`, ...headers } });

  async function stillServing(): Promise<void> {
    const response = await models('/v1/models/gpt-4o-mini');
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { id: string }).id, 'gpt-4o-mini');
  }

  for (const path of ['/v1/models/%', '/v1/models/%E0%A4%A', '/v1/models/gpt-4o-mini%']) {
    test(`a malformed percent-encoding in ${path} is a 400 in the route's shape, and the gateway keeps serving`, async () => {
      const openai = await models(path);
      assert.equal(openai.status, 400);
      const body = (await openai.json()) as { error: { code: string; param: string; type: string } };
      assert.deepEqual([body.error.code, body.error.param, body.error.type], ['invalid_value', 'model', 'invalid_request_error']);
      const anthropic = await models(path, { 'anthropic-version': '2023-06-01' });
      assert.equal(anthropic.status, 400);
      assert.deepEqual((await anthropic.json()) as { type: string; error: { type: string } }, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'The model id in the path is not valid percent-encoding.' },
      });
      await stillServing();
    });
  }

  test("a fault inside a handler is logged with the request id and answered 500 in the route's shape", async () => {
    const { context } = sluice.sluice;
    const { logger, lines } = capturingLogger();
    const saved = { logger: context.logger, snapshot: context.snapshot };
    context.logger = logger;
    Object.defineProperty(context, 'snapshot', {
      configurable: true,
      get: () => {
        throw new Error('snapshot exploded');
      },
    });
    try {
      const listing = await models('/v1/models', { 'x-request-id': 'fault-models-1' });
      assert.equal(listing.status, 500);
      assert.equal(((await listing.json()) as { error: { code: string } }).error.code, 'internal_error');
      const chat = await fetch(`${sluice.baseURL}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': KEYS.checkout, 'content-type': 'application/json', 'x-request-id': 'fault-messages-1' },
        body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(chat.status, 500);
      assert.deepEqual(((await chat.json()) as { type: string; error: { type: string } }).error.type, 'api_error');
    } finally {
      Object.defineProperty(context, 'snapshot', { configurable: true, writable: true, enumerable: true, value: saved.snapshot });
      await sluice.sluice.settled();
      context.logger = saved.logger;
    }
    for (const requestId of ['fault-models-1', 'fault-messages-1']) {
      const line = lines.find((candidate) => candidate.requestId === requestId && candidate.level === 50);
      assert.ok(line, `an error line for ${requestId}`);
      assert.match(String((line.err as { message?: string }).message), /snapshot exploded/);
    }
    await stillServing();
  });

  test('a handler that rejects after answering is logged, and the gateway keeps serving', async () => {
    const { context } = sluice.sluice;
    const { logger, lines } = capturingLogger();
    const saved = { logger: context.logger, append: context.ledger.append };
    context.logger = logger;
    // Recording runs after the answer, outside the handler's own try: its throw rejects the handler's promise.
    context.ledger.append = () => {
      throw new Error('ledger exploded');
    };
    try {
      const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json', 'x-request-id': 'fault-after-answer-1' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      await sluice.sluice.settled();
    } finally {
      context.ledger.append = saved.append;
      context.logger = saved.logger;
    }
    const line = lines.find((candidate) => candidate.requestId === 'fault-after-answer-1' && candidate.level === 50);
    assert.match(String((line?.err as { message?: string } | undefined)?.message), /ledger exploded/);
    await stillServing();
  });

  test('a client that goes away mid-call is not logged as a fault', async () => {
    const { context } = sluice.sluice;
    const { logger, lines } = capturingLogger();
    const saved = context.logger;
    context.logger = logger;
    let arrived!: () => void;
    const upstreamReached = new Promise<void>((resolve) => (arrived = resolve));
    mock.respondWith(async (_r, res) => {
      arrived();
      await new Promise((resolve) => setTimeout(resolve, 300));
      json(res, 200, openaiCompletion('too late for the client'));
    });
    try {
      const leaving = new AbortController();
      const response = fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json', 'x-request-id': 'client-leaves-1' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        signal: leaving.signal,
      });
      await upstreamReached;
      leaving.abort();
      await assert.rejects(response);
      await sluice.sluice.settled();
    } finally {
      mock.respondWith((_r, res) => json(res, 200, openaiCompletion('ok')));
      context.logger = saved;
    }
    assert.deepEqual(
      lines.filter((line) => line.requestId === 'client-leaves-1' && line.level === 50),
      [],
    );
    const row = (await ledgerRows(sluice)).find((candidate) => candidate.request_id === 'client-leaves-1');
    assert.deepEqual([row?.status, row?.error_class], [499, 'client_disconnected']);
  });

  const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const nested: Array<{ name: string; path: string; body: string }> = [
    {
      name: 'an unknown field',
      path: '/v1/chat/completions',
      body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"extra":${deepArray(10_000)}}`,
    },
    {
      name: 'tool parameters',
      path: '/v1/chat/completions',
      body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deepObject(10_000)}}}]}`,
    },
    {
      name: 'a tool input schema',
      path: '/v1/messages',
      body: `{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${deepObject(10_000)}}]}`,
    },
    { name: 'embeddings input', path: '/v1/embeddings', body: `{"model":"gpt-4o-mini","input":"x","extra":${deepArray(10_000)}}` },
  ];
  for (const c of nested) {
    test(`JSON nested 10,000 deep in ${c.name} (${c.path}) is a 400 invalid_request naming the body`, async () => {
      const response = await fetch(`${sluice.baseURL}${c.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.checkout}`, 'x-api-key': KEYS.checkout, 'content-type': 'application/json' },
        body: c.body,
      });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { type?: string; error: { type: string; message: string; param?: string } };
      assert.match(body.error.message, /deeper than 128 levels/);
      if (c.path === '/v1/messages') assert.deepEqual([body.type, body.error.type], ['error', 'invalid_request_error']);
      else assert.equal(body.error.param, 'body');
    });
  }

  test('a tool schema nested deep but within the limit goes upstream as sent', async () => {
    mock.received.length = 0;
    const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deepObject(100)}}}]}`,
    });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    assert.equal(JSON.stringify(mock.received[0]?.body.tools).split('{"a":').length - 1, 100);
  });
});

describe('the listener times out clients that hold a connection without finishing a request', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let port: number;

  before(async () => {
    mock = await MockProvider.start((_r, res) => json(res, 200, openaiCompletion('ok')));
    sluice = await startTestSluice({
      gateway: { host: '127.0.0.1', port: 0, headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300 },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    port = sluice.sluice.gateway.port;
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  const holds: Array<{ name: string; sent: string }> = [
    { name: 'nothing at all', sent: '' },
    {
      name: 'part of the headers',
      sent: `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEYS.checkout}\r\n`,
    },
    {
      name: 'the headers and part of the body',
      sent: `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEYS.checkout}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"model":"gpt-4o-mini",`,
    },
  ];
  for (const hold of holds) {
    test(`closes a connection that sends ${hold.name}, answering 408`, async () => {
      const connection = await rawConnection(port);
      if (hold.sent !== '') connection.socket.write(hold.sent);
      await connection.closed;
      assert.match(connection.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
  }

  test('closes a kept-alive connection left idle after its answer', async () => {
    const connection = await rawConnection(port);
    connection.socket.write(`GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEYS.checkout}\r\n\r\n`);
    await connection.closed;
    assert.match(connection.received(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*"gpt-4o-mini"/);
    // A second status line, not any "408": the model list's `created` is a time in seconds, which may hold those digits.
    assert.doesNotMatch(connection.received(), /HTTP\/1\.1 408/);
  });

  test('a body sent slowly past the headers timeout but within the request timeout is read', async () => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'slow upload' }] });
    const connection = await rawConnection(port);
    connection.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEYS.checkout}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    for (const piece of [body.slice(0, 10), body.slice(10, 20), body.slice(20)]) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      connection.socket.write(piece);
    }
    await connection.closed;
    assert.match(connection.received(), /^HTTP\/1\.1 200 OK\r\n/);
  });

  test('a streamed answer running far past the request timeout is relayed whole', async () => {
    mock.respondWith((_r, res) =>
      sse(res, openaiStreamFrames(['one ', 'two ', 'three ', 'four ', 'five'], { prompt_tokens: 3, completion_tokens: 5 }), 200),
    );
    try {
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      assert.equal(text, 'one two three four five');
    } finally {
      mock.respondWith((_r, res) => json(res, 200, openaiCompletion('ok')));
    }
  });
});

describe('the listener caps its client connections', () => {
  let sluice: TestSluice;

  before(async () => {
    sluice = await startTestSluice({
      gateway: { host: '127.0.0.1', port: 0, maxConnections: 2 },
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'upstream-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
  });

  after(() => sluice.stop());

  test('closes connections past gateway.maxConnections as they come, and takes new ones once below it', async () => {
    const port = sluice.sluice.gateway.port;
    const held = [await rawConnection(port), await rawConnection(port)];
    const refused = await rawConnection(port);
    await refused.closed;
    assert.equal(refused.received(), '');
    for (const connection of held) assert.equal(connection.socket.destroyed, false);
    for (const connection of held) connection.socket.destroy();
    await Promise.all(held.map((connection) => connection.closed));
    // The server counts a connection out when it sees it close, a moment after the client does.
    let status = 0;
    for (let tries = 0; status === 0 && tries < 1_500; tries++) {
      status = await fetch(`${sluice.baseURL}/v1/models`, { headers: { authorization: `Bearer ${KEYS.checkout}` } })
        .then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        })
        .catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return 0;
        });
    }
    assert.equal(status, 200);
  });
});
