// Background Responses API calls (`background: true`) with responses.background: meter, driven by the openai SDK against
// a mock OpenAI that answers them queued, with no usage, and ends them when the test says. The gateway follows each one
// to its end by retrieving it from the provider itself (the client never polls here), then writes its ledger row with the
// usage the ended response reports, and settles its budgets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { json, MockProvider, type Received } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { KEYS, ledgerRowWhere, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const OPENAI_KEY = 'upstream-openai-key-not-real';
const AZURE_KEY = 'upstream-azure-key-not-real';

/**
 * A mock OpenAI whose background responses stay queued until `end(id, ...)`; every request must carry the key. With
 * `prefix` `/openai/v1` and Azure's `api-key` header, Azure OpenAI's v1 surface.
 */
function backgroundApi(prefix = '/v1', authorized = (request: Received) => request.headers.authorization === `Bearer ${OPENAI_KEY}`) {
  const responses = new Map<string, Record<string, unknown>>();
  const retrievals = new Map<string, number>();
  let next = 0;
  const responder = (request: Received, res: import('node:http').ServerResponse) => {
    if (!authorized(request)) return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    const url = new URL(request.path, 'http://mock');
    if (request.method === 'POST' && url.pathname === `${prefix}/responses`) {
      const id = `resp_bg${(++next).toString(16).padStart(6, '0')}`;
      if (request.body.background === true && request.body.store === false)
        return json(res, 400, {
          error: { message: 'Background mode requires store=true.', type: 'invalid_request_error', param: 'store' },
        });
      const response =
        request.body.background === true
          ? {
              ...responseObject([], { input_tokens: 0, output_tokens: 0 }, 'o3-deep-research-2025-06-26', id),
              status: 'queued',
              background: true,
              usage: null,
            }
          : responseObject([messageItem('At once')], { input_tokens: 10, output_tokens: 4 }, 'gpt-4o-mini-2024-07-18', id);
      responses.set(id, response);
      return json(res, 200, response);
    }
    const match = /^(.*)\/responses\/([^/]+)(\/cancel)?$/.exec(url.pathname);
    const id = match !== null && match[1] === prefix ? match[2]! : null;
    const found = id === null ? undefined : responses.get(id);
    if (id === null || found === undefined)
      return json(res, 404, { error: { message: `Response with id '${id}' not found.`, type: 'invalid_request_error' } });
    if (request.method === 'GET') {
      retrievals.set(id, (retrievals.get(id) ?? 0) + 1);
      return json(res, 200, found);
    }
    if (request.method === 'DELETE' && match![3] === undefined) {
      responses.delete(id);
      return json(res, 200, { id, object: 'response', deleted: true });
    }
    if (request.method === 'POST' && match![3] === '/cancel') {
      // What ran before the cancel is billed: the cancelled response says so in its usage.
      const cancelled = {
        ...responseObject([], { input_tokens: 900, output_tokens: 150 }, String(found.model), id),
        status: 'cancelled',
        background: true,
      };
      responses.set(id, cancelled);
      return json(res, 200, cancelled);
    }
    return json(res, 405, { error: { message: 'no such method', type: 'invalid_request_error' } });
  };
  return {
    responder,
    retrievals: (id: string) => retrievals.get(id) ?? 0,
    /** Ends a queued response, as the model finishing would. */
    end(id: string, status: 'completed' | 'failed', usage: { input_tokens: number; output_tokens: number }) {
      const model = String(responses.get(id)!.model);
      responses.set(id, { ...responseObject([messageItem('The report')], usage, model, id), status, background: true });
    },
  };
}

/**
 * A gateway of its own before the mock OpenAI, for a test that stops it: background responses metered. `spoolDir`: the
 * ledger spool (and records' folder) of a gateway stopped before, for its next start.
 */
async function ownGateway(openaiMock: MockProvider, spoolDir?: string): Promise<{ own: TestSluice; ownClient: OpenAI }> {
  const own = await startTestSluice({
    ...(spoolDir === undefined ? {} : { ledger: { spoolDir } }),
    providers: { openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: OPENAI_KEY } },
    models: [
      { name: 'o3-deep-research', targets: [{ provider: 'openai', model: 'o3-deep-research' }], pricing: { input: 10, output: 40 } },
      { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
    ],
    responses: { background: 'meter' },
  });
  return { own, ownClient: new OpenAI({ apiKey: KEYS.checkout, baseURL: `${own.baseURL}/v1`, maxRetries: 0 }) };
}

