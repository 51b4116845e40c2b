// The exchanges of a call to a server speaking OpenAI's API (OpenAI itself, Azure OpenAI): an OpenAI-shaped client's body
// is passed through and its answer relayed as it is; any other client's request is translated, and so is the answer.
import type { ChatRequest } from '../../ir/chat.js';
import type { EmbeddingsRequest } from '../../ir/embeddings.js';
import type { StreamDecoder } from '../../ir/stream.js';
import { isObject } from '../../wire/json.js';
import type {
  ChatExchange,
  ChatPassThrough,
  ClientBody,
  EmbeddingsExchange,
  EmbeddingsPassThrough,
  Redactor,
} from '../../wire/exchange.js';
import { openaiFailure, openaiPassedFailure } from './errors.js';
import { OpenAIStreamRelay } from './relay.js';
import { openaiChatBody, openaiEmbeddingsBody } from './request.js';
import { openaiAnswerUsage, openaiChatResponse, openaiEmbeddingsAnswerUsage, openaiEmbeddingsResponse } from './response.js';
import { OpenAIStreamDecoder } from './stream.js';

/** The client asked for the usage chunk itself: the relay forwards it (Sluice asks for it on every stream). */
const PASS_THROUGH_WITH_USAGE: ChatPassThrough = {
  usage: openaiAnswerUsage,
  relay: (redactor: Redactor) => new OpenAIStreamRelay(true, redactor),
};

const PASS_THROUGH: ChatPassThrough = {
  usage: openaiAnswerUsage,
  relay: (redactor: Redactor) => new OpenAIStreamRelay(false, redactor),
};

const EMBEDDINGS_PASS_THROUGH: EmbeddingsPassThrough = { usage: openaiEmbeddingsAnswerUsage };

function streamDecoder(): StreamDecoder {
  return new OpenAIStreamDecoder();
}

function wantsUsage(body: Record<string, unknown>): boolean {
  return isObject(body.stream_options) && body.stream_options.include_usage === true;
}

export function openaiChatExchange(
  provider: string,
  path: string,
  headers: Record<string, string>,
  request: ChatRequest,
  model: string,
  client: ClientBody | null,
  baseModel?: string,
): ChatExchange {
  const passed = client !== null && client.dialect === 'openai';
  return {
    provider,
    request: { path, headers, body: JSON.stringify(openaiChatBody(request, model, client, baseModel)) },
    passThrough: passed ? (wantsUsage(client.body) ? PASS_THROUGH_WITH_USAGE : PASS_THROUGH) : null,
    response: openaiChatResponse,
    streamDecoder,
    failure: passed ? openaiPassedFailure : openaiFailure,
  };
}

export function openaiEmbeddingsExchange(
  provider: string,
  path: string,
  headers: Record<string, string>,
  request: EmbeddingsRequest,
  model: string,
  client: ClientBody | null,
): EmbeddingsExchange {
  const passed = client !== null && client.dialect === 'openai';
  return {
    provider,
    request: { path, headers, body: JSON.stringify(openaiEmbeddingsBody(request, model, client)) },
    passThrough: passed ? EMBEDDINGS_PASS_THROUGH : null,
    response: openaiEmbeddingsResponse,
    failure: passed ? openaiPassedFailure : openaiFailure,
  };
}
