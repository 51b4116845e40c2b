// IR -> OpenAI Chat Completions and Embeddings request bodies (pure; never mutates its input).
import { SluiceError } from '../../errors.js';
import type { ChatMessage, ChatRequest, ContentPart, ImagePart } from '../../ir/chat.js';
import type { EmbeddingsRequest } from '../../ir/embeddings.js';
import type { ClientBody } from '../../wire/exchange.js';
import { endUserDigest } from '../shared/end-user-id.js';
import { OPENAI_TOOL_CALL_ID_MAX, toolCallIdWithin } from '../shared/tool-use-id.js';
import {
  openaiReasoningEffort,
  openaiTakesMaxTokens,
  openaiTakesParallelToolCalls,
  openaiTakesReasoningBack,
  openaiTakesSampling,
  openaiTakesStop,
} from './reasoning.js';
import type { OpenAIChatRequest, OpenAIContentPart, OpenAIEmbeddingsRequest, OpenAIMessage } from './wire.js';

/**
 * The body sent upstream. An OpenAI-shaped client body is passed through with only the model changed and,
 * for streams, usage requested, so fields Sluice does not model (logprobs, seed, ...) still reach the provider.
 */
/**
 * `baseModel`: the model `targetModel` serves, where the name is the customer's own (an Azure OpenAI deployment); what
 * the model takes (reasoning effort, sampling, stop, parallel_tool_calls) is read from it.
 */
export function openaiChatBody(request: ChatRequest, targetModel: string, client: ClientBody | null, baseModel = targetModel): object {
  if (client?.dialect === 'openai') {
    const body: Record<string, unknown> = { ...client.body, model: targetModel };
    // The client's max_tokens, right for the model it named, reaches a reasoning model (a target, or a fallback) as the
    // max_completion_tokens it takes in its place; one the client gave itself wins.
    if (body.max_tokens !== undefined && !openaiTakesMaxTokens(baseModel)) {
      if (body.max_completion_tokens === undefined || body.max_completion_tokens === null) body.max_completion_tokens = body.max_tokens;
      delete body.max_tokens;
    }
    const messages = client.body.messages as Array<Record<string, unknown>>;
    const thinking = request.messages.some((message) => message.role === 'assistant' && message.reasoning !== undefined);
    // Reasoning a client carried back (Sluice's reasoning_content, a compatible server's) goes to a compatible server
    // as it came, and is kept from OpenAI's own models, which refuse it.
    const keepsReasoning = openaiTakesReasoningBack(baseModel) || !messages.some(carriesReasoning);
    if (thinking || !keepsReasoning || request.messages.some(hasLongToolCallId)) body.messages = carriedMessages(messages, keepsReasoning);
    if (request.stream) body.stream_options = { ...(client.body.stream_options as object | undefined), include_usage: true };
    return body;
  }
  return fromIR(request, targetModel, baseModel);
}

/** Whether a message carries reasoning back: reasoning_content (DeepSeek's, Sluice's), reasoning (vLLM's, OpenRouter's). */
function carriesReasoning(message: Record<string, unknown>): boolean {
  return message.reasoning_content !== undefined || message.reasoning !== undefined;
}

/** Whether a message names a tool call by an id longer than OpenAI takes (one another provider gave). */
function hasLongToolCallId(message: ChatMessage): boolean {
  if (message.role === 'tool') return message.toolCallId.length > OPENAI_TOOL_CALL_ID_MAX;
  return message.role === 'assistant' && message.toolCalls.some((call) => call.id.length > OPENAI_TOOL_CALL_ID_MAX);
}

/**
 * The messages as OpenAI takes them from a conversation begun elsewhere: without the thinking blocks Sluice gave with
 * Claude's answers (thinking_blocks, its own field, which OpenAI knows nothing of), and with tool call ids another
 * provider gave (Gemini's, with its thought signature) in as many characters as OpenAI takes.
 */
function carriedMessages(messages: Array<Record<string, unknown>>, keepsReasoning: boolean): Array<Record<string, unknown>> {
  return messages.map((message) => {
    const { thinking_blocks: _carried, ...rest } = message;
    if (!keepsReasoning) {
      delete rest.reasoning_content;
      delete rest.reasoning;
    }
    if (typeof rest.tool_call_id === 'string') rest.tool_call_id = toolCallIdWithin(rest.tool_call_id, OPENAI_TOOL_CALL_ID_MAX);
    if (Array.isArray(rest.tool_calls)) {
      rest.tool_calls = rest.tool_calls.map((call: unknown) =>
        typeof call === 'object' && call !== null && typeof (call as { id?: unknown }).id === 'string'
          ? { ...call, id: toolCallIdWithin((call as { id: string }).id, OPENAI_TOOL_CALL_ID_MAX) }
          : call,
      );
    }
    return rest;
  });
}

