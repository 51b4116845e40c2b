// The response cache with the openai SDK: opted in per model or per request, non-streamed and streamed (replayed as a
// stream), scoped to the consumer unless configured otherwise, kept in memory or in Redis, for its TTL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../../support/mock-provider.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../../support/redis.js';
import { adminClient } from '../../support/admin-client.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../../support/sluice.js';
import { validateConfig } from '../../../src/config/load.js';

const THIRD_KEY = 'sk-sluice-test-third-0003';

function consumers() {
  return [
    { name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] },
    { name: 'search-service', team: 'payments', keys: [KEYS.search] },
    { name: 'third-service', team: 'other', keys: [THIRD_KEY] },
  ];
}

async function start(mock: MockProvider, cache: Record<string, unknown>, more: Record<string, unknown> = {}): Promise<TestSluice> {
  return startTestSluice({
    ...more,
    consumers: consumers(),
    providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-openai-key-not-real' } },
    models: [
      { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      { name: 'gpt-plain', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
    ],
    cache,
  });
}

function client(test: TestSluice, key: string = KEYS.checkout, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: `${test.baseURL}/v1`, maxRetries: 0, defaultHeaders: headers });
}

async function ask(openai: OpenAI, model: string, content: string): Promise<{ text: string; cache: string | null }> {
  const { data, response } = await openai.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
  return { text: data.choices[0]!.message.content!, cache: response.headers.get('x-sluice-cache') };
}

