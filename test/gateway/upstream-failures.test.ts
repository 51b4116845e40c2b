// Upstreams that fail halfway: answers that break off, stall, run too large or are not the stream asked for are the
// upstream's failure (502/504, with fallback), and a rate limit with no target left reaches the client as a 429.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicStreamFrames, json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { responseStreamFrames } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const CASES = [
  'stalls',
  'breaks',
  'json-stream',
  'html-stream',
  'anthropic-json-stream',
  'rate-limited',
  'slow-head',
  'model-override',
  'cut-clean',
  'not-an-object',
  'empty-stream',
];

/** The head and part of a JSON answer; the rest never comes (`then` decides: stall, or close the connection). */
function partialJson(res: ServerResponse, then: 'stall' | 'close'): void {
  const body = JSON.stringify(openaiCompletion('never whole'));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
  res.write(body.slice(0, 40));
  if (then === 'close') setTimeout(() => res.destroy(), 20);
}

describe('upstream answers that fail after their head', () => {
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
        'anthropic-primary': { type: 'anthropic', baseUrl: primary.url, apiKey: 'anthropic-key-not-real' },
        'anthropic-secondary': { type: 'anthropic', baseUrl: secondary.url, apiKey: 'anthropic-key-not-real' },
      },
      routing: { retry: { attempts: 1, backoffMs: 5, timeoutMs: 300 }, circuitBreaker: { failures: 100, cooldownMs: 60_000 } },
      models: [
        // One model per case and per route shape, so the breakers of one case never touch another's.
        ...CASES.flatMap((name) => [
          {
            name,
            targets: [
              { provider: 'primary', model: `p-${name}` },
              { provider: 'secondary', model: 's-model' },
            ],
          },
          { name: `only-${name}`, targets: [{ provider: 'primary', model: `only-${name}` }] },
        ]),
        {
          name: 'claude-fallback',
          targets: [
            { provider: 'anthropic-primary', model: 'claude-p' },
            { provider: 'anthropic-secondary', model: 'claude-s' },
          ],
        },
        { name: 'claude-only', targets: [{ provider: 'anthropic-primary', model: 'claude-only' }] },
        {
          name: 'twice-rate-limited',
          targets: [
            { provider: 'primary', model: 'rl-1' },
            { provider: 'secondary', model: 'rl-2' },
          ],
        },
        // A model's own retry leaves the rest of routing.retry (timeoutMs: 300) in force.
        { name: 'own-retry', targets: [{ provider: 'primary', model: 'own-retry' }], retry: { attempts: 0 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'secondary', model: 'gpt-4o-mini' }] },
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
  const askStream = async (model: string) => {
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    return text;
  };
  const rejectsWith = (status: number, pattern: RegExp) => (error: unknown) => {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.equal(error.status, status);
    assert.match(error.message, pattern);
    return true;
  };

  test('a non-streamed answer that stalls after its head falls back, and without a fallback is a 504', async () => {
    primary.respondWith((_r, res) => partialJson(res, 'stall'));
    assert.equal((await ask('stalls')).choices[0]?.message.content, 'from secondary');
    assert.equal(primary.received.length, 1, 'a timeout goes to the next target without a retry');
    await assert.rejects(
      ask('only-stalls'),
      // timeoutMs (300 ms) runs out before the silence limit it caps, counted from the head: the whole answer was late.
      rejectsWith(504, /only-stalls: the answer took longer than the 300 ms an attempt may wait for it \(timeoutMs\)/),
    );
  });

  test('a non-streamed answer whose connection closes mid-body is retried, falls back, and without a fallback is a 502', async () => {
    primary.respondWith((_r, res) => partialJson(res, 'close'));
    assert.equal((await ask('breaks')).choices[0]?.message.content, 'from secondary');
    assert.equal(primary.received.length, 2, 'a broken connection is retried on the same target first');
    await assert.rejects(ask('only-breaks'), rejectsWith(502, /only-breaks: answer broke off after its head \(HTTP 200\)/));
    const rows = await ledgerRows(sluice);
    const failed = rows.find((row) => row.requested_model === 'only-breaks');
    assert.deepEqual([failed?.status, failed?.error_class, failed?.attempts], [502, 'upstream_unavailable', 2]);
  });

  test('a non-streamed answer that is not a JSON object is not relayed as a 200: it falls back, and without a fallback is a 502', async () => {
    // A server that streams whatever was asked, JSON's null, a list: an OpenAI-shaped answer would reach the client as
    // the provider's bytes, a translated one as an empty message.
    const answers: Array<[string, string, string]> = [
      ['text/event-stream', openaiStreamFrames(['streamed anyway'], { prompt_tokens: 3, completion_tokens: 2 }).join(''), 'OpenAI'],
      ['application/json', 'null', 'OpenAI'],
      ['application/json', ' [1, 2]', 'Anthropic'],
    ];
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    for (const [type, body, api] of answers) {
      primary.respondWith((_r, res) => {
        res.writeHead(200, { 'content-type': type });
        res.end(body);
      });
      const askIn = async (model: string) => {
        if (api === 'OpenAI') return (await ask(model)).choices[0]?.message.content;
        const message = await anthropic.messages.create({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
        return message.content[0]?.type === 'text' ? message.content[0].text : '';
      };
      assert.equal(await askIn('not-an-object'), 'from secondary', `${body.slice(0, 20)} to ${api}`);
      await assert.rejects(askIn('only-not-an-object'), (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError || error instanceof Anthropic.APIError, String(error));
        assert.equal(error.status, 502);
        assert.match(error.message, /not a JSON object/);
        return true;
      });
    }
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'only-not-an-object');
    assert.deepEqual(
      rows.map((row) => [row.status, row.error_class, row.cost_micro_usd]),
      answers.map(() => [502, 'upstream_unavailable', null]),
    );
  });

  test('a stream request answered with JSON is not relayed: it falls back, and without a fallback is a 502 in the ledger', async () => {
    primary.respondWith((_r, res) => json(res, 200, openaiCompletion('not a stream')));
    secondary.respondWith((_r, res) => sse(res, openaiStreamFrames(['from ', 'secondary'], null)));
    assert.equal(await askStream('json-stream'), 'from secondary');
    await assert.rejects(askStream('only-json-stream'), rejectsWith(502, /content-type "application\/json", not text\/event-stream/));
    const rows = await ledgerRows(sluice);
    const failed = rows.find((row) => row.requested_model === 'only-json-stream');
    assert.deepEqual([failed?.status, failed?.error_class, failed?.stream], [502, 'upstream_unavailable', 1]);
  });

  test('a stream request answered with bytes that are not server-sent events is not relayed, whatever its content-type', async () => {
    primary.respondWith((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('<html><body>Service temporarily unavailable</body></html>');
    });
    secondary.respondWith((_r, res) => sse(res, openaiStreamFrames(['from secondary'], null)));
    assert.equal(await askStream('html-stream'), 'from secondary');
    await assert.rejects(askStream('only-html-stream'), rejectsWith(502, /bytes that are not server-sent events/));
  });

  test('a stream request answered with an empty body falls back, and without a fallback is a 502, not a 200 that breaks off', async () => {
    secondary.respondWith((_r, res) => sse(res, openaiStreamFrames(['from ', 'secondary'], null)));
    for (const [status, headers] of [
      [200, { 'content-type': 'text/event-stream' }],
      [200, {}],
      [204, {}],
    ] as const) {
      primary.respondWith((_r, res) => {
        res.writeHead(status, headers);
        res.end();
      });
      assert.equal(await askStream('empty-stream'), 'from secondary', `${status} ${JSON.stringify(headers)}`);
      await assert.rejects(askStream('only-empty-stream'), rejectsWith(502, /answered a stream request with an empty body/));
    }
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'only-empty-stream');
    assert.deepEqual(
      rows.map((row) => [row.status, row.error_class]),
      rows.map(() => [502, 'upstream_unavailable']),
    );
    assert.equal(rows.length, 3);
  });

  test('Anthropic to Anthropic: a stream answered with JSON falls back, and without a fallback is a 502 error object', async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    primary.respondWith((_r, res) => json(res, 200, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    secondary.respondWith((_r, res) => sse(res, anthropicStreamFrames(['from secondary'])));
    const stream = anthropic.messages.stream({ model: 'claude-fallback', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(await stream.finalText(), 'from secondary');
    await assert.rejects(
      anthropic.messages.stream({ model: 'claude-only', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }).finalText(),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.APIError, String(error));
        assert.equal(error.status, 502);
        assert.equal((error.error as { error?: { type?: string } }).error?.type, 'api_error');
        return true;
      },
    );
  });

  test('a 429 with no target left reaches the client as a 429 with the Retry-After of the soonest target', async () => {
    primary.respondWith((_r, res) =>
      json(res, 429, { error: { message: 'Rate limit reached', type: 'requests' } }, { 'retry-after': '30' }),
    );
    secondary.respondWith((_r, res) =>
      json(res, 429, { error: { message: 'Rate limit reached', type: 'requests' } }, { 'retry-after': '7' }),
    );
    for (const model of ['only-rate-limited', 'twice-rate-limited']) {
      await assert.rejects(ask(model), (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        assert.equal(error.headers?.get('retry-after'), model === 'only-rate-limited' ? '30' : '7');
        assert.match(error.message, /rate limited/);
        return true;
      });
    }
    primary.respondWith((_r, res) => json(res, 429, { error: { message: 'Rate limit reached' } }));
    await assert.rejects(ask('only-rate-limited'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.headers?.get('retry-after'), null, 'no Retry-After is made up');
      return true;
    });
  });

  test("a stream's silence limit restarts with each chunk: a slow stream runs past it, one that falls silent is cut", async () => {
    // routing.retry.timeoutMs 300 caps the silence between chunks at 300 ms: ten chunks 100 ms apart take a second.
    const pieces = Array.from({ length: 10 }, (_, i) => `${i} `);
    primary.respondWith((_r, res) => sse(res, openaiStreamFrames(pieces, null), 100));
    const started = Date.now();
    assert.equal(await askStream('only-stalls'), pieces.join(''));
    assert.ok(Date.now() - started >= 900, 'the whole stream lasted longer than the limit on each silence');

    primary.respondWith((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const frame of openaiStreamFrames(['before the silence'], null).slice(0, 2)) res.write(frame);
    });
    let text = '';
    await assert.rejects(
      async () => {
        const stream = await client.chat.completions.create({
          model: 'only-stalls',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
        });
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      },
      (error: unknown) => error instanceof OpenAI.APIError && /broke off: timed out waiting for the body/.test(error.message),
    );
    assert.equal(text, 'before the silence', 'what came before the silence was relayed');
    const rows = await ledgerRows(sluice);
    const cut = rows.filter((row) => row.requested_model === 'only-stalls' && row.stream === 1).at(-1);
    assert.equal(cut?.error_class, 'stream_interrupted');
  });

  test('a stream its client reads slowly is held back upstream, not cut by the silence limit', async () => {
    // 32 MB: more than the sockets between the three hold, so the gateway has to pause its read of the upstream while
    // the client sleeps three times the 300 ms limit on silences.
    const piece = 'x'.repeat(256 * 1024);
    const pieces = Array.from({ length: 128 }, () => piece);
    // Built before the call, as Buffers: the mock runs in the gateway's process, and building 32 MB of frames (120 to
    // 240 ms here) or encoding them as they are written (110 to 160 ms) held both past the 300 ms the head may take,
    // after which the gateway's timer ran before its read of the head.
    const frames = openaiStreamFrames(pieces, { prompt_tokens: 5, completion_tokens: 7 }).map((frame) => Buffer.from(frame));
    primary.respondWith((_r, res) => sse(res, frames));
    const stream = await client.chat.completions.create({
      model: 'only-stalls',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let length = 0;
    let slept = false;
    for await (const chunk of stream) {
      length += chunk.choices[0]?.delta.content?.length ?? 0;
      if (!slept && length > 0) {
        slept = true;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
    assert.equal(length, pieces.length * piece.length);
    const rows = await ledgerRows(sluice);
    const held = rows.filter((row) => row.requested_model === 'only-stalls' && row.stream === 1).at(-1);
    assert.deepEqual([held?.status, held?.error_class, held?.output_tokens], [200, null, 7], 'recorded as served whole');
  });

  test('a pause of the gateway’s own process (a long collection, a starved CPU) is not the upstream’s silence', async () => {
    // Chunks 50 ms apart, well within the 300 ms limit on silences. The gateway runs in this process: holding it busy
    // for a second stops its reads as a long garbage collection or a machine out of CPU does, while the upstream's
    // next chunk waits in the socket. Its deadlines then passed, but only because it was not looking.
    const pieces = Array.from({ length: 6 }, (_, i) => `${i} `);
    primary.respondWith((_r, res) => sse(res, openaiStreamFrames(pieces, null), 50));
    const stream = await client.chat.completions.create({
      model: 'only-stalls',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content ?? '';
      if (text === '' && piece !== '') {
        const until = performance.now() + 1_000;
        while (performance.now() < until); // busy: no timer, no read runs meanwhile
      }
      text += piece;
    }
    assert.equal(text, pieces.join(''));
  });

  test("an Anthropic stream cut short upstream bills the output the client got, not message_start's placeholder", async () => {
    // message_start reports output_tokens: 1; the real count comes only in message_delta, which never arrives here.
    const pieces = Array.from({ length: 12 }, (_, i) => `word${i} `);
    const frames = anthropicStreamFrames(pieces);
    const deltas = frames.findIndex((frame) => frame.startsWith('event: content_block_stop'));
    const overloaded = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    for (const end of ['broken', 'error event'] as const) {
      primary.respondWith(async (_r, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(frames.slice(0, deltas).join(''));
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (end === 'broken') res.destroy();
        else res.end(overloaded);
      });
      let openaiText = '';
      await assert.rejects(async () => {
        const stream = await client.chat.completions.create({
          model: 'claude-only',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
        });
        for await (const chunk of stream) openaiText += chunk.choices[0]?.delta.content ?? '';
      });
      let anthropicText = '';
      await assert.rejects(async () => {
        const stream = anthropic.messages.stream({ model: 'claude-only', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
        stream.on('text', (text) => (anthropicText += text));
        await stream.finalMessage();
      });
      assert.equal(openaiText, pieces.join(''), `${end}: translated, the text before the end reached the client`);
      assert.equal(anthropicText, pieces.join(''), `${end}: passed through, the text before the end reached the client`);
      const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'claude-only').slice(-2);
      for (const row of rows) {
        assert.equal(row.error_class, end === 'broken' ? 'stream_interrupted' : 'stream_error');
        assert.ok(row.output_tokens >= pieces.length, `${end}, ${row.api}: ${row.output_tokens} output tokens recorded`);
        assert.equal(row.tokens_estimated, 1, `${end}, ${row.api}: counted by Sluice`);
      }
    }
  });

  test('a stream closed cleanly before its last event ends in an error event on every front door, not as a whole answer', async () => {
    // OpenAI's without a finish_reason or [DONE], Anthropic's without message_delta or message_stop: then the end of the body.
    primary.respondWith((request, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (request.path.endsWith('/messages')) res.end(anthropicStreamFrames(['Hello', ' world']).slice(0, 5).join(''));
      else res.end(openaiStreamFrames(['Hello', ' world'], { prompt_tokens: 10, completion_tokens: 2 }).slice(0, 3).join(''));
    });
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const cutShort = /ended before its last event/;
    for (const model of ['only-cut-clean', 'claude-only']) {
      let text = '';
      await assert.rejects(
        async () => {
          const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        },
        (error: unknown) => error instanceof OpenAI.APIError && cutShort.test(error.message),
        `${model}, chat completions`,
      );
      assert.equal(text, 'Hello world');
      await assert.rejects(
        anthropic.messages.stream({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }).finalMessage(),
        (error: unknown) => error instanceof Anthropic.APIError && cutShort.test(error.message),
        `${model}, messages`,
      );
    }
    const events: string[] = [];
    for await (const event of await client.responses.create({ model: 'claude-only', input: 'hi', stream: true })) {
      events.push(event.type === 'error' ? `error: ${event.message}` : event.type);
    }
    assert.ok(!events.includes('response.completed'), events.join(', '));
    // Translated, it ends as a failed response does: the error event, then response.failed.
    assert.match(events.at(-2)!, /^error: .*ended before its last event/);
    assert.equal(events.at(-1), 'response.failed');
    const rows = (await ledgerRows(sluice)).slice(-5);
    assert.deepEqual(
      rows.map((row) => [row.api, row.requested_model, row.status, row.error_class]),
      [
        ['openai', 'only-cut-clean', 200, 'stream_interrupted'],
        ['anthropic', 'only-cut-clean', 200, 'stream_interrupted'],
        ['openai', 'claude-only', 200, 'stream_interrupted'],
        ['anthropic', 'claude-only', 200, 'stream_interrupted'],
        ['openai-responses', 'claude-only', 200, 'stream_interrupted'],
      ],
    );
  });

  test('a stream closed cleanly in the middle of an event ends in the error event, the half event not relayed', async () => {
    // The body ends part way through an event's JSON: relayed as it came (a pass-through), it is what the client's SDK
    // chokes on, in place of the error event that follows it.
    const half = (frame: string) => frame.slice(0, Math.floor(frame.length / 2));
    primary.respondWith((request, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const frames = request.path.endsWith('/messages')
        ? anthropicStreamFrames(['Hello', ' world', ' again']).slice(0, 5)
        : request.path.endsWith('/responses')
          ? responseStreamFrames(['Hello', ' world', ' again'], { input_tokens: 10, output_tokens: 3 }).slice(0, 7)
          : openaiStreamFrames(['Hello', ' world', ' again'], null).slice(0, 4);
      res.end(frames.slice(0, -1).join('') + half(frames.at(-1)!));
    });
    const cutShort = /ended before its last event/;
    let text = '';
    await assert.rejects(
      async () => {
        const stream = await client.chat.completions.create({
          model: 'only-cut-clean',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
        });
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      },
      (error: unknown) => error instanceof OpenAI.APIError && cutShort.test(error.message),
      'chat completions, passed through',
    );
    assert.equal(text, 'Hello world');
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const stream = anthropic.messages.stream({ model: 'claude-only', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
    await assert.rejects(
      stream.finalMessage(),
      (error: unknown) => error instanceof Anthropic.APIError && cutShort.test(error.message),
      'messages, passed through',
    );
    const events: string[] = [];
    for await (const event of await client.responses.create({ model: 'only-cut-clean', input: 'hi', stream: true })) {
      events.push(event.type === 'error' ? `error: ${event.message}` : event.type);
    }
    // Passed through, it ends as a translated one does: the error event, then response.failed.
    assert.match(events.at(-2)!, /^error: .*ended before its last event/, 'responses, passed through');
    assert.equal(events.at(-1), 'response.failed', 'responses, passed through');
  });

  test("a model's own retry settings leave the rest of routing.retry in force", async () => {
    primary.respondWith(async (_r, res) => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      json(res, 200, openaiCompletion('too late'));
    });
    await assert.rejects(ask('own-retry'), rejectsWith(504, /timed out waiting for response headers/));
  });
});

describe('upstream limits that need settings of their own', () => {
  let primary: MockProvider;
  let secondary: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;
  const big = 'a few words of a long answer, '.repeat(7 * 1024);

  before(async () => {
    primary = await MockProvider.start((_r, res) => json(res, 200, openaiCompletion(big)));
    secondary = await MockProvider.start((_r, res) => json(res, 200, openaiCompletion('from secondary')));
    sluice = await startTestSluice({
      providers: {
        primary: { type: 'openai', baseUrl: `${primary.url}/v1`, apiKey: 'primary-key-not-real' },
        secondary: { type: 'openai', baseUrl: `${secondary.url}/v1`, apiKey: 'secondary-key-not-real' },
      },
      routing: {
        retry: { attempts: 1, backoffMs: 5, timeoutMs: 5_000, firstByteTimeoutMs: 200 },
        maxResponseBytes: 64 * 1024,
        circuitBreaker: { failures: 100, cooldownMs: 60_000 },
      },
      models: [
        {
          name: 'large',
          targets: [
            { provider: 'primary', model: 'large' },
            { provider: 'secondary', model: 's-model' },
          ],
        },
        { name: 'only-large', targets: [{ provider: 'primary', model: 'only-large' }] },
        { name: 'slow-head', targets: [{ provider: 'primary', model: 'slow-head' }] },
        {
          name: 'trickling',
          targets: [
            { provider: 'primary', model: 'trickling' },
            { provider: 'secondary', model: 's-model' },
          ],
        },
        { name: 'gpt-4o-mini', targets: [{ provider: 'secondary', model: 'gpt-4o-mini' }] },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await primary.close();
    await secondary.close();
  });

  const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
  const askStream = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });

  test("a non-streamed answer past routing.maxResponseBytes is a 502, or the next target's answer", async () => {
    assert.equal((await ask('large')).choices[0]?.message.content, 'from secondary');
    assert.equal(primary.received.length, 1, 'the same target would send the same answer: not retried');
    await assert.rejects(ask('only-large'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 502);
      assert.match(error.message, /larger than the 65536 bytes the gateway holds \(routing\.maxResponseBytes\)/);
      return true;
    });
  });

  test('a streamed answer is never held, whatever its size', async () => {
    primary.respondWith((_r, res) => sse(res, openaiStreamFrames([big, big], { prompt_tokens: 5, completion_tokens: 100_000 })));
    let text = '';
    for await (const chunk of await askStream('only-large')) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text.length, 2 * big.length);
  });

  test('a stream waits firstByteTimeoutMs for its head, a non-streamed answer timeoutMs', async () => {
    primary.respondWith(async (request, res) => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      if (request.body.stream === true) await sse(res, openaiStreamFrames(['late'], null));
      else json(res, 200, openaiCompletion('worth the wait'));
    });
    assert.equal((await ask('slow-head')).choices[0]?.message.content, 'worth the wait');
    await assert.rejects(
      async () => {
        for await (const _chunk of await askStream('slow-head')) assert.fail('no chunk of a stream whose head came too late');
      },
      (error: unknown) =>
        error instanceof OpenAI.APIError && error.status === 504 && /timed out waiting for response headers/.test(error.message),
    );
  });

  test(
    'a non-streamed answer whose body trickles in past timeoutMs is a timeout: the next target answers',
    { timeout: 60_000 },
    async () => {
      // The head at once, then a space every 100 ms (never silent for idleTimeoutMs) for three times timeoutMs, then the answer.
      let closed = false;
      primary.respondWith(async (_request, res) => {
        res.socket!.once('close', () => (closed = true));
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let waited = 0; waited < 15_000 && !res.destroyed; waited += 100) {
          res.write(' ');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        res.end(JSON.stringify(openaiCompletion('trickled in')));
      });
      assert.equal((await ask('trickling')).choices[0]?.message.content, 'from secondary');
      await until("the first target's connection is closed", () => closed);
    },
  );
});