describe('background responses, followed to their end and metered (responses.background: meter)', () => {
  const api = backgroundApi();
  let openaiMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    openaiMock = await MockProvider.start(api.responder);
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: OPENAI_KEY },
        anthropic: { type: 'anthropic', baseUrl: openaiMock.url, apiKey: 'sk-ant-not-real' },
      },
      models: [
        { name: 'o3-deep-research', targets: [{ provider: 'openai', model: 'o3-deep-research' }], pricing: { input: 10, output: 40 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude-sonnet-4-5', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
      ],
      responses: { background: 'meter' },
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice?.stop();
    await openaiMock?.close();
  });

  test('a queued response is metered when it completes, with the usage it ends with, though the client never polls', async () => {
    const queued = await client.responses.create({ model: 'o3-deep-research', input: 'Research otters for an hour', background: true });
    assert.equal(queued.status, 'queued');
    const rowsBefore = (await ledgerRows(sluice)).length;
    // Running: no row yet, and the gateway asks the provider how it stands.
    await until('the gateway retrieves the running response', async () => api.retrievals(queued.id) >= 1);
    assert.equal((await ledgerRows(sluice)).length, rowsBefore, 'no ledger row while the response runs');
    api.end(queued.id, 'completed', { input_tokens: 1_200, output_tokens: 30_000 });
    const row = await ledgerRowWhere(
      sluice,
      'the completed response recorded',
      (candidate) => candidate.requested_model === 'o3-deep-research',
    );
    assert.equal(row.status, 200);
    assert.equal(row.error_class, null);
    assert.equal(row.input_tokens, 1_200);
    assert.equal(row.output_tokens, 30_000);
    assert.equal(row.tokens_estimated, 0);
    // $10 and $40 per 1M tokens: 0.012 + 1.2 dollars.
    assert.equal(row.cost_micro_usd, 1_212_000);
    // The client can still retrieve it through Sluice, as any stored response.
    const retrieved = await client.responses.retrieve(queued.id);
    assert.equal(retrieved.status, 'completed');
  });

  test('a cancelled one is recorded with what it spent before the cancel', async () => {
    const queued = await client.responses.create({ model: 'o3-deep-research', input: 'Research beavers', background: true });
    const cancelled = await client.responses.cancel(queued.id);
    assert.equal(cancelled.status, 'cancelled');
    const row = await ledgerRowWhere(
      sluice,
      'the cancelled response recorded',
      (candidate) => candidate.error_class === 'background_cancelled',
    );
    assert.equal(row.input_tokens, 900);
    assert.equal(row.output_tokens, 150);
  });

  test('a response the client reads once it has ended and then deletes is metered with its usage, not lost with it', async () => {
    const queued = await client.responses.create({ model: 'o3-deep-research', input: 'Research herons', background: true });
    await until('the gateway retrieves the running response', async () => api.retrievals(queued.id) >= 1);
    api.end(queued.id, 'completed', { input_tokens: 700, output_tokens: 9_000 });
    // Read, then deleted at once (the gateway's next retrieval is not due yet).
    assert.equal((await client.responses.retrieve(queued.id)).status, 'completed');
    await client.responses.delete(queued.id);
    const row = await ledgerRowWhere(
      sluice,
      'the deleted response recorded',
      (candidate) => candidate.input_tokens === 700 || candidate.error_class === 'background_lost',
    );
    assert.equal(row.error_class, null);
    assert.equal(row.input_tokens, 700);
    assert.equal(row.output_tokens, 9_000);
    assert.equal(row.tokens_estimated, 0);
  });

  test('background to a model reached by translation is refused before anything is sent', async () => {
    const sent = openaiMock.received.length;
    await assert.rejects(
      client.responses.create({ model: 'claude-sonnet-4-5', input: 'Research', background: true }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'background',
    );
    assert.equal(openaiMock.received.length, sent, 'nothing reached a provider');
  });

  test('a response still running when a lone gateway stops is left in its folder for its next start, with no row yet', async () => {
    const { own, ownClient } = await ownGateway(openaiMock);
    const queued = await ownClient.responses.create({ model: 'o3-deep-research', input: 'Research otters at length', background: true });
    // Its record is written once the queued answer has gone.
    const folder = join(own.config.ledger.spoolDir!, 'background-responses');
    await until('the record is kept', () => existsSync(join(folder, `${queued.id}.json`)));
    await own.stop();
    assert.equal((await ledgerRows(own)).length, 0);
    // Adopted and recorded once by the next start (test/cluster/background-adoption.test.ts).
    assert.deepEqual(readdirSync(folder), [`${queued.id}.json`]);
  });

  test('a response still running at a lone gateway’s restart is retrieved through its next start by its consumer alone', async () => {
    const { own, ownClient } = await ownGateway(openaiMock);
    const queued = await ownClient.responses.create({ model: 'o3-deep-research', input: 'Research grebes at length', background: true });
    const spoolDir = own.config.ledger.spoolDir!;
    await until('the record is kept', () => existsSync(join(spoolDir, 'background-responses', `${queued.id}.json`)));
    await own.stop();
    const looked = api.retrievals(queued.id);
    const { own: next, ownClient: nextClient } = await ownGateway(openaiMock, spoolDir);
    try {
      await until('the next start adopts it and looks at it', () => api.retrievals(queued.id) > looked);
      // The client polls on through the restarted gateway, as OpenAI's background mode guide has it.
      assert.equal((await nextClient.responses.retrieve(queued.id)).status, 'queued');
      const search = new OpenAI({ apiKey: KEYS.search, baseURL: `${next.baseURL}/v1`, maxRetries: 0 });
      await assert.rejects(search.responses.retrieve(queued.id), (error: unknown) => error instanceof OpenAI.NotFoundError);
      api.end(queued.id, 'completed', { input_tokens: 650, output_tokens: 7_000 });
      const row = await ledgerRowWhere(next, 'the adopted response recorded', (candidate) => candidate.input_tokens === 650);
      assert.equal(row.consumer, 'checkout-service');
      assert.equal((await nextClient.responses.retrieve(queued.id)).status, 'completed');
    } finally {
      await next.stop();
    }
  });

  test('a response that ended since the last retrieval is recorded at the stop with the usage it ended with, not as unfinished', async () => {
    const { own, ownClient } = await ownGateway(openaiMock);
    const queued = await ownClient.responses.create({ model: 'o3-deep-research', input: 'Research otters briefly', background: true });
    await until('the gateway retrieves the running response', async () => api.retrievals(queued.id) >= 1);
    // It ends at the provider; the gateway's next retrieval is not due yet when the gateway stops.
    api.end(queued.id, 'completed', { input_tokens: 1_100, output_tokens: 2_000 });
    await own.stop();
    const rows = await ledgerRows(own);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.error_class, null);
    assert.equal(rows[0]!.input_tokens, 1_100);
    assert.equal(rows[0]!.output_tokens, 2_000);
    assert.equal(rows[0]!.tokens_estimated, 0);
  });
});

