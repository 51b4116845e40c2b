// AWS Bedrock Converse / ConverseStream wire types, as far as Sluice reads or writes them.
// Reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
// and https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html

export type BedrockImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

/** https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_DocumentBlock.html (Sluice sends PDFs and text). */
export interface BedrockDocument {
  format: 'pdf' | 'txt';
  /** Letters, digits, single spaces, hyphens, parentheses and square brackets; 1 to 200 characters; unique in a request. */
  name: string;
  source: { bytes: string };
}

/**
 * A prompt-cache checkpoint: what comes before it (tools, then system, then messages) is cached
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CachePointBlock.html).
 */
export type BedrockCachePoint = { cachePoint: { type: 'default'; ttl?: '5m' | '1h' } };

export type BedrockContentBlock =
  | { text: string }
  | BedrockCachePoint
  | { image: { format: BedrockImageFormat; source: { bytes: string } } }
  | { document: BedrockDocument }
  | { toolUse: { toolUseId: string; name: string; input: unknown } }
  /**
   * Claude's thinking, signed, or encrypted (base64):
   * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ReasoningContentBlock.html. Answered with it,
   * and taken back unchanged at the head of the assistant turn it came with.
   */
  | { reasoningContent: BedrockReasoning }
  | {
      toolResult: {
        toolUseId: string;
        content: Array<{ text: string } | { image: { format: BedrockImageFormat; source: { bytes: string } } }>;
        status?: 'success' | 'error';
      };
    };

export type BedrockReasoning = { reasoningText: { text: string; signature?: string } } | { redactedContent: string };

export interface BedrockMessage {
  role: 'user' | 'assistant';
  content: BedrockContentBlock[];
}

export type BedrockTool =
  | {
      /** `strict`: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolSpecification.html */
      toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> }; strict?: boolean };
    }
  | BedrockCachePoint;

export interface BedrockConverseRequest {
  messages: BedrockMessage[];
  system?: Array<{ text: string } | BedrockCachePoint>;
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: {
    tools: BedrockTool[];
    toolChoice?: { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };
  };
  /** The model's own fields, beside Converse's: Claude's `thinking` and `output_config`. */
  additionalModelRequestFields?: Record<string, unknown>;
  /**
   * JSON Pointers to fields of the model's own answer to return in additionalModelResponseFields: Claude's
   * `/stop_sequence`, the stop sequence it stopped on (a pointer to a field the answer lacks is ignored).
   */
  additionalModelResponseFieldPaths?: string[];
}

/** The stop sequence Claude stopped on, where the request asked for it in additionalModelResponseFieldPaths. */
export const STOP_SEQUENCE_PATH = '/stop_sequence';

export type BedrockStopReason =
  'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'guardrail_intervened' | 'content_filtered' | 'model_context_window_exceeded';

export interface BedrockUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
  /** cacheWriteInputTokens split by the cache's lifetime (1h before 5m). */
  cacheDetails?: Array<{ ttl: '5m' | '1h'; inputTokens: number }>;
}

export interface BedrockConverseResponse {
  output: { message: BedrockMessage };
  stopReason: BedrockStopReason;
  /** The fields asked for in additionalModelResponseFieldPaths, in the model's own shape ({stop_sequence}). */
  additionalModelResponseFields?: Record<string, unknown>;
  usage: BedrockUsage;
  metrics?: { latencyMs: number };
}
