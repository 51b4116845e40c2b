// Budgets, templates, rate limits and sanctioned models as a client sees them, through the official openai SDK:
// refusals with their status, error body and headers, monitor mode, windows on an injected clock, downgrades, alerts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { verifyWebhookSignature } from '../../src/alerts/webhooks.js';
import { validateConfig } from '../../src/config/load.js';
import { estimatePromptTokens } from '../../src/metering/tokenizer.js';
import { ManualClock } from '../../src/policy/clock.js';
import { json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const MESSAGE = [{ role: 'user' as const, content: 'hello' }];
/** Every answer reports 10 input and 20 output tokens. */
const USAGE = { prompt_tokens: 10, completion_tokens: 20 };

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const thing of started.reverse()) await thing.stop();
});

async function upstream(delayMs = 0): Promise<MockProvider> {
  const mock = await MockProvider.start(async (request, res) => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    json(res, 200, openaiCompletion('hi', USAGE, String(request.body.model)));
  });
  started.push({ stop: () => mock.close() });
  return mock;
}

function baseConfig(mock: MockProvider, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
    models: [
      { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }], pricing: { input: 10, output: 20 } },
      { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], pricing: { input: 1, output: 2 } },
    ],
    ...extra,
  };
}

async function gateway(
  mock: MockProvider,
  extra: Record<string, unknown>,
  clock?: ManualClock,
): Promise<{ sluice: TestSluice; client: OpenAI }> {
  const sluice = await startTestSluice(baseConfig(mock, extra), clock === undefined ? {} : { clock });
  started.push(sluice);
  return { sluice, client: new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 }) };
}

type Outcome = { status: number; code: string | null; headers: Headers | null; served: string | null };

async function call(client: OpenAI, model = 'gpt-4o', maxTokens = 20): Promise<Outcome> {
  try {
    const { response } = await client.chat.completions.create({ model, messages: MESSAGE, max_tokens: maxTokens }).withResponse();
    return { status: response.status, code: null, headers: response.headers, served: response.headers.get('x-sluice-served-model') };
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    return {
      status: error.status ?? 0,
      code: (error.code as string | null | undefined) ?? null,
      headers: error.headers ?? null,
      served: null,
    };
  }
}

/** What admission reserves for MESSAGE with max_tokens 20: the tokenizer's prompt count plus 20. */
async function reservedTokens(): Promise<number> {
  return (
    (await estimatePromptTokens({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
      stream: false,
      maxTokens: 20,
    })) + 20
  );
}

