// Generated client bytes for the first-message reader a Gemini Live setup is read with (websocket-frames.ts): frames
// valid and not (any opcode and RSV bits, unmasked, 16- and 64-bit lengths up to 2^64 - 1, control frames between
// fragments, a close first, empty and compressed messages, deflate bombs), cut anywhere, garbage between. Whatever the
// bytes and however they are split, the reader never throws, comes to the same answer, answers once the bound is
// passed, and inflating never throws or goes past the bound. The proxy sits in every AI call's path: a client's bytes
// must not end it. A failure prints fast-check's seed; SLUICE_FUZZ_SEED=<seed> replays the same run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { FirstMessageReader, inflateMessage, type FirstMessage } from '../../src/discovery/websocket-frames.js';

const RUNS = 500;
const MAX_BYTES = 4096;
/** The reader's framing allowance besides the message (websocket-frames.ts). */
const FRAMING_ALLOWANCE = 64 * 1024;
const seed = process.env.SLUICE_FUZZ_SEED === undefined ? undefined : Number(process.env.SLUICE_FUZZ_SEED);

/** A frame's header as a client may write it, with any length encoding (the declared length need not be the payload's). */
function frame(first: number, masked: boolean, declared: bigint, payload: Buffer): Buffer {
  let length: Buffer;
  if (declared < 126n) length = Buffer.from([Number(declared)]);
  else if (declared < 65536n) length = Buffer.from([126, Number(declared >> 8n), Number(declared & 0xffn)]);
  else {
    length = Buffer.alloc(9);
    length[0] = 127;
    length.writeBigUInt64BE(declared, 1);
  }
  length[0]! |= masked ? 0x80 : 0;
  const mask = masked ? randomBytes(4) : Buffer.alloc(0);
  const body = masked ? Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!)) : payload;
  return Buffer.concat([Buffer.from([first]), length, mask, body]);
}

/** A permessage-deflate payload (without the flush's tail): a setup, or a bomb inflating far past the bound. */
function deflated(text: Buffer): Buffer {
  const flushed = deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH });
  return flushed.subarray(0, flushed.length - 4);
}
const BOMB = deflated(Buffer.alloc(8 * 1024 * 1024, 0x20));

const payload = fc.oneof(
  fc.constant(Buffer.from('{"setup":{"model":"models/gemini-2.0-flash-live-001"}}')),
  fc.constant(Buffer.alloc(0)),
  fc.constant(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])),
  fc.constant(Buffer.from([0xff, 0xfe, 0xc3, 0x28])),
  fc.constant(deflated(Buffer.from('{"setup":{"model":"models/x"}}'))),
  fc.constant(BOMB),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);

/** One frame: its first byte (FIN, RSV bits, opcode) any, masked or not, its length declared true or any. */
const anyFrame = fc
  .record({
    first: fc.oneof(fc.constantFrom(0x81, 0x82, 0xc1, 0x01, 0x00, 0x80, 0x88, 0x89, 0x8a), fc.integer({ min: 0, max: 255 })),
    masked: fc.integer({ min: 0, max: 9 }).map((n) => n !== 0), // mostly masked, as RFC 6455 5.1 requires
    payload,
    declared: fc.option(fc.oneof(fc.bigInt({ min: 0n, max: 70000n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { freq: 4 }),
  })
  .map(({ first, masked, payload: bytes, declared }) => frame(first, masked, declared ?? BigInt(bytes.length), bytes));

/** What a client sends: frames and garbage, cut anywhere. */
const clientBytes = fc
  .record({
    parts: fc.array(
      fc.oneof({ weight: 5, arbitrary: anyFrame }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)) }),
      {
        minLength: 1,
        maxLength: 8,
      },
    ),
    cut: fc.option(fc.nat(), { freq: 3 }),
  })
  .map(({ parts, cut }) => {
    const bytes = Buffer.concat(parts);
    return cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
  });

/** Splits `bytes` at `points` (any numbers: taken modulo the length). */
function split(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((point) => point % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    chunks.push(bytes.subarray(from, to));
    from = to;
  }
  return chunks.filter((chunk) => chunk.length > 0);
}

function read(chunks: Buffer[], deflate: boolean): FirstMessage | null {
  const reader = new FirstMessageReader(deflate, MAX_BYTES);
  let result: FirstMessage | null = null;
  for (const chunk of chunks) {
    result = reader.push(chunk);
    if (result !== null) return result;
  }
  return result;
}

describe('discovery: generated client bytes for the first WebSocket message', () => {
  test('the reader never throws, answers the same however the bytes are split, and holds no more than the bound', () => {
    fc.assert(
      fc.property(clientBytes, fc.array(fc.nat(), { maxLength: 20 }), fc.boolean(), (bytes, points, deflate) => {
        const whole = read([bytes], deflate);
        const pieces = read(split(bytes, points), deflate);
        if (bytes.length <= MAX_BYTES + FRAMING_ALLOWANCE) assert.deepEqual(pieces, whole);
        else assert.notEqual(pieces, null, 'past the bound, the reader has answered');
        for (const result of [whole, pieces]) {
          if (result?.kind === 'message') assert.ok(result.payload.length <= MAX_BYTES);
        }
      }),
      { numRuns: RUNS, ...(seed === undefined ? {} : { seed }) },
    );
  });

  test('inflating a message never throws and never goes past the bound, a deflate bomb included', async () => {
    await fc.assert(
      fc.asyncProperty(payload, async (bytes) => {
        const inflated = await inflateMessage(bytes, MAX_BYTES);
        if (typeof inflated === 'string') assert.ok(inflated === 'too_large' || inflated === 'malformed');
        else assert.ok(inflated.length <= MAX_BYTES);
      }),
      { numRuns: 100, ...(seed === undefined ? {} : { seed }) },
    );
    assert.equal(await inflateMessage(BOMB, MAX_BYTES), 'too_large');
  });

  test('a byte at a time past the bound: the reader answers too_large by the bound plus its framing allowance', () => {
    // A frame declaring the whole bound, then its payload a byte at a time, then more: bounded however it is dripped.
    const reader = new FirstMessageReader(false, MAX_BYTES);
    const head = frame(0x01, true, BigInt(MAX_BYTES), Buffer.alloc(0));
    let result = reader.push(head);
    let sent = head.length;
    while (result === null && sent < MAX_BYTES + FRAMING_ALLOWANCE + 10) {
      result = reader.push(Buffer.from([0x20]));
      sent++;
    }
    assert.notEqual(result, null);
  });
});
