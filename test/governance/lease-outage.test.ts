// Room a gateway leased from a Redis budget, through a loss of its connection to Redis that kept its keys: the room is
// given back once Redis is reachable again, so another gateway can spend it, rather than counted as used until the
// window ends. Real Redis behind a TCP relay the test cuts; two in-process gateways sharing one key prefix.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { estimatePromptTokens } from '../../src/metering/tokenizer.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { deleteTestKeys, TEST_REDIS, TEST_REDIS_URL, testKeyPrefix, testRedisUrlVia } from '../support/redis.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { TcpRelay } from '../support/tcp-relay.js';
import { until } from '../support/until.js';

const MESSAGE = [{ role: 'user' as const, content: 'Say hello.' }];
/** Every answer: 21 tokens, fewer than any call reserves. */
const USAGE = { prompt_tokens: 1, completion_tokens: 20 };
const USED = USAGE.prompt_tokens + USAGE.completion_tokens;
/** A budget whose leases ask for 100 tokens beyond the call (1/64 of the limit, the default share). */
const LIMIT = 6_400;
const GUARD = { timeout: 60_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('leased room through a Redis connection loss', () => {
  let mock: MockProvider;
  let redis: Redis;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hello', USAGE)));
    redis = new Redis(TEST_REDIS_URL);
  });
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  after(async () => {
    await mock.close();
    await redis.quit();
  });

  async function gateway(url: string, keyPrefix: string, leaseShare?: number): Promise<{ sluice: TestSluice; client: OpenAI }> {
    const sluice = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      counters: { url, failMode: 'open', timeoutMs: 5_000, keyPrefix, ...(leaseShare === undefined ? {} : { leaseShare }) },
      budgets: [{ name: 'daily-tokens', measure: 'total_tokens', limit: LIMIT, window: 'day' }],
    });
    cleanups.push(() => sluice.stop());
    return { sluice, client: new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 }) };
  }

  /**
   * The budget's counter of today, as Redis holds it: the only key under the prefix that is neither the seeded marker nor
   * the counter's lease holders' records.
   */
  async function counter(keyPrefix: string): Promise<number> {
    const keys = (await redis.keys(`${keyPrefix}*`)).filter((key) => !key.endsWith('counters:seeded') && !key.endsWith(':held'));
    assert.equal(keys.length, 1, keys.join(', '));
    return Number(await redis.get(keys[0]!));
  }

  for (const { name, outageMs } of [
    { name: 'a blip shorter than a lease stays idle', outageMs: 0 },
    { name: 'an outage longer than a lease stays idle (its give-back fails meanwhile)', outageMs: 2_500 },
  ]) {
    test(`${name}: the room held is given back once Redis is reachable again`, GUARD, async () => {
      const keyPrefix = testKeyPrefix();
      cleanups.push(async () => void (await deleteTestKeys(keyPrefix)));
      const relay = await TcpRelay.start(TEST_REDIS);
      cleanups.push(() => relay.close());
      const leasing = await gateway(testRedisUrlVia(relay.port), keyPrefix);
      // Another gateway on the same Redis, reserving each call alone.
      const other = await gateway(TEST_REDIS_URL, keyPrefix, 0);

      await leasing.client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGE, max_tokens: 20 });
      await leasing.sluice.sluice.settled();
      assert.ok((await counter(keyPrefix)) > USED, 'the first gateway holds leased room beyond what its call used');

      relay.cut();
      await until('the leasing gateway sees Redis gone', () => !storeAvailable(leasing.sluice));
      await sleep(outageMs);
      relay.restore();
      await until('the leasing gateway is connected again', () => storeAvailable(leasing.sluice), 20_000);
      await until(`the counter holds only what was used (${USED})`, async () => (await counter(keyPrefix)) === USED, 10_000, 50).catch(
        async (error: Error) => assert.fail(`${error.message}; it holds ${await counter(keyPrefix)}`),
      );

      // The rest of the budget is the other gateway's to spend: a call reserving exactly what is left is served.
      const prompt = await estimatePromptTokens({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: [{ type: 'text', text: MESSAGE[0]!.content }] }],
        stream: false,
        maxTokens: 20,
      });
      const { response } = await other.client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: MESSAGE, max_tokens: LIMIT - USED - prompt })
        .withResponse();
      assert.equal(response.status, 200);
    });
  }
});

function storeAvailable(sluice: TestSluice): boolean {
  const store = sluice.sluice.context.governance.store as { available?: boolean };
  return store.available !== false;
}
