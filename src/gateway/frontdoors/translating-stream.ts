// A ClientStream for different dialects: provider decoder -> IR events -> front door encoder, tapping usage.
import type { StreamDecoder, StreamEvent } from '../../ir/stream.js';
import { emptyUsage, type Usage } from '../../ir/usage.js';
import type { ClientStream, Redactor } from '../../wire/exchange.js';
import { OutputSample, type OutputEstimate } from '../../wire/output-sample.js';
import { mergeUsage } from '../../wire/usage.js';
import type { StreamEncoder } from './frontdoor.js';

export class TranslatingStream implements ClientStream {
  readonly usage: Usage;
  private readonly output: OutputSample;
  streamError: string | null;
  finished: boolean;
  private readonly decoder: StreamDecoder;
  private readonly encoder: StreamEncoder;
  private readonly redactor: Redactor;

  constructor(decoder: StreamDecoder, encoder: StreamEncoder, redactor: Redactor) {
    this.decoder = decoder;
    this.encoder = encoder;
    this.redactor = redactor;
    this.usage = emptyUsage();
    this.output = new OutputSample();
    this.streamError = null;
    this.finished = false;
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
    // A stream that stopped short gets no made-up ending (message_stop, [DONE], response.completed): the relay ends it
    // with the API's error event.
    if (!this.finished && this.streamError === null) return this.encoder.encode(events);
    return this.encoder.encode(events) + this.encoder.end();
  }

  estimateOutput(): OutputEstimate {
    return this.output.estimate();
  }

  get nextSequenceNumber(): number | undefined {
    return this.encoder.nextSequenceNumber;
  }

  broken(code: string, message: string): string | null {
    return this.encoder.fail?.(code, message) ?? null;
  }

  /** Taps usage and output; an error event's text, the upstream's own words, is redacted before it is encoded. */
  private tap(events: StreamEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      // Reasoning is output too, billed as such: counted when the provider's own figure never came.
      if (event.type === 'text' || event.type === 'refusal' || event.type === 'reasoning_text') this.output.add(event.text);
      else if (event.type === 'tool_call_delta') this.output.add(event.argumentsDelta);
      else if (event.type === 'usage') mergeUsage(this.usage, event.usage);
      else if (event.type === 'finish') this.finished = true;
      else if (event.type === 'error') {
        const redacted = {
          type: 'error' as const,
          message: this.redactor.redact(event.message),
          errorType: this.redactor.redact(event.errorType),
        };
        events[i] = redacted;
        this.streamError = redacted.message;
      }
    }
  }
}
