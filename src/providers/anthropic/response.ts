// Anthropic Messages response -> IR (pure).
import type { ChatResponse, FinishReason, ReasoningBlock, ToolCall } from '../../ir/chat.js';
import { usageExcludingCache, type Usage } from '../../ir/usage.js';
import { asArray, asObject, asString, tryParseJson } from '../../wire/json.js';
import { asTokenCount } from '../../wire/usage.js';
import { usageObjectText } from '../../wire/usage-scan.js';

export function anthropicChatResponse(body: unknown): ChatResponse {
  const root = asObject(body);
  let text = '';
  const toolCalls: ToolCall[] = [];
  let reasoning: ReasoningBlock[] | undefined;
  for (const raw of asArray(root.content)) {
    const block = asObject(raw);
    if (block.type === 'text') text += asString(block.text);
    else if (block.type === 'tool_use')
      toolCalls.push({ id: asString(block.id), name: asString(block.name), arguments: JSON.stringify(block.input ?? {}) });
    // Not the answer: kept whole, signature and all, for the client to carry back.
    else if (block.type === 'thinking' || block.type === 'redacted_thinking') (reasoning ??= []).push(block);
  }
  const response: ChatResponse = {
    id: asString(root.id),
    model: asString(root.model),
    created: Math.floor(Date.now() / 1000),
    text,
    toolCalls,
    finishReason: anthropicFinishReason(root.stop_reason),
    usage: anthropicUsage(root.usage),
  };
  if (typeof root.stop_sequence === 'string') response.stopSequence = root.stop_sequence;
  if (reasoning !== undefined) response.reasoning = reasoning;
  return response;
}

export function anthropicFinishReason(value: unknown): FinishReason {
  switch (value) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      // The second: the prompt and answer filled the model's context window, cut short as at max_tokens.
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** Anthropic's input_tokens excludes cache reads and writes; the IR's inputTokens is the whole prompt. */
export function anthropicUsage(value: unknown): Usage {
  const usage = asObject(value);
  const result = usageExcludingCache(
    asTokenCount(usage.input_tokens),
    asTokenCount(usage.output_tokens),
    asTokenCount(usage.cache_read_input_tokens) ?? 0,
    asTokenCount(usage.cache_creation_input_tokens) ?? 0,
    usage.cache_creation === undefined ? undefined : anthropicHourCacheWrites(usage),
  );
  const searches = anthropicWebSearches(usage);
  if (searches !== undefined && searches > 0) result.webSearches = searches;
  if (usage.inference_geo === 'us') result.inferenceGeo = 'us';
  if (usage.speed === 'fast') result.serviceTier = 'fast';
  return result;
}

/**
 * The searches Anthropic's web search tool ran for the call, billed per search beside the tokens
 * (https://docs.claude.com/en/docs/agents-and-tools/tool-use/web-search-tool); undefined when the usage does not say.
 */
export function anthropicWebSearches(usage: Record<string, unknown>): number | undefined {
  return asTokenCount(asObject(usage.server_tool_use).web_search_requests);
}

/**
 * Of a usage object's cache writes, those to the 1-hour cache, billed at their own rate: `cache_creation` splits
 * cache_creation_input_tokens by lifetime (https://docs.claude.com/en/docs/build-with-claude/prompt-caching); 0 when the
 * usage has no split (every write then a 5-minute one, as before the 1-hour cache existed).
 */
export function anthropicHourCacheWrites(usage: Record<string, unknown>): number {
  return asTokenCount(asObject(usage.cache_creation).ephemeral_1h_input_tokens) ?? 0;
}

/**
 * The usage of a whole answer passed through to the client untouched: its usage object found and parsed alone, the whole
 * answer parsed only when that fails. Null when the answer is not JSON.
 */
export function anthropicAnswerUsage(text: string): Usage | null {
  const found = usageObjectText(text);
  if (found !== null) {
    const usage = anthropicUsage(tryParseJson(found));
    if (usage.reported) return usage;
  }
  const json = tryParseJson(text);
  return json === undefined ? null : anthropicUsage(asObject(json).usage);
}