describe('response cache', () => {
  let mock: MockProvider;
  let answers = 0;
  const prefix = testKeyPrefix();
  const running: TestSluice[] = [];

  before(async () => {
    mock = await MockProvider.start((request, res) => {
      answers++;
      if (request.body.stream === true)
        return sse(res, openaiStreamFrames(['Fresh', ` answer ${answers}`], { prompt_tokens: 11, completion_tokens: 2 }));
      return json(res, 200, openaiCompletion(`Fresh answer ${answers}`, { prompt_tokens: 1000, completion_tokens: 500 }));
    });
  });

  after(async () => {
    for (const test of running) await test.stop();
    await mock?.close();
    await deleteTestKeys(prefix);
  });

  test('a model opted in: the second identical call is a hit, recorded at zero cost without an upstream attempt', async () => {
    const sluice = await start(mock, { models: { 'gpt-4o-mini': { ttlSeconds: 60 } } });
    running.push(sluice);
    const before = answers;
    const first = await ask(client(sluice), 'gpt-4o-mini', 'What is a sluice?');
    const second = await ask(client(sluice), 'gpt-4o-mini', 'What is a sluice?');
    assert.equal(first.cache, 'miss');
    assert.equal(second.cache, 'hit');
    assert.equal(second.text, first.text);
    assert.equal(answers - before, 1);
    const different = await ask(client(sluice), 'gpt-4o-mini', 'What is a weir?');
    assert.equal(different.cache, 'miss');
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'gpt-4o-mini');
    const [miss, hit] = rows;
    assert.equal(miss!.attempts, 1);
    assert.ok(miss!.cost_micro_usd! > 0);
    assert.equal(hit!.attempts, 0);
    assert.equal(hit!.cost_micro_usd, 0);
    assert.equal(hit!.status, 200);
    assert.equal(hit!.provider, 'openai');
    assert.equal(hit!.input_tokens, 1000);
    assert.equal(hit!.output_tokens, 500);
    const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
    assert.match(metrics, new RegExp(`sluice_response_cache_saved_micro_usd_total\\{model="gpt-4o-mini"\\} ${miss!.cost_micro_usd}`));
  });

  test("a hit's saving, the original call's cost, is in its ledger row and in /api/transactions", async () => {
    const token = 'sa-bootstrap-cache-saving-test-token-01';
    const sluice = await start(mock, { models: { 'gpt-4o-mini': { ttlSeconds: 60 } } }, { admin: { host: '127.0.0.1', port: 0, token } });
    running.push(sluice);
    assert.equal((await ask(client(sluice), 'gpt-4o-mini', 'What does a sluice save?')).cache, 'miss');
    assert.equal((await ask(client(sluice), 'gpt-4o-mini', 'What does a sluice save?')).cache, 'hit');
    const [miss, hit] = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'gpt-4o-mini');
    assert.ok(miss!.cost_micro_usd! > 0);
    assert.equal(miss!.saved_micro_usd, 0);
    assert.equal(hit!.cost_micro_usd, 0);
    assert.equal(hit!.saved_micro_usd, miss!.cost_micro_usd);

    const admin = adminClient(sluice, token);
    const list = await admin('GET', '/api/transactions?model=gpt-4o-mini');
    assert.equal(list.status, 200);
    const [newest, oldest] = list.body.items;
    // A saving is kept in whole micro-USD (the cached entry's unit): its nano-USD figure is that times 1,000.
    assert.deepEqual(newest.saved, { microUsd: miss!.cost_micro_usd, nanoUsd: miss!.cost_micro_usd! * 1000, usd: newest.saved.usd });
    assert.deepEqual(newest.cost, { microUsd: 0, nanoUsd: 0, usd: newest.cost.usd });
    assert.equal(oldest.saved.microUsd, 0);
    const detail = await admin('GET', `/api/transactions/${newest.id}`);
    assert.equal(detail.body.saved.microUsd, miss!.cost_micro_usd);
  });

  test('a model not opted in is cached only when the request asks (x-sluice-cache: on); off opts out', async () => {
    const sluice = running[0]!;
    const plainFirst = await ask(client(sluice), 'gpt-plain', 'Not cached');
    const plainSecond = await ask(client(sluice), 'gpt-plain', 'Not cached');
    assert.equal(plainFirst.cache, null);
    assert.notEqual(plainSecond.text, plainFirst.text);
    const asking = client(sluice, KEYS.checkout, { 'x-sluice-cache': 'on' });
    const askedFirst = await ask(asking, 'gpt-plain', 'Cached on request');
    const askedSecond = await ask(asking, 'gpt-plain', 'Cached on request');
    assert.equal(askedSecond.cache, 'hit');
    assert.equal(askedSecond.text, askedFirst.text);
    const refusing = client(sluice, KEYS.checkout, { 'x-sluice-cache': 'off' });
    const bypassed = await ask(refusing, 'gpt-4o-mini', 'What is a sluice?');
    assert.equal(bypassed.cache, null);
  });

  test('a streamed call is replayed as the same stream', async () => {
    const openai = client(running[0]!);
    const collect = async () => {
      let text = '';
      const stream = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'Stream me' }],
      });
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    };
    const before = answers;
    const first = await collect();
    const second = await collect();
    assert.equal(second, first);
    assert.match(first, /^Fresh answer \d+$/);
    assert.equal(answers - before, 1);
  });

  test('never across consumers by default; across a team with scope team; across everyone with scope shared', async () => {
    const own = running[0]!;
    await ask(client(own, KEYS.checkout), 'gpt-4o-mini', 'Scoped question');
    assert.equal((await ask(client(own, KEYS.search), 'gpt-4o-mini', 'Scoped question')).cache, 'miss');

    const team = await start(mock, { scope: 'team', models: { 'gpt-4o-mini': {} } });
    running.push(team);
    await ask(client(team, KEYS.checkout), 'gpt-4o-mini', 'Team question');
    assert.equal((await ask(client(team, KEYS.search), 'gpt-4o-mini', 'Team question')).cache, 'hit');
    assert.equal((await ask(client(team, THIRD_KEY), 'gpt-4o-mini', 'Team question')).cache, 'miss');

    const shared = await start(mock, { scope: 'shared', models: { 'gpt-4o-mini': {} } });
    running.push(shared);
    await ask(client(shared, KEYS.checkout), 'gpt-4o-mini', 'Shared question');
    assert.equal((await ask(client(shared, THIRD_KEY), 'gpt-4o-mini', 'Shared question')).cache, 'hit');
  });

  test('a hit of a model whose resource is monitored records the violation, as the call it replays did', async () => {
    const sluice = await start(
      mock,
      { models: { 'gpt-4o-mini': {} } },
      { resources: { 'openai/gpt-4o-mini': 'unsanctioned' }, resourcePolicy: { unsanctioned: 'monitor' } },
    );
    running.push(sluice);
    assert.equal((await ask(client(sluice), 'gpt-4o-mini', 'Monitored?')).cache, 'miss');
    assert.equal((await ask(client(sluice), 'gpt-4o-mini', 'Monitored?')).cache, 'hit');
    const [miss, hit] = await ledgerRows(sluice);
    assert.equal(miss!.violations, 'resource:openai/gpt-4o-mini');
    assert.equal(hit!.attempts, 0);
    assert.equal(hit!.violations, 'resource:openai/gpt-4o-mini');
  });

  test("an answer expires after its model's TTL", async () => {
    const sluice = await start(mock, { models: { 'gpt-4o-mini': { ttlSeconds: 1 } } });
    running.push(sluice);
    await ask(client(sluice), 'gpt-4o-mini', 'Short-lived');
    assert.equal((await ask(client(sluice), 'gpt-4o-mini', 'Short-lived')).cache, 'hit');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.equal((await ask(client(sluice), 'gpt-4o-mini', 'Short-lived')).cache, 'miss');
  });

  test('a Redis store is shared by gateways on it, with the answer under the configured prefix and its TTL', async () => {
    const one = await start(mock, { store: TEST_REDIS_URL, keyPrefix: prefix, models: { 'gpt-4o-mini': { ttlSeconds: 120 } } });
    const two = await start(mock, { store: TEST_REDIS_URL, keyPrefix: prefix, models: { 'gpt-4o-mini': { ttlSeconds: 120 } } });
    running.push(one, two);
    const first = await ask(client(one), 'gpt-4o-mini', 'Redis question');
    // The store is written after the answer: wait for the key rather than for a time.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      let keys: string[] = [];
      for (let i = 0; i < 200 && keys.length === 0; i++) {
        keys = await redis.keys(`${prefix}*`);
        if (keys.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(keys.length, 1);
      const ttl = await redis.pttl(keys[0]!);
      assert.ok(ttl > 0 && ttl <= 120_000);
    } finally {
      redis.disconnect();
    }
    const second = await ask(client(two), 'gpt-4o-mini', 'Redis question');
    assert.equal(second.cache, 'hit');
    assert.equal(second.text, first.text);
  });
});

