// Gemini error bodies ({error: {code, message, status}}) -> UpstreamFailure.
import type { UpstreamFailure } from '../../wire/exchange.js';
import { clip, failure } from '../shared/failure.js';
import { asObject, asString, tryParseJson } from '../../wire/json.js';

export function geminiFailure(status: number, body: string, headers: Record<string, string | string[] | undefined>): UpstreamFailure {
  const error = asObject(asObject(asArray0(tryParseJson(body))).error);
  const message = asString(error.message) || clip(body.trim()) || `HTTP ${status}`;
  const kind = asString(error.status);
  return failure(status, kind === '' ? message : `${kind}: ${message}`, headers);
}

/** Some Google front ends wrap the error object in a one-element array. */
function asArray0(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}