describe('sanctioned models', () => {
  test('enforce: a call to an unsanctioned model is refused with 403 and never reaches the provider', async () => {
    const mock = await upstream();
    const { client, sluice } = await gateway(mock, { resources: { 'openai/gpt-4o': 'unsanctioned', 'openai/gpt-4o-mini': 'sanctioned' } });
    const refused = await call(client, 'gpt-4o');
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'model_not_sanctioned');
    assert.equal((await call(client, 'gpt-4o-mini')).status, 200);
    assert.equal(mock.received.length, 1);
    assert.equal(mock.received[0]!.body.model, 'gpt-4o-mini');
    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      rows.map((row) => [row.requested_model, row.status, row.error_class]),
      [
        ['gpt-4o', 403, 'model_not_sanctioned'],
        ['gpt-4o-mini', 200, null],
      ],
    );
  });

  test('GET /v1/models lists only the models a call may use: enforce leaves a refused model out, and asking for it by id answers 403', async () => {
    const mock = await upstream();
    const { client } = await gateway(mock, { resources: { 'openai/gpt-4o': 'unsanctioned' } });
    // A client that offers what /v1/models lists (a model picker) must not offer a model every call to which is refused.
    assert.deepEqual(
      (await client.models.list()).data.map((model) => model.id),
      ['gpt-4o-mini'],
    );
    const retrieved = await client.models.retrieve('gpt-4o').then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(retrieved instanceof OpenAI.PermissionDeniedError, String(retrieved));
    assert.equal(retrieved.code, 'model_not_sanctioned');
    assert.match(retrieved.message, /openai\/gpt-4o is unsanctioned/);
    assert.equal((await client.models.retrieve('gpt-4o-mini')).id, 'gpt-4o-mini');
    assert.equal(mock.received.length, 0);

    // Under monitor the call is served, so the model is listed.
    const monitored = await gateway(mock, { resources: { 'openai/gpt-4o': 'unsanctioned' }, resourcePolicy: { unsanctioned: 'monitor' } });
    assert.deepEqual(
      (await monitored.client.models.list()).data.map((model) => model.id),
      ['gpt-4o', 'gpt-4o-mini'],
    );
  });

  test('the default for unreviewed models is set in config: enforce refuses them, the Anthropic API gets its own error shape', async () => {
    const mock = await upstream();
    const { sluice } = await gateway(mock, {
      resources: { 'openai/gpt-4o-mini': 'sanctioned' },
      resourcePolicy: { unreviewed: 'enforce' },
    });
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const refused = await anthropic.messages.create({ model: 'gpt-4o', max_tokens: 10, messages: MESSAGE }).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof Anthropic.PermissionDeniedError, String(refused));
    const body = refused.error as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'permission_error');
    assert.match(body.error.message, /openai\/gpt-4o is unreviewed/);
    assert.equal(mock.received.length, 0);
  });

  test('monitor: the call is served, and the violation is logged, counted and recorded in the ledger', async () => {
    const mock = await upstream();
    const { client, sluice } = await gateway(mock, {
      resources: { 'openai/gpt-4o': 'unsanctioned' },
      resourcePolicy: { unsanctioned: 'monitor' },
    });
    assert.equal((await call(client, 'gpt-4o')).status, 200);
    const [row] = await ledgerRows(sluice);
    assert.equal(row!.violations, 'resource:openai/gpt-4o');
    const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
    assert.match(metrics, /sluice_policy_violations_total\{policy="resource:openai\/gpt-4o",kind="resource"\} 1/);
  });
});

