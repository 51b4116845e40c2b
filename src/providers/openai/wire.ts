// OpenAI Chat Completions and Embeddings wire types, as far as Sluice reads or writes them.
// Reference: https://platform.openai.com/docs/api-reference/chat and /embeddings

export type OpenAIContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: string } }
  /** PDFs only, in Chat Completions: https://platform.openai.com/docs/guides/pdf-files */
  | { type: 'file'; file: { filename: string; file_data: string } };

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type OpenAIMessage =
  | { role: 'system' | 'developer'; content: string | Array<{ type: 'text'; text: string }>; name?: string }
  | { role: 'user'; content: string | OpenAIContentPart[]; name?: string }
  /** reasoning_content: a compatible server's (DeepSeek's), the reasoning of a turn that called tools, given back. */
  | {
      role: 'assistant';
      content: string | null | Array<{ type: 'text'; text: string }>;
      tool_calls?: OpenAIToolCall[];
      name?: string;
      reasoning_content?: string;
    }
  | { role: 'tool'; content: string | Array<{ type: 'text'; text: string }>; tool_call_id: string };

export interface OpenAITool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export interface OpenAIChatRequest {
  model: string;
  messages: OpenAIMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  tools?: OpenAITool[];
  tool_choice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };
  parallel_tool_calls?: boolean;
  response_format?:
    | { type: 'text' }
    | { type: 'json_object' }
    | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string } };
  /** Reasoning models only (o-series, GPT-5 family). */
  reasoning_effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';
  user?: string;
}

export interface OpenAIEmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

export interface OpenAIErrorBody {
  error: { message: string; type?: string; param?: string | null; code?: string | null };
}
