// Bedrock Converse response -> IR (pure).
import type { ChatResponse, FinishReason, ReasoningBlock, ToolCall } from '../../ir/chat.js';
import { usageExcludingCache, type Usage } from '../../ir/usage.js';
import { asArray, asObject, asString } from '../../wire/json.js';
import { asTokenCount } from '../../wire/usage.js';
import { reasoningBlock } from './reasoning.js';

/** `stops`: the stop sequences the request was sent, to say which ended the answer where Converse does not (bedrockStopSequence). */
export function bedrockChatResponse(body: unknown, requestId = '', stops: readonly string[] = []): ChatResponse {
  const root = asObject(body);
  const message = asObject(asObject(root.output).message);
  let text = '';
  const toolCalls: ToolCall[] = [];
  let reasoning: ReasoningBlock[] | undefined;
  for (const raw of asArray(message.content)) {
    const block = asObject(raw);
    if (typeof block.text === 'string') text += block.text;
    else if (block.reasoningContent !== undefined) {
      const thought = reasoningBlock(block.reasoningContent);
      if (thought !== null) (reasoning ??= []).push(thought);
    } else if (block.toolUse !== undefined) {
      const use = asObject(block.toolUse);
      toolCalls.push({ id: asString(use.toolUseId), name: asString(use.name), arguments: JSON.stringify(use.input ?? {}) });
    }
  }
  const response: ChatResponse = {
    id: requestId || crypto.randomUUID(),
    model: '',
    created: Math.floor(Date.now() / 1000),
    text,
    toolCalls,
    finishReason: bedrockFinishReason(root.stopReason),
    usage: bedrockUsage(root.usage),
  };
  const stopSequence = bedrockStopSequence(root, stops);
  if (stopSequence !== undefined) response.stopSequence = stopSequence;
  if (reasoning !== undefined) response.reasoning = reasoning;
  return response;
}

/**
 * The stop sequence that ended the answer, on a Converse answer or ConverseStream's messageStop alike: Claude's
 * `stop_sequence`, in additionalModelResponseFields when the request asked for it (STOP_SEQUENCE_PATH); for a model
 * whose answer has no such field (Nova, Llama, ...), which stopReason says matched without saying which, the client's
 * only one, or null when it gave several. Undefined when none did.
 */
export function bedrockStopSequence(answer: Record<string, unknown>, stops: readonly string[]): string | null | undefined {
  if (answer.stopReason !== 'stop_sequence') return undefined;
  const matched = asObject(answer.additionalModelResponseFields).stop_sequence;
  if (typeof matched === 'string') return matched;
  return stops.length === 1 ? stops[0]! : null;
}

export function bedrockFinishReason(value: unknown): FinishReason {
  switch (value) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      // The second: the prompt and answer filled the model's context window, cut short as at max_tokens.
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** Bedrock's inputTokens leaves out cache reads and writes; the IR counts the whole prompt. */
export function bedrockUsage(value: unknown): Usage {
  const usage = asObject(value);
  return usageExcludingCache(
    asTokenCount(usage.inputTokens),
    asTokenCount(usage.outputTokens),
    asTokenCount(usage.cacheReadInputTokens) ?? 0,
    asTokenCount(usage.cacheWriteInputTokens) ?? 0,
    bedrockHourCacheWrites(usage.cacheDetails),
  );
}

/**
 * Converse splits cacheWriteInputTokens by lifetime in `cacheDetails`, `[{ ttl: '5m' | '1h', inputTokens }]`
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_TokenUsage.html); the 1-hour writes are billed at
 * their own rate. Undefined without it: no split stated.
 */
function bedrockHourCacheWrites(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  let tokens = 0;
  for (const detail of details) {
    const { ttl, inputTokens } = asObject(detail);
    if (ttl === '1h') tokens += asTokenCount(inputTokens) ?? 0;
  }
  return tokens;
}