function fromIR(request: ChatRequest, targetModel: string, baseModel: string): OpenAIChatRequest {
  const body: OpenAIChatRequest = { model: targetModel, messages: openaiMessages(request.messages, openaiTakesReasoningBack(baseModel)) };
  if (request.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  if (request.maxTokens !== undefined) body.max_completion_tokens = request.maxTokens;
  const effort = request.reasoning === undefined ? undefined : openaiReasoningEffort(request.reasoning, baseModel);
  if (openaiTakesSampling(baseModel, effort)) {
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.topP !== undefined) body.top_p = request.topP;
  }
  if (request.stop !== undefined && request.stop.length > 0) body.stop = openaiStop(request.stop, baseModel);
  // OpenAI refuses an empty tools list, and tool_choice and parallel_tool_calls without tools ("only allowed when 'tools'
  // are specified"), all of which Anthropic takes: without tools they say nothing, and are left out.
  const tools = request.tools !== undefined && request.tools.length > 0 ? request.tools : null;
  if (tools !== null) {
    body.tools = tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== undefined && { description: tool.description }),
        parameters: tool.parameters,
        ...(tool.strict === true && { strict: true }),
      },
    }));
  }
  if (tools !== null && request.toolChoice !== undefined) {
    body.tool_choice =
      typeof request.toolChoice === 'string' ? request.toolChoice : { type: 'function', function: { name: request.toolChoice.name } };
  }
  // The o-series refuses the field outright ("Unsupported parameter: 'parallel_tool_calls'"): left out for them, as a
  // preference its models cannot be given (a client reading Anthropic's answers takes several tool calls in any case).
  if (tools !== null && request.parallelToolCalls !== undefined && openaiTakesParallelToolCalls(baseModel))
    body.parallel_tool_calls = request.parallelToolCalls;
  if (request.responseFormat !== undefined) {
    const format = request.responseFormat;
    body.response_format =
      format.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              schema: format.schema,
              ...(format.strict !== undefined && { strict: format.strict }),
              ...(format.description !== undefined && { description: format.description }),
            },
          }
        : { type: format.type };
  }
  if (effort !== undefined) body.reasoning_effort = effort;
  if (request.user !== undefined) body.user = openaiUser(request.user);
  return body;
}

/** OpenAI takes an end-user id of at most 64 characters ("Invalid 'user': string too long"). */
const MAX_USER_LENGTH = 64;

/**
 * The end-user id as OpenAI takes it: one longer than it takes (Claude Code's metadata.user_id runs to some 150
 * characters) goes as its digest, which still tells one caller from another, rather than failing every call.
 */
function openaiUser(user: string): string {
  return user.length <= MAX_USER_LENGTH ? user : endUserDigest(user);
}

/** Chat Completions takes up to 4 stop sequences: https://platform.openai.com/docs/api-reference/chat/create#chat-create-stop */
const MAX_STOP_SEQUENCES = 4;

/**
 * The stop sequences `model` is sent, or why it cannot be: more than OpenAI takes, or a reasoning model that takes none.
 * Either is refused here rather than left out: an answer running past the point the client meant it to stop is not the
 * answer asked for (an agent loop's "Observation:"), and another of the model's targets may take them.
 */
function openaiStop(stop: string[], model: string): string[] {
  if (!openaiTakesStop(model))
    throw new SluiceError('unsupported_by_provider', `OpenAI's ${model} takes no stop sequences, as its reasoning models do not.`, {
      param: 'stop',
    });
  if (stop.length > MAX_STOP_SEQUENCES)
    throw new SluiceError(
      'unsupported_by_provider',
      `OpenAI takes at most ${MAX_STOP_SEQUENCES} stop sequences; ${stop.length} were given.`,
      { param: 'stop' },
    );
  return stop;
}

/**
 * The conversation in Chat Completions' messages. Its tool messages carry text only, so the images of a tool result
 * (a screenshot tool's, say) follow the run of tool messages in a user message naming the call, rather than being lost;
 * the tool message says where its images went.
 */
