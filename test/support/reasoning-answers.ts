// Provider answers that reason, in their real wire shapes: Claude's thinking streamed (thinking_delta, then its
// signature_delta) and Gemini's answers with thought parts, shared by the reasoning tests.
import { sseEvent } from './mock-provider.js';

type Block = Record<string, unknown>;

/**
 * Claude's stream of a thinking block (`thought` in two thinking_delta pieces split at `split`, then `signature`) and the
 * answer 42, as Anthropic's Messages API streams it.
 */
export function claudeThinkingStream(thought: string, signature: string, split: number): string[] {
  return [
    sseEvent('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_thinks',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 30, output_tokens: 1 },
      },
    }),
    sseEvent('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    }),
    sseEvent('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'thinking_delta', thinking: thought.slice(0, split) },
    }),
    sseEvent('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'thinking_delta', thinking: thought.slice(split) },
    }),
    sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature } }),
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sseEvent('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
    sseEvent('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: '42' } }),
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 1 }),
    sseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 60 },
    }),
    sseEvent('message_stop', { type: 'message_stop' }),
  ];
}

/** A Gemini 2.5 Flash answer (or stream chunk) of `parts`, finished or not, that spent 40 tokens thinking. */
export function geminiThinkingAnswer(parts: Block[], finish: boolean): Block {
  return {
    candidates: [{ content: { role: 'model', parts }, ...(finish && { finishReason: 'STOP' }), index: 0 }],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 2, thoughtsTokenCount: 40, totalTokenCount: 54 },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'gem-thinks',
  };
}
