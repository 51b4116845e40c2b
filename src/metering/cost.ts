// Cost of a call in integer nano-USD (1e-9 USD). A price in USD per 1M tokens is exactly micro-USD per token, so the
// priced sum is in micro-USD and one multiply by 1,000 makes it nano-USD: a call under half a micro-USD (a few tokens of
// text-embedding-3-small at $0.02 per 1M, 20 nano-USD each) keeps its cost instead of rounding to 0 (docs/metering.md).
import type { Usage } from '../ir/usage.js';

/** USD per 1M tokens, as sluice.yaml's `models[].pricing` (src/config/schema.ts) and the price catalog give it. */
export interface Pricing {
  input: number;
  output: number;
  /** Cached input tokens; the input price when absent. */
  cachedInput?: number | undefined;
  /** Tokens written to a prompt cache (Anthropic's 5-minute cache); the input price when absent. */
  cacheWrite?: number | undefined;
  /** Tokens written to a 1-hour prompt cache (Anthropic's `ttl: '1h'`); the cacheWrite price when absent. */
  cacheWrite1h?: number | undefined;
  /**
   * USD per 1M input characters, for models billed by the character (Vertex AI's text-embedding-005), added to the
   * token prices (0 for such a model).
   */
  inputCharacters?: number | undefined;
  /** USD per 1,000 web searches the provider runs for a call (its built-in web search tool); searches unpriced when absent. */
  webSearch?: number | undefined;
  /**
   * USD per 1,000 prompts grounded in a web search: billed once for a call that searched, however many searches it ran
   * (Gemini 2.x's grounding with Google Search, billed per grounded prompt where Gemini 3 bills per query, webSearch).
   */
  groundedPrompt?: number | undefined;
  /** USD per 1,000 file searches the provider runs for a call (OpenAI's `file_search` tool); unpriced when absent. */
  fileSearch?: number | undefined;
  /**
   * USD per 1,000 calls, billed for every call beside its tokens: a model that runs a web search on every call and bills
   * it per call (OpenAI's Chat Completions search models, gpt-4o-search-preview and the like).
   */
  request?: number | undefined;
  /**
   * Token prices of a call whose prompt is longer than `above` tokens (cached and written ones included): Gemini's
   * Pro models past 200k (1.5 Pro past 128k), Claude Sonnet 4 and 4.5 past 200k with the 1M context window. Every token
   * of such a call is billed at these prices, its output too.
   */
  longContext?: LongContextPricing | undefined;
  /**
   * The multiple of every token price (input, output, cache reads and writes) a call pays when the provider says it ran
   * US-only (Anthropic's `inference_geo: "us"`: 1.1 on Claude Opus 4.6 and later); standard prices when absent.
   */
  usOnlyInference?: number | undefined;
  /**
   * The multiple of every token price (input, output, cache reads and writes) a call pays when the provider says fast
   * mode served it (Anthropic's `speed: "fast"`, priced "at a multiplier on standard rates", stacking with the other
   * modifiers); standard prices when absent.
   */
  fastMode?: number | undefined;
  /** Token prices when the provider says the call was served at its priority tier (OpenAI's `service_tier`). */
  priority?: TierPricing | undefined;
  /** Token prices when it was served at the flex tier. */
  flex?: TierPricing | undefined;
  /**
   * Where the priority tier has no prices of its own: the multiple of every token price a call pays when the provider
   * says that tier served it (OpenAI's fast mode, `service_tier` "priority" or "fast": 2x from GPT-6 on), applied to
   * whichever prices the call is billed at, long-context ones included; standard prices when absent.
   */
  priorityMultiple?: number | undefined;
  /** Likewise for the flex tier (OpenAI's flex processing: 0.5x from GPT-6 on). */
  flexMultiple?: number | undefined;
}

/** USD per 1M tokens of a call whose prompt is longer than `above` tokens. */
export interface LongContextPricing {
  above: number;
  input: number;
  output: number;
  /** The long prompt's cached input; its input price when absent. */
  cachedInput?: number | undefined;
  /** The long prompt's cache writes (5-minute, 1-hour); the standard prices' when absent. */
  cacheWrite?: number | undefined;
  cacheWrite1h?: number | undefined;
}