/** `reasoningBack`: whether the model takes a tool-calling turn's reasoning back (openaiTakesReasoningBack). */
function openaiMessages(messages: readonly ChatMessage[], reasoningBack: boolean): OpenAIMessage[] {
  const out: OpenAIMessage[] = [];
  let toolImages: OpenAIContentPart[] = [];
  for (const message of messages) {
    if (message.role !== 'tool' && toolImages.length > 0) {
      out.push({ role: 'user', content: toolImages });
      toolImages = [];
    }
    if (message.role !== 'tool') {
      out.push(toMessage(message, reasoningBack));
      continue;
    }
    let images = 0;
    const texts = message.content.map((part) => (part.type === 'text' ? part.text : `[image ${++images} in the next message]`));
    // A tool message has no field saying the call failed (Anthropic's is_error): its content does, or the model reads
    // the failure's text as the tool's answer. Several texts are kept apart as the client kept them (joinText).
    const content = message.isError === true ? failed(joinText(texts)) : joinText(texts);
    const id = toolCallIdWithin(message.toolCallId, OPENAI_TOOL_CALL_ID_MAX);
    out.push({ role: 'tool', tool_call_id: id, content });
    if (images > 0) {
      toolImages.push({ type: 'text', text: `Images returned by tool call ${id}:` });
      for (const part of message.content) if (part.type === 'image') toolImages.push(imageUrlPart(part));
    }
  }
  if (toolImages.length > 0) out.push({ role: 'user', content: toolImages });
  return out;
}

function failed(content: string): string {
  return content === '' ? 'Error' : `Error: ${content}`;
}

function toMessage(message: Exclude<ChatMessage, { role: 'tool' }>, reasoningBack: boolean): OpenAIMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: textContent(message.content) };
    case 'user':
      return { role: 'user', content: toUserContent(message.content) };
    case 'assistant': {
      const content = textContent(message.content);
      const out: OpenAIMessage = { role: 'assistant', content: content === '' && message.toolCalls.length > 0 ? null : content };
      if (message.toolCalls.length > 0) {
        out.tool_calls = message.toolCalls.map((call) => ({
          id: toolCallIdWithin(call.id, OPENAI_TOOL_CALL_ID_MAX),
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        }));
        // Only a tool-calling turn's: DeepSeek requires it there and ignores it elsewhere (its older deepseek-reasoner,
        // which calls no tools, refuses it).
        if (reasoningBack && message.reasoningText !== undefined) out.reasoning_content = message.reasoningText;
      }
      return out;
    }
  }
}

const PDF_DATA_URL = 'data:application/pdf;base64,';

function toUserContent(parts: ContentPart[]): string | OpenAIContentPart[] {
  if (parts.length === 1 && parts[0]!.type === 'text') return parts[0]!.text;
  return parts.map((part): OpenAIContentPart => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    if (part.type === 'document') {
      // Chat Completions' file inputs take PDFs only: a front door refuses a plain-text document for this provider.
      if (part.source.kind !== 'pdf')
        throw new SluiceError('unsupported_by_provider', 'Chat Completions takes PDF documents only.', { param: 'messages' });
      return { type: 'file', file: { filename: part.name ?? 'document.pdf', file_data: `${PDF_DATA_URL}${part.source.data}` } };
    }
    return imageUrlPart(part);
  });
}

function imageUrlPart(part: ImagePart): OpenAIContentPart {
  const url = part.source.kind === 'url' ? part.source.url : `data:${part.source.mediaType};base64,${part.source.data}`;
  const detail = part.source.kind === 'url' ? part.source.detail : undefined;
  return { type: 'image_url', image_url: detail !== undefined ? { url, detail } : { url } };
}

/** A message's text parts as Chat Completions takes a system or assistant message's text: one string. */
function textContent(parts: ReadonlyArray<{ text: string }>): string {
  return joinText(parts.map((part) => part.text));
}

/**
 * Several texts as one, a blank line between them, so that blocks the client kept apart (an Anthropic system prompt's,
 * a tool result's) are not run together. A string rather than text parts: OpenAI takes parts in system, assistant and
 * tool messages, but servers behind the openai type may take only a string there (DeepSeek's: "invalid type: sequence, expected a string").
 */
function joinText(texts: readonly string[]): string {
  return texts.length === 1 ? texts[0]! : texts.join('\n\n');
}

export function openaiEmbeddingsBody(request: EmbeddingsRequest, targetModel: string, client: ClientBody | null): object {
  if (client?.dialect === 'openai') return { ...client.body, model: targetModel };
  const body: OpenAIEmbeddingsRequest = { model: targetModel, input: request.single ? request.input[0]! : request.input };
  if (request.encodingFormat !== undefined) body.encoding_format = request.encodingFormat;
  if (request.dimensions !== undefined) body.dimensions = request.dimensions;
  if (request.user !== undefined) body.user = request.user;
  return body;
}
