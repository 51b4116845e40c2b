// Token usage of one call, with whether the provider reported it or Sluice estimated it.

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (a subset of inputTokens). */
  cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache (Anthropic), billed at their own rate. */
  cacheWriteTokens: number;
  /**
   * Of cacheWriteTokens, those written to a 1-hour cache (Anthropic's `ttl: '1h'`), which Anthropic bills at 2x the input
   * price rather than the 5-minute write's 1.25x; the rest are 5-minute writes. Absent where the provider states no split
   * (priced as 5-minute writes throughout), 0 where it states one without 1-hour writes: an Anthropic client is told the
   * split only when there is one to tell.
   */
  cacheWrite1hTokens?: number;
  /**
   * Of outputTokens, those the model spent reasoning, where the provider states them apart (Gemini's
   * thoughtsTokenCount); absent where it does not (Anthropic counts thinking in output_tokens with no split).
   */
  reasoningTokens?: number;
  /** False when the provider gave no figure and Sluice counted with its tokenizer. */
  reported: boolean;
  /**
   * Characters the provider bills for, where it prices characters rather than tokens (Vertex AI's text-embedding-00x
   * report theirs as `metadata.billableCharacterCount`); absent everywhere else.
   */
  billableCharacters?: number;
  /**
   * Web searches the provider ran for the call and bills per search, beside the tokens (Anthropic's
   * `server_tool_use.web_search_requests`, OpenAI's `web_search_call` items that searched); absent for none.
   */
  webSearches?: number;
  /**
   * File searches the provider ran for the call over the client's stored files and bills per call, beside the tokens
   * (OpenAI's `file_search_call` items in a Responses answer); absent for none.
   */
  fileSearches?: number;
  /**
   * The tier that served the call where it is not the standard one, and the provider prices it apart (OpenAI's
   * `service_tier` in the answer: `priority` at a premium, `flex` at half; Anthropic's `speed`: `fast` at a premium);
   * absent for the standard tier.
   */
  serviceTier?: ServiceTier;
  /**
   * Where the provider says the call ran, when it is a geography it prices apart (Anthropic's `usage.inference_geo`:
   * `us` for US-only inference, 1.1x on Claude Opus 4.6 and later, Pricing.usOnlyInference); absent for global routing.
   */
  inferenceGeo?: 'us';
}

/**
 * The processing tiers a provider prices apart from its standard one (Pricing.priority, Pricing.flex, Pricing.fast):
 * OpenAI's priority processing (`service_tier` "priority", or "fast" since its renaming) and flex processing, and
 * Anthropic's fast mode (`speed: "fast"`).
 */
export type ServiceTier = 'priority' | 'flex' | 'fast';

/**
 * A service_tier value as providers write it, as a tier priced apart; undefined for the standard one or anything else.
 * OpenAI renamed priority processing "Fast mode" on 30 July 2026 and takes (and answers) `fast` as well as `priority`,
 * at the same prices (openai.com/api-fast-mode).
 */
export function asServiceTier(value: unknown): ServiceTier | undefined {
  if (value === 'priority' || value === 'fast') return 'priority';
  return value === 'flex' ? value : undefined;
}

/** A tier as the ledger stores it (Sluice's own names, not a provider's); undefined for anything else. */
export function storedServiceTier(value: unknown): ServiceTier | undefined {
  return value === 'priority' || value === 'flex' || value === 'fast' ? value : undefined;
}

/**
 * The reasoning tokens a ledger row keeps: the provider's split of the output, never more than the output it is part of
 * (a stream cut short keeps an early figure beside a count of its own); null where the provider stated none.
 */
export function ledgerReasoningTokens(usage: Usage): number | null {
  return usage.reasoningTokens === undefined ? null : Math.min(usage.reasoningTokens, usage.outputTokens);
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reported: false };
}

/**
 * Usage from providers (Anthropic, Bedrock) whose input count leaves out prompt-cache reads and writes:
 * the IR's inputTokens is the whole prompt. Any figure may be missing (undefined).
 */
export function usageExcludingCache(
  input: number | undefined,
  output: number | undefined,
  cacheRead = 0,
  cacheWrite = 0,
  /** Undefined: the provider stated no split. */
  cacheWrite1h?: number,
): Usage {
  const usage: Usage = {
    inputTokens: (input ?? 0) + cacheRead + cacheWrite,
    outputTokens: output ?? 0,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reported: input !== undefined || output !== undefined,
  };
  // A split larger than the writes it splits is a provider's bug: billed as if every write were a 1-hour one.
  if (cacheWrite1h !== undefined) usage.cacheWrite1hTokens = Math.min(cacheWrite1h, cacheWrite);
  return usage;
}
