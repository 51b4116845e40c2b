// Sluice's own form of a chat call: every front door parses into it, every provider translates from it.
import type { Usage } from './usage.js';

export type TextPart = { type: 'text'; text: string };
export type ImagePart = {
  type: 'image';
  source: { kind: 'url'; url: string; detail?: string } | { kind: 'base64'; mediaType: string; data: string };
};
export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text exactly as the model produced it. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: TextPart[] }
  | { role: 'user'; content: ContentPart[] }
  | { role: 'assistant'; content: TextPart[]; toolCalls: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: ContentPart[]; isError?: boolean };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

export interface ChatRequest {
  /** The model name the client asked for (a Sluice model name, not a provider's). */
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  /** End-user id the client passed along, forwarded where the provider takes one. */
  user?: string;
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
  /** The stop sequence that ended the answer, where the provider says which. */
  stopSequence?: string;
  usage: Usage;
}
