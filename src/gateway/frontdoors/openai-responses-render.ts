// IR -> the OpenAI Responses API's response object: a translated provider's whole answer, and the skeleton the stream's
// lifecycle events carry.
import type { ChatRequest, ChatResponse, FinishReason, ToolChoice } from '../../ir/chat.js';
import type { Usage } from '../../ir/usage.js';
import type {
  ResponsesFunctionTool,
  ResponsesObject,
  ResponsesOutputItem,
  ResponsesStatus,
  ResponsesUsage,
} from './openai-responses-wire.js';
import { reasoningItems } from './openai-responses-reasoning.js';

export function toResponsesUsage(usage: Usage): ResponsesUsage {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** A response id in OpenAI's form (resp_...), from the provider's id where it has one. */
export function responseId(id: string): string {
  return id.startsWith('resp_') ? id : `resp_${id === '' ? crypto.randomUUID().replaceAll('-', '') : id.replace(/[^A-Za-z0-9_-]/g, '')}`;
}

/** An output item id: msg_... or fc_..., unique within the answer. */
export function itemId(prefix: 'msg' | 'fc'): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;
}

/** Completed, or incomplete with the reason, from how the answer finished. */
export function statusOf(finish: FinishReason | null, refused = false): Pick<ResponsesObject, 'status' | 'incomplete_details'> {
  // A refusal is a completed response whose message holds a refusal part, as OpenAI answers one.
  if (refused) return { status: 'completed', incomplete_details: null };
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

function toolChoiceOf(choice: ToolChoice | undefined): ResponsesObject['tool_choice'] {
  if (choice === undefined) return 'auto';
  return typeof choice === 'string' ? choice : { type: 'function', name: choice.name };
}

/** The response object around `output`, echoing the request's settings as OpenAI does. */
export function responseObject(
  request: ChatRequest,
  id: string,
  createdAt: number,
  status: ResponsesStatus,
  output: ResponsesOutputItem[],
  usage: Usage | null,
): ResponsesObject {
  const system = request.messages[0]?.role === 'system' ? request.messages[0].content.map((part) => part.text).join('') : null;
  const tools: ResponsesFunctionTool[] = (request.tools ?? []).map((tool) => ({
    type: 'function',
    name: tool.name,
    description: tool.description ?? null,
    parameters: tool.parameters,
    strict: false,
  }));
  const format = request.responseFormat ?? { type: 'text' as const };
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: null,
    instructions: system,
    max_output_tokens: request.maxTokens ?? null,
    model: request.model,
    output,
    parallel_tool_calls: request.parallelToolCalls ?? true,
    previous_response_id: null,
    store: false,
    temperature: request.temperature ?? null,
    text: { format },
    tool_choice: toolChoiceOf(request.toolChoice),
    tools,
    top_p: request.topP ?? null,
    truncation: 'disabled',
    usage: usage === null ? null : toResponsesUsage(usage),
    user: request.user ?? null,
    metadata: {},
  };
}

/** A translated provider's whole answer as a response object. */
export function renderResponse(response: ChatResponse, request: ChatRequest): string {
  const output: ResponsesOutputItem[] = reasoningItems(response);
  if (response.text !== '') {
    output.push({
      id: itemId('msg'),
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: response.text, annotations: [], logprobs: [] }],
    });
  }
  if (response.refusal !== undefined) {
    output.push({
      id: itemId('msg'),
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'refusal', refusal: response.refusal }],
    });
  }
  for (const call of response.toolCalls) {
    output.push({
      id: itemId('fc'),
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
    });
  }
  const finished = statusOf(response.finishReason, response.refusal !== undefined);
  const object = responseObject(request, responseId(response.id), response.created, finished.status, output, response.usage);
  object.incomplete_details = finished.incomplete_details;
  return JSON.stringify(object);
}