describe('budgets', () => {
  test('enforce: a token budget refuses with 429, Retry-After at the window reset and x-ratelimit headers', async () => {
    const mock = await upstream();
    const clock = new ManualClock(Date.parse('2026-03-10T12:00:00Z'));
    const { client, sluice } = await gateway(
      mock,
      {
        budgets: [
          { name: 'checkout-daily', consumers: { consumer: 'checkout-service' }, measure: 'total_tokens', limit: 100, window: 'day' },
        ],
      },
      clock,
    );
    // Each call settles at 30 tokens; a call is admitted while used + its reservation fits in 100.
    const reserved = await reservedTokens();
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 5; i++) outcomes.push(await call(client));
    const served = outcomes.filter((o) => o.status === 200).length;
    assert.equal(served, Math.floor((100 - reserved) / 30) + 1, `reserved ${reserved} per call`);
    const refused = outcomes.find((o) => o.status === 429)!;
    assert.equal(refused.code, 'budget_exhausted');
    assert.equal(refused.headers!.get('retry-after'), String(12 * 3600), 'the day window resets at midnight UTC');
    assert.equal(refused.headers!.get('x-ratelimit-limit-tokens'), '100');
    assert.equal(refused.headers!.get('x-ratelimit-remaining-tokens'), String(100 - 30 * served));
    assert.equal(refused.headers!.get('x-ratelimit-reset-tokens'), '12h0m0s');
    assert.equal(refused.headers!.get('x-sluice-budget'), 'checkout-daily');
    assert.equal(mock.received.length, served, 'refused calls never reach the provider');
    // Another consumer is not in the budget's scope.
    const search = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    assert.equal((await call(search, 'gpt-4o-mini')).status, 200);
    clock.set(Date.parse('2026-03-11T00:00:01Z'));
    assert.equal((await call(client)).status, 200, 'a new day, a new window');
  });

  test('n answers reserve n times max_tokens: a call that may write more than the budget holds never reaches the provider', async () => {
    const mock = await upstream();
    const { client } = await gateway(mock, {
      budgets: [{ name: 'checkout-daily', consumers: { consumer: 'checkout-service' }, measure: 'total_tokens', limit: 80, window: 'day' }],
    });
    const reserved = await reservedTokens();
    assert.ok(reserved + 20 <= 80, 'one answer of max_tokens 20 fits, as does a second');
    // Four answers of up to 20 tokens each may cost 80 output tokens beside the prompt: more than the budget holds.
    const four = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGE, max_tokens: 20, n: 4 }).then(
      () => null,
      (error: unknown) => error,
    );
    // More than the whole budget: it can never fit, so a 400 the SDK does not retry, not a 429.
    assert.ok(four instanceof OpenAI.BadRequestError, String(four));
    assert.equal(four.code, 'reservation_exceeds_budget');
    assert.equal(mock.received.length, 0, 'refused before the provider');
    const two = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGE, max_tokens: 20, n: 2 });
    assert.equal(two.choices[0]!.message.content, 'hi');
    assert.equal(mock.received.at(-1)!.body.n, 2, 'n reaches the provider');
    const bad = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGE, n: 1.5 }).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(bad instanceof OpenAI.BadRequestError, String(bad));
    assert.equal(bad.param, 'n');
  });

  test('monitor: calls past the limit are served, recorded as violations, and raise the 100% alert', async () => {
    const mock = await upstream();
    const { client, sluice } = await gateway(mock, {
      budgets: [{ name: 'watch', measure: 'requests', limit: 2, window: 'hour', mode: 'monitor', alerts: [100] }],
    });
    const outcomes = [await call(client), await call(client), await call(client)];
    assert.deepEqual(
      outcomes.map((o) => o.status),
      [200, 200, 200],
    );
    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      rows.map((row) => row.violations),
      [null, null, 'watch'],
    );
    const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
    assert.match(metrics, /sluice_policy_violations_total\{policy="watch",kind="budget"\} 1/);
    assert.match(metrics, /sluice_budget_alerts_total\{budget="watch",threshold="100"\} 1/);
  });

  test('a cost budget in USD counts priced usage and refuses what would pass it', async () => {
    const mock = await upstream();
    // gpt-4o: 10 and 20 USD per 1M tokens, so a call costs 10*10 + 20*20 = 500 micro-USD.
    const { client, sluice } = await gateway(mock, {
      budgets: [
        {
          name: 'gpt-4o-spend',
          consumers: { team: 'payments' },
          resources: { model: 'gpt-4o' },
          measure: 'cost_usd',
          limit: 0.0012,
          window: 'month',
        },
      ],
    });
    const outcomes = [await call(client), await call(client), await call(client)];
    assert.deepEqual(
      outcomes.map((o) => o.status),
      [200, 200, 429],
    );
    assert.equal(outcomes[2]!.headers!.get('x-ratelimit-limit-usd'), '0.001200');
    assert.equal(outcomes[2]!.headers!.get('x-ratelimit-remaining-usd'), '0.000200');
    assert.equal((await call(client, 'gpt-4o-mini')).status, 200, 'the budget covers gpt-4o only');
    const rows = await ledgerRows(sluice);
    assert.equal(
      rows.filter((row) => row.requested_model === 'gpt-4o' && row.status === 200).reduce((sum, row) => sum + row.cost_micro_usd!, 0),
      1000,
    );
  });

  test('a calendar month resets at the first of the next month, UTC', async () => {
    const mock = await upstream();
    const clock = new ManualClock(Date.parse('2026-01-31T23:59:00Z'));
    const { client } = await gateway(mock, { budgets: [{ name: 'monthly', measure: 'requests', limit: 1, window: 'month' }] }, clock);
    assert.equal((await call(client)).status, 200);
    const refused = await call(client);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers!.get('retry-after'), '60');
    clock.set(Date.parse('2026-02-01T00:00:00Z'));
    assert.equal((await call(client)).status, 200);
  });

  test('a rolling window counts the last hour, not the calendar hour', async () => {
    const mock = await upstream();
    const start = Date.parse('2026-05-05T10:00:00Z');
    const clock = new ManualClock(start);
    const { client } = await gateway(
      mock,
      { budgets: [{ name: 'rolling', measure: 'requests', limit: 3, window: { rolling: '1h' } }] },
      clock,
    );
    const statuses = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await call(client)).status);
      return out;
    };
    const retryAfter = async () => Number((await call(client)).headers!.get('retry-after'));
    assert.deepEqual(await statuses(3), [200, 200, 200]);
    // The three calls are in the current hour's bucket: none rolls off before it ends, then a third of them by 20 minutes
    // into the next, when one more fits: 80 minutes.
    const first = await retryAfter();
    assert.ok(Math.abs(first - 80 * 60) <= 2, `Retry-After ${first}`);
    clock.set(start + 50 * 60_000);
    const later = await retryAfter();
    assert.ok(Math.abs(later - 30 * 60) <= 2, `the three calls are still within the last hour: Retry-After ${later}`);
    // 90 minutes in: half of the first bucket's three calls still lie in the last hour (1.5), so one more fits.
    clock.set(start + 90 * 60_000);
    assert.deepEqual(await statuses(2), [200, 429]);
  });

  test('downgrade: an exhausted budget sends the call to the named cheaper model instead of refusing', async () => {
    const mock = await upstream();
    const { client, sluice } = await gateway(mock, {
      budgets: [
        {
          name: 'premium',
          resources: { model: 'gpt-4o' },
          measure: 'requests',
          limit: 1,
          window: 'day',
          onExhausted: { downgrade: 'gpt-4o-mini' },
        },
      ],
    });
    const first = await call(client);
    const second = await call(client);
    assert.equal(first.status, 200);
    assert.equal(first.served, null);
    assert.equal(second.status, 200);
    assert.equal(second.served, 'gpt-4o-mini');
    assert.deepEqual(
      mock.received.map((r) => r.body.model),
      ['gpt-4o', 'gpt-4o-mini'],
    );
    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      rows.map((row) => [row.requested_model, row.served_model, row.provider_model, row.cost_micro_usd]),
      [
        ['gpt-4o', null, 'gpt-4o', 500],
        ['gpt-4o', 'gpt-4o-mini', 'gpt-4o-mini', 50],
      ],
    );
  });

  test("downgrade to a model the resource policy refuses: the asked model's budget answers 429, never a 403 for a model not asked for", async () => {
    const mock = await upstream();
    const { client, sluice } = await gateway(mock, {
      resources: { 'openai/gpt-4o-mini': 'unsanctioned' },
      budgets: [
        {
          name: 'premium',
          resources: { model: 'gpt-4o' },
          measure: 'requests',
          limit: 1,
          window: 'day',
          onExhausted: { downgrade: 'gpt-4o-mini' },
        },
      ],
    });
    assert.equal((await call(client)).status, 200);
    const second = await call(client);
    assert.deepEqual([second.status, second.code, second.served], [429, 'budget_exhausted', null]);
    assert.equal(second.headers?.get('x-sluice-budget'), 'premium');
    assert.deepEqual(
      mock.received.map((r) => r.body.model),
      ['gpt-4o'],
    );
    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      rows.map((row) => [row.requested_model, row.status, row.error_class]),
      [
        ['gpt-4o', 200, null],
        ['gpt-4o', 429, 'budget_exhausted'],
      ],
    );
  });

  test("a reload that changes what a budget measures or covers counts afresh from the ledger, never the old counter's figures", async () => {
    const mock = await upstream();
    const budget = (terms: Record<string, unknown>) => ({ budgets: [{ name: 'team-spend', window: 'day', ...terms }] });
    const { client, sluice } = await gateway(mock, budget({ measure: 'cost_usd', limit: 1 }));
    assert.deepEqual([(await call(client)).status, (await call(client)).status], [200, 200]);
    // The same budget now counts requests: the two calls so far, not the 1,000 micro-USD they cost.
    await sluice.sluice.reload(validateConfig({ ...sluice.config, ...budget({ measure: 'requests', limit: 3 }) }, 'reloaded'));
    assert.deepEqual([(await call(client)).status, (await call(client)).status], [200, 429]);
    // Narrowed to gpt-4o-mini, which nobody has called: what gpt-4o used no longer counts.
    const narrowed = budget({ measure: 'requests', limit: 3, resources: { model: 'gpt-4o-mini' } });
    await sluice.sluice.reload(validateConfig({ ...sluice.config, ...narrowed }, 'reloaded again'));
    assert.equal((await call(client, 'gpt-4o-mini')).status, 200);
  });

  test('a streamed call settles to the usage in its stream, and the Anthropic API gets its 429 shape', async () => {
    const mock = await MockProvider.start(async (request, res) => {
      if (request.body.stream === true) return sse(res, openaiStreamFrames(['a', 'b'], { prompt_tokens: 10, completion_tokens: 40 }));
      json(res, 200, openaiCompletion('hi', USAGE));
    });
    started.push({ stop: () => mock.close() });
    const { client, sluice } = await gateway(mock, { budgets: [{ name: 'tokens', measure: 'output_tokens', limit: 60, window: 'day' }] });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGE, max_tokens: 20, stream: true });
    for await (const _chunk of stream) {
      /* drain */
    }
    // 40 output tokens settled; another 20 still fits (60), a third call does not.
    assert.equal((await call(client)).status, 200);
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const refused = await anthropic.messages.create({ model: 'gpt-4o', max_tokens: 20, messages: MESSAGE }).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof Anthropic.RateLimitError, String(refused));
    assert.equal(refused.headers?.get('x-ratelimit-remaining-tokens'), '0');
    const body = refused.error as { type: string; error: { type: string; message: string } };
    assert.deepEqual([body.type, body.error.type], ['error', 'rate_limit_error']);
    assert.match(
      body.error.message,
      /Budget 'tokens' \(output_tokens per day, everyone, any model\) has 0 of 60 tokens left; this call needs up to 20\./,
    );
  });

  test('several budgets apply to one call and all must hold', async () => {
    const mock = await upstream();
    const { client } = await gateway(mock, {
      budgets: [
        { name: 'roomy', measure: 'requests', limit: 100, window: 'day' },
        { name: 'tight', consumers: { team: 'payments' }, measure: 'requests', limit: 2, window: 'day' },
      ],
    });
    const outcomes = [await call(client), await call(client), await call(client)];
    assert.deepEqual(
      outcomes.map((o) => o.status),
      [200, 200, 429],
    );
    assert.equal(outcomes[2]!.headers!.get('x-sluice-budget'), 'tight');
  });

  test('200 concurrent calls against a budget that fits 50 serve 50 and never pass the limit', async () => {
    // The provider answers after 100 ms with fewer tokens than reserved, so every call is in flight at once.
    const mock = await MockProvider.start(async (_request, res) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      json(res, 200, openaiCompletion('hi', { prompt_tokens: 1, completion_tokens: 20 }));
    });
    started.push({ stop: () => mock.close() });
    const reserved = await reservedTokens();
    const limit = 50 * reserved;
    const { client, sluice } = await gateway(mock, { budgets: [{ name: 'shared', measure: 'total_tokens', limit, window: 'day' }] });
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => call(client)));
    const served = outcomes.filter((o) => o.status === 200).length;
    assert.ok(outcomes.every((o) => o.status === 200 || o.code === 'budget_exhausted'));
    assert.ok(served >= 50, `served ${served}`);
    const rows = await ledgerRows(sluice);
    const spent = rows.filter((row) => row.status === 200).reduce((sum, row) => sum + row.input_tokens + row.output_tokens, 0);
    assert.ok(spent <= limit, `spent ${spent} of ${limit}`);
    assert.equal(mock.received.length, served);
  });
});

