// Usage reported in parts, as streams report it.
import type { Usage } from '../ir/usage.js';

/**
 * Providers report usage in parts (Anthropic: input at start, output at the end); later figures win. Mutates only
 * `into`, a tally a stream keeps for itself.
 */
export function mergeUsage(into: Usage, part: Partial<Usage>): void {
  if (part.inputTokens !== undefined) into.inputTokens = part.inputTokens;
  if (part.outputTokens !== undefined) into.outputTokens = part.outputTokens;
  if (part.cachedInputTokens !== undefined) into.cachedInputTokens = part.cachedInputTokens;
  if (part.cacheWriteTokens !== undefined) into.cacheWriteTokens = part.cacheWriteTokens;
  if (part.inputTokens !== undefined || part.outputTokens !== undefined) into.reported = true;
}
