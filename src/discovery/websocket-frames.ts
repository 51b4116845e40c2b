// WebSocket framing (RFC 6455, permessage-deflate RFC 7692), as much as the discovery proxy needs to read what names a
// session's model in its first message (Gemini Live's setup, live-session.ts) and to close a session it refuses.
// Hand-written, and only this much: the project's dependencies have no server-side frame parser (undici's reads a
// server's frames only, and `ws` is not a dependency). The reader stops at the first data message.
import { promisify } from 'node:util';
import { constants, inflateRaw, type InputType, type ZlibOptions } from 'node:zlib';

const inflateRawAsync: (bytes: InputType, options: ZlibOptions) => Promise<Buffer> = promisify(inflateRaw);

/** What the first message came to: the message, a close before any message, or why it could not be read. */
export type FirstMessage =
  { kind: 'message'; binary: boolean; payload: Buffer } | { kind: 'closed' } | { kind: 'unreadable'; reason: FirstMessageUnreadable };

/** Why a first message cannot be read: past the bound (as sent or inflated), or not framed as RFC 6455 and 7692 say. */
export type FirstMessageUnreadable = 'too_large' | 'malformed';

/** Room for the framing around a message of `maxBytes` (frame headers, control frames between its fragments). */
const FRAMING_ALLOWANCE = 64 * 1024;

const OPCODE_CONTINUATION = 0x0;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

/** RFC 7692 7.2.2: a message's compressed payload ends without the empty block's tail, which the reader puts back. */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Reads a client's frames, fed any split, until its first data message is whole: `push(bytes)` returns null while more
 * is needed, then what the first message came to (its payload still compressed when `compressed`; see `inflate`).
 * Holds at most `maxBytes` of payload and `maxBytes` + 64 KiB of bytes in all.
 */
export class FirstMessageReader {
  private readonly deflateNegotiated: boolean;
  private readonly maxBytes: number;
  /** Bytes not yet taken as a frame, in the chunks they came in (joined only once a frame's bytes are all in). */
  private unread: Buffer[];
  private unreadBytes: number;
  private wireBytes: number;
  /** The message's unmasked fragments so far, and whether a first fragment has come (then only continuations may). */
  private readonly fragments: Buffer[];
  private payloadBytes: number;
  private started: boolean;
  private binary: boolean;
  /** Whether the message is compressed (RSV1 on its first frame, with permessage-deflate negotiated). */
  compressed: boolean;
  private result: FirstMessage | null;

  constructor(deflateNegotiated: boolean, maxBytes: number) {
    this.deflateNegotiated = deflateNegotiated;
    this.maxBytes = maxBytes;
    this.unread = [];
    this.unreadBytes = 0;
    this.wireBytes = 0;
    this.fragments = [];
    this.payloadBytes = 0;
    this.started = false;
    this.binary = false;
    this.compressed = false;
    this.result = null;
  }

  push(bytes: Buffer): FirstMessage | null {
    if (this.result !== null) return this.result;
    this.wireBytes += bytes.length;
    this.unread.push(bytes);
    this.unreadBytes += bytes.length;
    this.result = this.frames();
    if (this.result === null && this.wireBytes > this.maxBytes + FRAMING_ALLOWANCE) this.result = unreadable('too_large');
    return this.result;
  }

