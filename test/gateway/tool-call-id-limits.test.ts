// The tool-call ids a conversation carries from one provider to another must be ids the next one takes. A Gemini call's
// id carries Gemini's own id and its thought signature (hundreds of characters); OpenAI refuses a tool call id over 40
// characters ("Invalid 'messages[2].tool_calls[0].id': string too long. Expected a string with maximum length 40",
// code string_above_max_length), and Bedrock's Converse one over 64 (ToolUseBlock / ToolResultBlock toolUseId: "Length
// Constraints: Minimum length of 1. Maximum length of 64. Pattern: ^[a-zA-Z0-9_-]+$"). A conversation that falls back
// from Gemini to either must still reach it, with each result still paired with its call. The Responses API takes a
// call_id of at most 64 ("Invalid 'input[95].call_id': string too long. Expected a string with maximum length 64",
// code string_above_max_length): a Responses client's conversation falling back to OpenAI must reach it too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseAnswer, startMockBedrock } from '../support/mock-bedrock.js';
import { json, MockProvider, openaiCompletion, type Received } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

// A Gemini 3 thought signature is opaque base64 of a few hundred bytes.
const SIGNATURE = Buffer.alloc(300, 7).toString('base64');

function geminiAnswer(request: Received): unknown {
  const parts =
    (request.body.contents as unknown[]).length > 1
      ? [{ text: 'done' }]
      : [
          { functionCall: { id: 'fc-paris-1', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: SIGNATURE },
          { functionCall: { id: 'fc-nice-2', name: 'get_weather', args: { city: 'Nice' } } },
        ];
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
    modelVersion: 'gemini-3-pro-preview',
    responseId: 'resp-limits',
  };
}

const ID_PATTERN = /^[a-zA-Z0-9_-]+$/;

/** OpenAI's refusal of an over-long id, as its API words it. */
function openaiIdRefusal(body: Record<string, unknown>): unknown {
  const messages = body.messages as Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string }>;
  for (const [index, message] of messages.entries()) {
    for (const [at, call] of (message.tool_calls ?? []).entries())
      if (call.id.length > 40) return refusal(`messages[${index}].tool_calls[${at}].id`, call.id.length);
    if (message.tool_call_id !== undefined && message.tool_call_id.length > 40)
      return refusal(`messages[${index}].tool_call_id`, message.tool_call_id.length);
  }
  return null;
}

function refusal(param: string, length: number): unknown {
  const message = `Invalid '${param}': string too long. Expected a string with maximum length 40, but got a string with length ${length} instead.`;
  return { error: { message, type: 'invalid_request_error', param, code: 'string_above_max_length' } };
}

