// A ClientStream for different dialects: provider decoder -> IR events -> front door encoder, tapping usage.
import type { StreamDecoder, StreamEvent } from '../../ir/stream.js';
import { emptyUsage, type Usage } from '../../ir/usage.js';
import type { SecretRedactor } from '../../providers/shared/secret-redactor.js';
import type { ClientStream, StreamEncoder } from './frontdoor.js';
import { OutputSample, type OutputEstimate } from './output-sample.js';

export class TranslatingStream implements ClientStream {
  readonly usage: Usage;
  private readonly output: OutputSample;
  streamError: string | null;
  private readonly decoder: StreamDecoder;
  private readonly encoder: StreamEncoder;
  private readonly redactor: SecretRedactor;

  constructor(decoder: StreamDecoder, encoder: StreamEncoder, redactor: SecretRedactor) {
    this.decoder = decoder;
    this.encoder = encoder;
    this.redactor = redactor;
    this.usage = emptyUsage();
    this.output = new OutputSample();
    this.streamError = null;
  }

  push(chunk: Buffer): string {
    const events = this.decoder.push(chunk);
    if (events.length === 0) return '';
    this.tap(events);
    return this.encoder.encode(events);
  }

  end(): string {
    const events = this.decoder.end();
    this.tap(events);
    return this.encoder.encode(events) + this.encoder.end();
  }

  estimateOutput(): OutputEstimate {
    return this.output.estimate();
  }

  /** Taps usage and output; an error event's text, the upstream's own words, is redacted before it is encoded. */
  private tap(events: StreamEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event.type === 'text') this.output.add(event.text);
      else if (event.type === 'tool_call_delta') this.output.add(event.argumentsDelta);
      else if (event.type === 'usage') mergeUsage(this.usage, event.usage);
      else if (event.type === 'error') {
        const redacted = { type: 'error' as const, message: this.redactor.redact(event.message), errorType: this.redactor.redact(event.errorType) };
        events[i] = redacted;
        this.streamError = redacted.message;
      }
    }
  }
}

/** Providers report usage in parts (Anthropic: input at start, output at the end); later figures win. */
export function mergeUsage(into: Usage, part: Partial<Usage>): void {
  if (part.inputTokens !== undefined) into.inputTokens = part.inputTokens;
  if (part.outputTokens !== undefined) into.outputTokens = part.outputTokens;
  if (part.cachedInputTokens !== undefined) into.cachedInputTokens = part.cachedInputTokens;
  if (part.cacheWriteTokens !== undefined) into.cacheWriteTokens = part.cacheWriteTokens;
  if (part.inputTokens !== undefined || part.outputTokens !== undefined) into.reported = true;
}
