// The exchange of a Responses API call with a server that speaks it (OpenAI, Azure OpenAI): the client's body passes
// through with only the model replaced, previous_response_id and store included; the answer is relayed as it is, and
// only its usage is read (usage.input_tokens, output_tokens, input_tokens_details.cached_tokens).
// Reference: https://platform.openai.com/docs/api-reference/responses/create
import type { StreamDecoder } from '../../ir/stream.js';
import type { ChatExchange, ChatPassThrough, Redactor } from '../../wire/exchange.js';
import { openaiPassedFailure } from './errors.js';
import { responsesAnswerUsage, responsesChatResponse } from './responses-response.js';
import { ResponsesStreamDecoder, ResponsesStreamRelay } from './responses-stream.js';

const PASS_THROUGH: ChatPassThrough = {
  usage: responsesAnswerUsage,
  relay: (redactor: Redactor) => new ResponsesStreamRelay(redactor),
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
    request: { path, headers, body: JSON.stringify({ ...clientBody, model }) },
    passThrough: PASS_THROUGH,
    response: responsesChatResponse,
    streamDecoder,
    failure: openaiPassedFailure,
  };
}