describe('tool-call ids carried to another provider', () => {
  let gemini: MockProvider;
  let openaiMock: MockProvider;
  let bedrock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;
  let geminiDown = false;

  before(async () => {
    gemini = await MockProvider.start((request, res) => {
      if (geminiDown) return json(res, 503, { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } });
      json(res, 200, geminiAnswer(request));
    });
    openaiMock = await MockProvider.start((request, res) => {
      if (request.path.endsWith('/responses')) {
        const input = request.body.input as Array<{ call_id?: string }>;
        const at = input.findIndex((item) => (item.call_id?.length ?? 0) > 64);
        if (at === -1) return json(res, 200, responseObject([messageItem('from GPT')], { input_tokens: 9, output_tokens: 3 }));
        const length = input[at]!.call_id!.length;
        const message = `Invalid 'input[${at}].call_id': string too long. Expected a string with maximum length 64, but got a string with length ${length} instead.`;
        return json(res, 400, {
          error: { message, type: 'invalid_request_error', param: `input[${at}].call_id`, code: 'string_above_max_length' },
        });
      }
      const refused = openaiIdRefusal(request.body);
      if (refused !== null) return json(res, 400, refused);
      json(res, 200, openaiCompletion('from GPT'));
    });
    bedrock = await startMockBedrock((_modelId, _stream, request, res) => {
      const messages = request.body.messages as Array<{ content: Array<Record<string, { toolUseId?: string }>> }>;
      for (const block of messages.flatMap((message) => message.content)) {
        const id = block.toolUse?.toolUseId ?? block.toolResult?.toolUseId;
        if (id !== undefined && (id.length > 64 || !ID_PATTERN.test(id)))
          return json(
            res,
            400,
            { message: `1 validation error detected: Value '${id}' at 'toolUseId' failed to satisfy constraint` },
            {
              'x-amzn-errortype': 'ValidationException',
            },
          );
      }
      json(res, 200, converseAnswer('from Bedrock'));
    });
    sluice = await startTestSluice({
      providers: {
        gemini: { type: 'gemini', baseUrl: gemini.url, apiKey: 'upstream-gemini-key-not-real' },
        openai: { type: 'openai', baseUrl: openaiMock.url, apiKey: 'upstream-openai-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        {
          name: 'gemini-then-gpt',
          targets: [
            { provider: 'gemini', model: 'gemini-3-pro-preview' },
            { provider: 'openai', model: 'gpt-4o-mini' },
          ],
        },
        {
          name: 'gemini-then-bedrock',
          targets: [
            { provider: 'gemini', model: 'gemini-3-pro-preview' },
            { provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' },
          ],
        },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([gemini.close(), openaiMock.close(), bedrock.close()]);
  });

  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];

  for (const model of ['gemini-then-gpt', 'gemini-then-bedrock'] as const) {
    test(`${model}: an OpenAI client's Gemini tool-call ids reach the fallback, each result still with its call`, async () => {
      geminiDown = false;
      const first = await openai.chat.completions.create({ model, tools, messages: [{ role: 'user', content: 'Weather?' }] });
      const calls = first.choices[0]!.message.tool_calls!;
      assert.equal(calls.length, 2);
      assert.ok(calls[0]!.id.length > 64, 'the signed call id is long');
      geminiDown = true;
      const second = await openai.chat.completions.create({
        model,
        tools,
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: null, tool_calls: calls },
          { role: 'tool', tool_call_id: calls[1]!.id, content: 'sunny' },
          { role: 'tool', tool_call_id: calls[0]!.id, content: 'cloudy' },
        ],
      });
      assert.equal(second.choices[0]!.message.content, model === 'gemini-then-gpt' ? 'from GPT' : 'from Bedrock');
      if (model === 'gemini-then-gpt') {
        const sent = openaiMock.received.at(-1)!.body.messages as Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string }>;
        const ids = sent[1]!.tool_calls!.map((call) => call.id);
        assert.notEqual(ids[0], ids[1]);
        assert.deepEqual([sent[2]!.tool_call_id, sent[3]!.tool_call_id], [ids[1], ids[0]]);
      } else {
        const sent = bedrock.received.at(-1)!.body.messages as Array<{ content: Array<Record<string, { toolUseId: string }>> }>;
        const ids = sent[1]!.content.map((block) => block.toolUse!.toolUseId);
        assert.notEqual(ids[0], ids[1]);
        assert.deepEqual(
          sent[2]!.content.map((block) => block.toolResult!.toolUseId),
          [ids[1], ids[0]],
        );
      }
    });
  }

  test("a Responses API client's Gemini call_ids reach OpenAI's Responses API on fallback", async () => {
    geminiDown = false;
    const responsesTools: OpenAI.Responses.FunctionTool[] = [
      { type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: false },
    ];
    const first = await openai.responses.create({ model: 'gemini-then-gpt', tools: responsesTools, input: 'Weather?' });
    const calls = first.output.filter((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    assert.equal(calls.length, 2);
    assert.ok(calls[0]!.call_id.length > 64, 'the signed call id is long');
    geminiDown = true;
    const second = await openai.responses.create({
      model: 'gemini-then-gpt',
      tools: responsesTools,
      input: [
        { role: 'user', content: 'Weather?' },
        ...calls.map((call) => ({ type: 'function_call' as const, call_id: call.call_id, name: call.name, arguments: call.arguments })),
        ...calls.map((call) => ({ type: 'function_call_output' as const, call_id: call.call_id, output: 'sunny' })),
      ],
    });
    assert.equal(second.output_text, 'from GPT');
    const sent = openaiMock.received.at(-1)!.body.input as Array<{ call_id?: string }>;
    const ids = sent.slice(1).map((item) => item.call_id);
    assert.equal(ids[0], ids[2]);
    assert.equal(ids[1], ids[3]);
    assert.notEqual(ids[0], ids[1]);
  });

  test("an Anthropic client's Gemini tool_use ids reach OpenAI on fallback", async () => {
    geminiDown = false;
    const anthropicTools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object' } }];
    const first = await anthropic.messages.create({
      model: 'gemini-then-gpt',
      max_tokens: 100,
      tools: anthropicTools,
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    const uses = first.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    geminiDown = true;
    const second = await anthropic.messages.create({
      model: 'gemini-then-gpt',
      max_tokens: 100,
      tools: anthropicTools,
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: uses },
        {
          role: 'user',
          content: uses.map((use) => ({ type: 'tool_result' as const, tool_use_id: use.id, content: 'sunny' })),
        },
      ],
    });
    assert.deepEqual(second.content, [{ type: 'text', text: 'from GPT' }]);
  });
});
