// The Retry-After of a rate limit's refusal, as an SDK reads it: the exact wait of the sliding-window counter (usage in
// the current minute rolls off only once that minute ends), on memory counters and on Redis, leased or not; waiting
// what the header says is enough, and a couple of seconds less is not.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ManualClock } from '../../src/policy/clock.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { KEYS, startTestSluice } from '../support/sluice.js';

const started: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const stop of started.reverse()) await stop();
});

const LIMIT = 3;
const MINUTE = 60_000;

type Outcome = { status: number; retryAfter: string | null; reset: string | null };

async function call(client: OpenAI): Promise<Outcome> {
  try {
    const { response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: 5 })
      .withResponse();
    return { status: response.status, retryAfter: null, reset: null };
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    return {
      status: error.status ?? 0,
      retryAfter: error.headers?.get('retry-after') ?? null,
      reset: error.headers?.get('x-ratelimit-reset-requests') ?? null,
    };
  }
}

/** What the OpenAI SDK's x-ratelimit-reset format ("1m5s", "20s") says, in seconds. */
function resetSeconds(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  assert.ok(match !== null, `x-ratelimit-reset-requests ${text}`);
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

/** A refusal whose Retry-After is `expectedMs` (from the test's clock, within 2 s), and waiting it is enough. */
async function refusedFor(client: OpenAI, clock: ManualClock, expectedMs: number, what: string): Promise<void> {
  const refused = await call(client);
  assert.equal(refused.status, 429, what);
  const seconds = Number(refused.retryAfter);
  assert.ok(Math.abs(seconds - expectedMs / 1000) <= 2, `${what}: Retry-After ${refused.retryAfter}, expected ${expectedMs / 1000} s`);
  assert.ok(Math.abs(resetSeconds(refused.reset!) - expectedMs / 1000) <= 2, `${what}: x-ratelimit-reset ${refused.reset}`);
  const at = clock.now();
  clock.set(at + expectedMs - 2_000);
  assert.equal((await call(client)).status, 429, `${what}: still refused 2 s before the computed wait`);
  clock.set(at + seconds * 1000);
  assert.equal((await call(client)).status, 200, `${what}: served once Retry-After has passed`);
}

async function scenario(counters: Record<string, unknown> | undefined): Promise<void> {
  const mock = await MockProvider.start(async (request, res) => {
    json(res, 200, openaiCompletion('hi', { prompt_tokens: 5, completion_tokens: 5 }, String(request.body.model)));
  });
  started.push(() => mock.close());
  // A quarter into a minute.
  const minuteStart = Date.parse('2026-06-01T08:00:00Z');
  const clock = new ManualClock(minuteStart + MINUTE / 4);
  const sluice = await startTestSluice(
    {
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [
        { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      rateLimits: [{ name: 'rpm', requestsPerMinute: LIMIT }],
      ...(counters === undefined ? {} : { counters }),
    },
    { clock },
  );
  started.push(() => sluice.stop());
  const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });

  for (let i = 0; i < LIMIT; i++) assert.equal((await call(client)).status, 200);
  // The three calls are in the current minute: none rolls off before it ends (45 s), then they roll off evenly over
  // the next minute, and one call fits once a third of them has gone (20 s more). Not 20 s, as if they were spread out.
  let now = clock.now();
  let elapsed = (now - minuteStart) / MINUTE;
  await refusedFor(client, clock, (1 - elapsed) * MINUTE + (1 - (LIMIT - 1) / LIMIT) * MINUTE, 'calls in the current minute');

  // Now the previous minute holds three calls and the current one one (the call just served): a call fits once the
  // previous minute's weight w leaves 3w + 1 + 1 <= 3, w = 1/3, within this minute.
  now = clock.now();
  const bucketStart = Math.floor(now / MINUTE) * MINUTE;
  elapsed = (now - bucketStart) / MINUTE;
  assert.ok(elapsed < 2 / 3, `this minute has not yet passed 2/3 (${elapsed})`);
  await refusedFor(client, clock, (2 / 3 - elapsed) * MINUTE, 'calls in the previous minute');
}

describe('Retry-After of a requests-per-minute refusal', () => {
  test('memory counters: the wait until the call fits, current minute rolling off only after it ends', async () => {
    await scenario(undefined);
  });

  for (const leaseShare of [undefined, 0]) {
    test(`Redis counters (${leaseShare === 0 ? 'no leases' : 'default leases'}): the same exact wait`, async () => {
      const keyPrefix = testKeyPrefix();
      started.push(() => deleteTestKeys(keyPrefix));
      await scenario({
        url: TEST_REDIS_URL,
        failMode: 'closed',
        timeoutMs: 5_000,
        keyPrefix,
        ...(leaseShare === undefined ? {} : { leaseShare }),
      });
    });
  }
});
