// One request through the discovery proxy to its origin: read (a copy of) the request body up to the bound, decompressed
// when it was sent compressed, apply enforce mode, send it on over HTTPS with the upstream's certificate verified (or
// plain HTTP for absolute-form requests), and relay the answer as it comes, reading model, usage, status, latency and
// time to first byte on the way.
import {
  request as httpRequest,
  type Agent as HttpAgent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { isIP } from 'node:net';
import type { SecureContext } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { DiscoveryConfig } from '../config/discovery-schema.js';
import type { PriceCatalog } from '../metering/price-catalog.js';
import { entryAt, type HostEntry } from './catalog.js';
import {
  pathRefusal,
  refusal,
  refuse,
  repeatedKeyRefusal,
  unnamedModelRefusal,
  unreadableRefusal,
  type DiscoveryPolicy,
  type Refusal,
} from './enforce.js';
import { repeatsKey, tryParseJson } from '../wire/json.js';
import type { Fingerprinter } from './hints.js';
import type { DiscoveryMetrics } from './metrics.js';
import { contentCodings, decodeContent } from '../wire/content-coding.js';
import { FormReading } from './form-reading.js';
import type { UpstreamSessions } from './h2-sessions.js';
import { pathNotNormal, readRequest, ResponseReader, type UnreadableBody } from './reading.js';
import type { SeenCall } from './report.js';
import { recordCall } from './record-call.js';

export type ClientRequest = IncomingMessage | Http2ServerRequest;
type ClientRequestOut = ReturnType<typeof httpRequest>;
export type ClientResponse = ServerResponse | Http2ServerResponse;

/** Where a request goes and who sent it. */
export interface Target {
  secure: boolean;
  host: string;
  port: number;
  entry: HostEntry | null;
  clientIp: string | undefined;
  proxyUser: string | null;
}

export interface ForwardDeps {
  config: DiscoveryConfig;
  httpsAgent: HttpsAgent;
  /** The system roots and `upstream.caFile`, when one is configured: what upstream certificates are verified against. */
  upstreamContext: SecureContext | undefined;
  httpAgent: HttpAgent;
  /** HTTP/2 sessions to origins, for gRPC calls (grpc.ts). */
  h2Sessions: UpstreamSessions;
  policy: DiscoveryPolicy;
  prices: PriceCatalog;
  fingerprints: Fingerprinter;
  metrics: DiscoveryMetrics;
  log: Logger;
  record: (call: SeenCall) => void;
}

/** Hop-by-hop headers (RFC 9110 7.6.1), the proxy's own, and HTTP/2 pseudo-headers never go on to the next hop. */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

export function endToEndHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  const named =
    typeof headers.connection === 'string'
      ? headers.connection
          .toLowerCase()
          .split(',')
          .map((name) => name.trim())
      : [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || HOP_BY_HOP.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The address to connect to for host:port: a `upstream.resolve` entry, else the host itself. */
export function connectAddress(config: DiscoveryConfig, host: string, port: number): { host: string; port: number } {
  const mapped = config.upstream.resolve[`${host}:${port}`] ?? config.upstream.resolve[host];
  if (mapped === undefined) return { host, port };
  const at = mapped.lastIndexOf(':');
  return { host: mapped.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(mapped.slice(at + 1)) };
}

interface BodyCopy {
  chunks: Buffer[];
  /** The whole body, when it was within the bound; null past it (the rest is still in the request, unread). */
  whole: Buffer | null;
  ended: boolean;
}

/** Reads the request body up to `max` bytes; past it, stops (the rest streams on to the upstream unread). */
function readBody(req: ClientRequest, max: number): Promise<BodyCopy> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (copy: BodyCopy) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      resolve(copy);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > max) {
        req.pause();
        done({ chunks, whole: null, ended: false });
      }
    };
    const onEnd = () => done({ chunks, whole: Buffer.concat(chunks), ended: true });
    const onError = (error: Error) => reject(error);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * Whether a body begins as a multipart one does (`--` and its boundary), as files and audio are uploaded. The proxy
 * reads models from JSON only, and no JSON parser (the provider's either) takes such a body: its size changes nothing,
 * so it is not refused for it. (A form, multipart/form-data, is read for its model fields at any size: form-reading.ts.)
 */
function isMultipart(chunks: Buffer[]): boolean {
  const first = chunks[0];
  if (first === undefined) return false;
  const second = first.length > 1 ? first[1] : chunks[1]?.[0];
  return first[0] === 0x2d && second === 0x2d;
}

function upstreamFailure(res: ClientResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify({ error: { message, type: 'proxy_error', code: status === 502 ? 'upstream_unavailable' : 'bad_request' } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

const CERTIFICATE_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS/;
/**
 * Where a batch's input file is uploaded: OpenAI's Files API (and the OpenAI-compatible APIs that copy it), and each
 * part of one sent through its Uploads API (`POST /uploads/{upload_id}/parts`, the bytes in the form's `data`).
 */
const BATCH_FILE_PATH = /\/files$|\/uploads\/[^/]+\/parts$/;

/** Whether a body is JSON repeating a key in one of its objects (not JSON at all: no). */
function repeatsKeyInJson(body: Buffer): boolean {
  if (body.length === 0) return false;
  const text = body.toString('utf8');
  return tryParseJson(text) !== undefined && repeatsKey(text);
}

/** Sends one request on and relays its answer; for a catalog host, records what it read once the answer is over. */
export async function forward(req: ClientRequest, res: ClientResponse, target: Target, deps: ForwardDeps): Promise<void> {
  const started = performance.now();
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? null : new URLSearchParams(url.slice(queryAt + 1));
  const entry = target.entry === null ? null : entryAt(target.entry, path);
  if (entry !== null && deps.config.mode === 'enforce' && pathNotNormal(path) && deps.policy.refusesSome(entry.provider)) {
    deps.metrics.calls.inc({ provider: entry.provider, outcome: 'blocked' });
    deps.log.warn({ provider: entry.provider, client: target.clientIp }, 'discovery: a call whose path is not in its normal form refused');
    req.resume(); // its body is read and dropped, so that the client reads its refusal
    refuse(res, pathRefusal(entry.wire));
    return;
  }
  // Unread bodies (another host's, a GET's) stream straight on.
  let body: BodyCopy = { chunks: [], whole: null, ended: false };
  // What the model is read from: the body as sent, or decompressed; null when it cannot be read (`unreadable` says why).
  let readable: Buffer | null = null;
  let unreadable: UnreadableBody | null = null;
  let codings: string[] = [];
  if (entry !== null && req.method !== 'GET' && req.method !== 'HEAD') {
    try {
      body = await readBody(req, deps.config.maxParseBytes);
    } catch {
      res.destroy();
      return;
    }
    readable = body.whole;
    codings = contentCodings(req.headers['content-encoding']);
    if (readable === null) unreadable = 'too_large';
    else if (codings.length > 0 && readable.length > 0) {
      // Decompressed only to be read: what goes on is the bytes as sent.
      const decompressed = await decodeContent(codings, readable, deps.config.maxParseBytes);
      if (typeof decompressed === 'string') {
        unreadable = decompressed;
        readable = null;
      } else readable = decompressed;
    }
  }
  const reading = entry === null ? null : readRequest(entry.wire, path, readable, query);
  // An upload names its model in a form field: the form is read whole when it was, else up to the bound now and the rest
  // as it goes on (relayForm), each chunk read before it is sent. A compressed form past the bound stays unreadable.
  const form =
    reading !== null && reading.modelInBody && (readable !== null || codings.length === 0)
      ? FormReading.open(req.headers['content-type'], BATCH_FILE_PATH.test(path))
      : null;
  if (form !== null) {
    if (readable !== null) {
      await form.read(readable);
      await form.end();
    } else {
      for (const chunk of body.chunks) await form.read(chunk);
      unreadable = null;
    }
  }
  const enforcing = deps.config.mode === 'enforce';
  const refusedModel = (at: HostEntry, model: string): Refusal => {
    deps.log.warn({ provider: at.provider, model, client: target.clientIp }, 'discovery: a call to an unsanctioned model refused');
    return refusal(at.wire, at.provider, model);
  };
  /** The refusal of a model the form has named so far (in a field, or a batch file's requests) that the policy refuses. */
  const formRefusal = (): Refusal | null => {
    if (!enforcing || form === null || entry === null) return null;
    const model = form.named().find((name) => deps.policy.refuses(entry.provider, name));
    return model === undefined ? null : refusedModel(entry, model);
  };
  if (entry !== null && reading !== null && enforcing) {
    let refused: Refusal | null = null;
    // Fail closed: a body the model would be read from but cannot be is not let through unchecked, unless no model of
    // this provider is refused (then nothing it could name would be). An upload in another multipart type than a form
    // is never read for a model, whatever its size: its size is no reason to refuse it.
    if (
      unreadable !== null &&
      reading.modelInBody &&
      !(unreadable === 'too_large' && codings.length === 0 && isMultipart(body.chunks)) &&
      deps.policy.refusesSome(entry.provider)
    ) {
      const encoding = String(req.headers['content-encoding'] ?? 'identity');
      deps.log.warn(
        { provider: entry.provider, reason: unreadable, encoding, client: target.clientIp },
        'discovery: a call whose model cannot be read refused',
      );
      refused = unreadableRefusal(entry.wire, unreadable, encoding, deps.config.maxParseBytes);
    } else if (readable !== null && form === null && deps.policy.refusesSome(entry.provider) && repeatsKeyInJson(readable)) {
      deps.log.warn({ provider: entry.provider, client: target.clientIp }, 'discovery: a call whose JSON body repeats a key refused');
      refused = repeatedKeyRefusal(entry.wire);
    } else {
      // Every name of what would run: the body's model (all a form or a batch gives), and Azure's deployment beside it.
      const named =
        form !== null && form.named().length > 0 ? form.named() : (reading.batchModels ?? (reading.model === null ? [] : [reading.model]));
      if (reading.deployment !== undefined) named.push(reading.deployment);
      const model = named.find((name) => deps.policy.refuses(entry.provider, name));
      if (model !== undefined) refused = refusedModel(entry, model);
      else if (
        req.method === 'POST' &&
        reading.operation === 'responses' &&
        (reading.model === null || (reading.storedPrompt !== undefined && !deps.policy.sanctions(entry.provider, reading.model))) &&
        deps.policy.refusesSome(entry.provider)
      ) {
        // A Responses call naming no model runs its stored prompt's, which the proxy cannot see: not sent unchecked.
        deps.log.warn(
          { provider: entry.provider, prompt: reading.storedPrompt, client: target.clientIp },
          'discovery: a call naming no model refused',
        );
        refused = unnamedModelRefusal(entry.wire, entry.provider, reading.storedPrompt ?? null);
      }
    }
    if (refused !== null) {
      deps.metrics.calls.inc({ provider: entry.provider, outcome: 'blocked' });
      if (!body.ended) req.resume();
      refuse(res, refused);
      return;
    }
  }

  const headers = endToEndHeaders(req.headers);
  const authority = req.headers[':authority'];
  if (headers.host === undefined)
    headers.host =
      typeof authority === 'string'
        ? authority
        : target.port === (target.secure ? 443 : 80)
          ? target.host
          : `${target.host}:${target.port}`;
  const address = connectAddress(deps.config, target.host, target.port);
  const options = {
    host: address.host,
    port: address.port,
    method: req.method,
    path: url,
    headers,
    ...(target.secure
      ? { servername: isIP(target.host) === 0 ? target.host : undefined, agent: deps.httpsAgent }
      : { agent: deps.httpAgent }),
  };
  const upstream = target.secure ? httpsRequest(options) : httpRequest(options);
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  // Set when a form's later field names a refused model: the call is refused and its upstream request abandoned.
  let abandoned = false;
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (abandoned) return;
    const code = error.code ?? '';
    if (entry !== null) deps.metrics.calls.inc({ provider: entry.provider, outcome: 'upstream_error' });
    if (CERTIFICATE_ERRORS.test(code)) {
      deps.log.warn({ host: target.host, code }, 'discovery: the upstream certificate is not trusted; call refused');
      upstreamFailure(res, 502, `Sluice discovery: the certificate of ${target.host} is not trusted (${code}); the call was not sent.`);
    } else {
      deps.log.debug({ host: target.host, code }, 'discovery: upstream failed');
      upstreamFailure(res, 502, `Sluice discovery: ${target.host} cannot be reached (${code || 'error'}).`);
    }
  });
  upstream.on('response', (answer: IncomingMessage) => {
    const headersAt = performance.now();
    const status = answer.statusCode ?? 502;
    const reader =
      entry === null
        ? null
        : new ResponseReader(
            reading?.answerWire ?? entry.wire,
            reading?.operation ?? null,
            status,
            answer.headers,
            deps.config.maxParseBytes,
          );
    let firstByteAt: number | null = null;
    if (reader !== null) {
      answer.on('data', (chunk: Buffer) => {
        firstByteAt ??= performance.now();
        reader.push(chunk);
      });
    }
    // Recorded once the answer is over: whole ('end'), or cut short ('close' alone), as when the client abandons a stream
    // (a user pressing stop): that call reached the provider and is still one, with what was read of it.
    let settled = false;
    const settle = () => {
      if (settled || entry === null || reader === null || reading === null) return;
      settled = true;
      const endedAt = performance.now();
      void reader.end(status).then(
        (read) => {
          const requested = form?.models[0] ?? reading.model;
          const model = entry.provider === 'azure-openai' ? (read.model ?? requested) : (requested ?? read.model);
          const priced = read.model ?? requested;
          recordCall(deps, target, entry, {
            model,
            priced,
            usage: read.usage,
            unparsed: read.unparsed || unreadable !== null,
            operation: reading.operation,
            stream: reading.stream,
            status,
            timings: { started, headersAt, firstByteAt, endedAt },
            request: req.headers,
            query,
            answer: answer.headers,
          });
        },
        (error: unknown) => deps.log.error({ err: (error as Error).message, host: target.host }, 'discovery: a call cannot be recorded'),
      );
    };
    answer.on('end', settle);
    answer.on('close', settle);
    answer.on('error', () => res.destroy());
    res.writeHead(status, endToEndHeaders(answer.headers));
    answer.pipe(res as NodeJS.WritableStream);
  });
  for (const chunk of body.chunks) upstream.write(chunk);
  if (body.ended) upstream.end();
  else if (form !== null)
    relayForm(req, upstream, form, formRefusal, (refused) => {
      abandoned = true;
      upstream.destroy();
      if (entry !== null) deps.metrics.calls.inc({ provider: entry.provider, outcome: 'blocked' });
      if (res.headersSent) res.destroy();
      else refuse(res, refused);
    });
  else (req as NodeJS.ReadableStream).pipe(upstream);
}

/**
 * The rest of a form past the bound, sent on one chunk at a time, each read first: a field (or a batch file's line)
 * naming a refused model stops the call before the chunk that completes it (at the latest, the one holding the form's
 * closing boundary) is sent, so the provider never has a whole form to act on. `refusal()` checks what it names so far.
 */
function relayForm(
  req: ClientRequest,
  upstream: ClientRequestOut,
  form: FormReading,
  refusal: () => Refusal | null,
  refuseCall: (refused: Refusal) => void,
): void {
  const source = req as NodeJS.ReadableStream;
  let refused: Refusal | null = null;
  const check = (): boolean => {
    refused = refusal();
    if (refused === null) return true;
    source.removeAllListeners('data');
    source.resume(); // the rest of the upload is read and dropped, so that the client reads its refusal
    refuseCall(refused);
    return false;
  };
  source.on('data', (chunk: Buffer) => {
    source.pause();
    void form.read(chunk).then(() => {
      if (!check()) return;
      if (upstream.write(chunk)) source.resume();
      else upstream.once('drain', () => source.resume());
    });
  });
  source.once('end', () => {
    void form.end().then(() => {
      if (refused === null && check()) upstream.end();
    });
  });
  source.resume(); // the bound's reading paused it
}
