// The OpenAI API's answer shapes as this front door writes them: completions, chunks, embeddings lists.
// Reference: https://platform.openai.com/docs/api-reference/chat/object and /chat/streaming and /embeddings/object

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  /** Of completion_tokens, those spent reasoning. */
  completion_tokens_details?: { reasoning_tokens: number };
}

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface OpenAIChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    /** thinking_blocks: Claude's signed thinking, Sluice's own field (see docs/providers.md#reasoning). */
    message: {
      role: 'assistant';
      content: string | null;
      tool_calls?: OpenAIToolCall[];
      refusal: string | null;
      /** The model's reasoning as text, DeepSeek's field, which OpenAI-compatible clients read. */
      reasoning_content?: string;
      thinking_blocks?: Array<Record<string, unknown>>;
    };
    finish_reason: OpenAIFinishReason;
    logprobs: null;
  }>;
  usage: OpenAIUsage;
  system_fingerprint?: string | null;
}

export interface OpenAIChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      refusal?: string | null;
      /** A piece of the model's reasoning as it comes, DeepSeek's field. */
      reasoning_content?: string;
      tool_calls?: Array<{ index: number; id?: string; type?: 'function'; function?: { name?: string; arguments?: string } }>;
      /** Every thinking block so far, whole: a client that merges deltas field by field keeps the last, all of them. */
      thinking_blocks?: Array<Record<string, unknown>>;
    };
    finish_reason: OpenAIFinishReason | null;
    logprobs?: null;
  }>;
  usage?: OpenAIUsage | null;
}

export interface OpenAIEmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}
