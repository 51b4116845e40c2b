// Usage in an Anthropic Messages stream, read in one place for the decoder and the pass-through relay alike:
// message_start carries the input and cache figures, message_delta the output (and, in newer API versions, the input
// figures again, which win).
import type { Usage } from '../../ir/usage.js';
import { asObject } from '../../wire/json.js';
import { asTokenCount } from '../../wire/usage.js';
import { anthropicHourCacheWrites, anthropicWebSearches } from './response.js';

export class AnthropicStreamUsage {
  /** Cache figures from message_start, kept to complete the usage reported in message_delta. */
  private cacheRead: number;
  private cacheWrite: number;
  /** Of cacheWrite, the writes to the 1-hour cache (message_start's usage.cache_creation). */
  private cacheWrite1h: number;

  constructor() {
    this.cacheRead = 0;
    this.cacheWrite = 0;
    this.cacheWrite1h = 0;
  }

  /** The usage in message_start's message (parsed JSON): the whole prompt, its cached part and its cache writes. */
  start(message: unknown): Partial<Usage> {
    const usage = asObject(asObject(message).usage);
    this.cacheRead = asTokenCount(usage.cache_read_input_tokens) ?? 0;
    this.cacheWrite = asTokenCount(usage.cache_creation_input_tokens) ?? 0;
    this.cacheWrite1h = Math.min(anthropicHourCacheWrites(usage), this.cacheWrite);
    const input = (asTokenCount(usage.input_tokens) ?? 0) + this.cacheRead + this.cacheWrite;
    const part: Partial<Usage> = { inputTokens: input, cachedInputTokens: this.cacheRead, cacheWriteTokens: this.cacheWrite };
    if (usage.cache_creation !== undefined) part.cacheWrite1hTokens = this.cacheWrite1h;
    const searches = anthropicWebSearches(usage);
    if (searches !== undefined && searches > 0) part.webSearches = searches;
    // US-only inference (https://platform.claude.com/docs/en/build-with-claude/data-residency), priced at a premium.
    if (usage.inference_geo === 'us') part.inferenceGeo = 'us';
    // Fast mode (https://platform.claude.com/docs/en/build-with-claude/fast-mode), priced at a multiple.
    if (usage.speed === 'fast') part.serviceTier = 'fast';
    return part;
  }

  /** The usage in a message_delta event (parsed JSON); null when it carries none. */
  delta(event: unknown): Partial<Usage> | null {
    const usage = asObject(asObject(event).usage);
    const part: Partial<Usage> = {};
    const output = asTokenCount(usage.output_tokens);
    if (output !== undefined) part.outputTokens = output;
    const input = asTokenCount(usage.input_tokens);
    if (input !== undefined) {
      const cacheRead = asTokenCount(usage.cache_read_input_tokens) ?? this.cacheRead;
      const cacheWrite = asTokenCount(usage.cache_creation_input_tokens) ?? this.cacheWrite;
      const split =
        asObject(usage.cache_creation).ephemeral_1h_input_tokens === undefined ? this.cacheWrite1h : anthropicHourCacheWrites(usage);
      part.inputTokens = input + cacheRead + cacheWrite;
      part.cachedInputTokens = cacheRead;
      part.cacheWriteTokens = cacheWrite;
      // Stated only when there is a split to state: a usage without one keeps message_start's.
      if (split > 0 || usage.cache_creation !== undefined) part.cacheWrite1hTokens = Math.min(split, cacheWrite);
    }
    // The searches so far, as message_delta counts them (cumulative, like its token figures).
    const searches = anthropicWebSearches(usage);
    if (searches !== undefined) part.webSearches = searches;
    if (usage.inference_geo === 'us') part.inferenceGeo = 'us';
    if (usage.speed === 'fast') part.serviceTier = 'fast';
    return output === undefined &&
      input === undefined &&
      searches === undefined &&
      part.inferenceGeo === undefined &&
      part.serviceTier === undefined
      ? null
      : part;
  }
}