describe('response cache and the model that answered', () => {
  let mock: MockProvider;
  const running: TestSluice[] = [];

  before(async () => {
    // Names the model it was asked for, so a test sees which target made an answer.
    mock = await MockProvider.start((request, res) =>
      json(res, 200, openaiCompletion(`Answer of ${String(request.body.model)}`, { prompt_tokens: 10, completion_tokens: 5 })),
    );
  });

  after(async () => {
    for (const test of running) await test.stop();
    await mock?.close();
  });

  function routed(models: Array<{ name: string; upstream: string }>, more: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      consumers: consumers(),
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-openai-key-not-real' } },
      models: models.map(({ name, upstream }) => ({ name, targets: [{ provider: 'openai', model: upstream }] })),
      cache: { scope: 'team', models: { 'gpt-4o': {} } },
      ...more,
    };
  }

  test("an answer a budget downgraded to a cheaper model is not kept as the asked model's", async () => {
    const sluice = await startTestSluice(
      routed(
        [
          { name: 'gpt-4o', upstream: 'gpt-4o' },
          { name: 'gpt-4o-mini', upstream: 'gpt-4o-mini' },
        ],
        {
          budgets: [
            {
              name: 'checkout-premium',
              consumers: { consumer: 'checkout-service' },
              resources: { model: 'gpt-4o' },
              measure: 'requests',
              limit: 1,
              window: 'day',
              onExhausted: { downgrade: 'gpt-4o-mini' },
            },
          ],
        },
      ),
    );
    running.push(sluice);
    assert.deepEqual(await ask(client(sluice, KEYS.checkout), 'gpt-4o', 'First question'), { text: 'Answer of gpt-4o', cache: 'miss' });
    // The budget is spent: this one is served by gpt-4o-mini.
    assert.deepEqual(await ask(client(sluice, KEYS.checkout), 'gpt-4o', 'Second question'), {
      text: 'Answer of gpt-4o-mini',
      cache: 'miss',
    });
    // A teammate with no such budget asks gpt-4o the same: gpt-4o answers, not the cheaper model's answer from the cache.
    assert.deepEqual(await ask(client(sluice, KEYS.search), 'gpt-4o', 'Second question'), { text: 'Answer of gpt-4o', cache: 'miss' });
    assert.deepEqual(await ask(client(sluice, KEYS.search), 'gpt-4o', 'Second question'), { text: 'Answer of gpt-4o', cache: 'hit' });
  });

  test('a hit is an answer of a target the model routes to now: after a reload reroutes it or refuses its target, a miss', async () => {
    const sluice = await startTestSluice(routed([{ name: 'gpt-4o', upstream: 'gpt-4o' }]));
    running.push(sluice);
    const openai = client(sluice);
    assert.deepEqual(await ask(openai, 'gpt-4o', 'Rerouted question'), { text: 'Answer of gpt-4o', cache: 'miss' });
    assert.deepEqual(await ask(openai, 'gpt-4o', 'Rerouted question'), { text: 'Answer of gpt-4o', cache: 'hit' });
    // The operator points gpt-4o at another model: its answers are what callers now get.
    await sluice.sluice.reload(
      validateConfig({ ...sluice.config, ...routed([{ name: 'gpt-4o', upstream: 'gpt-4o-2024-11-20' }]) }, 'reloaded'),
    );
    assert.deepEqual(await ask(openai, 'gpt-4o', 'Rerouted question'), { text: 'Answer of gpt-4o-2024-11-20', cache: 'miss' });
    assert.deepEqual(await ask(openai, 'gpt-4o', 'Rerouted question'), { text: 'Answer of gpt-4o-2024-11-20', cache: 'hit' });
    // Two targets, the first answering; then the resource policy refuses the first: the second answers, not the cache.
    const both = routed([{ name: 'gpt-4o', upstream: 'gpt-4o' }]);
    (both.models as Array<{ targets: unknown[] }>)[0]!.targets.push({ provider: 'openai', model: 'gpt-4o-mini' });
    await sluice.sluice.reload(validateConfig({ ...sluice.config, ...both }, 'reloaded'));
    assert.deepEqual(await ask(openai, 'gpt-4o', 'Refused question'), { text: 'Answer of gpt-4o', cache: 'miss' });
    const refusing = { ...both, resources: { 'openai/gpt-4o': 'unsanctioned' }, resourcePolicy: { unsanctioned: 'enforce' } };
    await sluice.sluice.reload(validateConfig({ ...sluice.config, ...refusing }, 'reloaded'));
    assert.deepEqual(await ask(openai, 'gpt-4o', 'Refused question'), { text: 'Answer of gpt-4o-mini', cache: 'miss' });
  });

  test('a hit is an answer of the provider as configured now: a reload that changes its baseUrl or key (same name) is a miss', async () => {
    // Another account's upstream: it says whose key it was given, so a test sees which configuration answered.
    const other = await MockProvider.start((request, res) =>
      json(res, 200, openaiCompletion(`Answer for ${String(request.headers.authorization)}`, { prompt_tokens: 10, completion_tokens: 5 })),
    );
    try {
      const sluice = await startTestSluice(routed([{ name: 'gpt-4o', upstream: 'gpt-4o' }]));
      running.push(sluice);
      const openai = client(sluice);
      assert.deepEqual(await ask(openai, 'gpt-4o', 'Moved question'), { text: 'Answer of gpt-4o', cache: 'miss' });
      assert.deepEqual(await ask(openai, 'gpt-4o', 'Moved question'), { text: 'Answer of gpt-4o', cache: 'hit' });
      const provider = (baseUrl: string, apiKey: string) => ({ providers: { openai: { type: 'openai', baseUrl, apiKey } } });
      // The operator moves provider "openai" to another upstream: its answers are what callers now get.
      const moved = { ...routed([{ name: 'gpt-4o', upstream: 'gpt-4o' }]), ...provider(`${other.url}/v1`, 'upstream-key-one') };
      await sluice.sluice.reload(validateConfig({ ...sluice.config, ...moved }, 'reloaded'));
      const first = { text: 'Answer for Bearer upstream-key-one', cache: 'miss' };
      assert.deepEqual(await ask(openai, 'gpt-4o', 'Moved question'), first);
      assert.deepEqual(await ask(openai, 'gpt-4o', 'Moved question'), { ...first, cache: 'hit' });
      // Then gives it another account's key: the answer made with the old key is not served either.
      const rekeyed = { ...routed([{ name: 'gpt-4o', upstream: 'gpt-4o' }]), ...provider(`${other.url}/v1`, 'upstream-key-two') };
      await sluice.sluice.reload(validateConfig({ ...sluice.config, ...rekeyed }, 'reloaded'));
      assert.deepEqual(await ask(openai, 'gpt-4o', 'Moved question'), { text: 'Answer for Bearer upstream-key-two', cache: 'miss' });
      // A reload that changes nothing of the provider keeps its answers.
      await sluice.sluice.reload(
        validateConfig({ ...sluice.config, ...rekeyed, cache: { scope: 'team', models: { 'gpt-4o': {} } } }, 'again'),
      );
      assert.deepEqual(await ask(openai, 'gpt-4o', 'Moved question'), { text: 'Answer for Bearer upstream-key-two', cache: 'hit' });
    } finally {
      await other.close();
    }
  });
});

