// The exchange of a Responses API call with a server that speaks it (OpenAI, Azure OpenAI): the client's body passes
// through with only the model replaced, previous_response_id and store included; the answer is relayed as it is, and
// only its usage is read (usage.input_tokens, output_tokens, input_tokens_details.cached_tokens and cache_write_tokens).
// Reference: https://platform.openai.com/docs/api-reference/responses/create
import type { StreamDecoder } from '../../ir/stream.js';
import type { StoredResponseAction, StoredResponseRequest } from '../provider.js';
import type { ChatExchange, ChatPassThrough, Redactor } from '../../wire/exchange.js';
import { RESPONSES_CALL_ID_MAX, toolCallIdWithin } from '../shared/tool-use-id.js';
import { openaiPassedFailure } from './errors.js';
import { responsesAnswerId, responsesAnswerUsage, responsesChatResponse } from './responses-response.js';
import { ResponsesStreamDecoder, ResponsesStreamRelay } from './responses-stream.js';

const PASS_THROUGH: ChatPassThrough = {
  usage: responsesAnswerUsage,
  relay: (redactor: Redactor) => new ResponsesStreamRelay(redactor),
  responseId: responsesAnswerId,
};

function streamDecoder(): StreamDecoder {
  return new ResponsesStreamDecoder();
}

export function openaiResponsesExchange(
  provider: string,
  path: string,
  headers: Record<string, string>,
  clientBody: Record<string, unknown>,
  model: string,
): ChatExchange {
  return {
    provider,
    request: { path, headers, body: JSON.stringify(withCallIdsWithin({ ...clientBody, model })) },
    passThrough: PASS_THROUGH,
    response: responsesChatResponse,
    streamDecoder,
    failure: openaiPassedFailure,
  };
}

/**
 * The body with every input item's call_id in as many characters as the Responses API takes: a conversation begun on
 * another provider carries its ids (a Gemini call's, with its thought signature, runs to hundreds), each made its start
 * and a digest, the same for a call and its output. The body itself when no id is too long, as nearly always.
 */
function withCallIdsWithin(body: Record<string, unknown>): Record<string, unknown> {
  const input = body.input;
  if (!Array.isArray(input) || !input.some(hasLongCallId)) return body;
  return {
    ...body,
    input: input.map((item: unknown) =>
      hasLongCallId(item) ? { ...item, call_id: toolCallIdWithin(item.call_id, RESPONSES_CALL_ID_MAX) } : item,
    ),
  };
}

function hasLongCallId(item: unknown): item is { call_id: string } {
  if (typeof item !== 'object' || item === null) return false;
  const id = (item as { call_id?: unknown }).call_id;
  return typeof id === 'string' && id.length > RESPONSES_CALL_ID_MAX;
}

const STORED_RESPONSE_CALLS: Record<StoredResponseAction, { method: StoredResponseRequest['method']; suffix: string }> = {
  retrieve: { method: 'GET', suffix: '' },
  delete: { method: 'DELETE', suffix: '' },
  cancel: { method: 'POST', suffix: '/cancel' },
  input_items: { method: 'GET', suffix: '/input_items' },
};

/**
 * The call on a stored response at `<responsesPath>/{id}` (OpenAI's /v1/responses/{id}, Azure's v1 surface
 * /openai/v1/responses/{id}): GET and DELETE on it, POST .../cancel, GET .../input_items; no body, so no content-type.
 * Reference: https://platform.openai.com/docs/api-reference/responses/get
 */
export function storedResponseRequest(
  responsesPath: string,
  headers: Record<string, string>,
  id: string,
  action: StoredResponseAction,
  query: string,
): StoredResponseRequest {
  const call = STORED_RESPONSE_CALLS[action];
  const { 'content-type': _contentType, ...bodiless } = headers;
  return { method: call.method, path: `${responsesPath}/${encodeURIComponent(id)}${call.suffix}${query}`, headers: bodiless };
}
