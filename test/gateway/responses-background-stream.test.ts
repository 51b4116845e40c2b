// Streamed background Responses API calls (`background: true` with `stream: true`) with responses.background: meter,
// driven by the openai SDK against a mock OpenAI that streams them. A stream that reaches the response's end is metered
// as any streamed call; one the client leaves (or that breaks) runs on at the provider, billed, so the gateway follows
// the response to its end as it does a queued one, and the client may resume the stream
// (GET /v1/responses/{id}?stream=true&starting_after=N, as the openai SDK's `responses.retrieve` sends it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { json, MockProvider, type Received } from '../support/mock-provider.js';
import { messageItem, responseObject, type MockUsage } from '../support/mock-responses.js';
import { KEYS, ledgerRowWhere, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const OPENAI_KEY = 'upstream-openai-key-not-real';
const MODEL = 'o3-deep-research-2025-06-26';

interface Streamed {
  events: string[];
  /** The client's connection while the stream is open at the provider; null once ended or left. */
  open: ServerResponse | null;
  response: Record<string, unknown>;
}

/**
 * A mock OpenAI streaming background responses: the first events at once, the rest when the test calls `end()` (or at
 * once with `whole`). Its retrievals are counted; a retrieval with stream=true replays the events after starting_after.
 */
function streamingBackgroundApi() {
  const streamed = new Map<string, Streamed>();
  const retrievals = new Map<string, number>();
  let next = 0;
  let whole = false;
  const frame = (entry: Streamed, type: string, fields: Record<string, unknown>) => {
    const text = `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: entry.events.length, ...fields })}\n\n`;
    entry.events.push(text);
    entry.open?.write(text);
  };
  const at = { item_id: 'msg_bg1', output_index: 0, content_index: 0 };
  const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
  const finish = (id: string, usage: MockUsage) => {
    const entry = streamed.get(id)!;
    frame(entry, 'response.output_text.delta', { ...at, delta: 'is done.', logprobs: [] });
    const done = messageItem('The report is done.');
    frame(entry, 'response.output_text.done', { ...at, text: 'The report is done.', logprobs: [] });
    frame(entry, 'response.output_item.done', { output_index: 0, item: { ...done, id: 'msg_bg1' } });
    entry.response = { ...responseObject([done], usage, MODEL, id), background: true };
    frame(entry, 'response.completed', { response: entry.response });
    entry.open?.end();
    entry.open = null;
  };
  const responder = (request: Received, res: ServerResponse) => {
    if (request.headers.authorization !== `Bearer ${OPENAI_KEY}`)
      return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    const url = new URL(request.path, 'http://mock');
    if (request.method === 'POST' && url.pathname === '/v1/responses' && request.body.background === true && request.body.stream === true) {
      const id = `resp_bgs${(++next).toString(16).padStart(5, '0')}`;
      const queued = {
        ...responseObject([], { input_tokens: 0, output_tokens: 0 }, MODEL, id),
        status: 'queued',
        background: true,
        usage: null,
      };
      const entry: Streamed = { events: [], open: res, response: queued };
      streamed.set(id, entry);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.on('close', () => {
        if (entry.open === res) entry.open = null;
      });
      frame(entry, 'response.created', { response: queued });
      frame(entry, 'response.queued', { response: queued });
      entry.response = { ...queued, status: 'in_progress' };
      frame(entry, 'response.in_progress', { response: entry.response });
      frame(entry, 'response.output_item.added', {
        output_index: 0,
        item: { id: 'msg_bg1', type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      });
      frame(entry, 'response.content_part.added', { ...at, part });
      frame(entry, 'response.output_text.delta', { ...at, delta: 'The report ', logprobs: [] });
      if (whole) finish(id, { input_tokens: 300, output_tokens: 4_000 });
      return;
    }
    const match = /^\/v1\/responses\/([^/]+)$/.exec(url.pathname);
    const entry = match === null ? undefined : streamed.get(match[1]!);
    if (request.method !== 'GET' || entry === undefined)
      return json(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
    retrievals.set(match![1]!, (retrievals.get(match![1]!) ?? 0) + 1);
    if (url.searchParams.get('stream') !== 'true') return json(res, 200, entry.response);
    const after = Number(url.searchParams.get('starting_after') ?? -1);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.end(entry.events.slice(after + 1).join(''));
  };
  return {
    responder,
    retrievals: (id: string) => retrievals.get(id) ?? 0,
    /** Whether the provider's streams run to the response's end at once. */
    streamWhole(value: boolean) {
      whole = value;
    },
    /** Ends a running response, as the model finishing would: its last events, and its usage. */
    end: finish,
    /** Whether the provider still has the stream's connection open. */
    connected: (id: string) => streamed.get(id)?.open !== null,
  };
}

describe('streamed background responses (responses.background: meter)', () => {
  const api = streamingBackgroundApi();
  let openaiMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    openaiMock = await MockProvider.start(api.responder);
    sluice = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: OPENAI_KEY } },
      models: [
        { name: 'o3-deep-research', targets: [{ provider: 'openai', model: 'o3-deep-research' }], pricing: { input: 10, output: 40 } },
        // The test consumers' own model lists name it.
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      responses: { background: 'meter' },
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice?.stop();
    await openaiMock?.close();
  });

  test('a stream that reaches the response’s end is metered with the usage it ends with, no retrieval needed', async () => {
    api.streamWhole(true);
    try {
      const stream = await client.responses.create({ model: 'o3-deep-research', input: 'Research otters', background: true, stream: true });
      const types: string[] = [];
      let id = '';
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === 'response.created') id = event.response.id;
      }
      assert.equal(types[0], 'response.created');
      assert.equal(types.at(-1), 'response.completed');
      const row = await ledgerRowWhere(sluice, 'the streamed response recorded', (candidate) => candidate.input_tokens === 300);
      assert.equal(row.stream, 1);
      assert.equal(row.error_class, null);
      assert.equal(row.output_tokens, 4_000);
      assert.equal(row.tokens_estimated, 0);
      // $10 and $40 per 1M tokens: 0.003 + 0.16 dollars.
      assert.equal(row.cost_micro_usd, 163_000);
      assert.equal(api.retrievals(id), 0, 'the stream gave the usage: nothing to follow');
    } finally {
      api.streamWhole(false);
    }
  });

  test('a stream the client leaves runs on at the provider: followed to its end and metered once, and the client resumes it', async () => {
    const stream = await client.responses.create({
      model: 'o3-deep-research',
      input: 'Research beavers at length',
      background: true,
      stream: true,
    });
    let id = '';
    let last = -1;
    let text = '';
    for await (const event of stream) {
      if (event.type === 'response.created') id = event.response.id;
      last = event.sequence_number;
      if (event.type === 'response.output_text.delta') {
        text += event.delta;
        break; // the client leaves: the SDK closes the connection
      }
    }
    assert.notEqual(id, '');
    // The gateway lets the provider's stream go and asks the provider how the response stands instead.
    await until('the gateway retrieves the running response', () => api.retrievals(id) >= 1);
    assert.equal(api.connected(id), false, 'the provider’s stream is closed');
    assert.equal((await ledgerRows(sluice)).filter((row) => row.input_tokens === 1_500).length, 0, 'no row while it runs');

    api.end(id, { input_tokens: 1_500, output_tokens: 20_000 });
    // The client picks the stream up after the last event it had, through Sluice.
    const resumed = await client.responses.retrieve(id, { stream: true, starting_after: last });
    const types: string[] = [];
    for await (const event of resumed) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    assert.equal(text, 'The report is done.');
    assert.equal(types.at(-1), 'response.completed');

    const row = await ledgerRowWhere(sluice, 'the left stream’s response recorded', (candidate) => candidate.input_tokens === 1_500);
    assert.equal(row.error_class, null);
    assert.equal(row.status, 200);
    assert.equal(row.stream, 1);
    assert.equal(row.output_tokens, 20_000);
    assert.equal(row.tokens_estimated, 0);
    assert.equal(row.cost_micro_usd, 815_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await ledgerRows(sluice)).filter((candidate) => candidate.input_tokens === 1_500).length, 1, 'one row');
  });
});
