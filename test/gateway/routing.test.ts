// Routing as a client sees it: ordered fallback, retries with backoff, no fallback on request errors, circuit breaker, weights.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion, openaiStreamFrames } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('routing, fallback and retries', () => {
  let primary: MockProvider;
  let secondary: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    primary = await MockProvider.start((_r, res) => json(res, 200, openaiCompletion('from primary')));
    secondary = await MockProvider.start((_r, res) => json(res, 200, openaiCompletion('from secondary')));
    sluice = await startTestSluice({
      providers: {
        primary: { type: 'openai', baseUrl: `${primary.url}/v1`, apiKey: 'primary-key-not-real' },
        secondary: { type: 'openai', baseUrl: `${secondary.url}/v1`, apiKey: 'secondary-key-not-real' },
        dead: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'dead-key-not-real' },
      },
      routing: { retry: { attempts: 1, backoffMs: 5, timeoutMs: 300 }, circuitBreaker: { failures: 3, cooldownMs: 60_000 } },
      models: [
        // One model per case: each has its own primary target, so one case's failures cannot open another's circuit.
        ...['fallback-model', 'rate-limited', 'timing-out', 'rejecting', 'streaming', 'stream-dies-early', 'redirecting'].map((name) => ({
          name,
          targets: [
            { provider: 'primary', model: `p-${name}` },
            { provider: 'secondary', model: 's-model' },
          ],
        })),
        {
          name: 'dead-first',
          targets: [
            { provider: 'dead', model: 'x' },
            { provider: 'secondary', model: 's-model' },
          ],
        },
        {
          name: 'breaker-model',
          targets: [
            { provider: 'primary', model: 'breaker-target' },
            { provider: 'secondary', model: 's-model' },
          ],
        },
        { name: 'only-primary', targets: [{ provider: 'primary', model: 'only' }] },
        { name: 'only-redirecting', targets: [{ provider: 'primary', model: 'only-redirecting' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] },
        {
          name: 'weighted',
          targets: [
            { provider: 'primary', model: 'w1', weight: 1 },
            { provider: 'secondary', model: 'w2', weight: 3 },
          ],
        },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  afterEach(() => {
    primary.respondWith((_r, res) => json(res, 200, openaiCompletion('from primary')));
    secondary.respondWith((_r, res) => json(res, 200, openaiCompletion('from secondary')));
    primary.received.length = 0;
    secondary.received.length = 0;
  });

  after(async () => {
    await sluice.stop();
    await primary.close();
    await secondary.close();
  });

  const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });

  test('retries a target that answers 503 once, then falls back to the next target', async () => {
    primary.respondWith((_r, res) => json(res, 503, { error: { message: 'overloaded', type: 'server_error' } }));
    const answer = await ask('fallback-model');
    assert.equal(answer.choices[0]?.message.content, 'from secondary');
    assert.equal(primary.received.length, 2, 'one try and one retry on the primary');
    assert.equal(secondary.received.length, 1);
    assert.equal(secondary.received[0]?.body.model, 's-model');
  });

  test('falls back at once on 429 without retrying the rate-limited target', async () => {
    primary.respondWith((_r, res) =>
      json(res, 429, { error: { message: 'rate limited', type: 'rate_limit_error' } }, { 'retry-after': '1' }),
    );
    const answer = await ask('rate-limited');
    assert.equal(answer.choices[0]?.message.content, 'from secondary');
    assert.equal(primary.received.length, 1);
  });

  test('falls back when a target refuses connections', async () => {
    const answer = await ask('dead-first');
    assert.equal(answer.choices[0]?.message.content, 'from secondary');
  });

  test('falls back when a target times out', async () => {
    primary.respondWith(async (_r, res) => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      json(res, 200, openaiCompletion('too late'));
    });
    const answer = await ask('timing-out');
    assert.equal(answer.choices[0]?.message.content, 'from secondary');
  });

  test('does not fall back on a 400 caused by the request, and passes the provider message on', async () => {
    primary.respondWith((_r, res) =>
      json(res, 400, { error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error' } }),
    );
    await assert.rejects(ask('rejecting'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /Invalid value for 'temperature'/);
      return true;
    });
    assert.equal(secondary.received.length, 0);
  });

  test('falls back when a target redirects (a baseUrl on http:// that moved to https://), and never passes the 3xx on', async () => {
    primary.respondWith((_r, res) => {
      res.writeHead(301, { location: 'https://api.example.com/v1/chat/completions' });
      res.end();
    });
    const answer = await ask('redirecting');
    assert.equal(answer.choices[0]?.message.content, 'from secondary');
    assert.equal(primary.received.length, 1, 'the same redirect would come again: no retry');
    for (const stream of [false, true]) {
      await assert.rejects(
        client.chat.completions.create({ model: 'only-redirecting', messages: [{ role: 'user', content: 'hi' }], stream }),
        (error: unknown) => {
          assert.ok(error instanceof OpenAI.APIError, String(error));
          assert.equal(error.status, 502);
          assert.match(error.message, /primary\/only-redirecting: HTTP 301 redirect to https:\/\/api\.example\.com\/v1\/chat\/completions/);
          return true;
        },
      );
    }
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'only-redirecting');
    assert.deepEqual(
      rows.map((row) => [row.status, row.error_class]),
      [
        [502, 'upstream_unavailable'],
        [502, 'upstream_unavailable'],
      ],
    );
  });

  test('answers 502 naming every failed attempt when all targets fail, without leaking provider keys', async () => {
    primary.respondWith((_r, res) => json(res, 500, { error: { message: 'boom, key sk-live-abcdefghijklmnop1234 rejected' } }));
    await assert.rejects(ask('only-primary'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 502);
      assert.match(error.message, /primary\/only: HTTP 500/);
      assert.ok(!error.message.includes('sk-live-abcdefghijklmnop1234'));
      assert.ok(!error.message.includes('primary-key-not-real'));
      return true;
    });
  });

  test('answers 504 when the last failure was a timeout', async () => {
    primary.respondWith(async (_r, res) => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      json(res, 200, openaiCompletion('too late'));
    });
    await assert.rejects(ask('only-primary'), (error: unknown) => error instanceof OpenAI.APIError && error.status === 504);
  });

  test('opens the circuit of a target that keeps failing and skips it for the cool-down', async () => {
    primary.respondWith((_r, res) => json(res, 500, { error: { message: 'down' } }));
    await ask('breaker-model'); // 2 failures (try + retry)
    await ask('breaker-model'); // 3rd failure opens the circuit
    const before = primary.received.length;
    const answer = await ask('breaker-model');
    assert.equal(answer.choices[0]?.message.content, 'from secondary');
    assert.equal(primary.received.length, before, 'the open target got no request');
  });

  test('spreads first attempts by weight', async () => {
    for (let i = 0; i < 40; i++) await ask('weighted');
    assert.equal(primary.received.length + secondary.received.length, 40);
    assert.ok(
      secondary.received.length > primary.received.length,
      `3:1 weights, got ${secondary.received.length}:${primary.received.length}`,
    );
    assert.ok(primary.received.length > 0);
  });

  test('does not fall back once a stream has started, and ends it with an error event', async () => {
    primary.respondWith((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(openaiStreamFrames(['partial'], null)[1]!);
      setTimeout(() => res.destroy(), 20);
    });
    const stream = await client.chat.completions.create({ model: 'streaming', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    }, /broke off/);
    assert.equal(text, 'partial');
    assert.equal(secondary.received.length, 0);
  });

  test('falls back when a stream dies after its head, before its first byte', async () => {
    primary.respondWith((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      setTimeout(() => res.destroy(), 20);
    });
    secondary.respondWith((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const frame of openaiStreamFrames(['from secondary'], null)) res.write(frame);
      res.end();
    });
    const stream = await client.chat.completions.create({
      model: 'stream-dies-early',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'from secondary');
    assert.equal(primary.received.length, 2, 'a retryable failure: tried again on the same target first');
    assert.equal(secondary.received.length, 1);
    const rows = await ledgerRows(sluice);
    const row = rows.find((candidate) => candidate.requested_model === 'stream-dies-early');
    assert.equal(row?.provider, 'secondary');
    assert.equal(row?.attempts, 3);
  });

  test('records fallback attempts in the ledger', async () => {
    const rows = await ledgerRows(sluice);
    const fallback = rows.find((row) => row.requested_model === 'fallback-model' && row.attempts === 3 && row.provider === 'secondary');
    assert.ok(fallback, 'the 503 case: two tries on primary, one on secondary');
    const failed = rows.find((row) => row.status === 502);
    assert.equal(failed?.error_class, 'upstream_unavailable');
  });
});
