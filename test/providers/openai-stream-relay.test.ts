// The OpenAI-to-OpenAI stream relay on bytes: whatever way the upstream splits its stream into reads, the client gets
// the same bytes (less the usage Sluice asked for on its behalf), and the usage and errors are tapped.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAIStreamRelay } from '../../src/providers/openai/relay.js';
import { ProviderSecrets, SecretRedactor } from '../../src/providers/shared/secret-redactor.js';
import type { ClientStream } from '../../src/wire/exchange.js';

const base = '"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini"';
const content = (text: string) =>
  `data: {${base},"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`;
const finish = `data: {${base},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`;
const usageOnly = `data: {${base},"choices":[],"usage":{"prompt_tokens":24,"completion_tokens":11,"total_tokens":35,"prompt_tokens_details":{"cached_tokens":8}}}\n\n`;
const done = 'data: [DONE]\n\n';
/** A key of no known shape, configured for the upstream: it must never reach the client. */
const upstreamKey = 'q7Zt2Lw9Xv4Nc8Rb1Hk6';
const stream = [content('Hel'), content('lo "usage":{ in text'), finish, usageOnly, done].join('');

function relay(forwardUsage: boolean): ClientStream {
  return new OpenAIStreamRelay(forwardUsage, new SecretRedactor([new ProviderSecrets([upstreamKey])]));
}

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

/** Every single cut, and a few sets of several, including inside the usage event and its blank line. */
function cutSets(length: number): number[][] {
  const sets: number[][] = [[]];
  for (let at = 1; at < length; at++) sets.push([at]);
  sets.push([5, 90, 91, 300, stream.indexOf('"usage"') + 3, stream.indexOf('[DONE]')]);
  sets.push(Array.from({ length: Math.floor(length / 7) }, (_, i) => (i + 1) * 7));
  return sets;
}

describe('the OpenAI stream relay', () => {
  test('passes the stream through byte for byte when the client asked for usage, and taps the usage', () => {
    for (const cuts of cutSets(Buffer.byteLength(stream))) {
      const target = relay(true);
      assert.equal(run(target, stream, cuts), stream, `cut at ${cuts.join(',')}`);
      assert.equal(target.usage.inputTokens, 24);
      assert.equal(target.usage.outputTokens, 11);
      assert.equal(target.usage.cachedInputTokens, 8);
      assert.equal(target.streamError, null);
    }
  });

  test('drops the usage-only chunk the client did not ask for, still counting it', () => {
    const expected = stream.replace(usageOnly, '');
    for (const cuts of cutSets(Buffer.byteLength(stream))) {
      const target = relay(false);
      assert.equal(run(target, stream, cuts), expected, `cut at ${cuts.join(',')}`);
      assert.equal(target.usage.inputTokens, 24);
      assert.equal(target.usage.outputTokens, 11);
    }
  });

  test('finds its marks by byte in text beyond ASCII, cut anywhere, even inside a character', () => {
    const wide = [content('café 🦊 naïve'), content('日本語 "usage":{'), finish, usageOnly, done].join('');
    for (let at = 0; at <= Buffer.byteLength(wide); at++) {
      const cuts = at === 0 ? [] : [at];
      const kept = relay(true);
      assert.equal(run(kept, wide, cuts), wide, `cut at ${at}`);
      assert.equal(kept.usage.inputTokens, 24);
      const dropped = relay(false);
      assert.equal(run(dropped, wide, cuts), wide.replace(usageOnly, ''), `cut at ${at}`);
      assert.equal(dropped.usage.outputTokens, 11);
      assert.equal(dropped.streamError, null);
    }
  });

  test('strips usage riding on a content chunk, and handles CR LF blank lines', () => {
    const riding = `data: {${base},"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`;
    const text = `${content('a').replace('\n\n', '\r\n\r\n')}${riding}\r\n\r\n${done.replace('\n\n', '\r\n\r\n')}`;
    for (const cuts of [[], [10], [text.indexOf('"usage"') + 2], [text.indexOf('\r\n\r\n') + 2]]) {
      const target = relay(false);
      const out = run(target, text, cuts);
      assert.ok(!out.includes('"usage"'), out);
      assert.ok(out.includes('"content":"Hi"') && out.includes('"content":"a"') && out.includes('[DONE]'), out);
      assert.equal(target.usage.inputTokens, 3);
      assert.equal(target.usage.outputTokens, 1);
    }
  });

  test('passes an error event on and records it', () => {
    const text = `${content('a')}data: {"error":{"message":"overloaded","type":"server_error"}}\n\n`;
    const target = relay(true);
    assert.equal(run(target, text, [20]), text);
    assert.equal(target.streamError, 'overloaded');
  });

  test('redacts a configured key an error event echoes, wherever the reads are cut, and passes the rest as is', () => {
    const error = `data: {"error":{"message":"Incorrect API key provided: Bearer ${upstreamKey}","type":"invalid_request_error"}}\n\n`;
    const text = `${content('a')}${error}${done}`;
    const expected = text.replace(upstreamKey, '[redacted]');
    for (const cuts of cutSets(Buffer.byteLength(text))) {
      const target = relay(true);
      assert.equal(run(target, text, cuts), expected, `cut at ${cuts.join(',')}`);
      assert.equal(target.streamError, 'Incorrect API key provided: Bearer [redacted]');
    }
  });

  test('completes a last event that lacks its blank line', () => {
    const target = relay(true);
    assert.equal(run(target, `${content('a')}data: [DONE]`, []), `${content('a')}${done}`);
  });
});
