// Sends one call upstream through a model's targets: retries with backoff, ordered fallback, circuit breakers.
import type { Dispatcher } from 'undici';
import { SluiceError } from '../../errors.js';
import type { AnswerFault } from '../../wire/answer-fault.js';
import type { ResponseHeaders, UpstreamFailure, UpstreamRequest } from '../../wire/exchange.js';
import { isObject, tryParseJson } from '../../wire/json.js';
import { streamStartFault } from '../../wire/stream-start.js';
import { opensPlainly, StreamOpening, type OpeningError, type OpeningFault } from '../../wire/stream-opening.js';
import type { Cancellation } from '../pipeline/cancellation.js';
import { TimeLimit } from './deadlines.js';
import { attemptOrder, type AttemptLimits, type ModelRoute, type Target } from './model-routes.js';
import { exchange, ResponseTooLarge, StreamStartFailure, type ExchangeHead, type UpstreamBody } from './upstream-exchange.js';

/** What invoking needs of a call's exchange with one target: the request, and how to read a failure. */
export interface OpenedExchange {
  readonly request: UpstreamRequest;
  failure(status: number, body: string, headers: ResponseHeaders): UpstreamFailure;
  /** Why a whole 200 answer is a failed attempt all the same, or null (ChatExchange.answerFault). */
  answerFault?(text: string): AnswerFault | null;
}

export interface UpstreamAnswer<E extends OpenedExchange> {
  target: Target;
  /** The exchange opened with the target that answered: it reads the answer. */
  exchange: E;
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  /** A stream's body holds its first chunk, read before committing so a stream that dies at once can still fall back. */
  body: UpstreamBody;
  /**
   * A non-streamed answer's whole body, read within the attempt, so one that breaks off, stalls or runs too large is
   * that attempt's failure and the next target's chance; null for a stream.
   */
  text: string | null;
}

/**
 * What invoking produced: the answer, or why there is none (a SluiceError for the client, or the cancellation's reason),
 * and what the ledger and logs need to know about the tries made either way.
 */
export type Invocation<E extends OpenedExchange> =
  | { answer: UpstreamAnswer<E>; error: null; attempts: number; failures: string[] }
  | { answer: null; error: unknown; attempts: number; failures: string[] };

/**
 * A failed attempt: 'retry' the same target after a backoff, or go to the 'next'. `rateLimit` is set for a 429, with the
 * seconds its Retry-After asked for, if any.
 */
type Outcome<E extends OpenedExchange> =
  | { kind: 'answer'; answer: UpstreamAnswer<E> }
  | { kind: 'retry' | 'next'; reason: string; timeout: boolean; rateLimit?: { retryAfterSeconds: number | undefined } };

/**
 * Never rejects: a failure comes back as the invocation's error, with the attempts made. One async function for the
 * whole walk through the targets: a second one inside it, only to catch, cost every call its own promise, generator and
 * microtask turn (some 600 bytes).
 */
export async function invokeUpstream<E extends OpenedExchange>(
  route: ModelRoute,
  open: (target: Target) => E,
  stream: boolean,
  signal: Cancellation,
  keptBy: string | null = null,
): Promise<Invocation<E>> {
  const failures: string[] = [];
  let attempts = 0;
  try {
    const { attempts: retries, backoffMs } = route.retry;
    const limits = stream ? route.limits.stream : route.limits.whole;
    let lastWasTimeout = false;
    // When the last failure is a 429, the client gets it, with the soonest Retry-After a rate-limited target asked for.
    let lastWasRateLimit = false;
    let retryAfterSeconds: number | undefined;
    let unsupported: SluiceError | null = null;
    for (const target of attemptOrder(route, Math.random, keptBy)) {
      if (!target.breaker.allow(Date.now())) {
        failures.push(`${label(target)}: skipped, circuit open after repeated failures`);
        continue;
      }
      let opened: E;
      try {
        opened = open(target);
      } catch (error) {
        // A provider that cannot express the request (a feature it lacks): another target may; else the client hears why.
        if (error instanceof SluiceError && error.code === 'unsupported_by_provider') {
          unsupported ??= error;
          failures.push(`${label(target)}: ${error.message}`);
          target.breaker.success();
          continue;
        }
        throw error;
      }
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2), signal);
        attempts++;
        const outcome = await attemptOnce(route, target, opened, stream, limits, signal);
        if (outcome.kind === 'answer') return { answer: outcome.answer, error: null, attempts, failures };
        lastWasTimeout = outcome.timeout;
        lastWasRateLimit = outcome.rateLimit !== undefined;
        if (outcome.rateLimit !== undefined) retryAfterSeconds = soonest(retryAfterSeconds, outcome.rateLimit.retryAfterSeconds);
        failures.push(`${label(target)}: ${outcome.reason}`);
        if (outcome.kind === 'next') break;
      }
    }
    const error =
      unsupported !== null && attempts === 0
        ? unsupported
        : exhausted(route, failures, lastWasTimeout, lastWasRateLimit, retryAfterSeconds);
    return { answer: null, error, attempts, failures };
  } catch (error) {
    return { answer: null, error, attempts, failures };
  }
}

