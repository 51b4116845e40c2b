// OpenAI Chat Completions and Embeddings responses -> IR (pure).
import type { ChatResponse, FinishReason, ToolCall } from '../../ir/chat.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../ir/embeddings.js';
import { asServiceTier, type Usage } from '../../ir/usage.js';
import { asArray, asNumber, asObject, asString, tryParseJson } from '../../wire/json.js';
import { asTokenCount } from '../../wire/usage.js';
import { serviceTierText, usageObjectText } from '../../wire/usage-scan.js';

export function openaiChatResponse(body: unknown): ChatResponse {
  const root = asObject(body);
  const choice = asObject(asArray(root.choices)[0]);
  const message = asObject(choice.message);
  const toolCalls: ToolCall[] = asArray(message.tool_calls).map((raw) => {
    const call = asObject(raw);
    const fn = asObject(call.function);
    return { id: asString(call.id), name: asString(fn.name), arguments: asString(fn.arguments) };
  });
  const response: ChatResponse = {
    id: asString(root.id),
    model: asString(root.model),
    created: asNumber(root.created) ?? Math.floor(Date.now() / 1000),
    text: asString(message.content),
    toolCalls,
    finishReason: withToolCalls(openaiFinishReason(choice.finish_reason), toolCalls.length),
    usage: withServiceTier(openaiUsage(root.usage), root.service_tier),
  };
  // The model declining a structured answer says why in refusal, with no content and finish_reason stop: kept apart,
  // as a refusal (Anthropic's stop_reason refusal), rather than lost as an empty answer.
  const reasoning = compatibleReasoning(message);
  if (reasoning !== '') response.reasoningText = reasoning;
  const refusal = asString(message.refusal);
  if (refusal !== '') {
    response.refusal = refusal;
    response.finishReason = 'content_filter';
  }
  return response;
}

/**
 * The reasoning an OpenAI-compatible server gives beside the answer, in a message or a stream's delta: DeepSeek's
 * `reasoning_content` (api-docs.deepseek.com/guides/thinking_mode), or `reasoning`, vLLM's name for it from 0.11
 * (docs.vllm.ai features/reasoning_outputs) and OpenRouter's; '' for none. OpenAI's own models give none here.
 */
export function compatibleReasoning(message: Record<string, unknown>): string {
  const text = message.reasoning_content ?? message.reasoning;
  return typeof text === 'string' ? text : '';
}

/** Usage with the tier an answer says served it, where that tier is priced apart (Pricing.priority, Pricing.flex). */
export function withServiceTier(usage: Usage, tier: unknown): Usage {
  const priced = asServiceTier(tier);
  if (priced !== undefined) usage.serviceTier = priced;
  return usage;
}

/**
 * An answer that called tools ends for them: OpenAI ends the call of the function tool_choice named with
 * finish_reason "stop" (as do some compatible servers any call), where a client reading the stop reason of a translated
 * answer (Anthropic's tool_use, that agent loops run the tools on) must learn that tools were called.
 */
export function withToolCalls(finish: FinishReason, toolCalls: number): FinishReason {
  return finish === 'stop' && toolCalls > 0 ? 'tool_calls' : finish;
}

export function openaiFinishReason(value: unknown): FinishReason {
  switch (value) {
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** OpenAI's usage object to IR usage; `reported` is false when the object is missing. */
export function openaiUsage(value: unknown): Usage {
  const usage = asObject(value);
  const input = asTokenCount(usage.prompt_tokens);
  const output = asTokenCount(usage.completion_tokens);
  const result = promptUsage(input, output, asObject(usage.prompt_tokens_details));
  // Of the completion, what the model spent reasoning (OpenAI's reasoning models, DeepSeek, vLLM): part of the output.
  return withReasoningTokens(result, usage.completion_tokens_details, output);
}

/**
 * Usage with the reasoning tokens an output's details state (`reasoning_tokens`: Chat Completions'
 * completion_tokens_details, the Responses API's output_tokens_details), a part of the output, never more than it.
 */
export function withReasoningTokens(usage: Usage, details: unknown, output: number | undefined): Usage {
  const reasoning = asTokenCount(asObject(details).reasoning_tokens);
  if (reasoning !== undefined) usage.reasoningTokens = Math.min(reasoning, output ?? reasoning);
  return usage;
}

/**
 * IR usage from an OpenAI prompt count and its details (Chat Completions' prompt_tokens_details, the Responses API's
 * input_tokens_details): the tokens read from the prompt cache (`cached_tokens`) and, from GPT-5.6 on, those written to
 * it (`cache_write_tokens`, billed at 1.25x input), both parts of the prompt, never more than it whatever the server says.
 */
export function promptUsage(input: number | undefined, output: number | undefined, details: Record<string, unknown>): Usage {
  const cached = Math.min(asTokenCount(details.cached_tokens) ?? 0, input ?? 0);
  return {
    inputTokens: input ?? 0,
    outputTokens: output ?? 0,
    cachedInputTokens: cached,
    cacheWriteTokens: Math.min(asTokenCount(details.cache_write_tokens) ?? 0, (input ?? 0) - cached),
    reported: input !== undefined || output !== undefined,
  };
}

/**
 * An embeddings answer's usage object to IR usage: the input count only (embeddings produce no output tokens), `reported`
 * false when the server gave none, so that metering counts it.
 */
function openaiEmbeddingsUsage(value: unknown): Usage {
  const input = asTokenCount(asObject(value).prompt_tokens);
  return { inputTokens: input ?? 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reported: input !== undefined };
}

export function openaiEmbeddingsResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse {
  const root = asObject(body);
  const items = asArray(root.data)
    .map(asObject)
    .sort((a, b) => (asNumber(a.index) ?? 0) - (asNumber(b.index) ?? 0));
  return {
    model: asString(root.model),
    data: items.map((item) => (request.encodingFormat === 'base64' ? asString(item.embedding) : (asArray(item.embedding) as number[]))),
    usage: openaiEmbeddingsUsage(root.usage),
  };
}

/**
 * The usage of a whole chat answer passed through to the client untouched: its usage object found and parsed alone, the
 * whole answer parsed only when that fails. Null when the answer is not JSON.
 */
export function openaiAnswerUsage(text: string): Usage | null {
  const found = usageObjectText(text);
  if (found !== null) {
    const usage = openaiUsage(tryParseJson(found));
    if (usage.reported) return withServiceTier(usage, serviceTierText(text));
  }
  const json = tryParseJson(text);
  return json === undefined ? null : withServiceTier(openaiUsage(asObject(json).usage), asObject(json).service_tier);
}

/** The usage of a whole embeddings answer passed through to the client. */
export function openaiEmbeddingsAnswerUsage(body: unknown): Usage {
  return openaiEmbeddingsUsage(asObject(body).usage);
}
