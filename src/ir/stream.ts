// The events a provider's stream decoder yields and a front door's stream encoder consumes.
import type { FinishReason, ReasoningBlock } from './chat.js';
import type { Usage } from './usage.js';

export type StreamEvent =
  | { type: 'start'; id: string; model: string; created: number }
  | { type: 'text'; text: string }
  /** The model declining to give the structured answer asked for, in its own words (ChatResponse.refusal). */
  | { type: 'refusal'; text: string }
  /** A tool call begins; `index` counts tool calls from 0 within the answer. */
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; argumentsDelta: string }
  /** stopSequence: as ChatResponse.stopSequence. */
  | { type: 'finish'; finishReason: FinishReason; stopSequence?: string | null }
  /** One of Claude's signed thinking blocks, whole, once it has ended (its signature comes last). */
  | { type: 'reasoning'; block: ReasoningBlock }
  /**
   * A piece of the model's reasoning as text, as it comes: Claude's thinking (whose block follows whole, in `reasoning`,
   * once signed), Gemini's thought summaries.
   */
  | { type: 'reasoning_text'; text: string }
  /** Usage so far; later events may raise it (Anthropic reports input first and output at the end). */
  | { type: 'usage'; usage: Partial<Usage> }
  /** The provider reported an error inside an already-started stream. */
  | { type: 'error'; message: string; errorType: string };

/** Decodes a provider's streamed bytes, fed in any split, into IR events. */
export interface StreamDecoder {
  push(chunk: Buffer): StreamEvent[];
  end(): StreamEvent[];
}
