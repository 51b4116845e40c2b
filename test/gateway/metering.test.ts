// Metering as the ledger shows it: estimated usage when a provider reports none, config prices over the catalog,
// and streamed tokens relayed as they arrive.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicMessage, anthropicStreamFrames, json, MockProvider, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('metering', () => {
  let local: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    // A compatible server that reports no usage at all, as some local servers do.
    local = await MockProvider.start(async (request, res) => {
      if (request.path.endsWith('/embeddings')) {
        // Usage only when the input asks for it: a server that omits it and one that reports its own count.
        const input = request.body.input as string[];
        const data = input.map((_, index) => ({ object: 'embedding', index, embedding: [0.1, 0.2] }));
        return json(res, 200, {
          object: 'list',
          model: 'nomic',
          data,
          ...(input[0] === 'reported' ? { usage: { prompt_tokens: 77, total_tokens: 77 } } : {}),
        });
      }
      const content = String((request.body.messages as Array<{ content: string }>)[0]?.content);
      if (request.body.stream === true) {
        const frames = openaiStreamFrames(['The', ' answer', ' is', ' forty', '-two'], null);
        return sse(res, frames, content === 'slow' ? 150 : 0);
      }
      json(res, 200, {
        id: 'x',
        object: 'chat.completion',
        created: 1,
        model: 'llama',
        choices: [{ index: 0, message: { role: 'assistant', content: 'The answer is forty-two' }, finish_reason: 'stop' }],
      });
    });
    sluice = await startTestSluice({
      providers: { local: { type: 'openai', baseUrl: `${local.url}/v1` } },
      models: [
        { name: 'llama', targets: [{ provider: 'local', model: 'llama-3.1-8b' }], pricing: { input: 1, output: 2 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'local', model: 'gpt-4o-mini' }] },
        { name: 'nomic', targets: [{ provider: 'local', model: 'nomic-embed-text' }], pricing: { input: 1, output: 0 } },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await local.close();
  });

  test('counts tokens with the tokenizer when the provider reports none, and marks them estimated', async () => {
    await client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'What is the answer to everything?' }] });
    const stream = await client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'fast' }], stream: true });
    for await (const _chunk of stream) {
      /* drain */
    }
    const rows = await ledgerRows(sluice);
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.tokens_estimated, 1);
      assert.ok(row.input_tokens > 5, `input estimate ${row.input_tokens}`);
      assert.ok(row.output_tokens >= 5 && row.output_tokens <= 8, `output estimate ${row.output_tokens}`);
      assert.equal(row.cost_micro_usd, row.input_tokens * 1 + row.output_tokens * 2, 'priced with the config price');
    }
    assert.ok(!local.received.some((r) => 'authorization' in r.headers), 'no credential is sent to a provider that has none');
  });

  test("embeddings: the provider's own input count when it gives one; else counted with the tokenizer, marked estimated and priced", async () => {
    const text = 'The quick brown fox jumps over the lazy dog, twice over and then some more.';
    const estimated = await client.embeddings.create({ model: 'nomic', input: [text, text] });
    assert.equal(estimated.data.length, 2);
    await client.embeddings.create({ model: 'nomic', input: ['reported', text] });
    const rows = (await ledgerRows(sluice)).filter((row) => row.operation === 'embeddings');
    assert.deepEqual(
      rows.map((row) => [row.status, row.tokens_estimated, row.output_tokens]),
      [
        [200, 1, 0],
        [200, 0, 0],
      ],
    );
    const [counted, reported] = rows;
    assert.ok(counted!.input_tokens >= 30 && counted!.input_tokens <= 40, `both inputs counted: ${counted!.input_tokens}`);
    assert.equal(counted!.cost_micro_usd, counted!.input_tokens, 'priced at the config price, 1 micro-USD a token');
    assert.deepEqual([reported!.input_tokens, reported!.cost_micro_usd], [77, 77]);
  });

  test('relays each streamed token as it arrives, not after the upstream stream ends', async () => {
    const started = Date.now();
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'slow' }],
      stream: true,
    });
    let firstTextAt = 0;
    let text = '';
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content ?? '';
      if (piece !== '' && firstTextAt === 0) firstTextAt = Date.now() - started;
      text += piece;
    }
    const total = Date.now() - started;
    assert.equal(text, 'The answer is forty-two');
    // The mock spaces its 9 frames 150 ms apart (about 1.2 s in all); the first token must not wait for the last frame.
    assert.ok(total >= 1_000, `stream took ${total} ms`);
    assert.ok(firstTextAt < total - 600, `first token at ${firstTextAt} ms of ${total} ms`);
  });
});

