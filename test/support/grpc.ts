// gRPC for the discovery gateway's tests: a mock provider speaking real gRPC over TLS h2 on loopback (length-prefixed
// messages, the status in trailers, or a Trailers-Only answer), and a client making one call through the proxy over a
// CONNECT tunnel with node:http2, as Google's gRPC clients (Vertex AI's, the Gemini API's) call them.
import {
  connect as http2Connect,
  constants,
  createSecureServer,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { connectTunnel } from './discovery.js';

/** One message in gRPC's framing: a compressed flag, a 4-byte big-endian length, the message. */
export function grpcFrame(message: Uint8Array, compressed = false): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** The messages of a gRPC body (gzip-compressed ones left as they came). */
export function grpcMessages(body: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let at = 0;
  while (at + 5 <= body.length) {
    const length = body.readUInt32BE(at + 1);
    messages.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}

/** A GenerateContentRequest with one user text part; `modelField` is 5 in Vertex AI's, 1 in the Gemini API's. */
export function generateContentRequest(model: string, modelField: 5 | 1, text = 'hi'): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32((modelField << 3) | 2).string(model);
  // contents = 2: Content { role = 1, parts = 2: Part { text = 1 } }
  writer.uint32((2 << 3) | 2).fork();
  writer.uint32((1 << 3) | 2).string('user');
  writer
    .uint32((2 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string(text)
    .ldelim();
  writer.ldelim();
  return writer.finish();
}

/** A GenerateContentResponse: one candidate's text, and usage_metadata when given (Vertex AI's field numbers). */
export function generateContentResponse(
  text: string,
  usage?: { prompt: number; candidates: number; total: number },
  layout: 'vertex' | 'gemini' = 'vertex',
): Uint8Array {
  const writer = protobuf.Writer.create();
  // candidates (Vertex 2, Gemini 1): Candidate { content = 1: Content { role = 1, parts = 2: Part { text = 1 } } }
  writer.uint32(((layout === 'vertex' ? 2 : 1) << 3) | 2).fork();
  writer.uint32((1 << 3) | 2).fork();
  writer.uint32((1 << 3) | 2).string('model');
  writer
    .uint32((2 << 3) | 2)
    .fork()
    .uint32((1 << 3) | 2)
    .string(text)
    .ldelim();
  writer.ldelim();
  writer.ldelim();
  if (usage !== undefined) {
    // usage_metadata (Vertex 4, Gemini 3): prompt_token_count 1, candidates_token_count 2, total_token_count 3
    writer.uint32(((layout === 'vertex' ? 4 : 3) << 3) | 2).fork();
    writer.uint32(1 << 3).int32(usage.prompt);
    writer.uint32(2 << 3).int32(usage.candidates);
    writer.uint32(3 << 3).int32(usage.total);
    writer.ldelim();
  }
  return writer.finish();
}

export interface GrpcReceived {
  path: string;
  headers: IncomingHttpHeaders;
  /** The request's messages, as framed (a compressed one still compressed). */
  messages: Buffer[];
}

export interface GrpcAnswer {
  messages?: Uint8Array[];
  /** grpc-status; 0 by default. */
  status?: number;
  message?: string;
  /** Answer with the status in the response headers alone (gRPC's Trailers-Only). */
  trailersOnly?: boolean;
  /** A pause before each message, to show that messages are relayed as they come. */
  gapMs?: number;
  /** gzip each message (grpc-encoding: gzip). */
  gzip?: boolean;
}

export type GrpcResponder = (call: GrpcReceived) => GrpcAnswer | Promise<GrpcAnswer>;

/** A gRPC provider over TLS h2 on loopback: records each call's messages and answers as scripted. */
export class GrpcMock {
  readonly received: GrpcReceived[] = [];
  private readonly server: Http2SecureServer;
  private readonly seenSessions = new Set<Http2Session>();
  private responder: GrpcResponder;
  port = 0;

  private constructor(tls: { cert: string; key: string }, responder: GrpcResponder) {
    this.responder = responder;
    this.server = createSecureServer(tls);
    this.server.on('stream', (stream, headers) => void this.handle(stream, headers));
  }

  static async start(tls: { cert: string; key: string }, responder: GrpcResponder): Promise<GrpcMock> {
    const mock = new GrpcMock(tls, responder);
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    const address = mock.server.address();
    mock.port = typeof address === 'object' && address !== null ? address.port : 0;
    return mock;
  }

  respondWith(responder: GrpcResponder): void {
    this.responder = responder;
  }

  /** How many calls the client cancelled (RST_STREAM CANCEL) before the mock had answered them whole. */
  cancelled = 0;

  /** How many h2 sessions (TLS connections) have been opened to the mock. */
  get sessions(): number {
    return this.seenSessions.size;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const session of this.seenSessions) session.destroy();
    });
  }

  private async handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    if (stream.session !== undefined) this.seenSessions.add(stream.session);
    stream.on('error', () => undefined);
    stream.once('close', () => {
      if (stream.rstCode === constants.NGHTTP2_CANCEL) this.cancelled++;
    });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const received: GrpcReceived = { path: String(headers[':path']), headers, messages: grpcMessages(Buffer.concat(chunks)) };
    this.received.push(received);
    const answer = await this.responder(received);
    const status = String(answer.status ?? 0);
    const trailers: Record<string, string> = { 'grpc-status': status };
    if (answer.message !== undefined) trailers['grpc-message'] = encodeURIComponent(answer.message);
    if (answer.trailersOnly === true) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...trailers }, { endStream: true });
      return;
    }
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', ...(answer.gzip === true ? { 'grpc-encoding': 'gzip' } : {}) },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => stream.sendTrailers(trailers));
    for (const message of answer.messages ?? []) {
      if (answer.gapMs !== undefined) await new Promise((resolve) => setTimeout(resolve, answer.gapMs));
      stream.write(answer.gzip === true ? grpcFrame(gzipSync(message), true) : grpcFrame(message));
    }
    stream.end();
  }
}

