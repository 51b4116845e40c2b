// Anthropic error bodies ({type: "error", error: {type, message}}) -> UpstreamFailure; 529 (overloaded) is transient like
// a 5xx. Reference: https://docs.anthropic.com/en/api/errors
import type { UpstreamFailure } from '../../wire/exchange.js';
import { clip, failure } from '../shared/failure.js';
import { asObject, asString, tryParseJson } from '../../wire/json.js';

export function anthropicFailure(status: number, body: string, headers: Record<string, string | string[] | undefined>): UpstreamFailure {
  const error = asObject(asObject(tryParseJson(body)).error);
  const message = asString(error.message) || clip(body.trim()) || `HTTP ${status}`;
  return failure(status, message, headers);
}

/** For a client whose Anthropic body was passed through: the provider's error type and message are kept to be passed on. */
export function anthropicPassedFailure(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
): UpstreamFailure {
  const error = asObject(asObject(tryParseJson(body)).error);
  if (typeof error.message !== 'string' || error.message === '') return anthropicFailure(status, body, headers);
  const type = typeof error.type === 'string' && error.type !== '' ? error.type : null;
  return { ...failure(status, error.message, headers), passedOn: { fields: { api: 'anthropic', type, code: null }, param: null } };
}
