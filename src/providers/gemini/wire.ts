// Google Gemini API (generativelanguage) wire types, as far as Sluice reads or writes them.
// Reference: https://ai.google.dev/api/generate-content and https://ai.google.dev/api/embeddings

import type { GeminiThinkingConfig } from './thinking.js';

export type GeminiPart =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  /** thoughtSignature: Gemini 3's, beside a turn's first call; given back as it came. */
  | { functionCall: { name: string; args: Record<string, unknown>; id?: string }; thoughtSignature?: string }
  | { functionResponse: { name: string; response: Record<string, unknown>; id?: string } };

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  generationConfig?: {
    maxOutputTokens?: number;
    temperature?: number;
    topP?: number;
    topK?: number;
    stopSequences?: string[];
    responseMimeType?: string;
    responseJsonSchema?: Record<string, unknown>;
    thinkingConfig?: GeminiThinkingConfig | { includeThoughts: true };
  };
  tools?: Array<{ functionDeclarations: Array<{ name: string; description?: string; parametersJsonSchema: Record<string, unknown> }> }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
}

export interface GeminiResponse {
  candidates?: Array<{ content?: GeminiContent; finishReason?: string; index?: number }>;
  usageMetadata?: GeminiUsageMetadata;
  /** Set, with no candidates, when the prompt was blocked. */
  promptFeedback?: { blockReason?: string };
  modelVersion?: string;
  responseId?: string;
}

export interface GeminiBatchEmbedRequest {
  requests: Array<{ model: string; content: { parts: Array<{ text: string }> }; outputDimensionality?: number }>;
}
