// Telling a stream's start from something else (a JSON body, an HTML page) by its head and first chunk, however split.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { streamStartFault } from '../../src/wire/stream-start.js';
import { anthropicStreamFrames, openaiStreamFrames } from '../support/mock-provider.js';

describe('the start of a stream', () => {
  const sse: Array<{ name: string; first: string }> = [
    { name: 'OpenAI data events', first: openaiStreamFrames(['hi'], null).join('') },
    { name: 'Anthropic named events', first: anthropicStreamFrames(['hi']).join('') },
    { name: 'a comment first', first: ': keep-alive\n\ndata: {}\n\n' },
    { name: 'a byte-order mark and blank lines first', first: '\uFEFF\r\n\r\ndata: {}\n\n' },
    { name: 'a field without a value', first: 'data\n\n' },
  ];
  for (const c of sse) {
    test(`server-sent events: ${c.name} are a stream, cut anywhere`, () => {
      const bytes = Buffer.from(c.first, 'utf8');
      for (let end = 1; end <= Math.min(bytes.length, 24); end++) {
        assert.equal(streamStartFault('sse', 'text/event-stream; charset=utf-8', bytes.subarray(0, end)), null, `first ${end} bytes`);
      }
    });
  }

  const notSse: Array<{ name: string; contentType: string | undefined; first: string; fault: RegExp }> = [
    {
      name: 'a JSON answer',
      contentType: 'application/json',
      first: '{"id":"chatcmpl-1"}',
      fault: /content-type "application\/json", not text\/event-stream/,
    },
    {
      name: 'JSON sent as an event stream',
      contentType: 'text/event-stream',
      first: '{"error":{"message":"x"}}',
      fault: /not server-sent events/,
    },
    {
      name: 'an HTML page without a content-type',
      contentType: undefined,
      first: '<!DOCTYPE html><html>',
      fault: /not server-sent events/,
    },
    {
      name: 'a field name no stream opens with',
      contentType: 'text/event-stream',
      first: 'status: ok\n\n',
      fault: /not server-sent events/,
    },
  ];
  for (const c of notSse) {
    test(`server-sent events: ${c.name} is not a stream`, () => {
      assert.match(streamStartFault('sse', c.contentType, Buffer.from(c.first)) ?? '', c.fault);
    });
  }

  test('nothing read yet, or only line ends, cannot be judged', () => {
    assert.equal(streamStartFault('sse', 'text/event-stream', null), null);
    assert.equal(streamStartFault('sse', 'text/event-stream', Buffer.from('\n\n')), null);
  });

  test('AWS event-stream frames are a Bedrock stream, cut anywhere; JSON is not', () => {
    const frame = Buffer.from(encodeAwsEvent('messageStart', { role: 'assistant' }));
    for (let end = 1; end <= 16; end++) {
      assert.equal(streamStartFault('aws-event-stream', 'application/vnd.amazon.eventstream', frame.subarray(0, end)), null);
    }
    assert.match(
      streamStartFault('aws-event-stream', 'application/json', Buffer.from('{"message":"x"}')) ?? '',
      /not application\/vnd\.amazon\.eventstream/,
    );
    assert.match(streamStartFault('aws-event-stream', undefined, Buffer.from('{"message":"x"}')) ?? '', /not AWS event-stream frames/);
  });
});
