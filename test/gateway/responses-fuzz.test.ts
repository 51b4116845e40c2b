// Generated Responses API bodies against a real Sluice, passed through to a mock OpenAI and translated for a mock
// Anthropic: whatever the items, parts, tools and formats, the gateway answers without a 5xx, every error in OpenAI's
// shape naming a field, and every 200 is a whole response or a stream that ends with response.completed.
// SLUICE_FUZZ_SEED=<seed> replays a run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { anthropicMessage, anthropicStreamFrames, anthropicToolMessage, json, MockProvider, sse } from '../support/mock-provider.js';
import { messageItem, responseObject, responseStreamFrames } from '../support/mock-responses.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const RUNS = 400;

const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
const anyJson = fc.jsonValue({ maxDepth: 3 });

const part = fc.record(
  {
    type: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('input_text', 'output_text', 'input_image', 'refusal', 'input_file', 'input_audio') },
      { weight: 1, arbitrary: anyJson },
    ),
    text: fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: anyJson }),
    image_url: fc.constantFrom('https://example.com/a.png', 'data:image/png;base64,iVBORw0KGgo=', 7),
    refusal: text,
    file_id: text,
  },
  { requiredKeys: ['type'] },
);

const item = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        type: fc.constantFrom('message', undefined),
        role: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom('user', 'assistant', 'system', 'developer') },
          { weight: 1, arbitrary: anyJson },
        ),
        content: fc.oneof(text, fc.array(part, { maxLength: 3 }), anyJson),
      },
      { requiredKeys: ['role', 'content'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        type: fc.constant('function_call'),
        call_id: fc.oneof(fc.constant('call_1'), anyJson),
        name: fc.oneof(fc.constant('lookup'), anyJson),
        arguments: fc.oneof(fc.constant('{"q":"x"}'), anyJson),
      },
      { requiredKeys: ['type'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        type: fc.constant('function_call_output'),
        call_id: fc.oneof(fc.constant('call_1'), anyJson),
        output: fc.oneof(text, fc.array(part, { maxLength: 2 }), anyJson),
      },
      { requiredKeys: ['type'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('item_reference', 'reasoning', 'web_search_call', 7), id: text }) },
  { weight: 1, arbitrary: anyJson },
);

const tool = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        type: fc.constant('function'),
        name: fc.oneof(fc.constant('lookup'), anyJson),
        description: text,
        parameters: fc.oneof(fc.constant({ type: 'object' }), anyJson),
        strict: fc.boolean(),
      },
      { requiredKeys: ['type'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('web_search', 'file_search', 'mcp') }) },
  { weight: 1, arbitrary: anyJson },
);

const junkBody = fc.record(
  {
    model: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('gpt-4o-mini', 'claude') }, { weight: 1, arbitrary: anyJson }),
    input: fc.oneof(
      { weight: 3, arbitrary: text },
      { weight: 4, arbitrary: fc.array(item, { maxLength: 4 }) },
      { weight: 1, arbitrary: anyJson },
    ),
    instructions: fc.oneof(text, anyJson),
    stream: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: anyJson }),
    tools: fc.oneof(fc.array(tool, { maxLength: 2 }), anyJson),
    tool_choice: fc.oneof(
      fc.constantFrom('auto', 'none', 'required', { type: 'function', name: 'lookup' }, { type: 'web_search' }),
      anyJson,
    ),
    text: fc.oneof(
      fc.record({
        format: fc.oneof(
          fc.constantFrom({ type: 'text' }, { type: 'json_object' }, { type: 'json_schema', name: 'x', schema: { type: 'object' } }),
          anyJson,
        ),
      }),
      anyJson,
    ),
    max_output_tokens: fc.oneof(fc.integer({ min: -2, max: 3_000 }), anyJson),
    temperature: fc.oneof(fc.double({ min: -1, max: 3, noNaN: true }), anyJson),
    top_p: fc.oneof(fc.double({ min: -1, max: 2, noNaN: true }), anyJson),
    previous_response_id: fc.oneof(fc.constant('resp_1'), anyJson),
    store: fc.oneof(fc.boolean(), anyJson),
    parallel_tool_calls: fc.oneof(fc.boolean(), anyJson),
  },
  { requiredKeys: [] },
);

