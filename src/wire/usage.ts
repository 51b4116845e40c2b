// Usage reported in parts, as streams report it.
import type { Usage } from '../ir/usage.js';

/**
 * The most tokens one figure of one call may count: ten times the longest context window on offer (10M). Past it a
 * figure is a provider's bug, and the ledger's 32-bit token columns still hold the sum of four such figures (an
 * Anthropic prompt is three).
 */
export const MAX_TOKEN_COUNT = 100_000_000;

/**
 * A token count from a provider's usage object, or undefined when the value is not one: negative, fractional, past
 * MAX_TOKEN_COUNT or not a number at all. Upstream figures are untrusted, and one such figure would be billed (a
 * negative cost, a budget credited) or refused by the ledger's integer columns (the row lost); undefined makes the
 * call's usage unreported, so Sluice counts it with its tokenizer.
 */
export function asTokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_COUNT ? value : undefined;
}

/**
 * Providers report usage in parts (Anthropic: input at start, output at the end); later figures win. Mutates only
 * `into`, a tally a stream keeps for itself.
 */
export function mergeUsage(into: Usage, part: Partial<Usage>): void {
  if (part.inputTokens !== undefined) into.inputTokens = part.inputTokens;
  if (part.outputTokens !== undefined) into.outputTokens = part.outputTokens;
  if (part.cachedInputTokens !== undefined) into.cachedInputTokens = part.cachedInputTokens;
  if (part.cacheWriteTokens !== undefined) into.cacheWriteTokens = part.cacheWriteTokens;
  if (part.cacheWrite1hTokens !== undefined) into.cacheWrite1hTokens = part.cacheWrite1hTokens;
  if (part.reasoningTokens !== undefined) into.reasoningTokens = part.reasoningTokens;
  if (part.webSearches !== undefined) into.webSearches = part.webSearches;
  if (part.fileSearches !== undefined) into.fileSearches = part.fileSearches;
  if (part.serviceTier !== undefined) into.serviceTier = part.serviceTier;
  if (part.inferenceGeo !== undefined) into.inferenceGeo = part.inferenceGeo;
  if (part.inputTokens !== undefined || part.outputTokens !== undefined) into.reported = true;
}
