// Usage in an Anthropic Messages stream, read in one place for the decoder and the pass-through relay alike:
// message_start carries the input and cache figures, message_delta the output (and, in newer API versions, the input
// figures again, which win).
import type { Usage } from '../../ir/usage.js';
import { asObject } from '../../wire/json.js';
import { asTokenCount } from '../../wire/usage.js';

export class AnthropicStreamUsage {
  /** Cache figures from message_start, kept to complete the usage reported in message_delta. */
  private cacheRead: number;
  private cacheWrite: number;

  constructor() {
    this.cacheRead = 0;
    this.cacheWrite = 0;
  }

  /** The usage in message_start's message (parsed JSON): the whole prompt, its cached part and its cache writes. */
  start(message: unknown): Partial<Usage> {
    const usage = asObject(asObject(message).usage);
    this.cacheRead = asTokenCount(usage.cache_read_input_tokens) ?? 0;
    this.cacheWrite = asTokenCount(usage.cache_creation_input_tokens) ?? 0;
    const input = (asTokenCount(usage.input_tokens) ?? 0) + this.cacheRead + this.cacheWrite;
    return { inputTokens: input, cachedInputTokens: this.cacheRead, cacheWriteTokens: this.cacheWrite };
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
      part.inputTokens = input + cacheRead + cacheWrite;
      part.cachedInputTokens = cacheRead;
      part.cacheWriteTokens = cacheWrite;
    }
    return output === undefined && input === undefined ? null : part;
  }
}
