// The model price catalog shipped with Sluice: list prices in USD per 1M tokens (per 1M characters where a model is
// billed by the character).
// Source: the providers' public pricing pages (openai.com/api/pricing, anthropic.com/pricing,
// aws.amazon.com/bedrock/pricing (us-east-1, on-demand), ai.google.dev/gemini-api/docs/pricing (paid tier, both prompt sizes),
// cloud.google.com/vertex-ai/generative-ai/pricing (where Vertex AI's price differs from the Gemini API's)), and OpenAI's
// model pages (developers.openai.com/api/docs/models/<id>) for its models from GPT-5.4 on and GPT-5.1.
// Checked: 2026-12-08 (GPT-5.4 nano, GPT-5.1), 2026-12-07 (Claude; the rest of OpenAI from GPT-5.4 on), 2026-11-24 (the
// rest). Config `pricing` on a model overrides these.

import type { LongContextPricing, TierPricing } from './cost.js';

export interface CatalogEntry {
  /** `vertex`: only where Vertex AI differs from the Gemini API's catalog, which it otherwise bills at. */
  provider: 'openai' | 'anthropic' | 'bedrock' | 'gemini' | 'vertex';
  model: string;
  input: number;
  output: number;
  /** Price of input tokens served from the prompt cache; input price when absent. */
  cachedInput?: number;
  /** Price of input tokens written to the prompt cache (Anthropic, 5-minute cache); input price when absent. */
  cacheWrite?: number;
  /** Price of input tokens written to the 1-hour prompt cache (Anthropic's `ttl: '1h'`); cacheWrite's when absent. */
  cacheWrite1h?: number;
  /** USD per 1M input characters, for a model billed by the character (its `input` then 0). */
  inputCharacters?: number;
  /** USD per 1,000 searches of the provider's built-in web search tool, billed beside the tokens. */
  webSearch?: number;
  /** USD per 1,000 calls whose answer searched, once per call (Gemini 2.x's grounding with Google Search). */
  groundedPrompt?: number;
  /** USD per 1,000 calls of the provider's built-in file search tool, billed beside the tokens. */
  fileSearch?: number;
  /** USD per 1,000 calls, billed on every call beside the tokens (a model that searches the web on every call). */
  request?: number;
  /** Token prices of every token of a call whose prompt is longer than `above` tokens (cached and written included). */
  longContext?: LongContextPricing;
  /** Token prices at OpenAI's priority tier (`service_tier: "priority"`), for the models that offer it. */
  priority?: TierPricing;
  /** Token prices at OpenAI's flex tier, half the standard ones, for the models that offer it. */
  flex?: TierPricing;
  /** The multiple of whichever token prices apply at OpenAI's priority tier (fast mode), where it has none of its own. */
  priorityMultiple?: number;
  /** The multiple of whichever token prices apply at OpenAI's flex tier, where it has none of its own. */
  flexMultiple?: number;
  /** The multiple of every token price when the answer says the call ran US-only (Anthropic's `inference_geo: "us"`). */
  usOnlyInference?: number;
  /**
   * Bedrock: the multiple of its token prices a call pays when served by a geographic cross-region inference profile
   * (`us.`, `eu.`, `jp.`, `apac.` ...) or in one region, rather than by the `global.` profile, whose prices these are.
   */
  regionalPremium?: number;
}

export const PRICE_CATALOG_SOURCE =
  "Providers' public list prices (OpenAI, Anthropic, AWS Bedrock us-east-1 on-demand, Google Gemini API paid tier, Vertex AI)";
export const PRICE_CATALOG_AS_OF = '2026-12-08';

/**
 * USD per 1,000 web searches: Anthropic's web search tool, for every Claude; OpenAI's `web_search` tool in the Responses
 * API, per search action, for every model (its older `web_search_preview` bills $25 on non-reasoning models: set
 * `pricing.webSearch` where that is used).
 */
const WEB_SEARCH_PER_1K = 10;

/** USD per 1,000 calls of OpenAI's `file_search` tool in the Responses API (each `file_search_call` item). */
const FILE_SEARCH_PER_1K = 2.5;