describe('rate limits', () => {
  test('requests per minute per consumer: each consumer has its own minute', async () => {
    const mock = await upstream();
    const clock = new ManualClock(Date.parse('2026-06-01T08:00:00Z'));
    const { client, sluice } = await gateway(mock, { rateLimits: [{ name: 'rpm', requestsPerMinute: 2 }] }, clock);
    const search = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const outcomes = [await call(client), await call(client), await call(client), await call(search, 'gpt-4o-mini')];
    assert.deepEqual(
      outcomes.map((o) => o.status),
      [200, 200, 429, 200],
    );
    assert.equal(outcomes[2]!.code, 'rate_limit_exceeded');
    assert.equal(outcomes[2]!.headers!.get('x-ratelimit-remaining-requests'), '0');
    clock.advance(120_000);
    assert.equal((await call(client)).status, 200);
  });

  test('tokens per minute on one model', async () => {
    const mock = await upstream();
    const { client } = await gateway(mock, { rateLimits: [{ name: 'tpm-4o', resources: { model: 'gpt-4o' }, tokensPerMinute: 200 }] });
    // Asking for 500 output tokens can never fit in 200 per minute.
    const outcome = await call(client, 'gpt-4o', 500);
    assert.equal(outcome.status, 400);
    assert.equal(outcome.code, 'reservation_exceeds_budget');
    assert.equal(outcome.headers?.get('retry-after'), null);
    assert.equal((await call(client, 'gpt-4o-mini', 500)).status, 200);
  });
});

