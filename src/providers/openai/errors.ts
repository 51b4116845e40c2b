// OpenAI error bodies -> UpstreamFailure.
import type { UpstreamFailure } from '../../wire/exchange.js';
import { clip, failure } from '../shared/failure.js';
import { asObject, asString, tryParseJson } from '../../wire/json.js';

export function openaiFailure(status: number, body: string, headers: Record<string, string | string[] | undefined>): UpstreamFailure {
  const error = asObject(asObject(tryParseJson(body)).error);
  const message = asString(error.message) || clip(body.trim()) || `HTTP ${status}`;
  return failure(status, message, headers);
}
