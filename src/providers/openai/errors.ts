// OpenAI error bodies ({error: {message, type, param, code}}) -> UpstreamFailure.
// Reference: https://platform.openai.com/docs/guides/error-codes
import type { UpstreamFailure } from '../../wire/exchange.js';
import { clip, failure } from '../shared/failure.js';
import { asObject, asString, tryParseJson } from '../../wire/json.js';

export function openaiFailure(status: number, body: string, headers: Record<string, string | string[] | undefined>): UpstreamFailure {
  const error = asObject(asObject(tryParseJson(body)).error);
  const message = asString(error.message) || clip(body.trim()) || `HTTP ${status}`;
  return failure(status, message, headers);
}

/**
 * For a client whose OpenAI body was passed through: the provider's message, type, param and code name that client's own
 * fields, so they are kept to be passed on (an OpenAI-compatible server may give a numeric code: it is kept as text).
 */
export function openaiPassedFailure(status: number, body: string, headers: Record<string, string | string[] | undefined>): UpstreamFailure {
  const error = asObject(asObject(tryParseJson(body)).error);
  if (typeof error.message !== 'string' || error.message === '') return openaiFailure(status, body, headers);
  const code = typeof error.code === 'string' ? error.code : typeof error.code === 'number' ? String(error.code) : null;
  const type = typeof error.type === 'string' && error.type !== '' ? error.type : null;
  const param = typeof error.param === 'string' ? error.param : null;
  return { ...failure(status, error.message, headers), passedOn: { fields: { api: 'openai', type, code }, param } };
}
