// OpenAI's models current in December 2026 (GPT-5.4 and GPT-5.4 nano, the GPT-5.6 family, GPT-6 Sol and Luna, GPT-6.1
// Sol, GPT-6.2 Sol) and GPT-5.1 are served and priced with no sluice.yaml: `sluice start` with OPENAI_API_KEY exposes
// them, GET /v1/models lists them, and the ledger prices their calls, cache writes
// (usage.*_tokens_details.cache_write_tokens, 1.25x input where the page prices them) included.
// The official openai SDK against a real `sluice start` in front of a mock OpenAI speaking its wire format.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { sqliteLedgerRows } from '../support/ledger.js';
import { listeningPorts, runSluice, stopSluice, type SluiceProcess } from '../support/process.js';
import { scratchDir } from '../support/scratch.js';
import { until } from '../support/until.js';

/** Every answer: 1,000 prompt tokens, 200 of them read from the cache and 400 written to it, and 100 output tokens. */
const USAGE = { prompt: 1000, cached: 200, written: 400, output: 100 };
const KEY = 'sk-sluice-current-openai-models';
const DETAILS = { cached_tokens: USAGE.cached, cache_write_tokens: USAGE.written };

interface Row {
  cost_micro_usd: number | null;
  cache_write_tokens: number;
  cached_input_tokens: number;
}

/** The cost in micro-USD of USAGE at prices in USD per 1M tokens: a price per 1M tokens is micro-USD per token. */
function costAt(input: number, cachedInput: number, cacheWrite: number, output: number): number {
  const uncached = USAGE.prompt - USAGE.cached - USAGE.written;
  return Math.round(uncached * input + USAGE.cached * cachedInput + USAGE.written * cacheWrite + USAGE.output * output);
}

/** Served by Chat Completions (the alias gpt-5.6 is GPT-5.6 Sol) and by the Responses API. */
const CHAT_MODELS = [
  { id: 'gpt-6.1-sol', cost: costAt(2, 0.1, 2.5, 10) },
  { id: 'gpt-6.2-sol', cost: costAt(2, 0.1, 2.5, 10) },
  { id: 'gpt-6-luna', cost: costAt(0.1, 0.01, 0.125, 0.5) },
  { id: 'gpt-5.6', cost: costAt(4, 0.4, 5, 20) },
  { id: 'gpt-5.6-luna', cost: costAt(0.2, 0.02, 0.25, 1.2) },
  // No cache-write price: written tokens at the input price.
  { id: 'gpt-5.4', cost: costAt(2.5, 0.25, 2.5, 15) },
  { id: 'gpt-5.4-nano', cost: costAt(0.2, 0.02, 0.2, 1.25) },
  { id: 'gpt-5.1', cost: costAt(1.25, 0.125, 1.25, 10) },
];
const RESPONSES_MODELS = [
  { id: 'gpt-6-sol', cost: costAt(2, 0.2, 2.5, 10) },
  { id: 'gpt-5.6-sol', cost: costAt(4, 0.4, 5, 20) },
];

describe('current OpenAI models with no sluice.yaml', () => {
  let upstream: MockProvider;
  let sluice: SluiceProcess;
  let dir: string;
  let client: OpenAI;

  before(async () => {
    upstream = await MockProvider.start((request, res) => {
      const model = String(request.body.model);
      if (request.path.endsWith('/responses')) {
        json(
          res,
          200,
          responseObject(
            [messageItem('Priced.')],
            { input_tokens: USAGE.prompt, cached_tokens: USAGE.cached, cache_write_tokens: USAGE.written, output_tokens: USAGE.output },
            model,
          ),
        );
        return;
      }
      if (request.body.stream === true) {
        const usage = { prompt_tokens: USAGE.prompt, completion_tokens: USAGE.output, prompt_tokens_details: DETAILS };
        return sse(res, openaiStreamFrames(['Pri', 'ced.'], usage));
      }
      const answer = openaiCompletion('Priced.', { prompt_tokens: USAGE.prompt, completion_tokens: USAGE.output }, model);
      json(res, 200, {
        ...answer,
        usage: { ...answer.usage, prompt_tokens_details: DETAILS },
      });
    });
    dir = scratchDir('sluice-current-openai-');
    sluice = runSluice(
      ['start'],
      {
        OPENAI_API_KEY: 'sk-upstream-not-real-000000',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        SLUICE_API_KEY: KEY,
        SLUICE_PORT: '0',
        SLUICE_ADMIN_PORT: '0',
      },
      dir,
    );
    const ports = await listeningPorts(sluice);
    client = new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${ports.gateway}/v1`, maxRetries: 0 });
  });

  after(async () => {
    assert.equal(await stopSluice(sluice), 0);
    await upstream.close();
  });

  test('GET /v1/models lists them', async () => {
    const listed = new Set<string>();
    for await (const model of client.models.list()) listed.add(model.id);
    for (const { id } of [...CHAT_MODELS, ...RESPONSES_MODELS]) assert.ok(listed.has(id), `${id} is listed`);
  });

  test('a streamed call is priced from its usage chunk, cache writes too', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-5.6-terra',
      messages: [{ role: 'user', content: 'Price me.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let written: number | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) written = chunk.usage.prompt_tokens_details?.cache_write_tokens;
    }
    assert.equal(text, 'Priced.');
    assert.equal(written, USAGE.written, 'passed through to the client as OpenAI sent it');
    const dbPath = join(dir, 'data', 'sluice.db');
    await until('the call is in the ledger', () => sqliteLedgerRows<Row>(dbPath, 'gpt-5.6-terra').length > 0);
    const row = sqliteLedgerRows<Row>(dbPath, 'gpt-5.6-terra')[0]!;
    assert.deepEqual([row.cost_micro_usd, row.cache_write_tokens], [costAt(2, 0.2, 2.5, 12), USAGE.written]);
  });

  test('their calls are priced at their list prices, cache reads and writes too', async () => {
    for (const { id } of CHAT_MODELS) {
      const answer = await client.chat.completions.create({ model: id, messages: [{ role: 'user', content: 'Price me.' }] });
      assert.equal(answer.choices[0]?.message.content, 'Priced.');
    }
    for (const { id } of RESPONSES_MODELS) {
      const answer = await client.responses.create({ model: id, input: 'Price me.' });
      assert.equal(answer.output_text, 'Priced.');
    }
    const dbPath = join(dir, 'data', 'sluice.db');
    const models = [...CHAT_MODELS, ...RESPONSES_MODELS];
    const rowOf = (id: string) => sqliteLedgerRows<Row>(dbPath, id)[0];
    await until('every call is in the ledger', () => models.every(({ id }) => rowOf(id) !== undefined));
    assert.deepEqual(
      models.map(({ id }) => {
        const row = rowOf(id)!;
        return [id, row.cost_micro_usd, row.cached_input_tokens, row.cache_write_tokens];
      }),
      models.map(({ id, cost }) => [id, cost, USAGE.cached, USAGE.written]),
    );
  });
});
