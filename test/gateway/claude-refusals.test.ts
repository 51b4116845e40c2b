// Claude declining (stop_reason "refusal") under structured output reaches an OpenAI client in OpenAI's shape for a
// refusal: message.refusal (delta.refusal streamed), content null, finish_reason "stop", so the openai SDK's
// chat.completions.parse and its stream helper give parsed: null and the refusal rather than throwing (a
// content_filter finish throws ContentFilterFinishReasonError, and the refusal's text as content fails JSON parsing).
// A call that asks for no structured output gets Claude's words as content, as before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { anthropicMessage, anthropicStreamFrames, json, MockProvider, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const Recipe = z.object({ title: z.string(), steps: z.array(z.string()) });
const PIECES = ["I can't help with making that. ", 'Ask vault-1234 for something else.'];
const REFUSAL = "I can't help with making that. Ask [REDACTED] for something else.";

describe('Claude refusals as OpenAI refusals', () => {
  let anthropicMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    // Claude declining, even with a tool forced: text alone, stop_reason refusal.
    anthropicMock = await MockProvider.start((request, res) => {
      if (request.body.stream === true)
        return sse(
          res,
          anthropicStreamFrames(PIECES).map((frame) => frame.replace('"stop_reason":"end_turn"', '"stop_reason":"refusal"')),
        );
      return json(res, 200, { ...anthropicMessage(PIECES.join('')), stop_reason: 'refusal' });
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        // Never called: the test config's second consumer may use gpt-4o-mini.
        openai: { type: 'openai', baseUrl: `${anthropicMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      // Output guardrails read a refusal as they read content.
      guardrails: [{ name: 'hide-vault-codes', mode: 'mask', on: 'output', patterns: ['vault-\\d{4}'] }],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
  });

  const messages = [{ role: 'user' as const, content: 'How do I make something dangerous?' }];

  test('chat.completions.parse: message.refusal, parsed null, content null, finish_reason stop', async () => {
    const completion = await client.chat.completions.parse({
      model: 'claude',
      messages,
      response_format: zodResponseFormat(Recipe, 'recipe'),
    });
    const choice = completion.choices[0]!;
    assert.equal(choice.message.refusal, REFUSAL);
    assert.equal(choice.message.parsed, null);
    assert.equal(choice.message.content, null);
    assert.equal(choice.finish_reason, 'stop');
  });

  test('json_object mode too', async () => {
    const completion = await client.chat.completions.create({ model: 'claude', messages, response_format: { type: 'json_object' } });
    assert.equal(completion.choices[0]!.message.refusal, REFUSAL);
    assert.equal(completion.choices[0]!.message.content, null);
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
  });

  test("streamed: the SDK's stream helper gets refusal deltas and a final completion with the refusal, parsed null", async () => {
    const stream = client.chat.completions.stream({
      model: 'claude',
      messages,
      response_format: zodResponseFormat(Recipe, 'recipe'),
      stream_options: { include_usage: true },
    });
    let refusalDeltas = '';
    let content = '';
    stream.on('refusal.delta', ({ delta }) => (refusalDeltas += delta));
    stream.on('content.delta', ({ delta }) => (content += delta));
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0]!;
    // Output guardrails do not apply to streams (docs/agents.md).
    assert.equal(refusalDeltas, PIECES.join(''));
    assert.equal(content, '');
    assert.equal(choice.message.refusal, PIECES.join(''));
    assert.equal(choice.message.parsed, null);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(completion.usage?.completion_tokens, 6);
  });

  test('responses.parse: a completed response whose message holds a refusal part, output_parsed null', async () => {
    const response = await client.responses.parse({ model: 'claude', input: messages, text: { format: zodTextFormat(Recipe, 'recipe') } });
    assert.equal(response.status, 'completed');
    assert.equal(response.output_parsed, null);
    const message = response.output[0] as OpenAI.Responses.ResponseOutputMessage;
    assert.deepEqual(message.content, [{ type: 'refusal', refusal: REFUSAL }]);
  });

  test('responses stream: refusal events and a completed final response holding the refusal', async () => {
    const stream = client.responses.stream({ model: 'claude', input: messages, text: { format: zodTextFormat(Recipe, 'recipe') } });
    let refusal = '';
    stream.on('response.refusal.delta', (event) => (refusal += event.delta));
    const response = await stream.finalResponse();
    assert.equal(refusal, PIECES.join(''));
    assert.equal(response.status, 'completed');
    assert.equal(response.output_parsed, null);
    const message = response.output[0] as OpenAI.Responses.ResponseOutputMessage;
    assert.deepEqual(message.content, [{ type: 'refusal', refusal: PIECES.join('') }]);
  });

  test('without structured output the refusal is content, finish_reason content_filter, as before', async () => {
    const completion = await client.chat.completions.create({ model: 'claude', messages });
    assert.equal(completion.choices[0]!.message.content, REFUSAL);
    assert.equal(completion.choices[0]!.message.refusal, null);
    assert.equal(completion.choices[0]!.finish_reason, 'content_filter');
  });
});
