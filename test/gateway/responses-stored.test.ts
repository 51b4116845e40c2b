// Stored responses through Sluice: the openai SDK's client.responses.retrieve, delete, cancel and inputItems.list against
// Sluice in front of a mock OpenAI (and Azure OpenAI) that stores what it answers and checks the credentials it gets.
// A response is reachable only by the consumer whose call created it (another's id, or one never recorded, is the same
// 404); the record is in memory (bounded) or in Redis, shared by every gateway on it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { MockProvider } from '../support/mock-provider.js';
import { storingResponsesApi } from '../support/mock-stored-responses.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const OPENAI_KEY = 'upstream-openai-key-not-real';
const AZURE_KEY = 'upstream-azure-key-not-real';

const openaiApi = storingResponsesApi('/v1', (request) => request.headers.authorization === `Bearer ${OPENAI_KEY}`);
const azureApi = storingResponsesApi('/openai/v1', (request) => request.headers['api-key'] === AZURE_KEY);

function providers(openai: MockProvider, azure: MockProvider) {
  return {
    providers: {
      openai: { type: 'openai', baseUrl: `${openai.url}/v1`, apiKey: OPENAI_KEY },
      azure: { type: 'azure-openai', baseUrl: azure.url, apiKey: AZURE_KEY, apiVersion: '2024-10-21' },
    },
    models: [
      { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      { name: 'azure-4o', targets: [{ provider: 'azure', model: 'my-gpt-4o-deployment' }] },
    ],
  };
}

function clientOf(sluice: TestSluice, key: string): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
}

/** The record of a response is written after its answer is sent: a follow-up at once may come before it. */
async function recorded(sluice: TestSluice): Promise<void> {
  await sluice.sluice.settled();
  await new Promise((resolve) => setTimeout(resolve, 20));
}

async function statusOf(promise: Promise<unknown>): Promise<{ status: number; error: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { status: error.status ?? 0, error: error.error as Record<string, unknown> };
    throw error;
  }
  return { status: 200, error: {} };
}