/** Why a model's targets gave no answer, each having been tried (or skipped) and failed. */
function exhausted(
  route: ModelRoute,
  failures: readonly string[],
  lastWasTimeout: boolean,
  lastWasRateLimit: boolean,
  retryAfterSeconds: number | undefined,
): SluiceError {
  const summary = failures.join('; ');
  if (lastWasTimeout)
    return new SluiceError('upstream_timeout', `Every target of model ${route.name} failed; the last timed out: ${summary}`);
  if (lastWasRateLimit) {
    // The client's own backoff is the right answer to a rate limit: it gets the 429 and when to come back.
    return new SluiceError('upstream_unavailable', `Every target of model ${route.name} failed; the last is rate limited: ${summary}`, {
      status: 429,
      ...(retryAfterSeconds === undefined ? {} : { headers: { 'retry-after': String(retryAfterSeconds) } }),
    });
  }
  return new SluiceError('upstream_unavailable', `Every target of model ${route.name} failed: ${summary}`);
}

/** A target as failures name it; built only for a failure, not on every call's way through. */
function label(target: Target): string {
  return `${target.provider.name}/${target.model}`;
}

function soonest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

async function attemptOnce<E extends OpenedExchange>(
  route: ModelRoute,
  target: Target,
  opened: E,
  stream: boolean,
  limits: AttemptLimits,
  signal: Cancellation,
): Promise<Outcome<E>> {
  const unsigned = opened.request;
  let request = unsigned;
  if (target.provider.authorize !== undefined) {
    try {
      request = await target.provider.authorize(unsigned);
    } catch (error) {
      // Sluice cannot make credentials for this target (none configured, token endpoint down): try the next.
      target.breaker.failure(Date.now());
      // A token endpoint's refusal is upstream text too.
      return { kind: 'next', reason: route.redactor.redact((error as Error).message), timeout: false };
    }
  }
  let response: ExchangeHead;
  try {
    response = await exchange(
      target.pool,
      {
        path: request.path,
        headers: request.headers,
        body: request.body,
        headersTimeoutMs: limits.headersTimeoutMs,
        bodyTimeoutMs: limits.bodyTimeoutMs,
        maxBodyBytes: limits.maxBodyBytes,
        maxMs: limits.maxMs,
        stream,
      },
      signal,
    );
  } catch (error) {
    if (signal.aborted) throw error;
    target.breaker.failure(Date.now());
    if (error instanceof StreamStartFailure) return networkFailure(error.cause, 'stream failed before its first byte: ');
    return networkFailure(error, '');
  }
  const status = response.statusCode;
  if (status < 300) {
    if (stream) {
      const framing = target.provider.streamFraming ?? 'sse';
      const first = response.body.first();
      // The head is given with the first chunk or at the body's end: no chunk is a body that ended with nothing in it,
      // a stream that failed before its first byte (as one whose connection dropped there), not one to commit to.
      const fault =
        first === null
          ? 'answered a stream request with an empty body'
          : streamStartFault(framing, response.headers['content-type'], first);
      if (fault !== null) {
        response.body.discard(new Error(fault));
        target.breaker.failure(Date.now());
        return { kind: 'retry', reason: fault, timeout: false };
      }
      if (first !== null && !opensPlainly(framing, first)) {
        let error: OpeningError | OpeningFault | null;
        try {
          error = await openingError(new StreamOpening(framing), first, response.body);
        } catch (failure) {
          if (signal.aborted) throw failure;
          // Died or stalled while its opening was held (or its framing broke): the client has nothing yet, as for one
          // that died before a byte.
          response.body.discard(failure as Error);
          target.breaker.failure(Date.now());
          return networkFailure(failure, 'stream failed before its first event: ');
        }
        if (error !== null && 'fault' in error) {
          // Nothing has reached the client: an answer that holds none, as the same answer whole would be.
          response.body.discard(new Error(`the stream opened with ${error.fault.reason}`));
          target.breaker.success();
          return faultOutcome(error.fault);
        }
        if (error !== null) {
          // Nothing has reached the client: the error is this attempt's failure, as the same error sent as a status.
          response.body.discard(new Error(`the stream opened with ${error.kind}`));
          const headers = error.headers === null ? response.headers : { ...response.headers, ...error.headers };
          return statusFailure(
            route,
            target,
            opened,
            error.status,
            error.body,
            headers,
            `HTTP ${status}, stream opened with ${error.kind}: `,
          );
        }
      }
      target.breaker.success();
      return {
        kind: 'answer',
        answer: { target, exchange: opened, statusCode: status, headers: response.headers, body: response.body, text: null },
      };
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      if (signal.aborted) throw error;
      target.breaker.failure(Date.now());
      // The same answer would come again from this target; another may answer smaller.
      if (error instanceof ResponseTooLarge) return { kind: 'next', reason: error.message, timeout: false };
      if (error instanceof TimeLimit) return networkFailure(error, '');
      return networkFailure(error, `answer broke off after its head (HTTP ${status}): `);
    }
    if (!opensAnObject(text)) {
      // Every API Sluice calls without streaming answers a JSON object. Anything else (a stream sent anyway, JSON's null,
      // a list) would reach the client as a 200: an OpenAI-shaped one as the provider's bytes, a translated one as an
      // empty answer. The same would come again from this target; another may answer properly.
      target.breaker.failure(Date.now());
      return { kind: 'next', reason: `answered with a body that is not a JSON object (HTTP ${status})`, timeout: false };
    }
    // An error object sent with a 200 (OpenAI-compatible servers and proxies do): the provider's failure, as a 5xx.
    if (holdsOnlyAnError(text)) return statusFailure(route, target, opened, 502, text, response.headers, `HTTP 200 with an error object: `);
    target.breaker.success();
    // The target is healthy (its breaker stays closed) but this answer is none: another try, or target, may do better.
    const fault = opened.answerFault?.(text) ?? null;
    if (fault !== null) return faultOutcome(fault);
    return {
      kind: 'answer',
      answer: { target, exchange: opened, statusCode: status, headers: response.headers, body: response.body, text },
    };
  }
  let text = '';
  try {
    text = await response.body.text();
  } catch {
    // The status alone decides what happens next.
  }
  if (status < 400) return redirected(route, target, status, response.headers.location);
  return statusFailure(route, target, opened, status, text, response.headers, `HTTP ${status} `);
}

