// Bedrock error responses -> UpstreamFailure. The error's name comes in x-amzn-errortype; throttling is transient,
// validation is the request's fault. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
import type { UpstreamFailure } from '../../wire/exchange.js';
import { anthropicFailure, anthropicPassedFailure } from '../anthropic/errors.js';
import { clip, failure } from '../shared/failure.js';
import { asObject, asString, tryParseJson } from '../../wire/json.js';

const RETRYABLE = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelNotReadyException',
  'ModelTimeoutException',
]);

export function bedrockFailure(status: number, body: string, headers: Record<string, string | string[] | undefined>): UpstreamFailure {
  const typeHeader = headers['x-amzn-errortype'];
  const type = (Array.isArray(typeHeader) ? typeHeader[0] : typeHeader)?.split(':')[0] ?? '';
  const message = asString(asObject(tryParseJson(body)).message) || clip(body.trim()) || `HTTP ${status}`;
  const text = type === '' ? message : `${type}: ${message}`;
  return RETRYABLE.has(type) ? failure(status, text, headers, true) : failure(status, text, headers);
}

/**
 * An error answer of Bedrock's Messages API (bedrock-mantle). Neither AWS nor Anthropic documents its error body, so
 * both shapes are read: Anthropic's (`{type: "error", error: {type, message}}`, read as the Anthropic provider reads it
 * and, for a client whose body was passed through, passed on as it came), else AWS's (`{message}` with x-amzn-errortype).
 */
export function bedrockMessagesFailure(passed: boolean) {
  return (status: number, body: string, headers: Record<string, string | string[] | undefined>): UpstreamFailure => {
    const error = asObject(asObject(tryParseJson(body)).error);
    if (typeof error.message !== 'string' || error.message === '') return bedrockFailure(status, body, headers);
    return passed ? anthropicPassedFailure(status, body, headers) : anthropicFailure(status, body, headers);
  };
}
