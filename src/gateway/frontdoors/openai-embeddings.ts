// The OpenAI Embeddings front door: POST /v1/embeddings request -> IR, IR -> OpenAI's list shape.
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../ir/embeddings.js';
import type { Usage } from '../../ir/usage.js';
import { SluiceError } from '../../errors.js';
import { estimateEmbeddingTokens } from '../../metering/tokenizer.js';
import type { EmbeddingsExchange } from '../../wire/exchange.js';
import { tryParseJson } from '../../wire/json.js';
import type { OpenAIEmbeddingsResponse } from './openai-wire.js';

function invalid(param: string, message: string): SluiceError {
  return new SluiceError('invalid_request', `${param}: ${message}`, { param });
}

export function parseOpenAIEmbeddings(body: Record<string, unknown>): EmbeddingsRequest {
  const model = body.model;
  if (typeof model !== 'string' || model === '') throw invalid('model', 'required, a non-empty string');
  const input = body.input;
  let items: string[] | number[][];
  let single = false;
  if (typeof input === 'string') {
    items = [input];
    single = true;
  } else if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'string')) {
    items = input as string[];
  } else if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'number')) {
    items = [input as number[]];
    single = true;
  } else if (
    Array.isArray(input) &&
    input.length > 0 &&
    input.every((item) => Array.isArray(item) && item.every((n) => typeof n === 'number'))
  ) {
    items = input as number[][];
  } else {
    throw invalid('input', 'required: a string, an array of strings, or token arrays, not empty');
  }
  const request: EmbeddingsRequest = { model, input: items, single };
  if (body.encoding_format !== undefined) {
    if (body.encoding_format !== 'float' && body.encoding_format !== 'base64')
      throw invalid('encoding_format', 'expected "float" or "base64"');
    request.encodingFormat = body.encoding_format;
  }
  if (body.dimensions !== undefined) {
    if (typeof body.dimensions !== 'number' || !Number.isInteger(body.dimensions) || body.dimensions < 1)
      throw invalid('dimensions', 'expected a positive integer');
    request.dimensions = body.dimensions;
  }
  if (typeof body.user === 'string') request.user = body.user;
  return request;
}

export function renderOpenAIEmbeddings(response: EmbeddingsResponse, requestedModel: string): string {
  const body: OpenAIEmbeddingsResponse = {
    object: 'list',
    data: response.data.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    model: requestedModel,
    usage: { prompt_tokens: response.usage.inputTokens, total_tokens: response.usage.inputTokens },
  };
  return JSON.stringify(body);
}

/**
 * The client's answer from the provider's whole answer: its bytes as they are when the exchange passes through (a server
 * that reports no usage is counted after the answer, by metering), else translated, with usage counted now when the
 * provider gave none (Cohere on Bedrock): the client expects it in the answer.
 */
export async function answerOpenAIEmbeddings(
  exchange: EmbeddingsExchange,
  text: string,
  request: EmbeddingsRequest,
): Promise<{ body: string; usage: Usage }> {
  const json = tryParseJson(text);
  if (json === undefined)
    throw new SluiceError('upstream_unavailable', `Provider ${exchange.provider} answered with a body that is not JSON.`);
  if (exchange.passThrough !== null) return { body: text, usage: exchange.passThrough.usage(json) };
  const decoded = exchange.response(json, request);
  const response = decoded.usage.reported
    ? decoded
    : { ...decoded, usage: { ...decoded.usage, inputTokens: await estimateEmbeddingTokens(request) } };
  return { body: renderOpenAIEmbeddings(response, request.model), usage: response.usage };
}
