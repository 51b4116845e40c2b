// A FinOps owner's attacks on governance that held, kept as regressions, over HTTP with real loopback providers: a
// leap day and month end on Redis counters, a concurrent burst against a requests-per-minute limit (exactly the limit
// admitted), a budget refusal on /v1/messages in Anthropic's error shape with its Retry-After, and a streamed call cut
// by the client, its partial usage settled once.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ManualClock } from '../../src/policy/clock.js';
import { json, MockProvider, anthropicMessage, openaiCompletion, openaiStreamFrames } from '../support/mock-provider.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { KEYS, ledgerRowWhere, startTestSluice } from '../support/sluice.js';

const started: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const stop of started.reverse()) await stop();
});

async function openaiUpstream(): Promise<MockProvider> {
  const mock = await MockProvider.start((_request, res) =>
    json(res, 200, openaiCompletion('ok', { prompt_tokens: 5, completion_tokens: 5 })),
  );
  started.push(() => mock.close());
  return mock;
}

async function status(client: OpenAI): Promise<{ status: number; retryAfter: string | null }> {
  try {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
    return { status: 200, retryAfter: null };
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    return { status: error.status ?? 0, retryAfter: error.headers?.get('retry-after') ?? null };
  }
}

function redisCounters(leaseShare?: number): Record<string, unknown> {
  const keyPrefix = testKeyPrefix();
  started.push(() => deleteTestKeys(keyPrefix));
  return { url: TEST_REDIS_URL, keyPrefix, failMode: 'closed', timeoutMs: 5_000, ...(leaseShare === undefined ? {} : { leaseShare }) };
}

describe('calendar boundaries on Redis counters', () => {
  test('a leap day is a day of its own, and the month it ends resets on 1 March', async () => {
    const mock = await openaiUpstream();
    const clock = new ManualClock(Date.parse('2028-02-29T23:59:30Z'));
    const sluice = await startTestSluice(
      {
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
        counters: redisCounters(),
        budgets: [
          { name: 'daily', measure: 'requests', limit: 2, window: 'day' },
          { name: 'monthly', measure: 'requests', limit: 3, window: 'month' },
        ],
      },
      { clock },
    );
    started.push(() => sluice.stop());
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    assert.equal((await status(client)).status, 200);
    assert.equal((await status(client)).status, 200);
    const refused = await status(client);
    assert.equal(refused.status, 429);
    assert.equal(refused.retryAfter, '30', 'the day ends at midnight after 29 February');
    clock.set(Date.parse('2028-03-01T00:00:00Z'));
    // A new day and a new month: both counters start over.
    assert.equal((await status(client)).status, 200);
    assert.equal((await status(client)).status, 200);
    assert.equal((await status(client)).status, 429);
  });
});

describe('a concurrent burst against requests per minute', () => {
  for (const [what, counters] of [
    ['memory', undefined],
    ['Redis, leased', 'leased'],
    ['Redis, no leases', 'unleased'],
  ] as const) {
    test(`${what}: of 30 calls at once, exactly 7 are admitted`, async () => {
      const mock = await openaiUpstream();
      const sluice = await startTestSluice({
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
        rateLimits: [{ name: 'rpm', requestsPerMinute: 7 }],
        ...(counters === undefined ? {} : { counters: redisCounters(counters === 'leased' ? undefined : 0) }),
      });
      started.push(() => sluice.stop());
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const outcomes = await Promise.all(Array.from({ length: 30 }, () => status(client)));
      assert.equal(outcomes.filter((outcome) => outcome.status === 200).length, 7);
      assert.equal(outcomes.filter((outcome) => outcome.status === 429).length, 23);
      for (const outcome of outcomes.filter((o) => o.status === 429)) assert.ok(Number(outcome.retryAfter) >= 1, outcome.retryAfter ?? '');
    });
  }
});

test('/v1/messages: a budget refusal in Anthropic error shape, with Retry-After', async () => {
  const mock = await MockProvider.start((_request, res) => json(res, 200, anthropicMessage('hi', { input_tokens: 5, output_tokens: 5 })));
  started.push(() => mock.close());
  const clock = new ManualClock(Date.parse('2026-03-31T23:00:00Z'));
  const sluice = await startTestSluice(
    {
      providers: { anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'upstream-anthropic-key-not-real' } },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
      ],
      budgets: [{ name: 'monthly', measure: 'requests', limit: 1, window: 'month' }],
    },
    { clock },
  );
  started.push(() => sluice.stop());
  const send = () =>
    fetch(`${sluice.baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.checkout, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
  assert.equal((await send()).status, 200);
  const refused = await send();
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '3600');
  const body = (await refused.json()) as { type: string; error: { type: string; message: string } };
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'rate_limit_error');
  assert.match(body.error.message, /Budget 'monthly'/);
});

test('a streamed call cut by the client: its partial usage is settled, counted once, as the ledger has it', async () => {
  const mock = await MockProvider.start(async (request, res) => {
    if (request.body.stream !== true) return json(res, 200, openaiCompletion('ok', { prompt_tokens: 5, completion_tokens: 5 }));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const frame of openaiStreamFrames(['one ', 'two ', 'three '], { prompt_tokens: 5, completion_tokens: 3 }).slice(0, 4)) {
      res.write(frame);
    }
    // The rest never comes: the client leaves first.
    await new Promise((resolve) => res.on('close', resolve));
  });
  started.push(() => mock.close());
  const sluice = await startTestSluice({
    providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    budgets: [{ name: 'tokens', measure: 'total_tokens', limit: 1_000, window: 'day' }],
  });
  started.push(() => sluice.stop());
  const leaving = new AbortController();
  const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, max_tokens: 500, messages: [{ role: 'user', content: 'count' }] }),
    signal: leaving.signal,
  });
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes('two')) text += new TextDecoder().decode((await reader.read()).value);
  leaving.abort();
  const row = await ledgerRowWhere(sluice, 'the cut call', (candidate) => candidate.stream === 1);
  assert.equal(row.status, 499);
  const spent = row.input_tokens + row.output_tokens;
  assert.ok(spent > 0 && spent < 500, `partial usage ${spent}`);
  // A call too large for what is left shows the counter: the cut call's usage, not its reservation, and once.
  const refused = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 985, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(refused.status, 429);
  const message = ((await refused.json()) as { error: { message: string } }).error.message;
  assert.match(message, new RegExp(`has ${1_000 - spent} of 1000 tokens left`), message);
});
