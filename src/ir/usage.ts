// Token usage of one call, with whether the provider reported it or Sluice estimated it.

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (a subset of inputTokens). */
  cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache (Anthropic), billed at their own rate. */
  cacheWriteTokens: number;
  /** False when the provider gave no figure and Sluice counted with its tokenizer. */
  reported: boolean;
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reported: false };
}