describe('budget templates', () => {
  const template = { name: 'per-service', selector: { team: 'data' }, measure: 'requests', limit: 2, window: 'day' };
  const consumers = [
    { name: 'etl', team: 'data', keys: ['sk-sluice-test-etl-0003'] },
    { name: 'reports', team: 'data', keys: ['sk-sluice-test-reports-0004'] },
    { name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] },
  ];
  const as = (sluice: TestSluice, key: string) => new OpenAI({ apiKey: key, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  const statuses = async (client: OpenAI, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await call(client)).status);
    return out;
  };

  test('one template gives every matching consumer its own budget; an explicit budget overrides it; later consumers get it', async () => {
    const mock = await upstream();
    const config = {
      consumers,
      budgetTemplates: [template],
      budgets: [{ name: 'reports-more', consumers: { consumer: 'reports' }, measure: 'requests', limit: 4, window: 'day' }],
    };
    const { sluice } = await gateway(mock, config);
    assert.deepEqual(await statuses(as(sluice, 'sk-sluice-test-etl-0003'), 3), [200, 200, 429], 'etl: the template, 2 a day');
    assert.deepEqual(
      await statuses(as(sluice, 'sk-sluice-test-reports-0004'), 5),
      [200, 200, 200, 200, 429],
      'reports: its own budget of 4',
    );
    assert.deepEqual(await statuses(as(sluice, KEYS.checkout), 3), [200, 200, 200], 'payments is not selected');

    // A consumer added to team data later gets the template without anything else changing.
    const added = { name: 'ingest', team: 'data', keys: ['sk-sluice-test-ingest-0005'] };
    await sluice.sluice.reload(validateConfig({ ...startConfig(sluice, mock), ...config, consumers: [...consumers, added] }, 'reloaded'));
    assert.deepEqual(await statuses(as(sluice, 'sk-sluice-test-ingest-0005'), 3), [200, 200, 429]);

    // Editing the template changes every budget made from it, and what each consumer used so far still counts.
    await sluice.sluice.reload(
      validateConfig(
        {
          ...startConfig(sluice, mock),
          ...config,
          consumers: [...consumers, added],
          budgetTemplates: [{ ...template, limit: 3 }],
        },
        'reloaded',
      ),
    );
    assert.deepEqual(await statuses(as(sluice, 'sk-sluice-test-etl-0003'), 2), [200, 429]);
    assert.deepEqual(await statuses(as(sluice, 'sk-sluice-test-ingest-0005'), 2), [200, 429]);
  });
});

