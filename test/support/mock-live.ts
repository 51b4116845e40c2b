// A mock of Google's Live API origin (BidiGenerateContent over WebSocket, the Gemini API's and Vertex AI's), on an
// HttpsMock's upgrade: RFC 6455's handshake (permessage-deflate taken when asked to, as RFC 7692 says), client frames
// read as the RFC frames them (masked, 16- and 64-bit lengths, fragments, compressed messages), answers as the Live
// API gives them: `setupComplete` for the setup, a `serverContent` turn echoing each `clientContent` text. Hand-written
// for the test: no WebSocket server library is a dependency. And a client by hand, for the frames undici's never sends.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { connectTunnel } from './discovery.js';

export class MockLiveOrigin {
  /** Every message each session sent, parsed, in order (a session's first is its setup). */
  readonly sessions: unknown[][] = [];
  /** The handshake of each session. */
  readonly handshakes: IncomingMessage[] = [];
  /** Whether the handshake answer takes permessage-deflate when the client offers it. */
  deflate = false;

  readonly handle = (req: IncomingMessage, socket: Duplex): void => {
    socket.on('error', () => socket.destroy());
    this.handshakes.push(req);
    const messages: unknown[] = [];
    this.sessions.push(messages);
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    const deflate = this.deflate && /permessage-deflate/.test(String(req.headers['sec-websocket-extensions'] ?? ''));
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n` +
        (deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n' : '') +
        '\r\n',
    );
    let pending = Buffer.alloc(0);
    let fragments: Buffer[] = [];
    let compressed = false;
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (pending.length < 2) return;
        const fin = (pending[0]! & 0x80) !== 0;
        const rsv1 = (pending[0]! & 0x40) !== 0;
        const opcode = pending[0]! & 0x0f;
        const short = pending[1]! & 0x7f;
        const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
        if (pending.length < 2 + lengthBytes + 4) return;
        const length = lengthBytes === 2 ? pending.readUInt16BE(2) : lengthBytes === 8 ? Number(pending.readBigUInt64BE(2)) : short;
        const start = 2 + lengthBytes + 4;
        if (pending.length < start + length) return;
        const mask = pending.subarray(2 + lengthBytes, start);
        const payload = Buffer.from(pending.subarray(start, start + length).map((byte, i) => byte ^ mask[i % 4]!));
        pending = pending.subarray(start + length);
        if (opcode === 0x8) {
          // A close is answered with the same status code (RFC 6455 5.5.1).
          socket.end(Buffer.concat([Buffer.from([0x88, Math.min(payload.length, 2)]), payload.subarray(0, 2)]));
          return;
        }
        if (opcode >= 0x8) continue;
        if (opcode !== 0) compressed = rsv1;
        fragments.push(payload);
        if (!fin) continue;
        let message = Buffer.concat(fragments);
        fragments = [];
        if (compressed) {
          message = inflateRawSync(Buffer.concat([message, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH });
        }
        const parsed = JSON.parse(message.toString('utf8')) as Record<string, { turns?: Array<{ parts: Array<{ text: string }> }> }>;
        messages.push(parsed);
        if (parsed.setup !== undefined) socket.write(textFrame({ setupComplete: {} }));
        const text = parsed.clientContent?.turns?.[0]?.parts[0]?.text;
        if (text !== undefined) {
          socket.write(
            textFrame({ serverContent: { modelTurn: { role: 'model', parts: [{ text: `echo:${text}` }] }, turnComplete: true } }),
          );
        }
      }
    });
    socket.on('end', () => socket.end());
  };
}

/** A server's text frame (unmasked), a JSON message. */
function textFrame(message: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(message));
  const head =
    payload.length < 126 ? Buffer.from([0x81, payload.length]) : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

/** A client frame (masked, RFC 6455 5.3), as a WebSocket client library sends one. */
export function clientFrame(opcode: number, payload: Buffer, options: { fin?: boolean; rsv1?: boolean } = {}): Buffer {
  const first = ((options.fin ?? true) ? 0x80 : 0) | (options.rsv1 === true ? 0x40 : 0) | opcode;
  const length =
    payload.length < 126
      ? Buffer.from([0x80 | payload.length])
      : payload.length < 65536
        ? Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | 127]), bigEndian64(payload.length)]);
  const mask = randomBytes(4);
  return Buffer.concat([Buffer.from([first]), length, mask, Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!))]);
}

function bigEndian64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

/** A message compressed as permessage-deflate sends it: raw DEFLATE, flushed, without the flush's empty-block tail. */
export function deflatedMessage(text: string): Buffer {
  const flushed = deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH });
  return flushed.subarray(0, flushed.length - 4);
}

/** A frame a server sent: its opcode and payload (a close frame's: its code and reason). */
export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/**
 * A WebSocket client by hand, over TLS through a CONNECT tunnel to the proxy: it sends the frames a test builds (fragments,
 * compressed messages, which undici's client never sends) and reads the server's.
 */
export class RawWebSocketClient {
  readonly extensions: string;
  private readonly socket: TLSSocket;
  private unread: Buffer;
  private readonly waiting: Array<() => void>;
  private ended: boolean;

  private constructor(socket: TLSSocket, extensions: string, rest: Buffer) {
    this.socket = socket;
    this.extensions = extensions;
    this.unread = rest;
    this.waiting = [];
    this.ended = false;
    socket.on('data', (chunk: Buffer) => {
      this.unread = Buffer.concat([this.unread, chunk]);
      for (const wake of this.waiting.splice(0)) wake();
    });
    socket.on('close', () => {
      this.ended = true;
      for (const wake of this.waiting.splice(0)) wake();
    });
  }

  static async open(proxyPort: number, host: string, path: string, caPem: string, offerDeflate: boolean): Promise<RawWebSocketClient> {
    const tunnel = await connectTunnel(proxyPort, `${host}:443`);
    const socket = tlsConnect({ socket: tunnel.socket, servername: host, ca: caPem });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        (offerDeflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : '') +
        'x-goog-api-key: AIza-live-not-real\r\n\r\n',
    );
    let received = Buffer.alloc(0);
    while (received.indexOf('\r\n\r\n') === -1) {
      received = Buffer.concat([received, await new Promise<Buffer>((resolve) => socket.once('data', resolve))]);
    }
    const end = received.indexOf('\r\n\r\n');
    const head = received.subarray(0, end).toString('latin1');
    if (!/^HTTP\/1\.1 101 /.test(head)) throw new Error(`the handshake was answered ${head.split('\r\n')[0]}`);
    const extensions = /^sec-websocket-extensions: *(.*)$/im.exec(head)?.[1] ?? '';
    return new RawWebSocketClient(socket, extensions.trim(), received.subarray(end + 4));
  }

  send(...frames: Buffer[]): void {
    for (const frame of frames) this.socket.write(frame);
  }

  /** The next frame the server sends; null once the connection is closed without one. */
  async next(): Promise<ServerFrame | null> {
    for (;;) {
      if (this.unread.length >= 2) {
        const short = this.unread[1]! & 0x7f;
        const start = short === 126 ? 4 : 2;
        const length = short === 126 ? this.unread.readUInt16BE(2) : short;
        if (this.unread.length >= start + length) {
          const frame = { opcode: this.unread[0]! & 0x0f, payload: this.unread.subarray(start, start + length) };
          this.unread = this.unread.subarray(start + length);
          return frame;
        }
      }
      if (this.ended) return null;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