/** USD per 1M tokens at a tier priced apart from the standard one; a tier's absent price is the standard one. */
export interface TierPricing {
  input: number;
  output: number;
  cachedInput?: number | undefined;
}

/** Nano-USD in a micro-USD. */
export const NANOS_PER_MICRO = 1000;

/**
 * Integer nano-USD. Null when there is no price, or when the model is priced by the character and the call's characters
 * are unknown.
 */
export function costNanoUsd(usage: Usage, pricing: Pricing | undefined): number | null {
  if (pricing === undefined) return null;
  let characters = 0;
  if (pricing.inputCharacters !== undefined) {
    if (usage.billableCharacters === undefined) return null;
    characters = usage.billableCharacters * pricing.inputCharacters;
  }
  const written = usage.cacheWriteTokens;
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - written);
  // A tier priced apart (OpenAI's priority and flex prices up to GPT-5) replaces the token prices; a tier priced as a
  // multiple (OpenAI's from GPT-6 on) scales whichever prices apply, the long-context ones too. A tier with neither is
  // billed at the standard prices (a config price that names no tiers).
  const tier = usage.serviceTier === 'priority' || usage.serviceTier === 'flex' ? pricing[usage.serviceTier] : undefined;
  const long = pricing.longContext !== undefined && usage.inputTokens > pricing.longContext.above ? pricing.longContext : undefined;
  const rates = tier ?? long ?? pricing;
  const input = rates.input;
  const cachedInput = rates.cachedInput ?? rates.input;
  const output = rates.output;
  const writePrice = long?.cacheWrite ?? pricing.cacheWrite ?? input;
  const hourWrites = Math.min(usage.cacheWrite1hTokens ?? 0, written);
  const tierMultiple =
    tier !== undefined
      ? 1
      : usage.serviceTier === 'priority'
        ? (pricing.priorityMultiple ?? 1)
        : usage.serviceTier === 'flex'
          ? (pricing.flexMultiple ?? 1)
          : 1;
  const geo =
    (usage.inferenceGeo === 'us' ? (pricing.usOnlyInference ?? 1) : 1) *
    (usage.serviceTier === 'fast' ? (pricing.fastMode ?? 1) : 1) *
    tierMultiple;
  return Math.round(
    ((uncached * input +
      usage.cachedInputTokens * cachedInput +
      (written - hourWrites) * writePrice +
      hourWrites * (long?.cacheWrite1h ?? pricing.cacheWrite1h ?? writePrice) +
      usage.outputTokens * output) *
      geo +
      characters +
      // USD per 1,000 searches (or calls) is 1,000 micro-USD per search.
      ((usage.webSearches ?? 0) * (pricing.webSearch ?? 0) +
        ((usage.webSearches ?? 0) > 0 ? (pricing.groundedPrompt ?? 0) : 0) +
        (usage.fileSearches ?? 0) * (pricing.fileSearch ?? 0) +
        (pricing.request ?? 0)) *
        1000) *
      NANOS_PER_MICRO,
  );
}

/**
 * Nano-USD as whole micro-USD, rounded half away from zero: the ledger's cost_micro_usd column and the admin API's
 * `microUsd` fields, which kept their integer unit when costs became nano-USD.
 */
export function microFromNano(nanoUsd: number): number {
  const micro = Math.floor((Math.abs(nanoUsd) + NANOS_PER_MICRO / 2) / NANOS_PER_MICRO);
  return nanoUsd < 0 ? -micro : micro;
}

/** costNanoUsd in whole micro-USD (microFromNano): for figures that keep micro-USD, as the demo's records do. */
export function costMicroUsd(usage: Usage, pricing: Pricing | undefined): number | null {
  const nano = costNanoUsd(usage, pricing);
  return nano === null ? null : microFromNano(nano);
}
