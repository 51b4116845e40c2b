// A gRPC call through the discovery proxy (Google's Cloud clients call Vertex AI and the Gemini API over gRPC by
// default): it goes on to the origin over HTTP/2 (h2-sessions.ts), since gRPC's status travels in trailers that
// HTTP/1.1 forwarding drops, and its headers, messages and trailers are relayed both ways as they come, with
// backpressure. A provider's Trailers-Only answer (the status in the headers that end the stream) stays one. The
// proxy's own answers (an origin it cannot reach) are gRPC's too: a Trailers-Only answer with a gRPC status.
import {
  constants,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { performance } from 'node:perf_hooks';
import { endToEndHeaders, type ClientRequest, type ForwardDeps, type Target } from './forward.js';
import { FirstMessageReader, GrpcAnswerReader, grpcMethod } from './grpc-reading.js';
import { recordCall } from './record-call.js';

const GRPC_TYPE = /^application\/grpc(?:$|[+;])/i;
const CERTIFICATE_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS/;

/** gRPC status codes the proxy answers with (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
} as const;

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
export function grpcTrailersOnly(res: Http2ServerResponse, status: number, message: string): void {
  const { stream } = res;
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(status), 'grpc-message': grpcMessage(message) },
    { endStream: true },
  );
}

/** Sends a gRPC call on to its origin over HTTP/2 and relays the answer, headers, messages and trailers, as it comes. */
export function forwardGrpc(req: Http2ServerRequest, res: Http2ServerResponse, target: Target, deps: ForwardDeps): void {
  const started = performance.now();
  const { entry } = target;
  const path = req.url;
  const method = entry === null ? null : grpcMethod(path);
  const codingOf = (headers: IncomingHttpHeaders) =>
    String(headers['grpc-encoding'] ?? '')
      .trim()
      .toLowerCase();
  // The model is read from a copy of the first message as it passes.
  const request = method === null ? null : new FirstMessageReader(method, codingOf(req.headers), deps.config.maxParseBytes);
  if (request !== null) {
    const onData = (chunk: Buffer) => {
      if (request.push(chunk)) req.off('data', onData);
    };
    req.on('data', onData);
    req.once('end', () => request.end());
    req.once('close', () => request.end());
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
  const upstream = deps.h2Sessions.get(target.host, target.port).request(headers);
  let ended = false;
  const failed = (error: NodeJS.ErrnoException) => {
    // A stream the session's failure cancelled carries that failure (a certificate refused, a refused connection) as cause.
    const code = (error.cause as NodeJS.ErrnoException | undefined)?.code ?? error.code ?? '';
    if (entry !== null) deps.metrics.calls.inc({ provider: entry.provider, outcome: 'upstream_error' });
    if (CERTIFICATE_ERRORS.test(code)) {
      deps.log.warn({ host: target.host, code }, 'discovery: the upstream certificate is not trusted; call refused');
      grpcTrailersOnly(
        res,
        GrpcStatus.UNAVAILABLE,
        `Sluice discovery: the certificate of ${target.host} is not trusted (${code}); the call was not sent.`,
      );
    } else {
      deps.log.debug({ host: target.host, code }, 'discovery: upstream failed');
      grpcTrailersOnly(res, GrpcStatus.UNAVAILABLE, `Sluice discovery: ${target.host} cannot be reached (${code || 'error'}).`);
    }
  };
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
      if (!res.stream.destroyed) res.stream.respond({ ...relayed, ':status': status }, { endStream: true });
      upstream.resume();
      return;
    }
    upstream.on('trailers', (trailers: IncomingHttpHeaders) => res.addTrailers(endToEndHeaders(trailers) as Record<string, string>));
    res.writeHead(status, relayed);
    upstream.pipe(res as unknown as NodeJS.WritableStream);
  });
  req.pipe(upstream);
}
