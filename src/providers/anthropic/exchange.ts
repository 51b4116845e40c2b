// The exchange of a call in Anthropic's Messages wire: an Anthropic-shaped client's body is passed through and the answer
// relayed as it is; any other client's request is translated, and so is the answer.
import type { ChatRequest } from '../../ir/chat.js';
import type { StreamDecoder } from '../../ir/stream.js';
import type { ChatExchange, ChatPassThrough, ClientBody, Redactor, UpstreamRequest } from '../../wire/exchange.js';
import { claudeModelFeatures } from '../shared/claude-models.js';
import { jsonAnswerTool, withJsonAnswer } from '../shared/json-answer-tool.js';
import { withClientBetas } from './auth.js';
import { anthropicFailure, anthropicPassedFailure } from './errors.js';
import { AnthropicStreamRelay } from './relay.js';
import { anthropicRequestBody } from './request.js';
import { anthropicAnswerUsage, anthropicChatResponse } from './response.js';
import { AnthropicStreamDecoder } from './stream.js';

const PASS_THROUGH: ChatPassThrough = {
  usage: anthropicAnswerUsage,
  relay: (redactor: Redactor) => new AnthropicStreamRelay(redactor),
};

function streamDecoder(): StreamDecoder {
  return new AnthropicStreamDecoder();
}

/** `passed`: whether `request` carries the client's own Anthropic body (then the answer may be relayed as it is). */
export function anthropicChatExchange(provider: string, request: UpstreamRequest, passed: boolean): ChatExchange {
  return {
    provider,
    request,
    passThrough: passed ? PASS_THROUGH : null,
    response: anthropicChatResponse,
    streamDecoder,
    failure: passed ? anthropicPassedFailure : anthropicFailure,
  };
}

/** `platform`: whose Claude `model` is (Bedrock's Messages API serves Bedrock's models, with Bedrock's features). */
export function openAnthropicChat(
  provider: string,
  path: string,
  headers: Record<string, string>,
  request: ChatRequest,
  model: string,
  client: ClientBody | null,
  platform: 'anthropic' | 'bedrock' = 'anthropic',
): ChatExchange {
  const passed = client !== null && client.dialect === 'anthropic';
  // A passed-through body is the client's own: its tools are its own, and so is the answer.
  const answer = passed ? null : jsonAnswerTool(request);
  const body = JSON.stringify(anthropicRequestBody(request, model, client, answer, claudeModelFeatures(model, platform)));
  const exchange = anthropicChatExchange(
    provider,
    { path, headers: passed ? withClientBetas(headers, client.betas) : headers, body },
    passed,
  );
  return answer === null ? exchange : withJsonAnswer(exchange, answer);
}
