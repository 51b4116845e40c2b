// A gRPC call through the discovery proxy (Google's Cloud clients call Vertex AI and the Gemini API over gRPC by
// default): it goes on to the origin over HTTP/2 (h2-sessions.ts), since gRPC's status travels in trailers that
// HTTP/1.1 forwarding drops, and its headers, messages and trailers are relayed both ways as they come, with
// backpressure. A provider's Trailers-Only answer (the status in the headers that end the stream) stays one. The
// proxy's own answers are gRPC's too, Trailers-Only with a gRPC status: an origin it cannot reach, and in enforce mode
// a call to a refused model, or one whose first message cannot be read (fail closed), which never reach the provider.
// The call's model and usage are read from copies of its messages (grpc-reading.ts) and recorded like a REST call's.
import {
  constants,
  type ClientHttp2Stream,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { performance } from 'node:perf_hooks';
import { endToEndHeaders, type ClientRequest, type ForwardDeps, type Target } from './forward.js';
import type { HostEntry } from './catalog.js';
import { grpcRefusal, grpcUnreadableRefusal, type GrpcRefusal } from './enforce.js';
import { FirstMessageReader, GrpcAnswerReader, grpcMethod, type RequestRead } from './grpc-reading.js';
import { recordCall } from './record-call.js';

const GRPC_TYPE = /^application\/grpc(?:$|[+;])/i;
const CERTIFICATE_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS/;

/** gRPC's UNAVAILABLE (https://grpc.github.io/grpc/core/md_doc_statuscodes.html): what clients retry, as a 502. */
const GRPC_UNAVAILABLE = 14;

/** Whether a request is a gRPC call: over HTTP/2, in application/grpc (or a +proto, +json subtype). */
export function isGrpc(req: ClientRequest): req is Http2ServerRequest {
  return req.httpVersionMajor === 2 && GRPC_TYPE.test(String(req.headers['content-type'] ?? ''));
}

/** grpc-message's percent-encoding: bytes outside printable ASCII, and `%`, as %XX of their UTF-8. */
function grpcMessage(text: string): string {
  return Buffer.from(text, 'utf8').reduce(
    (out, byte) =>
      out +
      (byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`),
    '',
  );
}

/**
 * A Trailers-Only answer: HTTP 200, application/grpc, the status and message in the one headers frame that ends the
 * stream, as gRPC servers answer a call they fail before any message. Past the headers, the stream is reset.
 */
export function grpcTrailersOnly(res: Http2ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const { stream } = res;
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond(
    { ...headers, ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(status), 'grpc-message': grpcMessage(message) },
    { endStream: true },
  );
}

/**
 * Sends a gRPC call on to its origin over HTTP/2 and relays the answer, headers, messages and trailers, as it comes. In
 * enforce mode a call whose method names a model is held until its first message is read and checked.
 */
export async function forwardGrpc(req: Http2ServerRequest, res: Http2ServerResponse, target: Target, deps: ForwardDeps): Promise<void> {
  const started = performance.now();
  const { entry } = target;
  const path = req.url;
  const method = entry === null ? null : grpcMethod(path);
  const codingOf = (headers: IncomingHttpHeaders) =>
    String(headers['grpc-encoding'] ?? '')
      .trim()
      .toLowerCase();
  const encoding = codingOf(req.headers);
  const request = method === null ? null : new FirstMessageReader(method, encoding, deps.config.maxParseBytes);
  // What was held back to be read first (enforce mode), sent on ahead of the rest once the call passes.
  const held: Buffer[] = [];
  let requestEnded = false;
  req.once('end', () => (requestEnded = true));
  if (request !== null) {
    const hold = entry !== null && deps.config.mode === 'enforce';
    const onData = (chunk: Buffer) => {
      if (hold) held.push(chunk);
      if (!request.push(chunk)) return;
      req.off('data', onData);
      if (hold) req.pause();
    };
    req.on('data', onData);
    req.once('end', () => request.end());
    req.once('close', () => request.end());
    if (hold) {
      const refused = checked(await request.read, entry, encoding, target, deps);
      req.off('data', onData);
      if (refused !== null) {
        deps.metrics.calls.inc({ provider: entry.provider, outcome: 'blocked' });
        req.resume(); // the rest of the request is read and dropped
        grpcTrailersOnly(res, refused.grpcStatus, refused.message, refused.headers);
        return;
      }
      if (res.stream.destroyed || res.stream.closed) return; // the client went away while it was read
    }
  }
  const authority = req.headers[':authority'] ?? (target.port === 443 ? target.host : `${target.host}:${target.port}`);
  const headers: OutgoingHttpHeaders = {
    ...endToEndHeaders(req.headers),
    ':method': req.method,
    ':scheme': 'https',
    ':authority': authority,
    ':path': path,
  };
  delete headers.host;
  // `te: trailers` is the one TE HTTP/2 allows, and gRPC servers require it (it tells them trailers will get through).
  if (String(req.headers.te ?? '').toLowerCase() === 'trailers') headers.te = 'trailers';
  // Set once the client's answer is settled: the whole answer relayed, or the call failed here.
  let ended = false;
  const failed = (error: NodeJS.ErrnoException) => {
    if (ended) return;
    ended = true;
    // A stream the session's failure cancelled carries that failure (a certificate refused, a refused connection) as cause.
    const code = (error.cause as NodeJS.ErrnoException | undefined)?.code ?? error.code ?? '';
    if (entry !== null) deps.metrics.calls.inc({ provider: entry.provider, outcome: 'upstream_error' });
    if (CERTIFICATE_ERRORS.test(code)) {
      deps.log.warn({ host: target.host, code }, 'discovery: the upstream certificate is not trusted; call refused');
      grpcTrailersOnly(
        res,
        GRPC_UNAVAILABLE,
        `Sluice discovery: the certificate of ${target.host} is not trusted (${code}); the call was not sent.`,
      );
    } else {
      deps.log.debug({ host: target.host, code }, 'discovery: upstream failed');
      grpcTrailersOnly(res, GRPC_UNAVAILABLE, `Sluice discovery: ${target.host} cannot be reached (${code || 'error'}).`);
    }
  };
  let upstream: ClientHttp2Stream;
  try {
    upstream = deps.h2Sessions.get(target.host, target.port).request(headers);
  } catch (error) {
    // A session that went away (GOAWAY) between being taken and used: answered as an origin that cannot be reached.
    req.resume();
    failed(error as NodeJS.ErrnoException);
    return;
  }
  upstream.on('error', failed);
  // A stream reset either way is passed on with its code: the client cancelling, the provider refusing a stream.
  res.stream.once('close', () => {
    if (!upstream.closed) upstream.close(res.stream.rstCode ?? constants.NGHTTP2_CANCEL);
  });
  upstream.once('close', () => {
    if (ended || res.stream.closed || res.stream.destroyed) return;
    if (!res.stream.headersSent && upstream.rstCode !== undefined && upstream.rstCode !== constants.NGHTTP2_NO_ERROR) {
      failed(Object.assign(new Error('reset'), { code: `stream reset (HTTP/2 error ${upstream.rstCode})` }));
    } else res.stream.close(upstream.rstCode ?? constants.NGHTTP2_INTERNAL_ERROR);
  });
  upstream.once('end', () => (ended = true));
  upstream.on('response', (answer: IncomingHttpHeaders, flags: number) => {
    const headersAt = performance.now();
    const status = Number(answer[':status'] ?? 502);
    const relayed = endToEndHeaders(answer);
    if (entry !== null) {
      const reader = new GrpcAnswerReader(method, codingOf(answer), deps.config.maxParseBytes);
      let firstByteAt: number | null = null;
      upstream.on('data', (chunk: Buffer) => {
        firstByteAt ??= performance.now();
        reader.push(chunk);
      });
      // Recorded once the call is over, whole or cut short (a client cancelling a stream): it reached the provider.
      upstream.once('close', () => {
        const endedAt = performance.now();
        request?.end();
        void Promise.all([request?.read ?? null, reader.end()]).then(
          ([asked, read]) => {
            const requested = asked?.model ?? null;
            recordCall(deps, target, entry, {
              model: requested ?? read.model,
              priced: read.model ?? requested,
              usage: read.usage,
              unparsed: read.unparsed || (asked?.unreadable ?? null) !== null,
              operation: method?.operation ?? path.slice(path.lastIndexOf('/') + 1),
              stream: method?.stream ?? false,
              status,
              timings: { started, headersAt, firstByteAt, endedAt },
              request: req.headers,
              query: null,
              answer,
            });
          },
          (error: unknown) => deps.log.error({ err: (error as Error).message, host: target.host }, 'discovery: a call cannot be recorded'),
        );
      });
    }
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      // Trailers-Only: the status is in these headers, and no trailers follow; sent as one frame ending the stream.
      ended = true;
      // (Unless the client went away first: respond() on a closed stream throws, here out of an event handler.)
      const gone = res.stream.destroyed || res.stream.closed || res.stream.headersSent;
      if (!gone) res.stream.respond({ ...relayed, ':status': status }, { endStream: true });
      upstream.resume();
      return;
    }
    upstream.on('trailers', (trailers: IncomingHttpHeaders) => res.addTrailers(endToEndHeaders(trailers) as Record<string, string>));
    res.writeHead(status, relayed);
    upstream.pipe(res as unknown as NodeJS.WritableStream);
  });
  for (const chunk of held) upstream.write(chunk);
  if (requestEnded) upstream.end();
  else req.pipe(upstream);
}

/**
 * Enforce mode's check of a gRPC call by its first message: the refusal of a model the policy refuses, or of a message
 * that cannot be read while some model of the provider is refused (fail closed); null when it may go on.
 */
function checked(read: RequestRead, entry: HostEntry, encoding: string, target: Target, deps: ForwardDeps): GrpcRefusal | null {
  if (read.unreadable !== null) {
    if (!deps.policy.refusesSome(entry.provider)) return null;
    deps.log.warn(
      { provider: entry.provider, reason: read.unreadable, encoding: encoding || 'identity', client: target.clientIp },
      'discovery: a call whose model cannot be read refused',
    );
    return grpcUnreadableRefusal(read.unreadable, encoding, deps.config.maxParseBytes);
  }
  if (read.model === null || !deps.policy.refuses(entry.provider, read.model)) return null;
  deps.log.warn(
    { provider: entry.provider, model: read.model, client: target.clientIp },
    'discovery: a call to an unsanctioned model refused',
  );
  return grpcRefusal(entry.provider, read.model);
}