describe('background responses whose provider leaves the config', () => {
  test('recorded once, as lost, when a reload removes the provider that holds it', async () => {
    const api = backgroundApi();
    const openaiMock = await MockProvider.start(api.responder);
    const otherMock = await MockProvider.start(api.responder);
    const sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: OPENAI_KEY },
        other: { type: 'openai', baseUrl: `${otherMock.url}/v1`, apiKey: OPENAI_KEY },
      },
      models: [
        { name: 'o3-deep-research', targets: [{ provider: 'openai', model: 'o3-deep-research' }], pricing: { input: 10, output: 40 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'other', model: 'gpt-4o-mini' }] },
      ],
      responses: { background: 'meter' },
    });
    try {
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const queued = await client.responses.create({ model: 'o3-deep-research', input: 'Research otters', background: true });
      await until('the gateway retrieves the running response', async () => api.retrievals(queued.id) >= 1);
      const { openai: _removed, ...providers } = sluice.config.providers;
      await sluice.sluice.reload({
        ...sluice.config,
        providers,
        models: sluice.config.models.filter((model) => model.name === 'gpt-4o-mini'),
      });
      await until('the response recorded', async () => (await ledgerRows(sluice)).length > 0);
      await sluice.stop();
      const rows = await ledgerRows(sluice);
      assert.equal(rows.length, 1, 'one row, at the loss, none again at the stop');
      assert.equal(rows[0]!.error_class, 'background_lost');
      assert.equal(rows[0]!.provider, 'openai');
    } finally {
      await sluice.stop();
      await Promise.all([openaiMock.close(), otherMock.close()]);
    }
  });
});

