// Gemini responses -> IR (pure).
import type { ChatResponse, FinishReason, ToolCall } from '../../ir/chat.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../ir/embeddings.js';
import type { Usage } from '../../ir/usage.js';
import { embeddingToBase64 } from '../shared/embedding-encoding.js';
import { toolCallIdFor } from './call-id.js';
import { asArray, asObject, asString } from '../../wire/json.js';
import { asTokenCount } from '../../wire/usage.js';

export function geminiChatResponse(body: unknown): ChatResponse {
  const root = asObject(body);
  const candidate = asObject(asArray(root.candidates)[0]);
  let text = '';
  let thoughts = '';
  const toolCalls: ToolCall[] = [];
  for (const raw of asArray(asObject(candidate.content).parts)) {
    const part = asObject(raw);
    // A thought part (includeThoughts) is a summary of the model's reasoning, not the answer.
    if (typeof part.text === 'string' && part.thought === true) thoughts += part.text;
    else if (typeof part.text === 'string') text += part.text;
    else if (part.functionCall !== undefined) {
      const call = asObject(part.functionCall);
      toolCalls.push({
        id: toolCallIdFor(asString(call.id), `call_${toolCalls.length}_${asString(root.responseId)}`, part.thoughtSignature),
        name: asString(call.name),
        arguments: JSON.stringify(call.args ?? {}),
      });
    }
  }
  const response: ChatResponse = {
    id: asString(root.responseId),
    model: asString(root.modelVersion),
    created: Math.floor(Date.now() / 1000),
    text,
    toolCalls,
    finishReason: toolCalls.length > 0 ? 'tool_calls' : promptBlocked(root) ? 'content_filter' : geminiFinishReason(candidate.finishReason),
    usage: geminiUsage(root.usageMetadata),
  };
  if (thoughts !== '') response.reasoningText = thoughts;
  return response;
}

/** A prompt Gemini's filters blocked: no candidates, the reason in promptFeedback.blockReason. */
export function promptBlocked(root: Record<string, unknown>): boolean {
  return asArray(root.candidates).length === 0 && typeof asObject(root.promptFeedback).blockReason === 'string';
}

/**
 * A candidate's finish reason as the IR's, for an answer that holds one (those that hold none, the model's tool calling
 * having failed, are failed attempts: wire/answer-fault.ts). Google's FinishReason enum
 * (https://ai.google.dev/api/generate-content#FinishReason): STOP, OTHER, LANGUAGE, NO_IMAGE, IMAGE_OTHER and
 * FINISH_REASON_UNSPECIFIED end an answer with nothing held back, a 'stop'.
 */
export function geminiFinishReason(value: unknown): FinishReason {
  switch (value) {
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
    case 'IMAGE_RECITATION':
      // The IMAGE_ reasons: an image the model was to generate was blocked, as text is by the others.
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** Gemini counts reasoning ("thoughts") apart from candidates; both are billed as output. */
export function geminiUsage(value: unknown): Usage {
  const usage = asObject(value);
  const input = asTokenCount(usage.promptTokenCount);
  const candidates = asTokenCount(usage.candidatesTokenCount);
  const thoughts = asTokenCount(usage.thoughtsTokenCount);
  const result: Usage = {
    inputTokens: input ?? 0,
    // candidatesTokenCount leaves the thoughts out; Google bills both as output.
    outputTokens: (candidates ?? 0) + (thoughts ?? 0),
    // A part of the prompt: never more than it, whatever the server says.
    cachedInputTokens: Math.min(asTokenCount(usage.cachedContentTokenCount) ?? 0, input ?? 0),
    cacheWriteTokens: 0,
    reported: input !== undefined || candidates !== undefined || thoughts !== undefined,
  };
  if (thoughts !== undefined) result.reasoningTokens = thoughts;
  return result;
}

/**
 * The Google Search queries an answer's grounding ran (`candidates[].groundingMetadata.webSearchQueries`), each distinct
 * non-empty one once, as Google bills them; 0 for an answer that did not search.
 */
export function geminiGroundingSearches(candidates: readonly unknown[]): number {
  let queries: Set<string> | null = null;
  for (const raw of candidates) {
    const grounding = asObject(raw).groundingMetadata;
    if (grounding === undefined) continue;
    for (const query of asArray(asObject(grounding).webSearchQueries))
      if (typeof query === 'string' && query !== '') (queries ??= new Set()).add(query);
  }
  return queries === null ? 0 : queries.size;
}

/** A Gemini answer's (or stream chunk's) usage, with the searches its grounding ran where it ran any. */
export function geminiAnswerUsage(root: Record<string, unknown>): Usage {
  const usage = geminiUsage(root.usageMetadata);
  const searches = geminiGroundingSearches(asArray(root.candidates));
  if (searches > 0) usage.webSearches = searches;
  return usage;
}

export function geminiEmbeddingsResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse {
  const vectors = asArray(asObject(body).embeddings).map((item) => asArray(asObject(item).values) as number[]);
  return {
    model: '',
    data: vectors.map((vector) => (request.encodingFormat === 'base64' ? embeddingToBase64(vector) : vector)),
    usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reported: false },
  };
}
