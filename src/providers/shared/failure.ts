// Status-based rules every provider shares: which upstream failures are worth another try, and Retry-After.
import type { UpstreamFailure } from '../../wire/exchange.js';

/** 408, 409 (Azure's "busy"), 429 and 5xx are transient; any other 4xx is caused by the request and would fail again. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export function retryAfterSeconds(headers: Record<string, string | string[] | undefined>): number | undefined {
  const value = headers['retry-after'];
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

export function failure(
  status: number,
  message: string,
  headers: Record<string, string | string[] | undefined>,
  retryable = isRetryableStatus(status),
): UpstreamFailure {
  const after = retryAfterSeconds(headers);
  return after === undefined ? { status, message, retryable } : { status, message, retryable, retryAfterSeconds: after };
}

/** Keeps upstream messages short in client errors and ledger rows. */
export function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
