// A reload that lowers a Redis budget's limit mid-window: room a gateway leased under the old limit admits nothing past
// the new one. Real Redis under the test's own key prefix, an in-process gateway, the official openai SDK.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { validateConfig } from '../../src/config/load.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { KEYS, startTestSluice } from '../support/sluice.js';

const MESSAGE = [{ role: 'user' as const, content: 'Say hello.' }];
/** Every answer: 21 tokens; every call reserves its prompt plus 20. */
const USAGE = { prompt_tokens: 1, completion_tokens: 20 };

let mock: MockProvider;
const keyPrefix = testKeyPrefix();
before(async () => {
  mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hello', USAGE)));
});
after(async () => {
  await mock.close();
  await deleteTestKeys(keyPrefix);
});

test('a reload that lowers a budget below its usage refuses the next call, though room was leased under the old limit', async () => {
  const budget = (limit: number) => ({ budgets: [{ name: 'daily-tokens', measure: 'total_tokens', limit, window: 'day' }] });
  const sluice = await startTestSluice({
    providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    counters: { url: TEST_REDIS_URL, failMode: 'closed', timeoutMs: 5_000, keyPrefix },
    ...budget(6_400),
  });
  try {
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGE, max_tokens: 20 });
    // Served from a lease of about 100 tokens beyond the call (1/64 of 6,400), most of it still held.
    await ask();
    await sluice.sluice.settled();
    // 21 tokens used; the budget is cut to 30, which the next call (its prompt plus 20) cannot fit in.
    await sluice.sluice.reload(validateConfig({ ...sluice.config, ...budget(30) }, 'reloaded'));
    const refusal = await ask().then(
      () => assert.fail('the call was served past the lowered limit'),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof OpenAI.RateLimitError, String(refusal));
    assert.equal(refusal.code, 'budget_exhausted');
    assert.equal(refusal.headers.get('x-ratelimit-limit-tokens'), '30');
    assert.equal(refusal.headers.get('x-sluice-budget'), 'daily-tokens');
    assert.equal(mock.received.length, 1, 'the refused call never reached the provider');
  } finally {
    await sluice.stop();
  }
});
