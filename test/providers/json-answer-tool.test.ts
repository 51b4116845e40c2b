// The JSON answer tool (structured output for Claude): its name under the providers' tool name rules, clear of the
// client's tools, when it is forced or offered, and the answer read back whole and streamed (one byte at a time).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatRequest } from '../../src/ir/chat.js';
import type { StreamEvent } from '../../src/ir/stream.js';
import { anthropicChatResponse } from '../../src/providers/anthropic/response.js';
import { AnthropicStreamDecoder } from '../../src/providers/anthropic/stream.js';
import { jsonAnswerResponse, jsonAnswerTool, JsonAnswerStreamDecoder } from '../../src/providers/shared/json-answer-tool.js';
import { anthropicToolMessage, anthropicToolStreamFrames } from '../support/mock-provider.js';

const schema = { type: 'object', properties: { a: { type: 'number' } } };

function request(extra: Partial<ChatRequest>): ChatRequest {
  return { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: false, ...extra };
}

const lookup = { name: 'lookup', parameters: { type: 'object' } };

describe('JSON answer tool', () => {
  test('none without structured output; the schema name made a valid tool name, clear of the client tools', () => {
    assert.equal(jsonAnswerTool(request({})), null);
    assert.equal(jsonAnswerTool(request({ responseFormat: { type: 'text' } })), null);
    const odd = jsonAnswerTool(request({ responseFormat: { type: 'json_schema', name: 'weather report (v2)!', schema } }));
    assert.equal(odd?.name, 'weather_report__v2__');
    assert.equal(odd?.mode, 'force');
    assert.deepEqual(odd?.schema, schema);
    const long = jsonAnswerTool(request({ responseFormat: { type: 'json_schema', name: 'x'.repeat(100), schema } }));
    assert.equal(long?.name, 'x'.repeat(64));
    const clash = jsonAnswerTool(
      request({ responseFormat: { type: 'json_schema', name: 'lookup', schema }, tools: [lookup, { ...lookup, name: 'lookup_answer' }] }),
    );
    assert.equal(clash?.name, 'lookup_answer1');
    assert.equal(clash?.mode, 'any');
    const object = jsonAnswerTool(request({ responseFormat: { type: 'json_object' } }));
    assert.deepEqual(object?.schema, { type: 'object' });
    assert.equal(object?.name, 'json_response');
  });

  test('with client tools: offered under tool_choice auto, forced under none, left out when a client tool is forced', () => {
    const format = { type: 'json_schema' as const, name: 'out', schema };
    assert.equal(jsonAnswerTool(request({ responseFormat: format, tools: [lookup] }))?.mode, 'any');
    assert.equal(jsonAnswerTool(request({ responseFormat: format, tools: [lookup], toolChoice: 'auto' }))?.mode, 'any');
    assert.equal(jsonAnswerTool(request({ responseFormat: format, tools: [lookup], toolChoice: 'none' }))?.mode, 'force');
    assert.equal(jsonAnswerTool(request({ responseFormat: format, tools: [lookup], toolChoice: 'required' })), null);
    assert.equal(jsonAnswerTool(request({ responseFormat: format, tools: [lookup], toolChoice: { name: 'lookup' } })), null);
  });

  test('offered beside client tools and chosen: the answer is its JSON, finish stop; whole and streamed byte by byte', () => {
    const tool = jsonAnswerTool(request({ responseFormat: { type: 'json_schema', name: 'out', schema }, tools: [lookup] }))!;
    const whole = jsonAnswerResponse(anthropicChatResponse(anthropicToolMessage('out', { a: 1 })), tool);
    // 'any': text the model wrote stays (it could go with a client tool call).
    assert.equal(whole.text, 'Let me check.{"a":1}');
    assert.deepEqual(whole.toolCalls, []);
    assert.equal(whole.finishReason, 'stop');
    const decoder = new JsonAnswerStreamDecoder(new AnthropicStreamDecoder(), tool);
    const bytes = Buffer.from(anthropicToolStreamFrames('out', ['{"a"', ':1}']).join(''));
    const events: StreamEvent[] = [];
    for (let i = 0; i < bytes.length; i++) events.push(...decoder.push(bytes.subarray(i, i + 1)));
    events.push(...decoder.end());
    assert.deepEqual(
      events.filter((event) => event.type === 'text' || event.type === 'finish' || event.type.startsWith('tool_call')),
      [
        { type: 'text', text: '{"a"' },
        { type: 'text', text: ':1}' },
        { type: 'finish', finishReason: 'stop' },
      ],
    );
  });

  test('forced: text beside the tool is dropped (it would break the JSON); a client tool call is kept, renumbered', () => {
    const forced = jsonAnswerTool(request({ responseFormat: { type: 'json_object' } }))!;
    const answer = jsonAnswerResponse(anthropicChatResponse(anthropicToolMessage('json_response', { a: 1 })), forced);
    assert.equal(answer.text, '{"a":1}');
    const offered = jsonAnswerTool(request({ responseFormat: { type: 'json_object' }, tools: [lookup] }))!;
    const decoded: StreamEvent[] = [
      { type: 'tool_call_start', index: 0, id: 'a', name: 'json_response' },
      { type: 'tool_call_delta', index: 0, argumentsDelta: '{}' },
      { type: 'tool_call_start', index: 1, id: 'b', name: 'lookup' },
      { type: 'tool_call_delta', index: 1, argumentsDelta: '{"q":1}' },
      { type: 'finish', finishReason: 'tool_calls' },
    ];
    const mapped = new JsonAnswerStreamDecoder({ push: () => decoded, end: () => [] }, offered).push(Buffer.alloc(0));
    assert.deepEqual(mapped, [
      { type: 'text', text: '{}' },
      { type: 'tool_call_start', index: 0, id: 'b', name: 'lookup' },
      { type: 'tool_call_delta', index: 0, argumentsDelta: '{"q":1}' },
      { type: 'finish', finishReason: 'tool_calls' },
    ]);
  });
});
