// An HTTP/1.1 upgrade through the discovery proxy (a WebSocket: OpenAI's and Azure's Realtime API on an intercepted host,
// any ws:// service on another): the handshake goes on to the origin with its Upgrade and Connection headers, and once
// the origin switches protocols the two sockets are spliced, byte for byte both ways. An origin that does not switch has
// its answer relayed as it came. A body sent before the switch (an h2c upgrade on a POST), with a content-length or
// chunked, goes on with the handshake. A session with a catalog host is one call, recorded when it opens (the model
// from the path, or the `model` query parameter OpenAI's Realtime API takes, Azure's `deployment`); enforce mode refuses
// an unsanctioned model before it opens, and, with a catalog host, an upgrade it could not check (one with a body, or
// not to WebSocket). A Gemini Live session names its model in its first message, after the switch (live-session.ts).
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pathRefusal, refusal, upgradeRefusal, type Refusal } from './enforce.js';
import { ChunkedBodyDecoder } from './chunked.js';
import { connectAddress, endToEndHeaders, type ForwardDeps, type Target } from './forward.js';
import { sourceOf } from './hints.js';
import { isLiveSession, LiveSessionSetup } from './live-session.js';
import { pathNotNormal, readRequest } from './reading.js';
import { deflateNegotiated } from './websocket-frames.js';

/** The answer head as the origin sent it (its own header names), for a client that reads it off the socket. */
function head(answer: IncomingMessage, extra: string[] = []): string {
  const lines = [`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}`];
  const raw = answer.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    // The body is relayed decoded and the connection ends after it: its framing is the close.
    if (!/^(transfer-encoding|connection|keep-alive)$/i.test(raw[i]!)) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  return `${[...lines, ...extra].join('\r\n')}\r\n\r\n`;
}