describe('response cache key: the request as sent', () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    // Answers a JSON schema as OpenAI's structured outputs do: the fields in the order the schema lists them.
    mock = await MockProvider.start((request, res) => {
      const format = request.body.response_format as { json_schema?: { schema?: { properties?: Record<string, unknown> } } } | undefined;
      const fields = Object.keys(format?.json_schema?.schema?.properties ?? {});
      return json(res, 200, openaiCompletion(JSON.stringify(Object.fromEntries(fields.map((field) => [field, `the ${field}`])))));
    });
    sluice = await start(mock, { models: { 'gpt-4o-mini': {} } });
  });

  after(async () => {
    await sluice?.stop();
    await mock?.close();
  });

  test("a JSON schema listing the same fields in another order is another entry: the answer's fields come in its order", async () => {
    const schema = (fields: string[]) => ({
      type: 'json_schema' as const,
      json_schema: {
        name: 'verdict',
        strict: true,
        schema: {
          type: 'object',
          properties: Object.fromEntries(fields.map((field) => [field, { type: 'string' }])),
          required: [...fields].sort(),
          additionalProperties: false,
        },
      },
    });
    const askFor = async (fields: string[]) => {
      const { data, response } = await client(sluice)
        .chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Is 7 prime?' }],
          response_format: schema(fields),
        })
        .withResponse();
      return { text: data.choices[0]!.message.content, cache: response.headers.get('x-sluice-cache') };
    };
    assert.deepEqual(await askFor(['answer', 'reasoning']), { text: '{"answer":"the answer","reasoning":"the reasoning"}', cache: 'miss' });
    // Reasoning first, so the model reasons before it answers: not the answer-first one from the cache.
    assert.deepEqual(await askFor(['reasoning', 'answer']), { text: '{"reasoning":"the reasoning","answer":"the answer"}', cache: 'miss' });
    assert.deepEqual(await askFor(['reasoning', 'answer']), { text: '{"reasoning":"the reasoning","answer":"the answer"}', cache: 'hit' });
  });
});
