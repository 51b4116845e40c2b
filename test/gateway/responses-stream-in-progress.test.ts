// A streamed Responses API call (`stream: true`, in the background or not) while its stream is still open, driven by the
// openai SDK against mock OpenAI and Azure OpenAI providers that stream it: as OpenAI documents background mode
// (https://platform.openai.com/docs/guides/background: poll with GET /v1/responses/{id}, resume a background stream
// with `starting_after`, cancel an in-flight response), the consumer that made it retrieves, resumes and cancels it
// through Sluice at once, not only once its stream has stopped; another consumer gets the 404 of an unknown id. A
// cancelled background call is one ledger row, with what the response used before the cancel.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { CANCELLED_USAGE, streamingBackgroundApi } from '../support/mock-background-stream.js';
import { MockProvider, type Received } from '../support/mock-provider.js';
import { KEYS, ledgerRowWhere, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const OPENAI_KEY = 'upstream-openai-key-not-real';
const AZURE_KEY = 'upstream-azure-key-not-real';
const SNAPSHOT = 'o3-deep-research-2025-06-26';

const PROVIDERS = [
  {
    name: 'OpenAI',
    model: 'o3-deep-research',
    api: streamingBackgroundApi(OPENAI_KEY, SNAPSHOT, 'resp_open'),
  },
  {
    name: 'Azure OpenAI',
    model: 'azure-deep-research',
    api: streamingBackgroundApi(AZURE_KEY, SNAPSHOT, 'resp_azopen', {
      path: '/openai/v1',
      authorized: (request: Received) => request.headers['api-key'] === AZURE_KEY,
    }),
  },
];

/** A streamed call read up to its first text and held open there, as a client still reading. */
async function openStream(client: OpenAI, model: string, input: string, background: boolean) {
  const stream = await client.responses.create({ model, input, background, stream: true });
  const events = stream[Symbol.asyncIterator]();
  let id = '';
  let last = -1;
  for (;;) {
    const next = await events.next();
    if (next.done === true) throw new Error('the stream ended before its first text');
    last = next.value.sequence_number;
    if (next.value.type === 'response.created') id = next.value.response.id;
    if (next.value.type === 'response.output_text.delta') break;
  }
  /** The rest of the stream's event types, however it ends (an error event ends a stream that broke off). */
  const rest = async (): Promise<string[]> => {
    const types: string[] = [];
    try {
      for (let next = await events.next(); next.done !== true; next = await events.next()) types.push(next.value.type);
    } catch (error) {
      types.push(`thrown: ${(error as Error).message}`);
    }
    return types;
  };
  return { id, last, rest };
}

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error.status ?? 0;
    throw error;
  }
}

describe('a streamed response while its stream is open: retrieved, resumed and cancelled through Sluice', () => {
  const mocks: MockProvider[] = [];
  let sluice: TestSluice;
  let checkout: OpenAI;
  let search: OpenAI;

  before(async () => {
    for (const { api } of PROVIDERS) mocks.push(await MockProvider.start(api.responder));
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${mocks[0]!.url}/v1`, apiKey: OPENAI_KEY },
        azure: { type: 'azure-openai', baseUrl: mocks[1]!.url, apiKey: AZURE_KEY, apiVersion: '2024-10-21' },
      },
      models: [
        { name: 'o3-deep-research', targets: [{ provider: 'openai', model: 'o3-deep-research' }], pricing: { input: 10, output: 40 } },
        { name: 'azure-deep-research', targets: [{ provider: 'azure', model: 'deep-research' }], pricing: { input: 10, output: 40 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      responses: { background: 'meter' },
    });
    checkout = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    search = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice?.stop();
    await Promise.all(mocks.map((mock) => mock.close()));
  });

  PROVIDERS.forEach(({ name, model, api }, index) => {
    test(`${name}: a background stream still open is retrieved, resumed and cancelled by its consumer alone; the cancelled call is one row with what it used`, async () => {
      const open = await openStream(checkout, model, `Research otters on ${name}`, true);
      assert.equal(api.connected(open.id), true, 'the stream is still open');

      const running = await checkout.responses.retrieve(open.id);
      assert.equal(running.status, 'in_progress');
      // Resumed on another connection from the client's cursor, while the first is still open.
      const resumed = await checkout.responses.retrieve(open.id, { stream: true, starting_after: 0 });
      const replayed: string[] = [];
      for await (const event of resumed) replayed.push(event.type);
      assert.equal(replayed[0], 'response.queued', 'the events after sequence number 0');
      assert.equal(replayed.at(-1), 'response.output_text.delta');

      // Another consumer: the 404 of an id never recorded, nothing sent upstream.
      const sent = mocks[index]!.received.length;
      assert.equal(await statusOf(search.responses.retrieve(open.id)), 404);
      assert.equal(await statusOf(search.responses.cancel(open.id)), 404);
      assert.equal(mocks[index]!.received.length, sent, 'nothing reached the provider');

      const cancelled = await checkout.responses.cancel(open.id);
      assert.equal(cancelled.status, 'cancelled');
      // The provider closes the cancelled response's stream; the client's ends there.
      const rest = await open.rest();
      assert.ok(!rest.includes('response.completed'), rest.join(', '));

      const row = await ledgerRowWhere(
        sluice,
        `the cancelled call on ${name} recorded`,
        (candidate) => candidate.requested_model === model,
      );
      assert.equal(row.error_class, 'background_cancelled');
      assert.equal(row.input_tokens, CANCELLED_USAGE.input_tokens);
      assert.equal(row.output_tokens, CANCELLED_USAGE.output_tokens);
      assert.equal(row.tokens_estimated, 0);
      assert.equal(row.stream, 1);
      // $10 and $40 per 1M tokens: 0.009 + 0.006 dollars.
      assert.equal(row.cost_micro_usd, 15_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await ledgerRows(sluice)).filter((candidate) => candidate.requested_model === model).length, 1, 'one row');
    });

    test(`${name}: a stream not in the background is retrieved by its consumer while it runs, and recorded once when it ends`, async () => {
      const open = await openStream(checkout, model, `Summarise beavers on ${name}`, false);
      const running = await checkout.responses.retrieve(open.id);
      assert.equal(running.status, 'in_progress');
      assert.equal(await statusOf(search.responses.retrieve(open.id)), 404);
      // Only a background response can be cancelled: the provider's own refusal, passed on.
      assert.equal(await statusOf(checkout.responses.cancel(open.id)), 400);

      api.end(open.id, { input_tokens: 40, output_tokens: 60 });
      const rest = await open.rest();
      assert.equal(rest.at(-1), 'response.completed');
      const row = await ledgerRowWhere(
        sluice,
        `the stream on ${name} recorded`,
        (candidate) => candidate.requested_model === model && candidate.input_tokens === 40,
      );
      assert.equal(row.error_class, null);
      assert.equal(row.output_tokens, 60);
      assert.equal((await checkout.responses.retrieve(open.id)).status, 'completed');
    });
  });
});
