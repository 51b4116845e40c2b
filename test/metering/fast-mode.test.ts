// Anthropic's fast mode (`speed: "fast"`) runs the same Claude model faster "at a multiplier on standard rates across
// the full context window", stacking with the other modifiers (platform.claude.com/docs/en/build-with-claude/fast-mode),
// and the answer's usage says which speed served it (`usage.speed`, "standard" or "fast"). A model's pricing states the
// multiple as `fastMode`. The official Anthropic SDK against Sluice in front of a mock Anthropic server, whole and
// streamed; the ledger's cost and tier; what a cost budget reserves for a fast call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { adminClient } from '../support/admin-client.js';
import { json, MockProvider, sse, typedSseEvent } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

/** 400 uncached input tokens, 200 read from the cache, 400 written to it, 100 output tokens. */
function usage(speed: string) {
  return { input_tokens: 400, cache_read_input_tokens: 200, cache_creation_input_tokens: 400, output_tokens: 100, speed };
}

function answer(model: string, speed: string) {
  return {
    id: 'msg_fast1',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: 'Quick.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: usage(speed),
  };
}

function stream(model: string, speed: string): string[] {
  const message = { ...answer(model, speed), content: [], stop_reason: null, usage: { ...usage(speed), output_tokens: 1 } };
  return [
    typedSseEvent('message_start', { message }),
    typedSseEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    typedSseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Quick.' } }),
    typedSseEvent('content_block_stop', { index: 0 }),
    // message_delta's usage carries the figures, not the speed: message_start's stands.
    typedSseEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 100 } }),
    typedSseEvent('message_stop', {}),
  ];
}

const ADMIN_TOKEN = 'sa-fast-mode-admin-token-000001';

/** The pricing both models are given: $5 / $25 per 1M tokens, reads 0.1x input, 5-minute writes 1.25x. */
const PRICES = { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 };

function costAt(multiple = 1): number {
  return Math.round((400 * 5 + 200 * 0.5 + 400 * 6.25 + 100 * 25) * multiple);
}

describe('fast mode is priced at the model’s fastMode multiple of every token price', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let client: Anthropic;

  before(async () => {
    mock = await MockProvider.start((request, res) => {
      const speed = request.body.speed === 'fast' ? 'fast' : 'standard';
      const model = String(request.body.model);
      if (request.body.stream === true) return sse(res, stream(model, speed));
      json(res, 200, answer(model, speed));
    });
    sluice = await startTestSluice({
      providers: { anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'sk-ant-upstream-not-real' } },
      models: [
        { name: 'claude-opus-5-5', targets: [{ provider: 'anthropic', model: 'claude-opus-5-5' }], pricing: { ...PRICES, fastMode: 2 } },
        {
          name: 'claude-budgeted',
          targets: [{ provider: 'anthropic', model: 'claude-opus-5-5' }],
          pricing: { ...PRICES, fastMode: 2 },
        },
        { name: 'claude-plain', targets: [{ provider: 'anthropic', model: 'claude-plain' }], pricing: PRICES },
        { name: 'gpt-4o-mini', targets: [{ provider: 'anthropic', model: 'claude-plain' }] },
      ],
      // 1,000 output tokens at $25 per 1M reserve $0.025 and the prompt a little: $0.05 and more in fast mode.
      admin: { host: '127.0.0.1', port: 0, token: ADMIN_TOKEN },
      budgets: [{ name: 'fast-spend', resources: { model: 'claude-budgeted' }, measure: 'cost_usd', limit: 0.03, window: 'day' }],
    });
    client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('the answer says fast mode served it: every token at the multiple, whole and streamed, the tier recorded', async () => {
    const params = { model: 'claude-opus-5-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Be quick.' }] };
    const fast = { ...params, speed: 'fast' as const };
    const whole = await client.messages.create(fast);
    assert.equal((whole.usage as unknown as { speed: string }).speed, 'fast', 'passed through as it came');
    await client.messages.stream(fast).finalMessage();
    await client.messages.create(params);
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'claude-opus-5-5');
    assert.deepEqual(
      rows.map((row) => [row.stream, row.cost_micro_usd, (row as unknown as { service_tier: string | null }).service_tier]),
      [
        [0, costAt(2), 'fast'],
        [1, costAt(2), 'fast'],
        [0, costAt(), null],
      ],
    );
    // The admin API says so too.
    const listed = await adminClient(sluice, ADMIN_TOKEN)('GET', '/api/transactions?model=claude-opus-5-5');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      (listed.body.items as { serviceTier: string | null }[]).map((row) => row.serviceTier),
      [null, 'fast', 'fast'],
    );
  });

  test('a model whose pricing states no fastMode keeps its standard prices in fast mode', async () => {
    await client.messages.create({ model: 'claude-plain', max_tokens: 64, speed: 'fast', messages: [{ role: 'user', content: 'Quick.' }] });
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'claude-plain');
    assert.deepEqual(
      rows.map((row) => row.cost_micro_usd),
      [costAt()],
    );
  });

  test('a cost budget reserves a fast call at the multiple', async () => {
    const params = { model: 'claude-budgeted', max_tokens: 1_000, messages: [{ role: 'user' as const, content: 'Quick.' }] };
    const sent = mock.received.length;
    await assert.rejects(
      client.messages.create({ ...params, speed: 'fast' }),
      // More than the whole budget at the multiple: it can never fit (a 400, not a 429 to retry).
      (error: unknown) => error instanceof Anthropic.BadRequestError && /exceeds the whole limit/.test(error.message),
    );
    assert.equal(mock.received.length, sent, 'refused before the provider');
    // At the standard speed it fits.
    await client.messages.create(params);
    assert.equal(mock.received.length, sent + 1);
  });
});