/**
 * An answer that holds none despite its 200: another try at the same target (after a backoff, as for a 5xx), or, when
 * the request itself is what failed (Gemini's MISSING_THOUGHT_SIGNATURE), the next target at once.
 */
function faultOutcome(fault: AnswerFault): Outcome<never> {
  return { kind: fault.retryable ? 'retry' : 'next', reason: fault.message, timeout: false };
}

/**
 * A 3xx: Sluice does not follow redirects (a provider's API never sends one; a baseUrl that moved does, often http:// to
 * https://), and the status means nothing to the client, whose SDK would take it for an error of its own request. The
 * same would come again from this target: the next is tried, and the failure names where the redirect leads, without its
 * query (a signed URL's token).
 */
function redirected<E extends OpenedExchange>(
  route: ModelRoute,
  target: Target,
  status: number,
  location: string | string[] | undefined,
): Outcome<E> {
  target.breaker.failure(Date.now());
  const to = typeof location === 'string' && location !== '' ? ` to ${location.split('?')[0]!.slice(0, 200)}` : '';
  const reason = `HTTP ${status} redirect${to}, not followed: set the provider's baseUrl to where it leads`;
  return { kind: 'next', reason: route.redactor.redact(reason), timeout: false };
}

/**
 * The stream's first meaningful event, read as far as it takes (most often within the first chunk, already held): the
 * error it is, or null for a stream that opened with anything else, or whose body ended or held its most first; rejects
 * if the body fails first.
 */
async function openingError(opening: StreamOpening, first: Buffer, body: UpstreamBody): Promise<OpeningError | OpeningFault | null> {
  let judged = opening.push(first);
  while (judged === 'wait') {
    const chunk = await body.next();
    if (chunk === null) return null;
    judged = opening.push(chunk);
  }
  return judged === 'open' ? null : judged;
}

/**
 * An error answer (`status`, `text`), or an error a 2xx stream opened with, read as the same status: retried, passed to
 * the next target, or (the request's own fault) the client's error. `context` begins the reason the failures record.
 */