/** Bodies the API accepts (with, sometimes, what a translated target refuses), so runs reach the providers and back. */
const validBody = fc
  .record({
    model: fc.constantFrom('gpt-4o-mini', 'claude'),
    content: fc.string({ unit: 'binary', maxLength: 100 }),
    stream: fc.boolean(),
    items: fc.boolean(),
    tools: fc.boolean(),
    extra: fc.constantFrom(
      {},
      {},
      {},
      { previous_response_id: 'resp_1' },
      { store: true },
      { tools: [{ type: 'web_search' }] },
      { store: false },
    ),
  })
  .map(({ model, content, stream, items, tools, extra }) => ({
    model,
    stream,
    instructions: 'Be brief.',
    input: items
      ? [
          { role: 'user', content: [{ type: 'input_text', text: content }] },
          { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' },
          { type: 'function_call_output', call_id: 'call_1', output: content },
        ]
      : content,
    ...(tools && { tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }] }),
    ...extra,
  }));

const body = fc.oneof(junkBody, validBody);

describe('Responses API under generated bodies', () => {
  let openaiMock: MockProvider;
  let anthropicMock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    openaiMock = await MockProvider.start((request, res) => {
      if (request.body.stream === true) return sse(res, responseStreamFrames(['Fu', 'zz'], { input_tokens: 3, output_tokens: 2 }));
      json(res, 200, responseObject([messageItem('fuzzed')], { input_tokens: 3, output_tokens: 2 }));
    });
    anthropicMock = await MockProvider.start((request, res) => {
      if (request.body.stream === true) return sse(res, anthropicStreamFrames(['Fu', 'zz']));
      json(res, 200, Array.isArray(request.body.tools) ? anthropicToolMessage('lookup', { q: 'x' }) : anthropicMessage('fuzzed'));
    });
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest' }] },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await openaiMock.close();
    await anthropicMock.close();
  });

  test(`${RUNS} generated bodies: no 5xx, errors in OpenAI's shape, answers whole`, async () => {
    const seed =
      process.env.SLUICE_FUZZ_SEED === undefined ? Date.now() ^ (Math.random() * 0x100000000) : Number(process.env.SLUICE_FUZZ_SEED);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, async (generated) => {
        const res = await fetch(`${sluice.baseURL}/v1/responses`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
          body: JSON.stringify(generated),
        });
        const answer = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status < 500, `no 5xx: ${res.status} ${answer.slice(0, 300)}`);
        if (res.status !== 200) {
          const error = (JSON.parse(answer) as { error: { message: string; type: string; param: unknown; code: unknown } }).error;
          assert.equal(typeof error.message, 'string');
          assert.ok(['invalid_request_error', 'not_found_error'].includes(error.type) || res.status === 404, answer);
          if (res.status === 400) assert.equal(typeof error.param, 'string', answer);
          return;
        }
        if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
          assert.match(answer, /event: response\.completed\ndata: \{"type":"response\.completed"/);
          assert.doesNotMatch(answer, /event: error/);
        } else {
          const response = JSON.parse(answer) as { object: string; output: unknown[] };
          assert.equal(response.object, 'response');
          assert.ok(Array.isArray(response.output));
        }
      }),
      { numRuns: RUNS, seed, endOnFailure: true, includeErrorInReport: true },
    );
    // The generator reaches the providers, not only the parser.
    assert.ok((statuses.get(200) ?? 0) >= RUNS / 20, JSON.stringify([...statuses]));
    const still = await fetch(`${sluice.baseURL}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', input: 'still there?' }),
    });
    assert.equal(((await still.json()) as { output: Array<{ content: Array<{ text: string }> }> }).output[0]!.content[0]!.text, 'fuzzed');
  });
});
