// The shared half of every SSE-speaking provider's stream decoder: bytes in any split -> whole events -> decode().
import type { StreamDecoder, StreamEvent } from '../../ir/stream.js';
import { SseParser, type SseEvent } from '../../wire/sse.js';

export abstract class SseStreamDecoder implements StreamDecoder {
  private readonly parser: SseParser;
  /** Reused between pushes: the parser appends into it, decode() reads it. */
  private readonly events: SseEvent[];

  constructor() {
    this.parser = new SseParser();
    this.events = [];
  }

  push(chunk: Buffer): StreamEvent[] {
    this.events.length = 0;
    return this.decode(this.parser.push(chunk, this.events));
  }

  end(): StreamEvent[] {
    this.events.length = 0;
    return this.decode(this.parser.end(this.events));
  }

  /** Maps whole provider events to IR events. */
  protected abstract decode(events: readonly SseEvent[]): StreamEvent[];
}