describe('alerts', () => {
  test('each threshold is sent once per window to the webhook, signed', async () => {
    const secret = 'whsec-test-secret-0123456789';
    const received: Array<{ body: string; valid: boolean }> = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const valid = verifyWebhookSignature(
          secret,
          String(req.headers['x-sluice-timestamp']),
          body,
          String(req.headers['x-sluice-signature']),
        );
        received.push({ body, valid });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    started.push({ stop: () => new Promise<void>((resolve) => receiver.close(() => resolve())) });
    const port = (receiver.address() as { port: number }).port;
    const mock = await upstream();
    const clock = new ManualClock(Date.parse('2026-07-01T09:00:00Z'));
    const { client, sluice } = await gateway(
      mock,
      {
        budgets: [{ name: 'alerting', measure: 'requests', limit: 10, window: 'day', mode: 'enforce', alerts: [50, 80, 100] }],
        alerts: { webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secret }], backoffMs: 5 },
      },
      clock,
    );
    for (let i = 0; i < 9; i++) assert.equal((await call(client)).status, 200);
    await sluice.sluice.settled();
    await until('the 50% and 80% alerts are delivered', () => received.length >= 2, 10_000);
    const events = received.map(
      (r) => JSON.parse(r.body) as { budget: string; thresholdPercent: number; used: number; limit: number; window: { kind: string } },
    );
    assert.ok(
      received.every((r) => r.valid),
      'every delivery carries a valid signature',
    );
    assert.deepEqual(
      events.map((e) => [e.budget, e.thresholdPercent, e.used, e.limit, e.window.kind]),
      [
        ['alerting', 50, 5, 10, 'day'],
        ['alerting', 80, 8, 10, 'day'],
      ],
    );
    // The next day is a new window: 50% is sent again.
    clock.advance(86_400_000);
    for (let i = 0; i < 5; i++) await call(client);
    await sluice.sluice.settled();
    await until('the 50% alert of the next day is delivered', () => received.length >= 3, 10_000);
    assert.equal(received.length, 3);
    assert.equal((JSON.parse(received[2]!.body) as { thresholdPercent: number }).thresholdPercent, 50);
  });
});

