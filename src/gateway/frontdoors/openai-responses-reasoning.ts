// A translated provider's reasoning as the Responses API's reasoning output items
// ({id, type: "reasoning", summary: [{type: "summary_text", text}], encrypted_content?, status}; openai-node
// src/resources/responses/responses.ts, ResponseReasoningItem). The reasoning's text is the item's summary; a signed
// block of Claude's thinking travels whole in encrypted_content, which a client hands back in a later turn's input (as
// it does OpenAI's own) for the turn to go back to Claude with the thinking it was answered with.
import type { ChatResponse, ReasoningBlock } from '../../ir/chat.js';
import { asObject } from '../../wire/json.js';
import type { ResponsesReasoningItem } from './openai-responses-wire.js';

/** A reasoning item id: rs_..., unique within the answer. */
export function reasoningItemId(): string {
  return `rs_${crypto.randomUUID().replaceAll('-', '')}`;
}

/** A signed block as encrypted_content: its JSON, base64; Claude's signature is what keeps it from being altered. */
export function sealBlock(block: ReasoningBlock): string {
  return Buffer.from(JSON.stringify(block)).toString('base64');
}

/**
 * The signed block a reasoning input item's encrypted_content carries, or null for one that carries none of Claude's
 * (a summary alone, OpenAI's own encrypted reasoning): such an item is left out, as reasoning is not the conversation.
 */
export function unsealBlock(encrypted: unknown): ReasoningBlock | null {
  if (typeof encrypted !== 'string' || encrypted === '') return null;
  let block: Record<string, unknown>;
  try {
    block = asObject(JSON.parse(Buffer.from(encrypted, 'base64').toString('utf8')));
  } catch {
    return null;
  }
  if (block.type === 'thinking' && typeof block.thinking === 'string' && typeof block.signature === 'string') return block;
  if (block.type === 'redacted_thinking' && typeof block.data === 'string') return block;
  return null;
}

/** A thinking block's text, the summary it is given ('' for a redacted block, whose thinking is encrypted). */
export function blockText(block: ReasoningBlock): string {
  return block.type === 'thinking' && typeof block.thinking === 'string' ? block.thinking : '';
}

/** A whole answer's reasoning items, first in its output as OpenAI's are: one per signed block, or one of its text. */
export function reasoningItems(response: ChatResponse): ResponsesReasoningItem[] {
  const items: ResponsesReasoningItem[] = [];
  for (const block of response.reasoning ?? []) {
    const text = blockText(block);
    items.push({
      id: reasoningItemId(),
      type: 'reasoning',
      summary: text === '' ? [] : [{ type: 'summary_text', text }],
      encrypted_content: sealBlock(block),
      status: 'completed',
    });
  }
  if (response.reasoningText !== undefined && response.reasoningText !== '') {
    items.push({
      id: reasoningItemId(),
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: response.reasoningText }],
      status: 'completed',
    });
  }
  return items;
}
