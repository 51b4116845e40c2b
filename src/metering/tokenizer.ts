// Token counts for calls whose provider reported no usage, with a real BPE tokenizer (gpt-tokenizer, o200k_base).
// Loaded on first use so neither start-up nor the request path pays for its tables.
import type { ChatRequest } from '../ir/chat.js';
import type { EmbeddingsRequest } from '../ir/embeddings.js';

type CountTokens = (text: string) => number;

let loading: Promise<CountTokens> | null = null;

function tokenizer(): Promise<CountTokens> {
  loading ??= import('gpt-tokenizer/encoding/o200k_base').then((module) => module.countTokens as CountTokens);
  return loading;
}

/** OpenAI's documented accounting: 3 tokens per message for its framing, 3 to prime the reply. */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;
/** A low-detail image costs 85 tokens at OpenAI; without the image's size nothing better can be said. */
const PER_IMAGE = 85;

export async function countTextTokens(texts: readonly string[]): Promise<number> {
  const count = await tokenizer();
  let total = 0;
  for (const text of texts) if (text !== '') total += count(text);
  return total;
}

export async function estimatePromptTokens(request: ChatRequest): Promise<number> {
  const count = await tokenizer();
  let total = REPLY_PRIMING;
  for (const message of request.messages) {
    total += PER_MESSAGE;
    for (const part of message.content) total += part.type === 'text' ? count(part.text) : PER_IMAGE;
    if (message.role === 'assistant') for (const call of message.toolCalls) total += count(call.name) + count(call.arguments);
  }
  if (request.tools !== undefined) for (const tool of request.tools) total += count(JSON.stringify(tool));
  return total;
}

export async function estimateEmbeddingTokens(request: EmbeddingsRequest): Promise<number> {
  const count = await tokenizer();
  let total = 0;
  for (const input of request.input) total += typeof input === 'string' ? count(input) : input.length;
  return total;
}
