// Sends one call upstream through a model's targets: retries with backoff, ordered fallback, circuit breakers.
import type { Dispatcher } from 'undici';
import { SluiceError } from '../../errors.js';
import type { UpstreamRequest } from '../../providers/provider.js';
import type { Cancellation } from '../pipeline/cancellation.js';
import { attemptOrder, type ModelRoute, type Target } from './model-routes.js';
import { exchange, StreamStartFailure, type ExchangeHead, type UpstreamBody } from './upstream-exchange.js';

export interface UpstreamAnswer {
  target: Target;
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  /** A stream's body holds its first chunk, read before committing so a stream that dies at once can still fall back. */
  body: UpstreamBody;
}

/** What the ledger and logs need to know about the tries made. */
export interface AttemptLog {
  attempts: number;
  failures: string[];
}

type Outcome = { kind: 'answer'; answer: UpstreamAnswer } | { kind: 'retry' | 'next'; reason: string; timeout: boolean };

export async function invokeUpstream(
  route: ModelRoute,
  build: (target: Target) => UpstreamRequest,
  stream: boolean,
  signal: Cancellation,
  log: AttemptLog,
): Promise<UpstreamAnswer> {
  const { attempts: retries, backoffMs, timeoutMs } = route.retry;
  let lastWasTimeout = false;
  let unsupported: SluiceError | null = null;
  for (const target of attemptOrder(route)) {
    const label = `${target.provider.name}/${target.model}`;
    if (!target.breaker.allow(Date.now())) {
      log.failures.push(`${label}: skipped, circuit open after repeated failures`);
      continue;
    }
    let request: UpstreamRequest;
    try {
      request = build(target);
    } catch (error) {
      // A provider that cannot express the request (a feature it lacks): another target may; else the client hears why.
      if (error instanceof SluiceError && error.code === 'unsupported_by_provider') {
        unsupported ??= error;
        log.failures.push(`${label}: ${error.message}`);
        target.breaker.success();
        continue;
      }
      throw error;
    }
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2), signal);
      log.attempts++;
      const outcome = await attemptOnce(route, target, request, stream, timeoutMs, signal);
      if (outcome.kind === 'answer') return outcome.answer;
      lastWasTimeout = outcome.timeout;
      log.failures.push(`${label}: ${outcome.reason}`);
      if (outcome.kind === 'next') break;
    }
  }
  if (unsupported !== null && log.attempts === 0) throw unsupported;
  const summary = log.failures.join('; ');
  if (lastWasTimeout) throw new SluiceError('upstream_timeout', `Every target of model ${route.name} failed; the last timed out: ${summary}`);
  throw new SluiceError('upstream_unavailable', `Every target of model ${route.name} failed: ${summary}`);
}

async function attemptOnce(
  route: ModelRoute, target: Target, unsigned: UpstreamRequest, stream: boolean, timeoutMs: number, signal: Cancellation,
): Promise<Outcome> {
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
    response = await exchange(target.pool, { path: request.path, headers: request.headers, body: request.body, timeoutMs, stream }, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    target.breaker.failure(Date.now());
    if (error instanceof StreamStartFailure) {
      return { kind: 'retry', reason: `stream failed before its first byte (${describeNetworkError(error.cause)})`, timeout: isTimeout(error.cause) };
    }
    return { kind: 'retry', reason: describeNetworkError(error), timeout: isTimeout(error) };
  }
  const status = response.statusCode;
  if (status < 300) {
    target.breaker.success();
    return { kind: 'answer', answer: { target, statusCode: status, headers: response.headers, body: response.body } };
  }
  let text = '';
  try {
    text = await response.body.text();
  } catch {
    // The status alone decides what happens next.
  }
  // Credentials are taken out of the whole body before the provider reads it, so a key cut short by clip() cannot
  // leave its first half behind; the message is looked at again for one that JSON escapes had hidden.
  const failure = target.provider.upstreamFailure(status, route.redactor.redact(text), response.headers);
  const message = route.redactor.redact(failure.message);
  if (failure.retryable) {
    target.breaker.failure(Date.now());
    // A rate-limited target will not recover within a backoff: go straight to the next.
    return { kind: status === 429 ? 'next' : 'retry', reason: `HTTP ${status} ${message}`, timeout: status === 408 || status === 504 };
  }
  if (status === 401 || status === 403 || status === 404) {
    // Sluice's own credentials or deployment name are wrong at this target, not the client's request: try the next.
    target.breaker.failure(Date.now());
    return { kind: 'next', reason: `HTTP ${status} ${message}`, timeout: false };
  }
  target.breaker.success();
  throw new SluiceError('upstream_rejected', `Provider ${target.provider.name} rejected the request: ${message}`, { status });
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'timed out waiting for response headers';
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'timed out waiting for the body';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed out connecting';
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
