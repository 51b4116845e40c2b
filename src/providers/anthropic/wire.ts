// Anthropic Messages API wire types, as far as Sluice reads or writes them.
// Reference: https://docs.anthropic.com/en/api/messages and https://docs.anthropic.com/en/api/messages-streaming

export type AnthropicImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

/** Documents: https://docs.anthropic.com/en/docs/build-with-claude/pdf-support (base64 PDFs; plain text). */
export type AnthropicDocumentSource =
  { type: 'base64'; media_type: 'application/pdf'; data: string } | { type: 'text'; media_type: 'text/plain'; data: string };

/** A prompt-cache breakpoint: https://platform.claude.com/docs/en/build-with-claude/prompt-caching */
export type AnthropicCacheControl = { type: 'ephemeral'; ttl?: '5m' | '1h' };

export type AnthropicContentBlock =
  | { type: 'text'; text: string; cache_control?: AnthropicCacheControl }
  | { type: 'image'; source: AnthropicImageSource; cache_control?: AnthropicCacheControl }
  | { type: 'document'; source: AnthropicDocumentSource; title?: string; cache_control?: AnthropicCacheControl }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  /** Claude's own reasoning, given back as it came: https://platform.claude.com/docs/en/build-with-claude/extended-thinking */
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | {
      type: 'tool_result';
      tool_use_id: string;
      content?: string | Array<{ type: 'text'; text: string } | { type: 'image'; source: AnthropicImageSource }>;
      is_error?: boolean;
      cache_control?: AnthropicCacheControl;
    };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  /** Strict tool use: https://platform.claude.com/docs/en/agents-and-tools/tool-use/strict-tool-use (Claude 4.5 and later). */
  strict?: boolean;
  cache_control?: AnthropicCacheControl;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any' | 'none'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string | Array<{ type: 'text'; text: string; cache_control?: AnthropicCacheControl }>;
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id?: string };
  /** https://platform.claude.com/docs/en/build-with-claude/extended-thinking and /adaptive-thinking */
  thinking?: { type: 'enabled'; budget_tokens: number } | { type: 'adaptive' };
  /** https://platform.claude.com/docs/en/build-with-claude/effort (beside adaptive thinking) */
  output_config?: { effort: 'low' | 'medium' | 'high' | 'xhigh' | 'max' };
}
