// Governance changed while calls are in flight and the gateway holds leased room, on the real Redis under the test's own
// key prefix: the limits the calls meet afterwards are the new ones, and once every call has settled (and idle room is
// given back) the counters hold exactly what the ledger says was used. In-process gateways, the official openai SDK, a
// mock upstream that holds chosen calls until the test lets them go.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { validateConfig } from '../../src/config/load.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const MESSAGE = [{ role: 'user' as const, content: 'Say hello.' }];
/** Every answer: 21 tokens, whatever max_tokens the call reserved. */
const USAGE = { prompt_tokens: 1, completion_tokens: 20 };
/** Calls sending more max_tokens than this are held at the upstream until released (calls in flight). */
const SHORT_MAX_TOKENS = 20;
const HELD_MAX_TOKENS = 4_000;

let mock: MockProvider;
let redis: Redis;
let releaseHeld: () => void = () => {};
let held = Promise.resolve();
const prefixes: string[] = [];

before(async () => {
  redis = new Redis(TEST_REDIS_URL);
  mock = await MockProvider.start(async (request, res) => {
    if ((request.body.max_tokens as number) > SHORT_MAX_TOKENS) await held;
    json(res, 200, openaiCompletion('hello', USAGE));
  });
});
after(async () => {
  await mock.close();
  await redis.quit();
  for (const prefix of prefixes) await deleteTestKeys(prefix);
});

/** From now on, calls sending more than SHORT_MAX_TOKENS wait at the upstream until the returned function is called. */
function holdCalls(): () => void {
  held = new Promise<void>((resolve) => (releaseHeld = resolve));
  return () => releaseHeld();
}

/** A gateway on Redis counters (leases on, the default share) under a key prefix of its own, with `governance`. */
async function gateway(keyPrefix: string, governance: Record<string, unknown>): Promise<TestSluice> {
  return startTestSluice({
    providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    counters: { url: TEST_REDIS_URL, failMode: 'closed', timeoutMs: 5_000, keyPrefix },
    // Held calls wait at the upstream across reloads: no upstream timeout on a loaded machine.
    routing: { retry: { attempts: 1, backoffMs: 5, timeoutMs: 120_000 } },
    ...governance,
  });
}

/** The checkout service's client on a gateway; SDK retries off, so every refusal is seen. */
function clientOf(sluice: TestSluice): OpenAI {
  return new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
}

const ask = (client: OpenAI, maxTokens = SHORT_MAX_TOKENS) =>
  client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGE, max_tokens: maxTokens });

/** 200, or the status and code Sluice refused the call with. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return '200';
  } catch (error) {
    if (error instanceof OpenAI.APIError) return `${error.status} ${error.code}`;
    throw error;
  }
}

/** `count` calls, `concurrency` at a time: their outcomes. */
async function burst(client: OpenAI, count: number, concurrency = 8): Promise<string[]> {
  const outcomes: string[] = [];
  for (let sent = 0; sent < count; sent += concurrency) {
    const wave = Array.from({ length: Math.min(concurrency, count - sent) }, () => outcome(ask(client)));
    outcomes.push(...(await Promise.all(wave)));
  }
  return outcomes;
}

/** The tokens the ledgers of these gateways record as used. */
async function ledgerTokens(...gateways: TestSluice[]): Promise<number> {
  let tokens = 0;
  for (const sluice of gateways) for (const row of await ledgerRows(sluice)) tokens += row.input_tokens + row.output_tokens;
  return tokens;
}

/** What Redis counts in a counter's buckets (every bucket under `counter`, holder records left out). */
async function counted(keyPrefix: string, counter: string): Promise<number> {
  const keys = (await redis.keys(`${keyPrefix}${counter}:*`)).filter((key) => !key.endsWith(':held'));
  let total = 0;
  for (const key of keys) total += Number((await redis.get(key)) ?? 0);
  return total;
}