export interface GrpcResult {
  headers: IncomingHttpHeaders;
  /** Whether the answer was Trailers-Only: its headers frame ended the stream. */
  trailersOnly: boolean;
  messages: Buffer[];
  /** When each message arrived (ms since the call began). */
  arrivals: number[];
  trailers: IncomingHttpHeaders;
}

/**
 * One gRPC call through the discovery proxy: a CONNECT tunnel to `host:443`, TLS (trusting the organisation CA) with
 * ALPN h2, and the request as gRPC clients send it (POST, application/grpc, te: trailers), its body framed already
 * (grpcFrame).
 */
export async function grpcCall(
  proxyPort: number,
  orgCaPem: string,
  host: string,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
  /** Cancel the call (RST_STREAM CANCEL) once this many messages came, as a client abandoning a stream does. */
  cancelAfter?: number,
): Promise<GrpcResult> {
  const tunnel = await connectTunnel(proxyPort, `${host}:443`);
  if (tunnel.status !== 200) throw new Error(`CONNECT answered ${tunnel.status}`);
  const session = http2Connect(`https://${host}`, {
    createConnection: () => tlsConnect({ socket: tunnel.socket, servername: host, ca: orgCaPem, ALPNProtocols: ['h2'] }),
  });
  session.on('error', () => undefined);
  try {
    return await new Promise<GrpcResult>((resolve, reject) => {
      const started = Date.now();
      const stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': 'grpc-python/1.66.0 grpc-c/42.0.0',
        ...headers,
      });
      const result: GrpcResult = { headers: {}, trailersOnly: false, messages: [], arrivals: [], trailers: {} };
      let pending = Buffer.alloc(0);
      stream.on('response', (answer, flags) => {
        result.headers = answer;
        result.trailersOnly = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      });
      stream.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
          const length = pending.readUInt32BE(1);
          result.messages.push(pending.subarray(5, 5 + length));
          result.arrivals.push(Date.now() - started);
          pending = pending.subarray(5 + length);
        }
        if (cancelAfter !== undefined && result.messages.length >= cancelAfter) stream.close(constants.NGHTTP2_CANCEL);
      });
      stream.on('trailers', (trailers) => (result.trailers = trailers));
      stream.on('close', () => resolve(result));
      stream.on('error', reject);
      stream.end(body);
    });
  } finally {
    session.close();
  }
}