/**
 * Grounding with Google Search on the Gemini API and Vertex AI, past a free allowance Sluice cannot see (the Gemini API's
 * paid tier: 1,500 grounded prompts a day on Gemini 2.x, 5,000 a month on Gemini 3, per project): Gemini 2.x bills $35
 * per 1,000 grounded prompts, Gemini 3 $14 per 1,000 search queries. Every grounded call is priced (docs/metering.md).
 */
const GROUNDED_PROMPT_PER_1K = 35;
const GROUNDING_QUERY_PER_1K = 14;

/** What every OpenAI chat model is billed for the built-in tools of the Responses API. */
const OPENAI_TOOLS = { webSearch: WEB_SEARCH_PER_1K, fileSearch: FILE_SEARCH_PER_1K } as const;

/**
 * A Claude model; `long`: its input and output prices once a prompt is past `above` tokens (200k unless stated; cache
 * reads and writes included), the cache prices at the same multiples of input; `cacheRead`: its cache-read price where
 * it is not 0.1x input.
 */
const claude = (
  provider: 'anthropic' | 'bedrock',
  model: string,
  input: number,
  output: number,
  long?: { above?: number; input: number; output: number },
  cacheRead?: number,
): CatalogEntry => ({
  provider,
  model,
  input,
  output,
  ...claudeCachePrices(input),
  ...(cacheRead !== undefined && { cachedInput: cacheRead }),
  // Anthropic's web search tool; Bedrock offers none.
  ...(provider === 'anthropic' && { webSearch: WEB_SEARCH_PER_1K }),
  ...(long !== undefined && {
    longContext: { above: long.above ?? 200_000, input: long.input, output: long.output, ...claudeCachePrices(long.input) },
  }),
});

/**
 * A Claude model on Bedrock from Sonnet 4.5 on, offered through cross-region inference profiles: its prices are the
 * `global.` profile's (Anthropic's list prices); a geographic profile or a regional endpoint costs 10% more
 * (platform.claude.com/docs/en/build-with-claude/claude-on-amazon-bedrock, "Global versus regional endpoints").
 */
const claudeOnBedrock = (model: string, input: number, output: number): CatalogEntry => ({
  ...claude('bedrock', model, input, output),
  regionalPremium: 1.1,
});

/**
 * A Claude model from Opus 4.6 on, on the Claude API: US-only inference (`inference_geo: "us"`) at 1.1x every token price
 * (platform.claude.com/docs/en/about-claude/pricing, "Data residency pricing").
 */
const usOnly = (entry: CatalogEntry): CatalogEntry => ({ ...entry, usOnlyInference: 1.1 });

/** Anthropic's cache prices: reads at 0.1x input, 5-minute writes at 1.25x, 1-hour writes at 2x. */
function claudeCachePrices(input: number) {
  return { cachedInput: round(input * 0.1), cacheWrite: round(input * 1.25), cacheWrite1h: round(input * 2) };
}

/** Gemini's Pro models' prices for a prompt past `above` tokens (cached input at its own price). */
function longGemini(above: number, input: number, output: number, cachedInput?: number): LongContextPricing {
  return { above, input, output, ...(cachedInput !== undefined && { cachedInput }) };
}

/** OpenAI's long prompts from GPT-5.4 on: a prompt past 272K input tokens (272,000 itself is short). */
const OPENAI_LONG_PROMPT = 272_000;

/**
 * An OpenAI model from GPT-5.4 on, as its model page prices it: a prompt past 272K input tokens bills the whole request
 * at 2x its input and cache prices (reads and writes) and 1.5x output; `cacheWrite` where the page prices cache writes
 * (1.25x input); `tiers`: fast mode (service_tier "priority" / "fast") at 2x and, where stated, flex at 0.5x whichever
 * prices apply. Every model takes the Responses API's built-in tools.
 */
function openaiModel(
  model: string,
  prices: { input: number; cachedInput: number; output: number; cacheWrite?: number },
  tiers?: { priority: number; flex?: number },
): CatalogEntry {
  const { input, cachedInput, output, cacheWrite } = prices;
  return {
    provider: 'openai',
    model,
    input,
    output,
    cachedInput,
    ...(cacheWrite !== undefined && { cacheWrite }),
    ...OPENAI_TOOLS,
    longContext: {
      above: OPENAI_LONG_PROMPT,
      input: round(input * 2),
      output: round(output * 1.5),
      cachedInput: round(cachedInput * 2),
      ...(cacheWrite !== undefined && { cacheWrite: round(cacheWrite * 2) }),
    },
    ...(tiers !== undefined && { priorityMultiple: tiers.priority }),
    ...(tiers?.flex !== undefined && { flexMultiple: tiers.flex }),
  };
}

