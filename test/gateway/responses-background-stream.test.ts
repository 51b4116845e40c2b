// Streamed background Responses API calls (`background: true` with `stream: true`) with responses.background: meter,
// driven by the openai SDK against a mock OpenAI that streams them. A stream that reaches the response's end is metered
// as any streamed call; one the client leaves (or that breaks) runs on at the provider, billed, so the gateway follows
// the response to its end as it does a queued one, and the client may resume the stream
// (GET /v1/responses/{id}?stream=true&starting_after=N, as the openai SDK's `responses.retrieve` sends it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { streamingBackgroundApi } from '../support/mock-background-stream.js';
import { MockProvider } from '../support/mock-provider.js';
import { KEYS, ledgerRowWhere, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const OPENAI_KEY = 'upstream-openai-key-not-real';
const MODEL = 'o3-deep-research-2025-06-26';

describe('streamed background responses (responses.background: meter)', () => {
  const api = streamingBackgroundApi(OPENAI_KEY, MODEL);
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
