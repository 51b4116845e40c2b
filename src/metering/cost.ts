// Cost of a call in integer micro-USD. A price in USD per 1M tokens is exactly micro-USD per token.
import type { Pricing } from '../config/schema.js';
import type { Usage } from '../ir/usage.js';

export function costMicroUsd(usage: Usage, pricing: Pricing | undefined): number | null {
  if (pricing === undefined) return null;
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
  return Math.round(
    uncached * pricing.input
      + usage.cachedInputTokens * (pricing.cachedInput ?? pricing.input)
      + usage.cacheWriteTokens * (pricing.cacheWrite ?? pricing.input)
      + usage.outputTokens * pricing.output,
  );
}