function statusFailure<E extends OpenedExchange>(
  route: ModelRoute,
  target: Target,
  opened: E,
  status: number,
  text: string,
  headers: ResponseHeaders,
  context: string,
): Outcome<E> {
  // Credentials are taken out of the whole body before the provider reads it, so a key cut short by clip() cannot
  // leave its first half behind; the message is looked at again for one that JSON escapes had hidden.
  const failure = opened.failure(status, route.redactor.redact(text), headers);
  const message = route.redactor.redact(failure.message);
  if (failure.retryable) {
    target.breaker.failure(Date.now());
    // A rate-limited target will not recover within a backoff: go straight to the next.
    if (status === 429)
      return {
        kind: 'next',
        reason: `${context}${message}`,
        timeout: false,
        rateLimit: { retryAfterSeconds: failure.retryAfterSeconds },
      };
    return { kind: 'retry', reason: `${context}${message}`, timeout: status === 408 || status === 504 };
  }
  if (status === 401 || status === 403 || status === 404) {
    // Sluice's own credentials or deployment name are wrong at this target, not the client's request: try the next.
    target.breaker.failure(Date.now());
    return { kind: 'next', reason: `${context}${message}`, timeout: false };
  }
  target.breaker.success();
  const passed = failure.passedOn;
  if (passed !== undefined) {
    // The client's own body went through in the provider's API: the provider's message, param and code point at the
    // client's own fields, so they reach it as the provider gave them (redacted like the message: upstream text).
    const { fields, param } = passed;
    const code = fields.code === null ? null : route.redactor.redact(fields.code);
    const type = fields.type === null ? null : route.redactor.redact(fields.type);
    throw new SluiceError('upstream_rejected', message, {
      status,
      param: param === null ? null : route.redactor.redact(param),
      provider: { api: fields.api, type, code },
    });
  }
  throw new SluiceError('upstream_rejected', `Provider ${target.provider.name} rejected the request: ${message}`, { status });
}

/**
 * A failed exchange: retried on the same target after a backoff, except a timeout, which goes to the next target at
 * once (a target that let one attempt time out would most likely let the retry time out too, doubling the client's wait).
 */
function networkFailure(error: unknown, context: string): Outcome<never> {
  const timeout = isTimeout(error);
  return { kind: timeout ? 'next' : 'retry', reason: `${context}${describeNetworkError(error)}`, timeout };
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    error instanceof TimeLimit
  );
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'timed out waiting for response headers';
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'timed out waiting for the body';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed out connecting';
  if (error instanceof TimeLimit) return error.message;
  const cause = (error as { cause?: { code?: string } }).cause;
  return `connection failed (${code ?? cause?.code ?? (error instanceof Error ? error.message : 'unknown error')})`;
}

function sleep(ms: number, signal: Cancellation): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.off(onCancel);
      resolve();
    }, ms);
    const onCancel = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.onCancel(onCancel);
  });
}

/** An error body is small: a larger answer naming "error" (a model's text about one) is not parsed to find out. */
const MAX_ERROR_OBJECT_CHARS = 64 * 1024;

/**
 * Whether a 200 answer is an error object in place of an answer: a top-level `error` object (OpenAI's and compatible
 * servers' shape, Anthropic's `type: error`) and none of the members any API's answer has. A Responses API response
 * that failed keeps its `output`, and is the API's own answer.
 */
function holdsOnlyAnError(text: string): boolean {
  if (text.length > MAX_ERROR_OBJECT_CHARS || !text.includes('"error"')) return false;
  const body = tryParseJson(text);
  if (!isObject(body) || !isObject(body.error)) return false;
  for (const member of ANSWER_MEMBERS) if (body[member] !== undefined) return false;
  return true;
}

/** The members of an answer, in the APIs Sluice calls: chat, messages, responses, embeddings, Gemini, Converse. */
const ANSWER_MEMBERS = ['choices', 'content', 'output', 'data', 'candidates', 'embedding', 'embeddings', 'predictions', 'usage'];

/**
 * Whether a non-streamed answer begins as a JSON object: its first character past whitespace. Only a translated answer is
 * parsed whole; a passed-through one is read for its usage alone, so this is the check both get.
 */
function opensAnObject(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    // JSON's whitespace: space, tab, LF, CR.
    if (char !== 32 && char !== 9 && char !== 10 && char !== 13) return char === 123; /* { */
  }
  return false;
}
