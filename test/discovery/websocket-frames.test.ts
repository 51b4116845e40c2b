// The first-message reader the discovery proxy reads a Gemini Live setup with: client frames fed whole and one byte at a
// time come to the same message; what RFC 6455 forbids of a client, and a message past the bound, end the reading with
// why, before the message's bytes are held.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateNegotiated, FirstMessageReader, inflateMessage, type FirstMessage } from '../../src/discovery/websocket-frames.js';
import { clientFrame, deflatedMessage } from '../support/mock-live.js';

const SETUP = JSON.stringify({
  setup: { model: 'models/gemini-2.0-flash-live-001', systemInstruction: { parts: [{ text: 'x'.repeat(300) }] } },
});

function readWhole(bytes: Buffer, deflate = false, maxBytes = 1024 * 1024): FirstMessage | null {
  return new FirstMessageReader(deflate, maxBytes).push(bytes);
}

function readByteByByte(bytes: Buffer, deflate = false): FirstMessage | null {
  const reader = new FirstMessageReader(deflate, 1024 * 1024);
  let result: FirstMessage | null = null;
  for (let i = 0; i < bytes.length && result === null; i++) result = reader.push(bytes.subarray(i, i + 1));
  return result;
}

describe('discovery: the first WebSocket message a client sends', () => {
  test('a text message in one frame, a 16-bit length, whole and byte by byte', () => {
    const frame = clientFrame(0x1, Buffer.from(SETUP));
    for (const result of [readWhole(frame), readByteByByte(frame)]) {
      assert.equal(result?.kind, 'message');
      assert.equal(result.kind === 'message' && result.payload.toString('utf8'), SETUP);
    }
  });

  test('a binary message in fragments with a ping and a pong between them, followed by more frames', () => {
    const payload = Buffer.from(SETUP);
    const bytes = Buffer.concat([
      clientFrame(0xa, Buffer.alloc(0)),
      clientFrame(0x2, payload.subarray(0, 10), { fin: false }),
      clientFrame(0x9, Buffer.from('ping')),
      clientFrame(0x0, payload.subarray(10, 200), { fin: false }),
      clientFrame(0x0, payload.subarray(200)),
      clientFrame(0x1, Buffer.from('{"clientContent":{}}')),
    ]);
    for (const result of [readWhole(bytes), readByteByByte(bytes)]) {
      assert.deepEqual(result, { kind: 'message', binary: true, payload });
    }
  });

  test('a compressed message (RSV1) is taken as sent and inflated', async () => {
    const reader = new FirstMessageReader(true, 1024 * 1024);
    const result = reader.push(clientFrame(0x1, deflatedMessage(SETUP), { rsv1: true }));
    assert.equal(reader.compressed, true);
    assert.ok(result?.kind === 'message');
    assert.equal(((await inflateMessage(result.payload, 1024 * 1024)) as Buffer).toString('utf8'), SETUP);
    assert.equal(await inflateMessage(result.payload, 100), 'too_large');
    assert.equal(await inflateMessage(Buffer.from('not deflate at all'), 1024), 'malformed');
  });

  test('a close before any message', () => {
    assert.deepEqual(readWhole(clientFrame(0x8, Buffer.from([0x03, 0xe8]))), { kind: 'closed' });
  });

  const malformed: Array<[string, Buffer, boolean]> = [
    ['an unmasked frame', Buffer.concat([Buffer.from([0x81, 2]), Buffer.from('{}')]), false],
    ['a continuation with no message begun', clientFrame(0x0, Buffer.from('{}')), false],
    ['RSV1 without permessage-deflate', clientFrame(0x1, Buffer.from('{}'), { rsv1: true }), false],
    [
      'RSV1 on a continuation',
      Buffer.concat([clientFrame(0x1, Buffer.from('{'), { fin: false }), clientFrame(0x0, Buffer.from('}'), { rsv1: true })]),
      true,
    ],
    [
      'a new message inside a fragmented one',
      Buffer.concat([clientFrame(0x1, Buffer.from('{'), { fin: false }), clientFrame(0x1, Buffer.from('}'))]),
      false,
    ],
    ['a fragmented ping', clientFrame(0x9, Buffer.from('ping'), { fin: false }), false],
    ['a reserved opcode', clientFrame(0x3, Buffer.from('{}')), false],
  ];
  for (const [name, bytes, deflate] of malformed) {
    test(`malformed: ${name}`, () => assert.deepEqual(readWhole(bytes, deflate), { kind: 'unreadable', reason: 'malformed' }));
  }

  test('past the bound: said by its length before its payload comes, whether in one frame (64-bit length) or in fragments', () => {
    const reader = new FirstMessageReader(false, 64 * 1024);
    // Only the head of a frame announcing 100 KiB: nothing of its payload is needed to refuse it.
    assert.deepEqual(reader.push(clientFrame(0x1, Buffer.alloc(100 * 1024)).subarray(0, 14)), { kind: 'unreadable', reason: 'too_large' });
    const fragments = new FirstMessageReader(false, 1000);
    assert.equal(fragments.push(clientFrame(0x1, Buffer.alloc(600), { fin: false })), null);
    assert.deepEqual(fragments.push(clientFrame(0x0, Buffer.alloc(600))), { kind: 'unreadable', reason: 'too_large' });
  });

  test("permessage-deflate is negotiated when the origin's answer names it", () => {
    assert.equal(deflateNegotiated('permessage-deflate; client_max_window_bits=15'), true);
    assert.equal(deflateNegotiated(['x-webkit-deflate-frame', 'permessage-deflate']), true);
    assert.equal(deflateNegotiated('x-webkit-deflate-frame'), false);
    assert.equal(deflateNegotiated(undefined), false);
  });
});