describe('alerts to webhooks added through the director API', () => {
  test('a webhook added with POST /api/webhooks receives the next alert, signed with its secret', async () => {
    const secret = 'whsec-from-the-api-0123456789';
    const received: boolean[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(
          verifyWebhookSignature(secret, String(req.headers['x-sluice-timestamp']), body, String(req.headers['x-sluice-signature'])),
        );
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    started.push({ stop: () => new Promise<void>((resolve) => receiver.close(() => resolve())) });
    const mock = await upstream();
    const token = 'sa-bootstrap-alerts-test-0123456789';
    const { client, sluice } = await gateway(mock, {
      admin: { host: '127.0.0.1', port: 0, token },
      budgets: [{ name: 'api-alerting', measure: 'requests', limit: 2, window: 'day', alerts: [50] }],
    });
    const added = await fetch(`${sluice.adminURL}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, secret }),
    });
    assert.equal(added.status, 201);
    assert.equal((await call(client)).status, 200);
    await sluice.sluice.settled();
    await until('the alert is delivered', () => received.length >= 1, 10_000);
    assert.deepEqual(received, [true]);
  });
});

/** The parts of the test sluice's config a reload must repeat (storage, listeners), rebuilt from the running one. */
function startConfig(sluice: TestSluice, mock: MockProvider): Record<string, unknown> {
  return {
    gateway: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    storage: `sqlite:${sluice.dbPath}`,
    ledger: { flushIntervalMs: 20 },
    log: { level: 'silent' },
    ...baseConfig(mock, {}),
  };
}