describe('stored responses: retrieve, delete, cancel and input_items through Sluice', () => {
  let openaiMock: MockProvider;
  let azureMock: MockProvider;
  let sluice: TestSluice;
  let checkout: OpenAI;
  let search: OpenAI;

  before(async () => {
    openaiMock = await MockProvider.start(openaiApi.responder);
    azureMock = await MockProvider.start(azureApi.responder);
    sluice = await startTestSluice(providers(openaiMock, azureMock));
    checkout = clientOf(sluice, KEYS.checkout);
    search = clientOf(sluice, KEYS.search);
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([openaiMock.close(), azureMock.close()]);
  });

  test('retrieves its own response, created without a stream, from the provider that holds it, with its key', async () => {
    const created = await checkout.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
    await recorded(sluice);
    const rowsBefore = (await ledgerRows(sluice)).length;
    const retrieved = await checkout.responses.retrieve(created.id);
    assert.equal(retrieved.id, created.id);
    assert.equal(retrieved.output_text, `Answer ${created.id}`);
    const received = openaiMock.received.at(-1)!;
    assert.equal(received.method, 'GET');
    assert.equal(received.path, `/v1/responses/${created.id}`);
    assert.equal(received.headers.authorization, `Bearer ${OPENAI_KEY}`, 'the provider’s credentials, not the Sluice key');
    assert.equal((await ledgerRows(sluice)).length, rowsBefore, 'a retrieve spends nothing and is not in the ledger');
    const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
    assert.match(metrics, /sluice_stored_response_requests_total\{action="retrieve",status="200"\} [1-9]/);
  });

  test('retrieves its own response created with a stream (its id from response.created)', async () => {
    const final = await checkout.responses.stream({ model: 'gpt-4o-mini', input: 'Hello' }).finalResponse();
    assert.match(final.id, /^resp_/);
    await recorded(sluice);
    const retrieved = await checkout.responses.retrieve(final.id);
    assert.equal(retrieved.id, final.id);
    assert.equal(retrieved.status, 'completed');
  });

  test('GET with stream=true is passed on and its events come back as the provider sent them', async () => {
    const created = await checkout.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
    await recorded(sluice);
    const raw = await fetch(`${sluice.baseURL}/v1/responses/${created.id}?stream=true&starting_after=0`, {
      headers: { authorization: `Bearer ${KEYS.checkout}` },
    });
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(await raw.text(), openaiApi.stored.get(created.id)!.frames.join(''));
    assert.equal(openaiMock.received.at(-1)!.path, `/v1/responses/${created.id}?stream=true&starting_after=0`);
  });

  test('another consumer’s response is a 404 in OpenAI’s shape, the same as an id never recorded; nothing is sent upstream', async () => {
    const created = await checkout.responses.create({ model: 'gpt-4o-mini', input: 'Mine' });
    await recorded(sluice);
    const upstreamCalls = openaiMock.received.length;
    const others = await statusOf(search.responses.retrieve(created.id));
    const unknown = await statusOf(search.responses.retrieve('resp_never_made_here'));
    assert.equal(others.status, 404);
    assert.equal(unknown.status, 404);
    assert.deepEqual(
      { ...others.error, message: undefined },
      { ...unknown.error, message: undefined },
      'the same answer, whether the id exists or not',
    );
    assert.deepEqual(others.error, {
      message: `Response with id '${created.id}' not found.`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
    const attempts = [
      () => search.responses.delete(created.id),
      () => search.responses.cancel(created.id),
      () => search.responses.inputItems.list(created.id),
    ];
    for (const attempt of attempts) assert.equal((await statusOf(attempt())).status, 404);
    assert.equal(openaiMock.received.length, upstreamCalls, 'no call on another consumer’s response reaches the provider');
    assert.equal((await checkout.responses.retrieve(created.id)).id, created.id, 'it is still there for its owner');
  });

  test('previous_response_id: its own response continues; another consumer’s is refused as OpenAI refuses an unknown one', async () => {
    const created = await checkout.responses.create({ model: 'gpt-4o-mini', input: 'Remember 42' });
    await recorded(sluice);
    const upstreamCalls = openaiMock.received.length;
    const refused = await statusOf(
      search.responses.create({ model: 'gpt-4o-mini', input: 'What number?', previous_response_id: created.id }),
    );
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.error, {
      message: `Previous response with id '${created.id}' not found.`,
      type: 'invalid_request_error',
      param: 'previous_response_id',
      code: 'previous_response_not_found',
    });
    assert.equal(openaiMock.received.length, upstreamCalls, 'nothing is sent upstream');
    const continued = await checkout.responses.create({ model: 'gpt-4o-mini', input: 'What number?', previous_response_id: created.id });
    assert.match(continued.id, /^resp_/);
    assert.equal(openaiMock.received.at(-1)!.body.previous_response_id, created.id);
    const unrecorded = await search.responses.create({ model: 'gpt-4o-mini', input: 'Go on', previous_response_id: 'resp_made_elsewhere' });
    assert.match(unrecorded.id, /^resp_/, 'an id Sluice never recorded is the provider’s to judge');
  });

  test('a response created with store: false is not recorded', async () => {
    const created = await checkout.responses.create({ model: 'gpt-4o-mini', input: 'Forget me', store: false });
    await recorded(sluice);
    assert.equal((await statusOf(checkout.responses.retrieve(created.id))).status, 404);
  });

  test('delete removes the response upstream, and Sluice forgets it', async () => {
    const created = await checkout.responses.create({ model: 'gpt-4o-mini', input: 'Short-lived' });
    await recorded(sluice);
    await checkout.responses.delete(created.id);
    const received = openaiMock.received.at(-1)!;
    assert.equal(received.method, 'DELETE');
    assert.equal(received.path, `/v1/responses/${created.id}`);
    assert.equal(openaiApi.stored.has(created.id), false);
    await recorded(sluice);
    const upstreamCalls = openaiMock.received.length;
    assert.equal((await statusOf(checkout.responses.retrieve(created.id))).status, 404);
    assert.equal(openaiMock.received.length, upstreamCalls, 'answered by Sluice: the record is gone');
  });

  test('cancel is passed on; the provider’s refusal (a response not in the background) comes back in its own words', async () => {
    const created = await checkout.responses.create({ model: 'gpt-4o-mini', input: 'Cancel me' });
    await recorded(sluice);
    const cancelled = await statusOf(checkout.responses.cancel(created.id));
    assert.equal(cancelled.status, 400);
    assert.equal(cancelled.error.message, 'Only responses created with background=true can be cancelled.');
    const received = openaiMock.received.at(-1)!;
    assert.equal(received.method, 'POST');
    assert.equal(received.path, `/v1/responses/${created.id}/cancel`);
    assert.equal(received.headers.authorization, `Bearer ${OPENAI_KEY}`);
  });

  test('input_items lists the response’s input, the query passed on', async () => {
    const input = [
      { role: 'user' as const, content: 'First' },
      { role: 'user' as const, content: 'Second' },
    ];
    const created = await checkout.responses.create({ model: 'gpt-4o-mini', input });
    await recorded(sluice);
    const page = await checkout.responses.inputItems.list(created.id, { limit: 1, order: 'asc' });
    assert.equal(page.data.length, 1);
    assert.equal((page.data[0] as unknown as { content: string }).content, 'First');
    const path = openaiMock.received.at(-1)!.path;
    const url = new URL(path, 'http://mock');
    assert.equal(url.pathname, `/v1/responses/${created.id}/input_items`);
    assert.equal(url.searchParams.get('limit'), '1');
    assert.equal(url.searchParams.get('order'), 'asc');
  });

  test('Azure OpenAI: the follow-ups go to its v1 surface with its api-key', async () => {
    const azureClient = clientOf(sluice, KEYS.checkout);
    const created = await azureClient.responses.create({ model: 'azure-4o', input: 'Hello Azure' });
    await recorded(sluice);
    const retrieved = await azureClient.responses.retrieve(created.id);
    assert.equal(retrieved.id, created.id);
    const received = azureMock.received.at(-1)!;
    assert.equal(received.path, `/openai/v1/responses/${created.id}`);
    assert.equal(received.headers['api-key'], AZURE_KEY);
    assert.equal(received.headers.authorization, undefined);
    await azureClient.responses.delete(created.id);
    assert.equal(azureApi.stored.has(created.id), false);
  });

  test('without a Sluice key: 401; a method the endpoint does not take: 405 naming the ones it does', async () => {
    const anonymous = await fetch(`${sluice.baseURL}/v1/responses/resp_00000001`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
    const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
    assert.match(metrics, /sluice_unauthenticated_requests_total\{route="\/v1\/responses\/\{id\}"\} 1/, 'counted, not in the ledger');
    const put = await fetch(`${sluice.baseURL}/v1/responses/resp_00000001`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${KEYS.checkout}` },
    });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, DELETE');
    await put.arrayBuffer();
    const inputTokens = await fetch(`${sluice.baseURL}/v1/responses/input_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}` },
    });
    assert.equal(inputTokens.status, 404, 'an endpoint Sluice does not front');
    await inputTokens.arrayBuffer();
  });
});

describe('stored responses: the record in memory is bounded', () => {
  test('past responses.maxEntries the least recently used record is dropped, and its response answers 404', async () => {
    const api = storingResponsesApi('/v1', (request) => request.headers.authorization === `Bearer ${OPENAI_KEY}`);
    const openaiMock = await MockProvider.start(api.responder);
    const azureMock = await MockProvider.start(azureApi.responder);
    const sluice = await startTestSluice({ ...providers(openaiMock, azureMock), responses: { store: 'memory', maxEntries: 2 } });
    try {
      const client = clientOf(sluice, KEYS.checkout);
      const ids: string[] = [];
      for (const input of ['one', 'two', 'three']) {
        ids.push((await client.responses.create({ model: 'gpt-4o-mini', input })).id);
        await recorded(sluice);
      }
      assert.equal((await statusOf(client.responses.retrieve(ids[0]!))).status, 404, 'the oldest record was dropped');
      assert.equal(api.stored.has(ids[0]!), true, 'the response itself is still upstream');
      assert.equal((await client.responses.retrieve(ids[1]!)).id, ids[1]);
      assert.equal((await client.responses.retrieve(ids[2]!)).id, ids[2]);
    } finally {
      await sluice.stop();
      await Promise.all([openaiMock.close(), azureMock.close()]);
    }
  });
});

describe('stored responses: the record in Redis, shared by two gateways', () => {
  const prefix = testKeyPrefix();
  let openaiMock: MockProvider;
  let azureMock: MockProvider;
  let first: TestSluice;
  let second: TestSluice;
  let redis: Redis;

  before(async () => {
    openaiMock = await MockProvider.start(openaiApi.responder);
    azureMock = await MockProvider.start(azureApi.responder);
    const config = { ...providers(openaiMock, azureMock), responses: { store: TEST_REDIS_URL, keyPrefix: prefix } };
    first = await startTestSluice(config);
    second = await startTestSluice(config);
    redis = new Redis(TEST_REDIS_URL);
  });

  after(async () => {
    await Promise.all([first.stop(), second.stop()]);
    await Promise.all([openaiMock.close(), azureMock.close()]);
    await redis.quit();
    await deleteTestKeys(prefix);
  });

  test('a response created through one gateway is retrieved, listed and deleted through the other; its key expires in 30 days', async () => {
    const created = await clientOf(first, KEYS.checkout).responses.create({ model: 'gpt-4o-mini', input: 'Shared' });
    await recorded(first);
    const key = `${prefix}${created.id}`;
    assert.deepEqual(JSON.parse((await redis.get(key))!), { consumer: 'checkout-service', provider: 'openai', model: 'gpt-4o-mini' });
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 29.9 * 86_400_000 && ttl <= 30 * 86_400_000, `a TTL of 30 days, got ${ttl} ms`);
    const other = clientOf(second, KEYS.checkout);
    assert.equal((await other.responses.retrieve(created.id)).id, created.id);
    assert.equal((await other.responses.inputItems.list(created.id)).data.length, 1);
    assert.equal((await statusOf(clientOf(second, KEYS.search).responses.retrieve(created.id))).status, 404, 'still its owner’s only');
    await other.responses.delete(created.id);
    await recorded(second);
    assert.equal(await redis.exists(key), 0, 'the record is deleted with the response');
    assert.equal((await statusOf(clientOf(first, KEYS.checkout).responses.retrieve(created.id))).status, 404);
  });
});

describe('stored responses: with no responses section, the record follows the counters', () => {
  test('counters on Redis: the record is in their Redis, under their key prefix', async () => {
    const prefix = testKeyPrefix();
    const openaiMock = await MockProvider.start(openaiApi.responder);
    const azureMock = await MockProvider.start(azureApi.responder);
    const sluice = await startTestSluice({ ...providers(openaiMock, azureMock), counters: { url: TEST_REDIS_URL, keyPrefix: prefix } });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const created = await clientOf(sluice, KEYS.checkout).responses.create({ model: 'gpt-4o-mini', input: 'Counted' });
      await recorded(sluice);
      assert.equal(JSON.parse((await redis.get(`${prefix}responses:${created.id}`))!).consumer, 'checkout-service');
    } finally {
      await sluice.stop();
      await Promise.all([openaiMock.close(), azureMock.close()]);
      await redis.quit();
      await deleteTestKeys(prefix);
    }
  });
});

describe('stored responses: a record store that cannot be reached', () => {
  test('the call that creates a response is answered all the same; the failure is counted; a retrieve is a 503', async () => {
    const openaiMock = await MockProvider.start(openaiApi.responder);
    const azureMock = await MockProvider.start(azureApi.responder);
    // Nothing listens on port 1.
    const sluice = await startTestSluice({ ...providers(openaiMock, azureMock), responses: { store: 'redis://127.0.0.1:1' } });
    try {
      const client = clientOf(sluice, KEYS.checkout);
      const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
      assert.equal(created.output_text, `Answer ${created.id}`);
      await recorded(sluice);
      const failed = await statusOf(client.responses.retrieve(created.id));
      assert.equal(failed.status, 503);
      assert.equal(failed.error.code, 'response_records_unavailable');
      const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
      assert.match(metrics, /sluice_response_records_failed_total\{operation="write"\} [1-9]/);
      assert.match(metrics, /sluice_response_records_failed_total\{operation="read"\} [1-9]/);
    } finally {
      await sluice.stop();
      await Promise.all([openaiMock.close(), azureMock.close()]);
    }
  });

  // What a continuation does while the record cannot be read follows the deployment's fail mode, as budgets do: `open`
  // sends it on unchecked (counted), `closed` refuses it in OpenAI's shape with nothing sent upstream. Either way the
  // answer comes without waiting on the Redis that is known to be down (the test's own timeout bounds it).
  async function continueWhileUnreachable(config: Record<string, unknown>) {
    const openaiMock = await MockProvider.start(openaiApi.responder);
    const azureMock = await MockProvider.start(azureApi.responder);
    const sluice = await startTestSluice({ ...providers(openaiMock, azureMock), ...config });
    try {
      const client = clientOf(sluice, KEYS.checkout);
      // The record's Redis is down: a write fails, and the store knows it before the continuations.
      await client.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
      await recorded(sluice);
      const results = [];
      for (let i = 0; i < 3; i++) {
        results.push(
          await statusOf(client.responses.create({ model: 'gpt-4o-mini', input: 'And then?', previous_response_id: `resp_elsewhere${i}` })),
        );
      }
      const continued = openaiMock.received.filter((r) => JSON.stringify(r.body).includes('resp_elsewhere')).length;
      const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
      return { results, continued, metrics };
    } finally {
      await sluice.stop();
      await Promise.all([openaiMock.close(), azureMock.close()]);
    }
  }

  test('failMode open (the default): a previous_response_id is sent on unchecked, and each unchecked read is counted', async () => {
    const { results, continued, metrics } = await continueWhileUnreachable({ responses: { store: 'redis://127.0.0.1:1' } });
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200],
    );
    assert.equal(continued, 3);
    assert.match(metrics, /sluice_response_records_failed_total\{operation="read"\} 3\b/);
  });

  test('failMode closed: a previous_response_id is refused with a 503 in OpenAI’s shape, nothing sent upstream', async () => {
    const { results, continued } = await continueWhileUnreachable({
      responses: { store: 'redis://127.0.0.1:1', failMode: 'closed' },
    });
    for (const result of results) {
      assert.equal(result.status, 503);
      assert.equal(result.error.type, 'api_error');
      assert.equal(result.error.code, 'response_records_unavailable');
      assert.equal(result.error.param, 'previous_response_id');
      assert.match(String(result.error.message), /record of stored responses/);
    }
    assert.equal(continued, 0);
  });

  test('without responses.failMode the counters’ fail mode decides', async () => {
    const { results, continued } = await continueWhileUnreachable({
      counters: { url: 'memory', failMode: 'closed' },
      responses: { store: 'redis://127.0.0.1:1' },
    });
    assert.deepEqual(
      results.map((r) => r.error.code),
      ['response_records_unavailable', 'response_records_unavailable', 'response_records_unavailable'],
    );
    assert.equal(continued, 0);
  });
});
