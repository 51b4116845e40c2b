// One ledger record per transaction: who called what, what it used and cost, how it went. Never prompt or completion text.
// Sluice's own form of a finished call: the gateway makes it, the ledger batches it, the store writes it.

import type { ServiceTier } from './usage.js';

export interface Transaction {
  requestId: string;
  /** Epoch milliseconds when the request arrived. */
  startedAt: number;
  /** mcp_tool_call: a tools/call through /mcp (provider `mcp:<server>`, model the tool's name, no tokens). */
  operation: 'chat' | 'embeddings' | 'mcp_tool_call';
  /** The client API used: openai (chat completions, embeddings), anthropic (messages) or openai-responses. */
  api: string;
  consumer: string | null;
  team: string | null;
  requestedModel: string | null;
  provider: string | null;
  providerModel: string | null;
  stream: boolean;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  /**
   * Of cacheWriteTokens, those written to a 1-hour prompt cache (Anthropic's `ttl: '1h'`, billed at 2x input, not the
   * 5-minute write's 1.25x); 0 when none were, or the provider stated no split. Optional: records made before it
   * (spooled, or observers') have none.
   */
  cacheWrite1hTokens?: number;
  /**
   * Of outputTokens, those the model spent reasoning where the provider states them apart (OpenAI's reasoning_tokens,
   * Gemini's thoughtsTokenCount), already priced within outputTokens; null where it states no split (Anthropic, Claude
   * on Bedrock) or the figure was counted. Optional: records made before it (spooled, or observers') have none.
   */
  reasoningTokens?: number | null;
  /** True when the provider reported no usage and Sluice counted with its tokenizer. */
  tokensEstimated: boolean;
  /**
   * Integer micro-USD, costNanoUsd rounded (half away from zero); null when the model has no known price. What the ledger
   * has always stored (cost_micro_usd); every sum Sluice makes reads costNanoUsd, so calls under half a micro-USD count.
   */
  costMicroUsd: number | null;
  /**
   * The cost to the nano-USD (1e-9 USD, src/metering/cost.ts), null when costMicroUsd is. Optional: records made before it
   * (spooled by an earlier version) and observers' rows have none, and are taken as costMicroUsd x 1,000 (nanoCostOf).
   */
  costNanoUsd?: number | null;
  latencyMs: number;
  /** Streams only: until the first content byte was sent to the client. */
  timeToFirstTokenMs: number | null;
  /** HTTP status the client received. */
  status: number;
  /** The error code from the registry (or 'client_disconnected', 'cut_by_stop', 'stream_error'); null on success. */
  errorClass: string | null;
  /** Upstream attempts made, fallbacks and retries included. */
  attempts: number;
  /** The Sluice model that served the call when a budget downgraded it from the requested one; else null. */
  servedModel: string | null;
  /** Policies the call broke in monitor mode (budget names, "resource:<provider/model>"), comma-separated; else null. */
  violations: string | null;
  /**
   * The credential the consumer was authenticated by: `key:<key id>`, `mtls:<SPIFFE id or subject>`, `xfcc:<...>`,
   * `jwt:<issuer>#<sub>`; never a secret. Optional: records made before it (spooled, or observers') have none.
   */
  identity?: string | null;
  /**
   * A call answered from the response cache: what the original call cost (integer micro-USD), the saving; 0 for every
   * other call and for an unpriced model. Optional: records made before it (spooled, or observers') have none.
   */
  savedMicroUsd?: number;
  /**
   * The saving to the nano-USD (savedMicroUsd is it rounded), so a hit on a call under half a micro-USD saves what it
   * cost. Optional: records made before it are taken as savedMicroUsd x 1,000 (nanoSavedOf).
   */
  savedNanoUsd?: number;
  /**
   * Web searches the provider ran and bills per search, beside the tokens (their price is in costMicroUsd); 0 or absent
   * for none, and in records made before it.
   */
  webSearches?: number;
  /** File searches (OpenAI's file_search tool calls), billed per call beside the tokens; as webSearches. */
  fileSearches?: number;
  /** The tier that served the call where it is priced apart from the standard one (OpenAI's priority, flex); else null. */
  serviceTier?: ServiceTier | null;
}

/** A record's response-cache saving in nano-USD: savedNanoUsd, or savedMicroUsd x 1,000 for a record that has only that. */
export function nanoSavedOf(tx: Pick<Transaction, 'savedMicroUsd' | 'savedNanoUsd'>): number {
  return tx.savedNanoUsd ?? (tx.savedMicroUsd ?? 0) * 1000;
}

/** A record's cost in nano-USD: costNanoUsd, or costMicroUsd x 1,000 for a record that has only that; null if unpriced. */
export function nanoCostOf(tx: Pick<Transaction, 'costMicroUsd' | 'costNanoUsd'>): number | null {
  const nano = tx.costNanoUsd;
  if (nano !== undefined && nano !== null) return nano;
  return tx.costMicroUsd === null ? null : tx.costMicroUsd * 1000;
}
