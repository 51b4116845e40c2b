// Cost of a call in integer micro-USD. A price in USD per 1M tokens is exactly micro-USD per token.
import type { Usage } from '../ir/usage.js';

/** USD per 1M tokens, as sluice.yaml's `models[].pricing` (src/config/schema.ts) and the price catalog give it. */
export interface Pricing {
  input: number;
  output: number;
  /** Cached input tokens; the input price when absent. */
  cachedInput?: number | undefined;
  /** Tokens written to a prompt cache; the input price when absent. */
  cacheWrite?: number | undefined;
}

export function costMicroUsd(usage: Usage, pricing: Pricing | undefined): number | null {
  if (pricing === undefined) return null;
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
  return Math.round(
    uncached * pricing.input +
      usage.cachedInputTokens * (pricing.cachedInput ?? pricing.input) +
      usage.cacheWriteTokens * (pricing.cacheWrite ?? pricing.input) +
      usage.outputTokens * pricing.output,
  );
}
