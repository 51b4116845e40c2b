// An error a translated provider reports inside a stream, in OpenAI's words. OpenAI ends a Chat Completions stream
// that fails under way with `data: {"error":{"message":...,"type":"server_error","param":null,"code":null}}`, which
// its SDKs throw as an APIError with that body; a translated provider's own name for the error (Anthropic's
// overloaded_error, Bedrock's throttlingException, Gemini's RESOURCE_EXHAUSTED) means nothing to an OpenAI client, which
// reads type and code to decide whether to wait and try again. So the error is named by its kind (the status the
// provider answers it with), as OpenAI names errors of that status: https://platform.openai.com/docs/guides/error-codes.
import { errorKindStatus } from '../../wire/stream-opening.js';

export interface OpenaiStreamError {
  type: string;
  code: string | null;
}

const SERVER_ERROR: OpenaiStreamError = { type: 'server_error', code: null };
// rate_limit_error / rate_limit_exceeded: as Sluice's own rate limits answer OpenAI clients (src/errors.ts).
const RATE_LIMITED: OpenaiStreamError = { type: 'rate_limit_error', code: 'rate_limit_exceeded' };
const OUT_OF_QUOTA: OpenaiStreamError = { type: 'insufficient_quota', code: 'insufficient_quota' };
const INVALID_REQUEST: OpenaiStreamError = { type: 'invalid_request_error', code: null };

/** The OpenAI type and code of an error of the kind a provider named inside a stream. */
export function openaiStreamError(kind: string): OpenaiStreamError {
  if (kind.toLowerCase() === 'insufficient_quota') return OUT_OF_QUOTA;
  const status = errorKindStatus(kind);
  if (status === 429) return RATE_LIMITED;
  return status >= 500 ? SERVER_ERROR : INVALID_REQUEST;
}
