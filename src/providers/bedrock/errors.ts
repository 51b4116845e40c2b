// Bedrock error responses -> UpstreamFailure. The error's name comes in x-amzn-errortype; throttling is transient,
// validation is the request's fault. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
import type { UpstreamFailure } from '../../wire/exchange.js';
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
