// Stream decoders fed real-shaped recordings whole and one byte at a time must yield the same IR events.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamDecoder, StreamEvent } from '../../src/ir/stream.js';
import { AnthropicStreamDecoder } from '../../src/providers/anthropic/stream.js';
import { OpenAIStreamDecoder } from '../../src/providers/openai/stream.js';
import { SseParser } from '../../src/wire/sse.js';
import { anthropicToolStreamFrames, anthropicStreamFrames, openaiStreamFrames, openaiToolStreamFrames } from '../support/mock-provider.js';

function decodeWhole(decoder: StreamDecoder, recording: string): StreamEvent[] {
  return [...decoder.push(Buffer.from(recording)), ...decoder.end()];
}

function decodeByteByByte(decoder: StreamDecoder, recording: string): StreamEvent[] {
  const bytes = Buffer.from(recording);
  const events: StreamEvent[] = [];
  for (let i = 0; i < bytes.length; i++) events.push(...decoder.push(bytes.subarray(i, i + 1)));
  return [...events, ...decoder.end()];
}

/** 'start' carries a created time taken at decode time for Anthropic; compare without it. */
function stable(events: StreamEvent[]): unknown[] {
  return events.map((event) => (event.type === 'start' ? { ...event, created: 0 } : event));
}

describe('SSE parser', () => {
  test('handles CRLF and CR line ends, comments, multi-line data and a missing final blank line', () => {
    const parser = new SseParser();
    const text = ': keep-alive\r\nevent: a\r\ndata: one\r\ndata: two\r\n\r\ndata: three\r\rdata: {"é":1}';
    const whole = [...parser.push(Buffer.from(text)), ...parser.end()];
    assert.deepEqual(whole, [
      { event: 'a', data: 'one\ntwo' },
      { event: null, data: 'three' },
      { event: null, data: '{"é":1}' },
    ]);
    const bytes = Buffer.from(text);
    const split = new SseParser();
    const events = [];
    for (let i = 0; i < bytes.length; i++) events.push(...split.push(bytes.subarray(i, i + 1)));
    events.push(...split.end());
    assert.deepEqual(events, whole, 'a multi-byte character split across chunks survives');
  });
});

describe('OpenAI stream decoder', () => {
  const cases = [
    { name: 'text with usage', recording: openaiStreamFrames(['Hel', 'lo'], { prompt_tokens: 9, completion_tokens: 2 }).join('') },
    { name: 'tool call', recording: openaiToolStreamFrames('get_weather', ['{"ci', 'ty":"Paris"}']).join('') },
  ];
  for (const c of cases) {
    test(`${c.name}: byte by byte equals whole`, () => {
      assert.deepEqual(decodeByteByByte(new OpenAIStreamDecoder(), c.recording), decodeWhole(new OpenAIStreamDecoder(), c.recording));
    });
  }

  test('maps text, finish and usage', () => {
    const events = decodeWhole(new OpenAIStreamDecoder(), cases[0]!.recording);
    assert.deepEqual(
      events.filter((e) => e.type === 'text').map((e) => (e.type === 'text' ? e.text : '')),
      ['Hel', 'lo'],
    );
    assert.deepEqual(
      events.find((e) => e.type === 'finish'),
      { type: 'finish', finishReason: 'stop' },
    );
    const usage = events.find((e) => e.type === 'usage');
    assert.equal(usage?.type === 'usage' ? usage.usage.inputTokens : -1, 9);
  });

  test('maps tool calls to start and argument deltas', () => {
    const events = decodeWhole(new OpenAIStreamDecoder(), cases[1]!.recording);
    assert.deepEqual(
      events.filter((e) => e.type.startsWith('tool_call')),
      [
        { type: 'tool_call_start', index: 0, id: 'call_xyz', name: 'get_weather' },
        { type: 'tool_call_delta', index: 0, argumentsDelta: '{"ci' },
        { type: 'tool_call_delta', index: 0, argumentsDelta: 'ty":"Paris"}' },
      ],
    );
    assert.deepEqual(
      events.find((e) => e.type === 'finish'),
      { type: 'finish', finishReason: 'tool_calls' },
    );
  });
});

describe('Anthropic stream decoder', () => {
  const text = anthropicStreamFrames(['Bon', 'jour'], { input_tokens: 25, output_tokens: 6 }).join('');
  const tool = anthropicToolStreamFrames('get_weather', ['{"city":', ' "Paris"}']).join('');

  test('byte by byte equals whole, for text and for tool use', () => {
    for (const recording of [text, tool]) {
      assert.deepEqual(
        stable(decodeByteByByte(new AnthropicStreamDecoder(), recording)),
        stable(decodeWhole(new AnthropicStreamDecoder(), recording)),
      );
    }
  });

  test('maps message_start usage, text deltas, stop reason and output usage', () => {
    const events = stable(decodeWhole(new AnthropicStreamDecoder(), text));
    assert.deepEqual(events, [
      { type: 'start', id: 'msg_stream1', model: 'claude-3-5-haiku-20241022', created: 0 },
      { type: 'usage', usage: { inputTokens: 25, cachedInputTokens: 0, cacheWriteTokens: 0 } },
      { type: 'text', text: 'Bon' },
      { type: 'text', text: 'jour' },
      { type: 'finish', finishReason: 'stop' },
      { type: 'usage', usage: { outputTokens: 6 } },
    ]);
  });

  test('maps tool_use blocks to tool calls', () => {
    const events = decodeWhole(new AnthropicStreamDecoder(), tool);
    assert.deepEqual(
      events.filter((e) => e.type.startsWith('tool_call')),
      [
        { type: 'tool_call_start', index: 0, id: 'toolu_02', name: 'get_weather' },
        { type: 'tool_call_delta', index: 0, argumentsDelta: '{"city":' },
        { type: 'tool_call_delta', index: 0, argumentsDelta: ' "Paris"}' },
      ],
    );
  });
});