/** OpenAI's flex tier: half the standard prices (the Batch API's). */
function half(input: number, output: number, cachedInput: number): TierPricing {
  return { input: round(input / 2), output: round(output / 2), cachedInput: round(cachedInput / 2) };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export const PRICE_CATALOG_ENTRIES: readonly CatalogEntry[] = [
  // OpenAI from GPT-5.4 on, each from its model page, developers.openai.com/api/docs/models/<id> (checked 2026-12-07;
  // GPT-5.4 nano and GPT-5.1 2026-12-08). Not listed, for want of a first-party price found: gpt-6-astra, gpt-6.2-astra,
  // gpt-5.5, gpt-5.4-mini, gpt-5.2 (set `pricing` on them). Not metered: regional processing (data residency endpoints,
  // +10%), 12-hour cache writes (gpt-6.2-sol: $5), the Ultrafast tier, Batch.
  // GPT-6.2 Sol: cache writes (30-minute retention) $2.50; fast mode 2x "the Standard rate for the same context length".
  openaiModel('gpt-6.2-sol', { input: 2, cachedInput: 0.1, cacheWrite: 2.5, output: 10 }, { priority: 2 }),
  // GPT-6.1 Sol: fast mode 2x, Batch and Flex 50% (models/gpt-6.1-sol, the ja-JP edition).
  openaiModel('gpt-6.1-sol', { input: 2, cachedInput: 0.1, cacheWrite: 2.5, output: 10 }, { priority: 2, flex: 0.5 }),
  // GPT-6 Sol and Luna: "Batch and Flex are priced at 50% of Standard rates", fast mode 2x the applicable rates.
  openaiModel('gpt-6-sol', { input: 2, cachedInput: 0.2, cacheWrite: 2.5, output: 10 }, { priority: 2, flex: 0.5 }),
  openaiModel('gpt-6-luna', { input: 0.1, cachedInput: 0.01, cacheWrite: 0.125, output: 0.5 }, { priority: 2, flex: 0.5 }),
  // The GPT-5.6 family: cache writes at 1.25x input. GPT-5.6 Sol at its promotional $4 / $20, "available at least until
  // November 21, 2026" and still listed on 2026-12-07; the alias gpt-5.6 routes to GPT-5.6 Sol.
  openaiModel('gpt-5.6-sol', { input: 4, cachedInput: 0.4, cacheWrite: 5, output: 20 }),
  openaiModel('gpt-5.6', { input: 4, cachedInput: 0.4, cacheWrite: 5, output: 20 }),
  openaiModel('gpt-5.6-terra', { input: 2, cachedInput: 0.2, cacheWrite: 2.5, output: 12 }),
  openaiModel('gpt-5.6-luna', { input: 0.2, cachedInput: 0.02, cacheWrite: 0.25, output: 1.2 }),
  // GPT-5.4: "prompts with >272K input tokens are priced at 2x input and 1.5x output for the full session".
  openaiModel('gpt-5.4', { input: 2.5, cachedInput: 0.25, output: 15 }),
  // GPT-5.4 nano (models/gpt-5.4-nano, the ja-JP and zh-Hant editions): a 400,000-token window, so no long-prompt price
  // (the 272K rule is stated for the 1.05M-window GPT-5.4 and GPT-5.4 Pro); no cache-write, priority or flex price stated.
  { provider: 'openai', model: 'gpt-5.4-nano', input: 0.2, output: 1.25, cachedInput: 0.02, ...OPENAI_TOOLS },
  // GPT-5.1 (models/gpt-5.1, deprecated; snapshot gpt-5.1-2025-11-13): a 400,000-token window, as GPT-5.
  { provider: 'openai', model: 'gpt-5.1', input: 1.25, output: 10, cachedInput: 0.125, ...OPENAI_TOOLS },
  // OpenAI up to GPT-5; priority tier prices from openai.com/api-priority-processing
  {
    provider: 'openai',
    model: 'gpt-5',
    input: 1.25,
    output: 10,
    cachedInput: 0.125,
    ...OPENAI_TOOLS,
    priority: { input: 2.5, cachedInput: 0.25, output: 20 },
    flex: half(1.25, 10, 0.125),
  },
  {
    provider: 'openai',
    model: 'gpt-5-mini',
    input: 0.25,
    output: 2,
    cachedInput: 0.025,
    ...OPENAI_TOOLS,
    priority: { input: 0.45, cachedInput: 0.045, output: 3.6 },
    flex: half(0.25, 2, 0.025),
  },
  {
    provider: 'openai',
    model: 'gpt-5-nano',
    input: 0.05,
    output: 0.4,
    cachedInput: 0.005,
    ...OPENAI_TOOLS,
    flex: half(0.05, 0.4, 0.005),
  },
  {
    provider: 'openai',
    model: 'gpt-4.1',
    input: 2,
    output: 8,
    cachedInput: 0.5,
    ...OPENAI_TOOLS,
    priority: { input: 3.5, cachedInput: 0.875, output: 14 },
  },
  {
    provider: 'openai',
    model: 'gpt-4.1-mini',
    input: 0.4,
    output: 1.6,
    cachedInput: 0.1,
    ...OPENAI_TOOLS,
    priority: { input: 0.7, cachedInput: 0.175, output: 2.8 },
  },
  {
    provider: 'openai',
    model: 'gpt-4.1-nano',
    input: 0.1,
    output: 0.4,
    cachedInput: 0.025,
    ...OPENAI_TOOLS,
    priority: { input: 0.2, cachedInput: 0.05, output: 0.8 },
  },
  {
    provider: 'openai',
    model: 'gpt-4o',
    input: 2.5,
    output: 10,
    cachedInput: 1.25,
    ...OPENAI_TOOLS,
    priority: { input: 4.25, cachedInput: 2.125, output: 17 },
  },
  {
    provider: 'openai',
    model: 'gpt-4o-mini',
    input: 0.15,
    output: 0.6,
    cachedInput: 0.075,
    ...OPENAI_TOOLS,
    priority: { input: 0.25, cachedInput: 0.125, output: 1 },
  },
  { provider: 'openai', model: 'o1', input: 15, output: 60, cachedInput: 7.5, ...OPENAI_TOOLS },
  {
    provider: 'openai',
    model: 'o3',
    input: 2,
    output: 8,
    cachedInput: 0.5,
    ...OPENAI_TOOLS,
    priority: { input: 3.5, cachedInput: 0.875, output: 14 },
    flex: half(2, 8, 0.5),
  },
  { provider: 'openai', model: 'o3-mini', input: 1.1, output: 4.4, cachedInput: 0.55, ...OPENAI_TOOLS },
  {
    provider: 'openai',
    model: 'o4-mini',
    input: 1.1,
    output: 4.4,
    cachedInput: 0.275,
    ...OPENAI_TOOLS,
    priority: { input: 2, cachedInput: 0.5, output: 8 },
    flex: half(1.1, 4.4, 0.275),
  },
  // The Chat Completions search models search the web on every call, billed per call: $25 per 1,000 on the non-reasoning
  // ones ("web search preview, non-reasoning models", whose search content tokens are free), $10 on gpt-5-search-api.
  { provider: 'openai', model: 'gpt-4o-search-preview', input: 2.5, output: 10, request: 25 },
  { provider: 'openai', model: 'gpt-4o-mini-search-preview', input: 0.15, output: 0.6, request: 25 },
  { provider: 'openai', model: 'gpt-5-search-api', input: 1.25, output: 10, cachedInput: 0.125, request: WEB_SEARCH_PER_1K },
  { provider: 'openai', model: 'text-embedding-3-small', input: 0.02, output: 0 },
  { provider: 'openai', model: 'text-embedding-3-large', input: 0.13, output: 0 },
  { provider: 'openai', model: 'text-embedding-ada-002', input: 0.1, output: 0 },
  // Anthropic: cache reads at 0.1x input, 5-minute cache writes at 1.25x input, 1-hour cache writes at 2x
  // (platform.claude.com/docs/en/about-claude/pricing). Opus 4.6 and Sonnet 4.6 bill their whole 1M context window at
  // these prices (no long-context premium since the window's general availability, 2026-03-13).
  // The model pages (platform.claude.com/docs/en/models/<model>/overview): Opus 5.5 reads its cache at $0.20, 0.05x
  // input; Haiku 5.5 bills every token of a prompt past 100,000 tokens at $0.50 / $2.50 (cache at the same multiples).
  // Claude Fable and Mythos (Mythos: to verified organizations only, at Fable's prices), from the pricing page's table:
  // $10 / $50, 5-minute writes $12.50, 1-hour writes $20; cache hits $0.25 on 5.1 (its model page: "cache read cost
  // reduced to a quarter" of Fable 5's $1). Claude Fable 5.2 and Mythos 5.2 (claude-fable-5-2, claude-mythos-5-2,
  // platform.claude.com/docs/en/models/fable-5-2/migration-guide) are left out: no first-party price found.
  usOnly(claude('anthropic', 'claude-fable-5-1', 10, 50, undefined, 0.25)),
  usOnly(claude('anthropic', 'claude-mythos-5-1', 10, 50, undefined, 0.25)),
  usOnly(claude('anthropic', 'claude-fable-5', 10, 50)),
  usOnly(claude('anthropic', 'claude-mythos-5', 10, 50)),
  usOnly(claude('anthropic', 'claude-opus-5-5', 4, 20, undefined, 0.2)),
  usOnly(claude('anthropic', 'claude-sonnet-5-5', 2, 10)),
  usOnly(claude('anthropic', 'claude-haiku-5-5', 0.1, 0.5, { above: 100_000, input: 0.5, output: 2.5 })),
  usOnly(claude('anthropic', 'claude-opus-5', 5, 25)),
  usOnly(claude('anthropic', 'claude-sonnet-5', 2, 10)),
  usOnly(claude('anthropic', 'claude-opus-4-8', 5, 25)),
  usOnly(claude('anthropic', 'claude-opus-4-7', 5, 25)),
  usOnly(claude('anthropic', 'claude-opus-4-6', 5, 25)),
  usOnly(claude('anthropic', 'claude-sonnet-4-6', 3, 15)),
  claude('anthropic', 'claude-opus-4-5', 5, 25),
  claude('anthropic', 'claude-opus-4-1-20250805', 15, 75),
  claude('anthropic', 'claude-opus-4-20250514', 15, 75),
  // With the 1M context window (beta context-1m-2025-08-07), a prompt past 200k bills every token at $6 / $22.50
  claude('anthropic', 'claude-sonnet-4-5', 3, 15, { input: 6, output: 22.5 }),
  claude('anthropic', 'claude-sonnet-4-20250514', 3, 15, { input: 6, output: 22.5 }),
  claude('anthropic', 'claude-3-7-sonnet-20250219', 3, 15),
  claude('anthropic', 'claude-3-5-sonnet-20241022', 3, 15),
  claude('anthropic', 'claude-haiku-4-5', 1, 5),
  claude('anthropic', 'claude-3-5-haiku-20241022', 0.8, 4),
  claude('anthropic', 'claude-3-haiku-20240307', 0.25, 1.25),
  // AWS Bedrock: Claude by its base model id, which its cross-region inference profiles (global., us., eu., jp., apac.)
  // prefix (platform.claude.com/docs/en/build-with-claude/claude-on-amazon-bedrock, "API model IDs"); Bedrock serves
  // Sonnet 4.5 and 4 with a 200k context window, so at no long-context prices
  claudeOnBedrock('anthropic.claude-opus-4-6-v1', 5, 25),
  claudeOnBedrock('anthropic.claude-sonnet-4-6', 3, 15),
  claudeOnBedrock('anthropic.claude-opus-4-5-20251101-v1:0', 5, 25),
  claudeOnBedrock('anthropic.claude-sonnet-4-5-20250929-v1:0', 3, 15),
  claudeOnBedrock('anthropic.claude-haiku-4-5-20251001-v1:0', 1, 5),
  claude('bedrock', 'anthropic.claude-opus-4-1-20250805-v1:0', 15, 75),
  claude('bedrock', 'anthropic.claude-sonnet-4-20250514-v1:0', 3, 15),
  // On-demand in us-east-1
  claude('bedrock', 'anthropic.claude-3-7-sonnet-20250219-v1:0', 3, 15),
  claude('bedrock', 'anthropic.claude-3-5-sonnet-20241022-v2:0', 3, 15),
  claude('bedrock', 'anthropic.claude-3-5-haiku-20241022-v1:0', 0.8, 4),
  { provider: 'bedrock', model: 'amazon.nova-micro-v1:0', input: 0.035, output: 0.14, cachedInput: 0.00875 },
  { provider: 'bedrock', model: 'amazon.nova-lite-v1:0', input: 0.06, output: 0.24, cachedInput: 0.015 },
  { provider: 'bedrock', model: 'amazon.nova-pro-v1:0', input: 0.8, output: 3.2, cachedInput: 0.2 },
  { provider: 'bedrock', model: 'meta.llama3-1-70b-instruct-v1:0', input: 0.72, output: 0.72 },
  { provider: 'bedrock', model: 'amazon.titan-embed-text-v2:0', input: 0.02, output: 0 },
  { provider: 'bedrock', model: 'cohere.embed-english-v3', input: 0.1, output: 0 },
  // Google Gemini API (paid tier), with grounding with Google Search; the Pro models bill a prompt past 200k tokens
  // (1.5 Pro: 128k) at higher prices, every token of the call
  {
    provider: 'gemini',
    model: 'gemini-3-pro-preview',
    input: 2,
    output: 12,
    cachedInput: 0.2,
    webSearch: GROUNDING_QUERY_PER_1K,
    longContext: longGemini(200_000, 4, 18, 0.4),
  },
  { provider: 'gemini', model: 'gemini-3-flash-preview', input: 0.5, output: 3, cachedInput: 0.05, webSearch: GROUNDING_QUERY_PER_1K },
  {
    provider: 'gemini',
    model: 'gemini-2.5-pro',
    input: 1.25,
    output: 10,
    cachedInput: 0.125,
    groundedPrompt: GROUNDED_PROMPT_PER_1K,
    longContext: longGemini(200_000, 2.5, 15, 0.25),
  },
  { provider: 'gemini', model: 'gemini-2.5-flash', input: 0.3, output: 2.5, cachedInput: 0.03, groundedPrompt: GROUNDED_PROMPT_PER_1K },
  {
    provider: 'gemini',
    model: 'gemini-2.5-flash-lite',
    input: 0.1,
    output: 0.4,
    cachedInput: 0.01,
    groundedPrompt: GROUNDED_PROMPT_PER_1K,
  },
  { provider: 'gemini', model: 'gemini-2.0-flash', input: 0.1, output: 0.4, cachedInput: 0.025, groundedPrompt: GROUNDED_PROMPT_PER_1K },
  { provider: 'gemini', model: 'gemini-2.0-flash-lite', input: 0.075, output: 0.3 },
  {
    provider: 'gemini',
    model: 'gemini-1.5-pro',
    input: 1.25,
    output: 5,
    groundedPrompt: GROUNDED_PROMPT_PER_1K,
    longContext: longGemini(128_000, 2.5, 10),
  },
  { provider: 'gemini', model: 'gemini-1.5-flash', input: 0.075, output: 0.3, groundedPrompt: GROUNDED_PROMPT_PER_1K },
  { provider: 'gemini', model: 'gemini-embedding-001', input: 0.15, output: 0 },
  // Vertex AI's text embedding models, billed by the character: $0.000025 per 1,000 (online), counted by Vertex as each
  // answer's metadata.billableCharacterCount. (text-embedding-004 left the Gemini API in January 2026.)
  { provider: 'vertex', model: 'text-embedding-005', input: 0, output: 0, inputCharacters: 0.025 },
  { provider: 'vertex', model: 'text-embedding-004', input: 0, output: 0, inputCharacters: 0.025 },
  { provider: 'vertex', model: 'text-multilingual-embedding-002', input: 0, output: 0, inputCharacters: 0.025 },
];