describe('usage figures no provider can mean', () => {
  /** The usage object each answer carries: set by the test before its call. */
  let usage: Record<string, unknown> = {};
  let upstream: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    upstream = await MockProvider.start((request, res) => {
      if (request.path.endsWith('/messages')) return json(res, 200, { ...anthropicMessage('The answer is forty-two'), usage });
      const message = { role: 'assistant', content: 'The answer is forty-two' };
      if (request.body.stream !== true)
        return json(res, 200, {
          id: 'x',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, message, finish_reason: 'stop' }],
          usage,
        });
      const chunk = { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm' };
      return sse(res, [
        `data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: message, finish_reason: 'stop' }] })}\n\n`,
        `data: ${JSON.stringify({ ...chunk, choices: [], usage })}\n\n`,
        'data: [DONE]\n\n',
      ]);
    });
    sluice = await startTestSluice({
      providers: {
        compatible: { type: 'openai', baseUrl: `${upstream.url}/v1` },
        claude: { type: 'anthropic', baseUrl: upstream.url, apiKey: 'anthropic-key-not-real' },
      },
      models: [
        { name: 'llama', targets: [{ provider: 'compatible', model: 'llama-3.1-8b' }], pricing: { input: 1, output: 2 } },
        { name: 'claude', targets: [{ provider: 'claude', model: 'claude-haiku' }], pricing: { input: 1, output: 2 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'compatible', model: 'gpt-4o-mini' }] },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await upstream.close();
  });

  // A buggy or hostile upstream's figures: a negative count would credit the budgets and record a negative cost; a huge
  // or fractional one does not fit the ledger's integer columns (PostgreSQL refuses the row); a cached part larger than
  // the prompt is billed as if it were prompt.
  const CASES: Array<{ name: string; api: 'openai' | 'anthropic'; usage: Record<string, unknown>; estimated: boolean }> = [
    { name: 'negative counts', api: 'openai', usage: { prompt_tokens: -5, completion_tokens: -100 }, estimated: true },
    { name: 'counts past any model', api: 'openai', usage: { prompt_tokens: 1e300, completion_tokens: 3e9 }, estimated: true },
    { name: 'fractional counts', api: 'openai', usage: { prompt_tokens: 1.5, completion_tokens: 2.7 }, estimated: true },
    {
      name: 'a cached part larger than the prompt',
      api: 'openai',
      usage: { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 1e20 } },
      estimated: false,
    },
    { name: 'negative Anthropic counts', api: 'anthropic', usage: { input_tokens: -5, output_tokens: -3 }, estimated: true },
    {
      name: 'a negative Anthropic cache read',
      api: 'anthropic',
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: -1e10 },
      estimated: false,
    },
  ];

  test('records non-negative whole token counts and cost, counting with the tokenizer where a figure is not a count', async () => {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'What is the answer to everything?' }];
    const expected: Array<[string, number]> = [];
    for (const { name, api, usage: figures, estimated } of CASES) {
      usage = figures;
      if (api === 'anthropic') {
        await anthropic.messages.create({ model: 'claude', max_tokens: 100, messages });
        expected.push([name, estimated ? 1 : 0]);
        continue;
      }
      await openai.chat.completions.create({ model: 'llama', messages });
      const stream = await openai.chat.completions.create({ model: 'llama', messages, stream: true });
      for await (const _chunk of stream) {
        /* drain */
      }
      expected.push([name, estimated ? 1 : 0], [`${name}, streamed`, estimated ? 1 : 0]);
    }
    const rows = await ledgerRows(sluice);
    assert.equal(rows.length, expected.length);
    rows.forEach((row, i) => {
      const [name, estimated] = expected[i]!;
      const counts = [row.input_tokens, row.output_tokens, row.cached_input_tokens, row.cost_micro_usd ?? -1];
      for (const count of counts) assert.ok(Number.isSafeInteger(count) && count >= 0 && count < 1e6, `${name}: ${counts.join(', ')}`);
      assert.ok(row.cached_input_tokens <= row.input_tokens, `${name}: cached ${row.cached_input_tokens} of ${row.input_tokens}`);
      assert.equal(row.tokens_estimated, estimated, `${name}: estimated`);
      assert.equal(row.cost_micro_usd, row.input_tokens + row.output_tokens * 2, `${name}: priced`);
    });
  });
});

