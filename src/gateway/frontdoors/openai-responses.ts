// The OpenAI Responses API front door: POST /v1/responses. OpenAI and Azure OpenAI get the client's body as it is (its
// own dialect, so previous_response_id, store and built-in tools work there); every other provider gets the stateless
// subset translated through the IR, and the answer and stream come back in the Responses API's shapes.
import type { ChatRequest } from '../../ir/chat.js';
import { ERRORS, openaiErrorBody, type SluiceError } from '../../errors.js';
import type { ChatExchange, ClientStream, Redactor } from '../../wire/exchange.js';
import { asArray, asObject } from '../../wire/json.js';
import { sseEvent } from '../../wire/sse.js';
import { answerChat, type FrontDoor } from './frontdoor.js';
import { openaiChatFrontDoor } from './openai-chat.js';
import { parseOpenAIResponses, translationRefusal } from './openai-responses-parse.js';
import { renderResponse } from './openai-responses-render.js';
import { ResponsesStreamEncoder } from './openai-responses-stream.js';
import { TranslatingStream } from './translating-stream.js';

/**
 * The Responses API's in-band error event, for a failure once the stream has begun: numbered after the stream's events
 * (the provider's own when relayed, the encoder's when translated), as every event of the stream is. A translated
 * stream ends with it and response.failed, as it does at a provider's own error (ResponsesStreamEncoder).
 */
function errorEvent(error: SluiceError, stream?: ClientStream): string {
  const code = ERRORS[error.code].openaiCode;
  const ended = stream?.broken?.(code ?? ERRORS[error.code].openaiType, error.message);
  if (typeof ended === 'string') return ended;
  const event = {
    type: 'error',
    code,
    message: error.message,
    param: error.param,
    sequence_number: stream?.nextSequenceNumber ?? 0,
  };
  return sseEvent('error', JSON.stringify(event));
}

/**
 * A refusal in a response or a stream event: incomplete for the content filter, a refusal content part, or the stream's
 * refusal events (whose final response.completed holds the part too).
 */
function isModelRefusal(answer: unknown): boolean {
  const event = asObject(answer);
  if (typeof event.type === 'string' && event.type.startsWith('response.refusal.')) return true;
  const response = event.object === 'response' ? event : asObject(event.response);
  if (asObject(response.incomplete_details).reason === 'content_filter') return true;
  for (const item of asArray(response.output)) {
    for (const part of asArray(asObject(item).content)) if (asObject(part).type === 'refusal') return true;
  }
  return false;
}

export const openaiResponsesFrontDoor: FrontDoor = {
  dialect: 'openai-responses',
  errorBody: openaiErrorBody,
  errorEvent,
  parseChat: parseOpenAIResponses,
  translationRefusal,
  isModelRefusal,
  answer: (exchange: ChatExchange, text: string, request: ChatRequest) =>
    answerChat(exchange, text, request.model, (response) => renderResponse(response, request)),
  stream: (exchange: ChatExchange, request: ChatRequest, _clientBody: Record<string, unknown>, redactor: Redactor) =>
    exchange.passThrough !== null
      ? exchange.passThrough.relay(redactor)
      : new TranslatingStream(exchange.streamDecoder(), new ResponsesStreamEncoder(request), redactor),
  renderModel: openaiChatFrontDoor.renderModel,
  renderModels: openaiChatFrontDoor.renderModels,
};