/** A refusal written on the socket itself (the request never became a response object), and the connection ended. */
function refuseOnSocket(socket: Duplex, refused: Refusal): void {
  const lines = Object.entries(refused.headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(
    `HTTP/1.1 ${refused.status} ${STATUS_CODES[refused.status] ?? ''}\r\n${lines.join('')}connection: close\r\n\r\n${refused.text}`,
  );
}

function fail(socket: Duplex, status: number, reason: string, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify({ error: { message, type: 'proxy_error', code: status === 502 ? 'upstream_unavailable' : 'bad_request' } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

/** Sends an upgrade request on to its origin and splices the connection once the origin switches protocols. */
export function forwardUpgrade(req: IncomingMessage, socket: Duplex, clientHead: Buffer, target: Target, deps: ForwardDeps): void {
  socket.on('error', () => socket.destroy());
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? null : new URLSearchParams(url.slice(queryAt + 1));
  const { entry } = target;
  if (entry !== null && deps.config.mode === 'enforce' && pathNotNormal(path) && deps.policy.refusesSome(entry.provider)) {
    deps.metrics.calls.inc({ provider: entry.provider, outcome: 'blocked' });
    deps.log.warn(
      { provider: entry.provider, client: target.clientIp },
      'discovery: an upgrade whose path is not in its normal form refused',
    );
    refuseOnSocket(socket, pathRefusal(entry.wire));
    return;
  }
  const reading = entry === null ? null : readRequest(entry.wire, path, null, query);
  // The Realtime API names its model in the query (`model`, Azure's `deployment`), which the reading takes on OpenAI's
  // wire; on another, a `model` parameter still names one.
  const model = reading === null ? null : (reading.model ?? query?.get('model') ?? null);
  if (entry !== null && model !== null && deps.config.mode === 'enforce' && deps.policy.refuses(entry.provider, model)) {
    deps.metrics.calls.inc({ provider: entry.provider, outcome: 'blocked' });
    deps.log.warn({ provider: entry.provider, model, client: target.clientIp }, 'discovery: a session with an unsanctioned model refused');
    refuseOnSocket(socket, refusal(entry.wire, entry.provider, model));
    return;
  }
  // Fail closed, as forward.ts is for a body it cannot read: an upgrade request's body is not read for a model (and an
  // origin that does not switch answers it as the call it is), and a protocol other than WebSocket (h2c) would carry
  // calls the proxy never reads.
  if (entry !== null && reading !== null && deps.config.mode === 'enforce' && deps.policy.refusesSome(entry.provider)) {
    const withBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') !== 0;
    const protocol = String(req.headers.upgrade ?? '').trim();
    if ((withBody && reading.modelInBody) || protocol.toLowerCase() !== 'websocket') {
      deps.metrics.calls.inc({ provider: entry.provider, outcome: 'blocked' });
      deps.log.warn(
        { provider: entry.provider, upgrade: protocol, withBody, client: target.clientIp },
        'discovery: an upgrade whose calls cannot be read refused',
      );
      refuseOnSocket(socket, upgradeRefusal(entry.wire, protocol, withBody));
      return;
    }
  }
  // A request body before the switch (an h2c upgrade on a POST) goes on with the request: Node's server leaves it on
  // the socket, where it ends (its content-length, or its last chunk) is where the switched protocol's bytes begin.
  const transferEncoding = req.headers['transfer-encoding'];
  const chunked = transferEncoding !== undefined ? new ChunkedBodyDecoder() : null;
  const declared = Number(req.headers['content-length'] ?? '0');
  if (
    (transferEncoding !== undefined &&
      (transferEncoding.trim().toLowerCase() !== 'chunked' || req.headers['content-length'] !== undefined)) ||
    !Number.isSafeInteger(declared) ||
    declared < 0
  ) {
    fail(socket, 400, 'Bad Request', 'Sluice discovery: an upgrade request carries a body only with a content-length or chunked alone.');
    return;
  }
  const headers = endToEndHeaders(req.headers);
  if (declared > 0) headers['content-length'] = String(declared);
  // Node's client frames the decoded body anew: the origin never sees the client's own chunk framing.
  if (chunked !== null) headers['transfer-encoding'] = 'chunked';
  // Hop-by-hop everywhere else, but the handshake itself here.
  headers.connection = 'Upgrade';
  headers.upgrade = req.headers.upgrade;
  if (req.headers['http2-settings'] !== undefined) headers['http2-settings'] = req.headers['http2-settings'];
  const address = connectAddress(deps.config, target.host, target.port);
  const options = {
    host: address.host,
    port: address.port,
    method: req.method,
    path: url,
    headers,
    ...(target.secure ? { servername: isIP(target.host) === 0 ? target.host : undefined } : {}),
    ...(target.secure && deps.upstreamContext !== undefined ? { secureContext: deps.upstreamContext } : {}),
  };
  // What came after the body in the head already read: the switched protocol's first bytes (set once the body is sent).
  let afterBody: Buffer = clientHead.subarray(declared);
  // No pooled agent: an upgraded socket leaves the pool for good.
  const upstream = target.secure ? httpsRequest({ ...options, agent: false }) : httpRequest({ ...options, agent: false });
  const closed = () => upstream.destroy();
  socket.once('close', closed);
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (entry !== null) deps.metrics.calls.inc({ provider: entry.provider, outcome: 'upstream_error' });
    deps.log.debug({ host: target.host, code: error.code }, 'discovery: upstream failed (upgrade)');
    fail(socket, 502, 'Bad Gateway', `Sluice discovery: ${target.host} cannot be reached (${error.code ?? 'error'}).`);
  });
  upstream.on('upgrade', (answer: IncomingMessage, origin: Socket, originHead: Buffer) => {
    socket.off('close', closed);
    origin.on('error', () => socket.destroy());
    socket.on('error', () => origin.destroy());
    origin.on('close', () => socket.destroy());
    socket.on('close', () => origin.destroy());
    socket.write(head(answer, ['Connection: Upgrade']));
    if (originHead.length > 0) socket.write(originHead);
    origin.pipe(socket);
    if (entry === null) {
      if (afterBody.length > 0) origin.write(afterBody);
      socket.pipe(origin);
      return;
    }
    const record = (recorded: string | null, outcome: 'observed' | 'unparsed') => {
      deps.metrics.calls.inc({ provider: entry.provider, outcome });
      deps.record({
        at: Date.now(),
        source: sourceOf(
          { clientIp: target.clientIp, proxyUser: target.proxyUser, host: target.host },
          req.headers,
          query,
          answer.headers,
          deps.fingerprints,
        ),
        provider: entry.provider,
        model: recorded,
        inputTokens: null,
        outputTokens: null,
        costNanoUsd: null,
      });
    };
    if (isLiveSession(entry.wire)) {
      // A Gemini Live session names its model in its first message: read (enforcing, held) before it is recorded. A model
      // in its path or query (checked above) is not what it runs: the setup's is.
      new LiveSessionSetup({
        client: socket,
        origin,
        early: afterBody,
        deflate: deflateNegotiated(answer.headers['sec-websocket-extensions']),
        hold: deps.config.mode === 'enforce' && deps.policy.refusesSome(entry.provider),
        provider: entry.provider,
        clientIp: target.clientIp,
        deps,
        record: (setup) => record(setup.model, setup.model === null ? 'unparsed' : 'observed'),
      });
      return;
    }
    if (afterBody.length > 0) origin.write(afterBody);
    socket.pipe(origin);
    record(model, 'observed');
  });
  // The origin did not switch protocols (a 401, a 426): its answer goes back as it came, and the connection ends.
  upstream.on('response', (answer: IncomingMessage) => {
    socket.off('close', closed);
    socket.once('close', () => answer.destroy());
    socket.write(head(answer, ['Connection: close']));
    answer.pipe(socket);
  });
  if (chunked === null) sendBody(socket, clientHead, declared, upstream);
  else afterBody = sendChunkedBody(socket, clientHead, chunked, upstream);
}

/** Trailer fields that frame or route the message: never taken from a client's trailer section. */
const NOT_TRAILERS =
  /^(content-length|transfer-encoding|content-encoding|content-type|host|connection|keep-alive|te|trailer|upgrade|proxy-.*)$/i;

/**
 * Sends a chunked body decoded (Node's client frames it anew), then ends the request; a body that is not chunked as it
 * says is a 400 and nothing more of it goes on. Returns what followed the body in `head` (the rest is put back on the
 * socket, as sendBody does).
 */
function sendChunkedBody(socket: Duplex, head: Buffer, decoder: ChunkedBodyDecoder, upstream: ReturnType<typeof httpRequest>): Buffer {
  const take = (bytes: Buffer): boolean => {
    try {
      for (const part of decoder.push(bytes)) upstream.write(part);
    } catch (error) {
      socket.off('data', onData);
      // The upstream request is dropped quietly: the client's 400 is the answer.
      upstream.removeAllListeners('error');
      upstream.on('error', () => undefined);
      upstream.destroy();
      fail(socket, 400, 'Bad Request', `Sluice discovery: the upgrade request's chunked body is malformed (${(error as Error).message}).`);
      return true;
    }
    if (!decoder.done) return false;
    const trailers = decoder.trailers.filter(([name]) => !NOT_TRAILERS.test(name));
    try {
      if (trailers.length > 0) upstream.addTrailers(trailers);
    } catch {
      // A trailer value Node refuses to write (a control character): dropped, like any trailer a recipient ignores.
    }
    upstream.end();
    return true;
  };
  const onData = (chunk: Buffer) => {
    if (!take(chunk)) return;
    socket.off('data', onData);
    socket.pause();
    // What came after the body belongs to the protocol switched to: back to the front of the stream for the splice.
    if (decoder.done && decoder.rest.length > 0) socket.unshift(decoder.rest);
  };
  if (head.length > 0 && take(head)) return decoder.done ? decoder.rest : Buffer.alloc(0);
  socket.on('data', onData);
  return Buffer.alloc(0);
}

/** Sends the `length` bytes of body that follow the head (some already read, in `head`), then ends the request. */
function sendBody(socket: Duplex, head: Buffer, length: number, upstream: ReturnType<typeof httpRequest>): void {
  let left = length;
  if (left > 0 && head.length > 0) {
    upstream.write(head.subarray(0, left));
    left -= Math.min(left, head.length);
  }
  if (left === 0) {
    upstream.end();
    return;
  }
  const onData = (chunk: Buffer) => {
    const part = chunk.subarray(0, left);
    left -= part.length;
    upstream.write(part);
    if (left > 0) return;
    socket.off('data', onData);
    // What came after the body belongs to the protocol switched to: back to the front of the stream for the splice.
    if (part.length < chunk.length) socket.unshift(chunk.subarray(part.length));
    socket.pause();
    upstream.end();
  };
  socket.on('data', onData);
}