/** Once every call has settled and idle room is given back, the counter holds exactly the ledgers' figure. */
async function countersMatchLedger(keyPrefix: string, counter: string, ...gateways: TestSluice[]): Promise<void> {
  const tokens = await ledgerTokens(...gateways);
  let last = -1;
  await until(
    `the counter ${counter} holds the ledger's ${tokens} tokens`,
    async () => (last = await counted(keyPrefix, counter)) === tokens,
    20_000,
  ).catch(async (error: Error) => {
    const held = await redis.keys(`${keyPrefix}${counter}:*:held`);
    const records = await Promise.all(held.map((key) => redis.hgetall(key)));
    assert.fail(`${error.message} (it holds ${last}; ${JSON.stringify(records)})`);
  });
}

/** Starts a call held at the upstream and waits until it is there: in flight, its reservation made. */
async function heldCall(client: OpenAI, maxTokens = HELD_MAX_TOKENS): Promise<{ call: Promise<string> }> {
  const before = mock.received.length;
  const call = outcome(ask(client, maxTokens));
  await until('the held call reached the upstream', () => mock.received.length > before, 20_000);
  return { call };
}

test('a call reserved under a higher limit and settled after the limit was lowered: what it did not use admits nothing past the new limit', async () => {
  const keyPrefix = testKeyPrefix();
  prefixes.push(keyPrefix);
  const budget = (limit: number) => ({ budgets: [{ name: 'daily-tokens', measure: 'total_tokens', limit, window: 'day' }] });
  const sluice = await gateway(keyPrefix, budget(10_000));
  try {
    const client = clientOf(sluice);
    const release = holdCalls();
    // In flight, reserving its prompt plus 4,000 tokens under the limit of 10,000.
    const inFlight = outcome(ask(client, HELD_MAX_TOKENS));
    await until('the held call reached the upstream', () => mock.received.length === 1, 20_000);
    await sluice.sluice.reload(validateConfig({ ...sluice.config, ...budget(2_000) }, 'lowered'));
    // Its reservation alone is over the new limit: a call now is refused.
    assert.equal(await outcome(ask(client)), '429 budget_exhausted');
    release();
    assert.equal(await inFlight, '200');
    // It used 21 tokens: the 3,980 it did not use go back to the budget, which then admits calls up to 2,000 tokens only.
    const outcomes = await burst(client, 150);
    const used = await ledgerTokens(sluice);
    assert.ok(used <= 2_000, `the calls used ${used} tokens under a limit lowered to 2,000`);
    assert.ok(outcomes.includes('429 budget_exhausted'), 'the lowered limit is reached');
    await countersMatchLedger(keyPrefix, 'budget:daily-tokens', sluice);
  } finally {
    await sluice.stop();
  }
});

test('room a gateway leased is given back once it stays idle, though no call comes to move its clock on', async () => {
  const keyPrefix = testKeyPrefix();
  prefixes.push(keyPrefix);
  const sluice = await gateway(keyPrefix, { budgets: [{ name: 'quiet', measure: 'total_tokens', limit: 12_800, window: 'day' }] });
  try {
    // Three calls served from one lease of about 200 tokens beyond the first: then no call at all.
    assert.deepEqual(await burst(clientOf(sluice), 3, 1), ['200', '200', '200']);
    await countersMatchLedger(keyPrefix, 'budget:quiet', sluice);
  } finally {
    await sluice.stop();
  }
});

test('a rate limit removed while a call is in flight on its leased room, and made again with a lower limit: the new limit holds', async () => {
  const keyPrefix = testKeyPrefix();
  prefixes.push(keyPrefix);
  const rateLimit = (tokensPerMinute: number) => ({ rateLimits: [{ name: 'tpm', per: 'shared', tokensPerMinute }] });
  const sluice = await gateway(keyPrefix, rateLimit(12_800));
  try {
    const client = clientOf(sluice);
    assert.deepEqual(await burst(client, 3, 3), ['200', '200', '200']);
    const release = holdCalls();
    const inFlight = (await heldCall(client)).call;
    await sluice.sluice.reload(validateConfig({ ...sluice.config, rateLimits: [] }, 'rate limit removed'));
    await sluice.sluice.reload(validateConfig({ ...sluice.config, ...rateLimit(1_000) }, 'rate limit lowered'));
    release();
    assert.equal(await inFlight, '200');
    const outcomes = await burst(client, 80);
    assert.equal(outcomes.at(-1), '429 rate_limit_exceeded');
    const used = await ledgerTokens(sluice);
    // All within the minute's two buckets, which the rolling minute counts in full or in part: never more than the limit.
    assert.ok(used <= 1_000, `the calls used ${used} tokens under a rate limit lowered to 1,000 a minute`);
    await countersMatchLedger(keyPrefix, 'rate:tpm:tokens', sluice);
  } finally {
    await sluice.stop();
  }
});

