// A call whose reservation alone is more than a budget's whole limit can never fit, whatever the window holds: it is
// refused as a bad request (400, no Retry-After), which the official SDKs do not retry, in the caller's API shape, with
// a message saying how to make it fit. A call that only lacks room now still gets its 429 with Retry-After.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicMessage, json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const started: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const stop of started.reverse()) await stop();
});

const LIMIT = 1_000;

async function gateway(budget: Record<string, unknown>): Promise<{ sluice: TestSluice; mock: MockProvider }> {
  const mock = await MockProvider.start(async (request, res) => {
    if (request.path.includes('/messages')) json(res, 200, anthropicMessage('hi', { input_tokens: 5, output_tokens: 5 }));
    // Each answer uses 705 tokens: two calls of max_tokens 600 cannot both fit in 1,000.
    else json(res, 200, openaiCompletion('hi', { prompt_tokens: 5, completion_tokens: 700 }, String(request.body.model)));
  });
  started.push(() => mock.close());
  const sluice = await startTestSluice({
    providers: {
      openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' },
      anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'sk-ant-upstream-not-real' },
    },
    models: [
      { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }], pricing: { input: 10, output: 20 } },
      { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], pricing: { input: 1, output: 2 } },
      { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }], pricing: { input: 10, output: 20 } },
    ],
    budgets: [{ name: 'small', window: 'day', ...budget }],
  });
  started.push(() => sluice.stop());
  return { sluice, mock };
}

/** A chat call of `maxTokens` through the OpenAI SDK (no retries): its error, or null when it was served. */
function chatError(client: OpenAI, maxTokens: number): Promise<unknown> {
  return client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: maxTokens }).then(
    () => null,
    (caught: unknown) => caught,
  );
}

describe('a reservation larger than the whole budget', () => {
  test('OpenAI: 400 invalid_request_error without Retry-After, not retried by the SDK; a call that fits is still served', async () => {
    const { sluice, mock } = await gateway({ measure: 'total_tokens', limit: LIMIT });
    // No retries: the SDK honours any Retry-After, however long, so on a 429 to the window's reset it would sleep until
    // the day ends. The 400 is what it does not retry (shouldRetry: 408, 409, 429, 5xx).
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const error = await chatError(client, 50_000);
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.equal(error.status, 400);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.code, 'reservation_exceeds_budget');
    assert.equal(error.param, 'max_tokens');
    assert.equal(error.headers?.get('retry-after'), null);
    assert.equal(error.headers?.get('x-sluice-budget'), 'small');
    assert.match(error.message, /whole limit of 1000 tokens/);
    assert.match(error.message, /lower max_tokens/);
    assert.equal(mock.received.length, 0);
    await until('the refusal is in the ledger', async () => (await ledgerRows(sluice)).length > 0);
    assert.deepEqual(
      (await ledgerRows(sluice)).map((row) => [row.status, row.error_class]),
      [[400, 'reservation_exceeds_budget']],
    );
    // The budget is untouched: a call that fits is served.
    const served = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 20,
    });
    assert.equal(served.choices[0]!.message.content, 'hi');
  });

  test('Anthropic: 400 invalid_request_error in the Messages shape, without Retry-After', async () => {
    const { sluice, mock } = await gateway({ measure: 'output_tokens', limit: LIMIT });
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const error = await client.messages.create({ model: 'claude', max_tokens: 4_096, messages: [{ role: 'user', content: 'hello' }] }).then(
      () => null,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof Anthropic.BadRequestError, String(error));
    assert.equal((error.error as { error: { type: string } }).error.type, 'invalid_request_error');
    assert.equal(error.headers?.get('retry-after'), null);
    assert.match(error.message, /reservation .*4096.* exceeds .*whole limit of 1000 tokens/);
    assert.match(error.message, /lower max_tokens/);
    assert.equal(mock.received.length, 0);
  });

  test('a call that only lacks room now keeps its 429 with Retry-After', async () => {
    const { sluice } = await gateway({ measure: 'total_tokens', limit: LIMIT });
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    assert.equal(await chatError(client, 600), null);
    const error = await chatError(client, 600);
    assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    assert.equal(error.code, 'budget_exhausted');
    assert.ok(Number(error.headers?.get('retry-after')) > 0);
  });
});