  /** Takes every whole frame there is; the first message's end, or null for more. */
  private frames(): FirstMessage | null {
    for (;;) {
      const head = this.peek(2);
      if (head === null) return null;
      const first = head[0]!;
      const second = head[1]!;
      const fin = (first & 0x80) !== 0;
      const rsv1 = (first & 0x40) !== 0;
      const opcode = first & 0x0f;
      // A client's frames are always masked (RFC 6455 5.1); RSV2 and RSV3 belong to no extension either side offers.
      if ((second & 0x80) === 0 || (first & 0x30) !== 0) return unreadable('malformed');
      const shortLength = second & 0x7f;
      const lengthBytes = shortLength === 126 ? 2 : shortLength === 127 ? 8 : 0;
      const headLength = 2 + lengthBytes + 4;
      const fullHead = this.peek(headLength);
      if (fullHead === null) return null;
      let length = shortLength;
      if (lengthBytes === 2) length = fullHead.readUInt16BE(2);
      else if (lengthBytes === 8) {
        const long = fullHead.readBigUInt64BE(2);
        if (long > BigInt(this.maxBytes)) return unreadable('too_large');
        length = Number(long);
      }
      const control = opcode >= 0x8;
      if (control) {
        if (!fin || length > 125 || rsv1 || ![OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG].includes(opcode)) return unreadable('malformed');
      } else if (this.started ? opcode !== OPCODE_CONTINUATION || rsv1 : opcode !== OPCODE_TEXT && opcode !== OPCODE_BINARY) {
        return unreadable('malformed');
      } else if (rsv1 && !this.deflateNegotiated) {
        return unreadable('malformed');
      } else if (this.payloadBytes + length > this.maxBytes) {
        return unreadable('too_large');
      }
      const frame = this.take(headLength + length);
      if (frame === null) return null;
      if (control) {
        if (opcode === OPCODE_CLOSE) return { kind: 'closed' };
        continue; // a ping or pong between the handshake and the first message
      }
      const mask = frame.subarray(2 + lengthBytes, headLength);
      const payload = Buffer.allocUnsafe(length);
      for (let i = 0; i < length; i++) payload[i] = frame[headLength + i]! ^ mask[i & 3]!;
      if (!this.started) {
        this.started = true;
        this.binary = opcode === OPCODE_BINARY;
        this.compressed = rsv1;
      }
      this.fragments.push(payload);
      this.payloadBytes += length;
      if (fin) return { kind: 'message', binary: this.binary, payload: Buffer.concat(this.fragments, this.payloadBytes) };
    }
  }

  /** The first `length` unread bytes, without taking them; null until they are all in. */
  private peek(length: number): Buffer | null {
    if (this.unreadBytes < length) return null;
    if (this.unread[0]!.length < length) this.unread = [Buffer.concat(this.unread, this.unreadBytes)];
    return this.unread[0]!.subarray(0, length);
  }

  /** Takes the first `length` unread bytes; null until they are all in. */
  private take(length: number): Buffer | null {
    const bytes = this.peek(length);
    if (bytes === null) return null;
    const rest = this.unread[0]!.subarray(length);
    this.unread = rest.length === 0 ? [] : [rest];
    this.unreadBytes -= length;
    return bytes;
  }
}

function unreadable(reason: FirstMessageUnreadable): FirstMessage {
  return { kind: 'unreadable', reason };
}

/**
 * A permessage-deflate message's payload inflated (RFC 7692 7.2.2), at most `maxBytes` of it; the first message has no
 * earlier context to take over, whatever the handshake said about context takeover.
 */
export async function inflateMessage(payload: Buffer, maxBytes: number): Promise<Buffer | FirstMessageUnreadable> {
  try {
    return await inflateRawAsync(Buffer.concat([payload, DEFLATE_TAIL]), {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: maxBytes,
    });
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too_large' : 'malformed';
  }
}

/** Whether the origin's handshake answer took permessage-deflate (RFC 7692 5: its Sec-WebSocket-Extensions). */
export function deflateNegotiated(extensions: string | string[] | undefined): boolean {
  const text = Array.isArray(extensions) ? extensions.join(',') : (extensions ?? '');
  return text.split(',').some((extension) => extension.split(';')[0]!.trim().toLowerCase() === 'permessage-deflate');
}

/** The payload of a close frame: its status code and a reason, cut to the 123 bytes of UTF-8 a close frame has room for. */
function closePayload(code: number, reason: string): Buffer {
  let text = reason;
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  const payload = Buffer.alloc(2 + Buffer.byteLength(text));
  payload.writeUInt16BE(code, 0);
  payload.write(text, 2, 'utf8');
  return payload;
}

/** A close frame as a server sends it (unmasked, RFC 6455 5.5.1). */
export function serverCloseFrame(code: number, reason: string): Buffer {
  const payload = closePayload(code, reason);
  return Buffer.concat([Buffer.from([0x80 | OPCODE_CLOSE, payload.length]), payload]);
}
