// Responses API streams on bytes, fed whole and cut at every byte: the pass-through relay gives the client the very
// bytes (an error event redacted), tapping usage from response.completed; the decoder and the front door's encoder turn
// a Responses stream to IR events and back, so a translated stream keeps every event an SDK needs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponsesStreamEncoder } from '../../src/gateway/frontdoors/openai-responses-stream.js';
import { TranslatingStream } from '../../src/gateway/frontdoors/translating-stream.js';
import { ResponsesStreamDecoder, ResponsesStreamRelay } from '../../src/providers/openai/responses-stream.js';
import { ProviderSecrets, SecretRedactor } from '../../src/providers/shared/secret-redactor.js';
import type { ClientStream } from '../../src/wire/exchange.js';
import { SseParser } from '../../src/wire/sse.js';
import { responseStreamFrames } from '../support/mock-responses.js';

const upstreamKey = 'q7Zt2Lw9Xv4Nc8Rb1Hk6';
const redactor = new SecretRedactor([new ProviderSecrets([upstreamKey])]);
const stream = responseStreamFrames(['Hel', 'lo "usage":{', ' there'], { input_tokens: 24, output_tokens: 11, cached_tokens: 8 }).join('');

/** Feeds `text` in reads cut at `cuts` and returns what the client got. */
function run(target: ClientStream, text: string, cuts: number[]): string {
  const bytes = Buffer.from(text);
  let out = '';
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out += target.push(bytes.subarray(from, cut)).toString();
    from = cut;
  }
  return out + target.end().toString();
}

function everyCut(text: string): number[][] {
  const length = Buffer.byteLength(text);
  const sets: number[][] = [[]];
  for (let at = 1; at < length; at++) sets.push([at]);
  sets.push(Array.from({ length: Math.floor(length / 7) }, (_, i) => (i + 1) * 7));
  return sets;
}

function events(text: string): Array<Record<string, unknown>> {
  const parser = new SseParser();
  return parser.end(parser.push(Buffer.from(text))).map((event) => JSON.parse(event.data) as Record<string, unknown>);
}

describe('Responses API streams', () => {
  test('the relay passes the stream through byte for byte, however it is cut, and taps usage', () => {
    for (const cuts of everyCut(stream)) {
      const relay = new ResponsesStreamRelay(redactor);
      assert.equal(run(relay, stream, cuts), stream, `cut at ${cuts.join(',')}`);
      // The mock states reasoning_tokens 0 in output_tokens_details, as OpenAI does for an answer that did not reason.
      assert.deepEqual(relay.usage, {
        inputTokens: 24,
        outputTokens: 11,
        cachedInputTokens: 8,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        reported: true,
      });
      assert.equal(relay.streamError, null);
      assert.equal(relay.responseId, 'resp_stream1', 'the stored response’s id, from response.created');
    }
    assert.deepEqual(new ResponsesStreamRelay(redactor).estimateOutput().texts.length, 0);
  });

  test('the relay passes a malformed event that is not the last untouched, and still taps the final usage', () => {
    const frames = responseStreamFrames(['Hel', 'lo'], { input_tokens: 24, output_tokens: 11 });
    // Read by name only: an event the relay does not need is never parsed, so its bad JSON is the client's to judge.
    const malformed = 'event: response.output_item.added\ndata: {"type":"response.output_item.added","item":{"id":\n\n';
    const text = [...frames.slice(0, 3), malformed, ...frames.slice(3)].join('');
    for (const cuts of everyCut(text)) {
      const relay = new ResponsesStreamRelay(redactor);
      assert.equal(run(relay, text, cuts), text, `cut at ${cuts.join(',')}`);
      assert.deepEqual([relay.usage.inputTokens, relay.usage.outputTokens, relay.finished], [24, 11, true]);
      assert.equal(relay.streamError, null);
    }
  });

  test('the relay redacts an upstream error event and reports it; a stream without usage leaves it unreported', () => {
    const error = `event: error\ndata: {"type":"error","code":"server_error","message":"key ${upstreamKey} failed","param":null,"sequence_number":3}\n\n`;
    const head = stream.slice(0, stream.indexOf('event: response.output_text.done'));
    for (const cuts of [[], [10], [head.length + 5]]) {
      const relay = new ResponsesStreamRelay(redactor);
      const out = run(relay, head + error, cuts);
      assert.ok(!out.includes(upstreamKey));
      assert.match(out, /key \[redacted\] failed/);
      assert.equal(relay.streamError, 'key [redacted] failed');
      assert.equal(relay.usage.reported, false);
      assert.deepEqual(relay.estimateOutput().texts, ['Hel', 'lo "usage":{', ' there']);
    }
  });

  test('decoded to IR and encoded again, a stream keeps the Responses event sequence, numbered', () => {
    for (const cuts of [[], [1], [200], [stream.indexOf('response.completed') + 3]]) {
      const translated = new TranslatingStream(
        new ResponsesStreamDecoder(),
        new ResponsesStreamEncoder({ model: 'house-model', messages: [], stream: true }),
        redactor,
      );
      const out = events(run(translated, stream, cuts));
      assert.deepEqual(
        out.map((event) => event.type),
        events(stream).map((event) => event.type),
      );
      assert.deepEqual(
        out.map((event) => event.sequence_number),
        out.map((_, i) => i),
      );
      const completed = out.at(-1)!.response as {
        id: string;
        model: string;
        output: Array<{ content: Array<{ text: string }> }>;
        usage: unknown;
      };
      assert.equal(completed.id, 'resp_stream1');
      assert.equal(completed.model, 'house-model');
      assert.equal(completed.output[0]!.content[0]!.text, 'Hello "usage":{ there');
      assert.deepEqual(completed.usage, {
        input_tokens: 24,
        input_tokens_details: { cached_tokens: 8 },
        output_tokens: 11,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 35,
      });
      assert.equal(translated.usage.inputTokens, 24);
    }
  });

  test('function calls: output_item.added, argument deltas, .done events, and an incomplete answer', () => {
    const encoder = new ResponsesStreamEncoder({ model: 'm', messages: [], stream: true, maxTokens: 5 });
    const text =
      encoder.encode([
        { type: 'start', id: 'abc', model: 'x', created: 1 },
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_call_start', index: 0, id: 'toolu_1', name: 'lookup' },
        { type: 'tool_call_delta', index: 0, argumentsDelta: '{"q":' },
        { type: 'tool_call_delta', index: 0, argumentsDelta: '"x"}' },
        { type: 'finish', finishReason: 'length' },
        { type: 'usage', usage: { inputTokens: 3, outputTokens: 5 } },
      ]) + encoder.end();
    const out = events(text);
    assert.deepEqual(
      out.map((event) => event.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.incomplete',
      ],
    );
    assert.equal(out[11]!.arguments, '{"q":"x"}');
    assert.deepEqual(out[12]!.item, {
      id: (out[8]!.item as { id: string }).id,
      type: 'function_call',
      status: 'completed',
      call_id: 'toolu_1',
      name: 'lookup',
      arguments: '{"q":"x"}',
    });
    const response = out.at(-1)!.response as Record<string, unknown>;
    assert.equal(response.status, 'incomplete');
    assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(response.id, 'resp_abc');
  });
});