describe('background responses through Azure OpenAI (its v1 surface, its api-key)', () => {
  test('a queued response is retrieved from Azure with its key until it has ended, then metered', async () => {
    const azureApi = backgroundApi('/openai/v1', (request) => request.headers['api-key'] === AZURE_KEY);
    const azureMock = await MockProvider.start(azureApi.responder);
    const sluice = await startTestSluice({
      providers: { azure: { type: 'azure-openai', baseUrl: azureMock.url, apiKey: AZURE_KEY, apiVersion: '2024-10-21' } },
      models: [
        { name: 'azure-research', targets: [{ provider: 'azure', model: 'my-o3-deployment' }], pricing: { input: 10, output: 40 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'azure', model: 'my-4o-mini-deployment' }] },
      ],
      responses: { background: 'meter' },
    }).catch(async (error: unknown) => {
      await azureMock.close();
      throw error;
    });
    try {
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const queued = await client.responses.create({ model: 'azure-research', input: 'Research otters on Azure', background: true });
      assert.equal(queued.status, 'queued');
      await until('the gateway retrieves the running response from Azure', async () => azureApi.retrievals(queued.id) >= 1);
      const polled = azureMock.received.find((request) => request.method === 'GET')!;
      assert.equal(new URL(polled.path, 'http://mock').pathname, `/openai/v1/responses/${queued.id}`);
      azureApi.end(queued.id, 'completed', { input_tokens: 300, output_tokens: 5_000 });
      const row = await ledgerRowWhere(
        sluice,
        'the completed response recorded',
        (candidate) => candidate.requested_model === 'azure-research',
      );
      assert.equal(row.error_class, null);
      assert.equal(row.provider, 'azure');
      assert.equal(row.input_tokens, 300);
      assert.equal(row.output_tokens, 5_000);
      // $10 and $40 per 1M tokens: 0.003 + 0.2 dollars.
      assert.equal(row.cost_micro_usd, 203_000);
      // The client retrieves it through Sluice, from Azure.
      assert.equal((await client.responses.retrieve(queued.id)).status, 'completed');
    } finally {
      await sluice.stop();
      await azureMock.close();
    }
  });
});

describe('background responses bounded by responses.maxBackground', () => {
  test('calls sent together cannot pass the bound: past it, a 429 before anything is sent', async () => {
    const api = backgroundApi();
    // OpenAI takes its time to queue them: both calls are in flight at once.
    const held: Array<() => void> = [];
    const openaiMock = await MockProvider.start((request, res) => {
      held.push(() => api.responder(request, res));
    });
    const sluice = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: OPENAI_KEY } },
      models: [
        { name: 'o3-deep-research', targets: [{ provider: 'openai', model: 'o3-deep-research' }], pricing: { input: 10, output: 40 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      responses: { background: 'meter', maxBackground: 1 },
    }).catch(async (error: unknown) => {
      await openaiMock.close();
      throw error;
    });
    try {
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const calls = [1, 2].map((n) =>
        client.responses.create({ model: 'o3-deep-research', input: `Research otters, part ${n}`, background: true }),
      );
      let answered = 0;
      const settled = Promise.allSettled(calls.map((call) => call.finally(() => answered++)));
      await until('each call at OpenAI or answered', () => openaiMock.received.length + answered >= 2);
      for (const release of held.splice(0)) release();
      const outcomes = await settled;
      assert.equal(openaiMock.received.length, 1, 'one call reached OpenAI');
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      assert.equal(refused.length, 1);
      const reason = (refused[0] as PromiseRejectedResult).reason as unknown;
      assert.ok(reason instanceof OpenAI.RateLimitError, String(reason));
      assert.equal(reason.param, 'background');
    } finally {
      for (const release of held.splice(0)) release();
      await sluice.stop();
      await openaiMock.close();
    }
  });
});

describe('background responses refused by default (responses.background: refuse)', () => {
  test('a 400 on background, before anything reaches OpenAI', async () => {
    const api = backgroundApi();
    const openaiMock = await MockProvider.start(api.responder);
    const sluice = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: OPENAI_KEY } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    try {
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      await assert.rejects(
        client.responses.create({ model: 'gpt-4o-mini', input: 'Research', background: true }),
        (error: unknown) =>
          error instanceof OpenAI.BadRequestError && error.param === 'background' && /responses\.background/.test(error.message),
      );
      assert.equal(openaiMock.received.length, 0);
    } finally {
      await sluice.stop();
      await openaiMock.close();
    }
  });
});