test('two gateways on one Redis, each with a call in flight and room leased, both lowering the limit: their combined spend stays within it', async () => {
  const keyPrefix = testKeyPrefix();
  prefixes.push(keyPrefix);
  const budget = (limit: number) => ({ budgets: [{ name: 'shared-daily', measure: 'total_tokens', limit, window: 'day' }] });
  const gateways = [await gateway(keyPrefix, budget(12_800)), await gateway(keyPrefix, budget(12_800))];
  try {
    const clients = gateways.map(clientOf);
    for (const client of clients) assert.deepEqual(await burst(client, 2, 2), ['200', '200']);
    const release = holdCalls();
    const inFlight = [(await heldCall(clients[0]!, 3_000)).call, (await heldCall(clients[1]!, 3_000)).call];
    for (const sluice of gateways) await sluice.sluice.reload(validateConfig({ ...sluice.config, ...budget(2_000) }, 'lowered'));
    // Each call in flight holds more than a third of the new limit: both together leave no room.
    for (const [i, client] of clients.entries())
      assert.equal(
        await outcome(ask(client)),
        '429 budget_exhausted',
        `gateway ${i}, counter at ${await counted(keyPrefix, 'budget:shared-daily')}`,
      );
    release();
    assert.deepEqual(await Promise.all(inFlight), ['200', '200']);
    const outcomes = await Promise.all(clients.map((client) => burst(client, 60, 4)));
    assert.ok(outcomes.flat().includes('429 budget_exhausted'));
    const used = await ledgerTokens(...gateways);
    assert.ok(used <= 2_000, `the two gateways' calls used ${used} tokens under a limit lowered to 2,000`);
    await countersMatchLedger(keyPrefix, 'budget:shared-daily', ...gateways);
  } finally {
    for (const sluice of gateways) await sluice.stop();
  }
});

for (const counters of ['redis', 'memory'] as const) {
  test(`${counters} counters: a budget removed while a call is in flight and room is leased, then declared again, counts the calls made while it was gone`, async () => {
    const keyPrefix = testKeyPrefix();
    prefixes.push(keyPrefix);
    const budget = { budgets: [{ name: 'again', measure: 'total_tokens', limit: 1_500, window: 'day' }] };
    const sluice = await gateway(keyPrefix, counters === 'redis' ? budget : { ...budget, counters: 'memory' });
    try {
      const client = clientOf(sluice);
      assert.deepEqual(await burst(client, 3, 3), ['200', '200', '200']);
      const release = holdCalls();
      // In flight, reserving its prompt and 600 tokens, of which it will use 21.
      const inFlight = (await heldCall(client, 600)).call;
      await sluice.sluice.reload(validateConfig({ ...sluice.config, budgets: [] }, 'budget removed'));
      // 30 calls of 21 tokens while the budget is gone: the ledger has them, its counter does not.
      assert.ok((await burst(client, 30)).every((status) => status === '200'));
      await sluice.sluice.reload(validateConfig({ ...sluice.config, ...budget }, 'budget declared again'));
      release();
      assert.equal(await inFlight, '200');
      const outcomes = await burst(client, 80);
      assert.equal(outcomes.at(-1), '429 budget_exhausted');
      const used = await ledgerTokens(sluice);
      assert.ok(used <= 1_500, `the calls used ${used} tokens under a budget of 1,500`);
      assert.ok(used > 1_500 - 21 * 3, `the calls used ${used} tokens: the budget refused calls that fitted`);
      if (counters === 'redis') await countersMatchLedger(keyPrefix, 'budget:again', sluice);
    } finally {
      await sluice.stop();
    }
  });
}
