// Claude's signed thinking between Converse's reasoningContent blocks and the IR's ReasoningBlock, which keeps
// Anthropic's shape ({type: "thinking", thinking, signature} or {type: "redacted_thinking", data}): an OpenAI client gets
// the same thinking_blocks whichever provider served Claude, and carries them back unchanged.
import type { ReasoningBlock } from '../../ir/chat.js';
import { asObject } from '../../wire/json.js';
import type { BedrockReasoning } from './wire.js';

/** A Converse reasoningContent (whole, or pieced together from a stream's deltas) as a ReasoningBlock, or null. */
export function reasoningBlock(content: unknown): ReasoningBlock | null {
  const reasoning = asObject(content);
  if (typeof reasoning.redactedContent === 'string') return { type: 'redacted_thinking', data: reasoning.redactedContent };
  const text = asObject(reasoning.reasoningText);
  if (typeof text.text !== 'string') return null;
  return { type: 'thinking', thinking: text.text, ...(typeof text.signature === 'string' && { signature: text.signature }) };
}

/** A carried-back ReasoningBlock as Converse takes it, or null for a block that is neither kind. */
export function converseReasoning(block: ReasoningBlock): BedrockReasoning | null {
  if (block.type === 'redacted_thinking' && typeof block.data === 'string') return { redactedContent: block.data };
  if (block.type !== 'thinking' || typeof block.thinking !== 'string') return null;
  return {
    reasoningText: { text: block.thinking, ...(typeof block.signature === 'string' && { signature: block.signature }) },
  };
}