describe('Anthropic prompt-cache writes by their lifetime', () => {
  // Anthropic bills a write to the 1-hour cache (cache_control ttl '1h') at 2x the input price, a 5-minute write at
  // 1.25x; cache_creation_input_tokens is their sum and usage.cache_creation the split.
  const usage = {
    input_tokens: 10,
    cache_creation_input_tokens: 3000,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
    output_tokens: 100,
  };
  let upstream: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    upstream = await MockProvider.start((request, res) => {
      if (request.body.stream !== true) return json(res, 200, { ...anthropicMessage('Cached.'), usage });
      // message_start states the prompt's figures and split; message_delta the output.
      const { output_tokens: _output, ...startUsage } = usage;
      const frames = anthropicStreamFrames(['Cached', '.'], { input_tokens: 10, output_tokens: 100 });
      frames[0] = frames[0]!.replace(
        '"usage":{"input_tokens":10,"output_tokens":1}',
        JSON.stringify({ usage: { ...startUsage, output_tokens: 1 } }).slice(1, -1),
      );
      assert.match(frames[0], /ephemeral_1h_input_tokens/);
      return sse(res, frames);
    });
    sluice = await startTestSluice({
      providers: { claude: { type: 'anthropic', baseUrl: upstream.url, apiKey: 'anthropic-key-not-real' } },
      models: [
        // The catalog's price: $3 input, $15 output, $3.75 5-minute writes, $6 1-hour writes per 1M tokens.
        { name: 'sonnet', targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] },
        {
          name: 'priced',
          targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }],
          pricing: { input: 1, output: 2, cacheWrite: 3, cacheWrite1h: 4 },
        },
        { name: 'gpt-4o-mini', targets: [{ provider: 'claude', model: 'claude-haiku-4-5' }] },
      ],
    });
  });

  after(async () => {
    await sluice?.stop();
    await upstream?.close();
  });

  test('prices 1-hour cache writes at their own rate, streamed or not, through either API', async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'Summarise the cached manual.' }];
    const calls = async (model: string): Promise<void> => {
      await anthropic.messages.create({ model, max_tokens: 200, messages });
      await anthropic.messages.stream({ model, max_tokens: 200, messages }).finalMessage();
      await openai.chat.completions.create({ model, messages });
      for await (const _chunk of await openai.chat.completions.create({ model, messages, stream: true })) {
        /* drain */
      }
    };
    await calls('sonnet');
    await calls('priced');
    const rows = await ledgerRows(sluice);
    assert.equal(rows.length, 8);
    // 10 uncached at input, 1,000 5-minute writes, 2,000 1-hour writes, 100 output.
    const catalog = 10 * 3 + 1000 * 3.75 + 2000 * 6 + 100 * 15;
    const configured = 10 * 1 + 1000 * 3 + 2000 * 4 + 100 * 2;
    assert.deepEqual(
      rows.map((row) => [row.input_tokens, row.output_tokens, row.cost_micro_usd]),
      [...Array<number[]>(4).fill([3010, 100, catalog]), ...Array<number[]>(4).fill([3010, 100, configured])],
    );
  });
});
