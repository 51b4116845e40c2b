// A stream that never stops sending (never silent for idleTimeoutMs) is cut at retry.maxStreamMs: the upstream's
// connection is closed, the client's stream ends in its API's error event (a Chat Completions error chunk, Anthropic's
// `event: error`, the Responses API's error and response.failed), and the call is recorded as stream_time_limit with the
// tokens seen, its reservation settled and the cut counted. A model may lift the limit; a stream that sends nothing
// before the limit is a timeout like any other, and the next target answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { anthropicStreamFrames, MockProvider, openaiStreamFrames, sse, type Received } from '../support/mock-provider.js';
import { validateConfig } from '../../src/config/load.js';
import { responseStreamFrames } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type LedgerRow, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const LIMIT_MS = 300;
const CUT = /was cut: the stream ran past the 300 ms a stream may last \(maxStreamMs\)/;
const messages = [{ role: 'user' as const, content: 'tell me everything' }];

/** The upstream's connections, opened and closed: a cut stream's must be closed, not left to the pool. */
const connections = { opened: 0, closed: 0 };

/**
 * A stream in the API `received` asked for that opens as the real one does, then sends a piece of text every 20 ms for as
 * long as its connection stays open: never silent, never ending.
 */
function endless(received: Received, res: ServerResponse): void {
  const base = { id: 'chatcmpl-endless', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini' };
  let opening: string[];
  let tick: (n: number) => string;
  if (received.path.endsWith('/messages')) {
    opening = anthropicStreamFrames([]).slice(0, 3);
    tick = () =>
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"more "}}\n\n`;
  } else if (received.path.endsWith('/responses')) {
    opening = responseStreamFrames([], { input_tokens: 5, output_tokens: 1 }).slice(0, 4);
    tick = (n) =>
      `event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', sequence_number: 4 + n, item_id: 'msg_s1', output_index: 0, content_index: 0, delta: 'more ', logprobs: [] })}\n\n`;
  } else {
    opening = openaiStreamFrames([], null).slice(0, 1);
    tick = () => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: 'more ' }, finish_reason: null }] })}\n\n`;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const frame of opening) res.write(frame);
  let n = 0;
  const timer = setInterval(() => res.write(tick(n++)), 20);
  connections.opened++;
  res.socket!.once('close', () => {
    clearInterval(timer);
    connections.closed++;
  });
}

async function respond(received: Received, res: ServerResponse): Promise<void> {
  const model = String(received.body.model);
  // Slow but finite: twice the limit, for the model that lifts it and the target that answers after a silent one.
  if (model === 'finite') {
    return sse(res, openaiStreamFrames(Array(15).fill('word '), { prompt_tokens: 9, completion_tokens: 15 }), 2 * (LIMIT_MS / 15));
  }
  // A head, then silence within idleTimeoutMs: the limit runs out before the stream's first byte.
  if (model === 'silent') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    connections.opened++;
    res.socket!.once('close', () => connections.closed++);
    return;
  }
  endless(received, res);
}

/** The last ledger row, once every upstream connection opened has closed. */
async function cutRow(sluice: TestSluice): Promise<LedgerRow> {
  await until('the upstream connection is closed', () => connections.closed === connections.opened);
  return (await ledgerRows(sluice)).at(-1)!;
}

/** The call's row: cut at the limit, with the prompt's tokens and at least those of the text the client got, priced. */
function assertCutRow(row: LedgerRow, api: string, model: string, text: string): void {
  assert.deepEqual([row.api, row.requested_model, row.status, row.error_class], [api, model, 200, 'stream_time_limit']);
  assert.ok(row.input_tokens > 0, `${row.input_tokens} input tokens recorded`);
  const pieces = text.split('more ').length - 1;
  assert.ok(row.output_tokens >= pieces, `${row.output_tokens} output tokens recorded for ${pieces} pieces sent`);
  assert.notEqual(row.cost_micro_usd, null, 'priced');
}

describe('a stream past retry.maxStreamMs', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    mock = await MockProvider.start(respond);
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'upstream-anthropic-key-not-real' },
      },
      routing: { retry: { attempts: 1, backoffMs: 5, timeoutMs: 5_000, maxStreamMs: LIMIT_MS } },
      models: [
        { name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        // The test config's second consumer may use it; never called.
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
        { name: 'unlimited', targets: [{ provider: 'openai', model: 'finite' }], retry: { maxStreamMs: 0 } },
        {
          name: 'silent-first',
          targets: [
            { provider: 'openai', model: 'silent' },
            { provider: 'openai', model: 'finite' },
          ],
          retry: { maxStreamMs: 3 * LIMIT_MS },
        },
      ],
      // One call's reservation (4,096 output tokens) fits, two do not: a reservation a cut stream left unsettled would
      // refuse the next call.
      budgets: [{ name: 'streams', consumers: { consumer: 'checkout-service' }, measure: 'total_tokens', limit: 6_000, window: 'day' }],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  for (const model of ['gpt', 'claude']) {
    test(
      `Chat Completions client over ${model}: the openai SDK throws the timeout's error chunk after the text sent`,
      { timeout: 30_000 },
      async () => {
        let text = '';
        await assert.rejects(
          async () => {
            for await (const chunk of await openai.chat.completions.create({ model, messages, stream: true })) {
              text += chunk.choices[0]?.delta.content ?? '';
            }
          },
          (error: unknown) => error instanceof OpenAI.APIError && error.code === 'upstream_timeout' && CUT.test(error.message),
        );
        assert.match(text, /^(more )*$/);
        assertCutRow(await cutRow(sluice), 'openai', model, text);
      },
    );
  }

  test('Messages client: the Anthropic SDK throws the timeout_error event after the text sent', { timeout: 30_000 }, async () => {
    let text = '';
    const stream = anthropic.messages.stream({ model: 'claude', max_tokens: 4_096, messages });
    stream.on('text', (delta) => (text += delta));
    await assert.rejects(
      stream.finalMessage(),
      (error: unknown) => error instanceof Anthropic.APIError && error.type === 'timeout_error' && CUT.test(error.message),
    );
    assert.match(text, /^(more )*$/);
    assertCutRow(await cutRow(sluice), 'anthropic', 'claude', text);
  });

  test('Responses API client: error, then response.failed', { timeout: 30_000 }, async () => {
    const events: ResponseStreamEvent[] = [];
    for await (const event of await openai.responses.create({ model: 'gpt', input: 'tell me everything', stream: true })) {
      events.push(event);
    }
    const types = events.map((event) => event.type);
    assert.deepEqual(types.slice(-2), ['error', 'response.failed'], types.join(', '));
    assert.match((events.at(-2) as OpenAI.Responses.ResponseErrorEvent).message, CUT);
    const failed = (events.at(-1) as OpenAI.Responses.ResponseFailedEvent).response;
    assert.equal(failed.status, 'failed');
    assert.match(failed.error?.message ?? '', CUT);
    const sent = events.map((event) => (event.type === 'response.output_text.delta' ? event.delta : '')).join('');
    assertCutRow(await cutRow(sluice), 'openai-responses', 'gpt', sent);
  });

  test('every cut is counted by its reason', { timeout: 30_000 }, async () => {
    const metrics = await sluice.sluice.context.metrics.registry.metrics();
    const cuts = metrics.split('\n').filter((line) => line.startsWith('sluice_streams_cut_total{'));
    assert.deepEqual(cuts, ['sluice_streams_cut_total{reason="stream_time_limit"} 4']);
  });

  test('a model with maxStreamMs 0 streams past the limit to its end', { timeout: 30_000 }, async () => {
    let text = '';
    for await (const chunk of await openai.chat.completions.create({ model: 'unlimited', messages, stream: true })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(text, 'word '.repeat(15));
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.deepEqual([row.requested_model, row.status, row.error_class, row.output_tokens], ['unlimited', 200, null, 15]);
  });

  test('a stream with no byte by its limit is a timeout: the next target answers', { timeout: 30_000 }, async () => {
    let text = '';
    for await (const chunk of await openai.chat.completions.create({ model: 'silent-first', messages, stream: true })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(text, 'word '.repeat(15));
    const row = await cutRow(sluice);
    assert.deepEqual([row.requested_model, row.status, row.error_class, row.attempts], ['silent-first', 200, null, 2]);
  });
});

test('maxStreamMs is checked where it is set, the error naming its path', () => {
  const providers = { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1' } };
  const model = (retry: unknown) => ({ name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], retry });
  for (const [config, message] of [
    [{ routing: { retry: { maxStreamMs: -1 } } }, 'sluice.yaml: routing.retry.maxStreamMs: milliseconds, or 0 for no limit'],
    [{ models: [model({ maxStreamMs: 1.5 })] }, 'sluice.yaml: models[0].retry.maxStreamMs: expected a whole number; got 1.5'],
    [{ routing: { retry: { maxStreamMs: '30m' } } }, 'sluice.yaml: routing.retry.maxStreamMs: expected a number; got a string'],
  ] as const) {
    assert.throws(() => validateConfig({ providers, consumers: [], ...config }, 'sluice.yaml'), { message });
  }
  // Off unless set; a model's own 0 lifts the limit routing.retry sets.
  assert.equal(validateConfig({ providers, consumers: [] }, 'sluice.yaml').routing.retry.maxStreamMs, 0);
});
