// Sluice's own form of a chat call: every front door parses into it, every provider translates from it.
import type { ServiceTier, Usage } from './usage.js';

/**
 * A prompt-cache breakpoint the client set on a block (an Anthropic client's `cache_control: {type: "ephemeral", ttl?}`):
 * the prompt up to and including it is to be cached. Sent where the target caches by breakpoints (Claude on Vertex as
 * cache_control, Bedrock as a cachePoint block after it); other providers cache on their own and are sent nothing.
 */
export interface CacheBreakpoint {
  /** The cache's lifetime where the client named one (Anthropic's default is 5 minutes). */
  ttl?: '5m' | '1h';
}

export type TextPart = { type: 'text'; text: string; cache?: CacheBreakpoint };
export type ImagePart = {
  type: 'image';
  source: { kind: 'url'; url: string; detail?: string } | { kind: 'base64'; mediaType: string; data: string };
  cache?: CacheBreakpoint;
};
/**
 * A document the model reads, carried in the request: a PDF's bytes (base64), or plain text. Files kept by a provider
 * (an OpenAI file_id, an Anthropic Files API id) and documents by URL have no IR form.
 */
export type DocumentPart = {
  type: 'document';
  source: { kind: 'pdf'; data: string } | { kind: 'text'; text: string };
  /** The name the client gave it (OpenAI's filename, Anthropic's title). */
  name?: string;
  cache?: CacheBreakpoint;
};
export type ContentPart = TextPart | ImagePart | DocumentPart;
/** What a tool result carries: every API that takes documents in a user turn takes them there, not all in tool results. */
export type ToolResultPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text exactly as the model produced it. */
  arguments: string;
}

/**
 * One of Claude's signed reasoning blocks, as Anthropic's API gives it (`{type: "thinking", thinking, signature}` or
 * `{type: "redacted_thinking", data}`): handed to a client with the answer and carried back by it unchanged, for Claude
 * requires the thinking of a turn that called tools back with the tool results.
 */
export type ReasoningBlock = Record<string, unknown>;

/**
 * Whether a `thinking` block carries a signature, as Claude's always do: the blocks Sluice makes of other providers'
 * reasoning (Gemini's thoughts, an OpenAI-compatible server's reasoning_content) carry an empty one, which Claude refuses.
 */
export function isClaudeSigned(block: ReasoningBlock): boolean {
  return typeof block.signature === 'string' && block.signature !== '';
}

export type ChatMessage =
  | { role: 'system'; content: TextPart[] }
  | { role: 'user'; content: ContentPart[] }
  /**
   * `reasoning`: the signed thinking the turn was answered with, where the client carried it back. `reasoningText`:
   * unsigned reasoning it carried back (a thinking block Sluice made of another provider's reasoning), for the
   * OpenAI-compatible servers that want a tool-calling turn's reasoning back (DeepSeek's reasoning_content).
   */
  | { role: 'assistant'; content: TextPart[]; toolCalls: ToolCall[]; reasoning?: ReasoningBlock[]; reasoningText?: string }
  /** `cache`: a breakpoint the client set on the tool result as a whole. */
  | { role: 'tool'; toolCallId: string; content: ToolResultPart[]; isError?: boolean; cache?: CacheBreakpoint };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
  /** The client asked that calls keep to the schema exactly (OpenAI's and Anthropic's `strict`). */
  strict?: boolean;
  /** A breakpoint after this tool: the tools up to it (and nothing of the prompt after) are to be cached. */
  cache?: CacheBreakpoint;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

/**
 * How much a model is to reason before it answers, in OpenAI's levels (Chat Completions' `reasoning_effort`, the
 * Responses API's `reasoning.effort`); `none`: no reasoning. Each provider maps a level to what its model takes.
 */
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

export const REASONING_EFFORTS: readonly ReasoningEffort[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'];

export interface Reasoning {
  effort: ReasoningEffort;
  /**
   * A budget of reasoning tokens the client named (Anthropic's `thinking.budget_tokens`), for providers that take one;
   * `effort` is the level nearest to it, for those that take levels.
   */
  budgetTokens?: number;
}

export interface ChatRequest {
  /** The model name the client asked for (a Sluice model name, not a provider's). */
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  maxTokens?: number;
  /** How many answers the model writes (OpenAI's `n`), each up to maxTokens; absent for one. */
  choices?: number;
  temperature?: number;
  topP?: number;
  /**
   * Sample from the K likeliest tokens only (Anthropic's `top_k`): sent where the target takes it (Claude, Gemini, Nova),
   * left out where it has no such setting (OpenAI), as other settings that tune how an answer is made.
   */
  topK?: number;
  stop?: string[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  /** Absent: the client asked nothing, and the model reasons as it does by default. */
  reasoning?: Reasoning;
  /**
   * The client asked for the model's reasoning as text (the Responses API's `reasoning.summary`): asked of providers that
   * give it only on request (Gemini's thought summaries, includeThoughts).
   */
  reasoningSummary?: boolean;
  /** End-user id the client passed along, forwarded where the provider takes one. */
  user?: string;
  /** The service tier asked for where it is priced apart (OpenAI's `service_tier`): admission reserves at its prices. */
  serviceTier?: ServiceTier;
  /**
   * The geography the client asked the call to run in, where it is priced apart (Anthropic's `inference_geo: "us"`):
   * admission reserves at its prices, as metering bills the answer's `usage.inference_geo`.
   */
  inferenceGeo?: 'us';
  /**
   * The provider's own search tools the client gave the model, which the provider bills per use: admission reserves the
   * uses each may make. Absent when it gave none (src/gateway/frontdoors/search-tools.ts reads them).
   */
  searchTools?: SearchTools;
}

/**
 * Per kind of search the client gave the model a tool for, the most uses it allowed: Anthropic's `max_uses`, the
 * Responses API's `max_tool_calls` (a bound on all its built-in tool calls together); null when it set none.
 */
export interface SearchTools {
  webSearches?: number | null;
  fileSearches?: number | null;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error';

export interface ChatResponse {
  id: string;
  /** The model the provider says answered. */
  model: string;
  created: number;
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /**
   * The stop sequence that ended the answer, where known; null where the provider says one of the client's did but not
   * which (and it had several). Absent when none did.
   */
  stopSequence?: string | null;
  /** Claude's signed thinking blocks, in their order; absent when it did not think. */
  reasoning?: ReasoningBlock[];
  /** Reasoning the provider gives as text alone, unsigned (Gemini's thought summaries); absent when it gave none. */
  reasoningText?: string;
  /**
   * The model declining to give the structured answer asked for (response_format), in its own words, kept apart from
   * text: OpenAI's message.refusal. Then text is empty and finishReason content_filter.
   */
  refusal?: string;
  usage: Usage;
}
