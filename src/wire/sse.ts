// Server-sent events: an incremental parser fed bytes in any split, and the writer's framing.
// Written by hand because it must be push-driven, allocation-light and keep only the unread tail.
import { EventTail, endsLine, MAX_EVENT_BYTES } from './event-tail.js';
import { tryParseJson } from './json.js';

export interface SseEvent {
  event: string | null;
  data: string;
}

const LF = 0x0a;
const CR = 0x0d;

/** Parses an SSE byte stream (https://html.spec.whatwg.org/multipage/server-sent-events.html) pushed in arbitrary chunks. */
export class SseParser {
  /** The unfinished line (bounded: throws past MAX_EVENT_BYTES, as an event's data lines do). */
  private readonly tail: EventTail;
  private eventName: string | null;
  private dataLines: string[];
  /** The characters in dataLines. */
  private dataLength: number;
  private skipLeadingLf: boolean;

  constructor() {
    this.tail = new EventTail();
    this.eventName = null;
    this.dataLines = [];
    this.dataLength = 0;
    this.skipLeadingLf = false;
  }

  /** Throws when an event runs past MAX_EVENT_BYTES without ending. */
  push(chunk: Buffer, out: SseEvent[] = []): SseEvent[] {
    if (this.tail.length > 0 && !endsLine(chunk)) {
      this.tail.append(chunk);
      return out;
    }
    const buffer = this.tail.take(chunk);
    let start = 0;
    if (this.skipLeadingLf && buffer.length > 0) {
      if (buffer[0] === LF) start = 1;
      this.skipLeadingLf = false;
    }
    for (let i = start; i < buffer.length; i++) {
      const byte = buffer[i];
      if (byte !== LF && byte !== CR) continue;
      this.line(buffer.toString('utf8', start, i), out);
      if (byte === CR) {
        if (i + 1 < buffer.length) {
          if (buffer[i + 1] === LF) i++;
        } else {
          this.skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    if (start < buffer.length) this.tail.hold(start === 0 ? Buffer.from(buffer) : buffer.subarray(start));
    return out;
  }

  /** Flushes an event left without its closing blank line when the stream ends. */
  end(out: SseEvent[] = []): SseEvent[] {
    const rest = this.tail.takeAll();
    if (rest !== null) this.line(rest.toString('utf8'), out);
    this.dispatch(out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.dataLength += value.length;
      if (this.dataLength > MAX_EVENT_BYTES) throw new Error(`an event of the stream runs past ${MAX_EVENT_BYTES} bytes`);
      this.dataLines.push(value);
    } else if (field === 'event') this.eventName = value;
  }

  private dispatch(out: SseEvent[]): void {
    if (this.dataLines.length === 0) {
      this.eventName = null;
      return;
    }
    const data = this.dataLines.length === 1 ? this.dataLines[0]! : this.dataLines.join('\n');
    out.push({ event: this.eventName, data });
    this.dataLines = [];
    this.dataLength = 0;
    this.eventName = null;
  }
}

export function sseData(data: string): string {
  return `data: ${data}\n\n`;
}

export function sseEvent(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/**
 * Whether the bytes a stream ended on, without their closing blank line, are whole events: each with data, all of it
 * `[DONE]` or JSON that parses. A relay completes such a tail for the client; one cut part way through its JSON it drops,
 * as SSE drops an unfinished event: relayed, it is what the client's SDK would choke on, in place of the error event
 * that ends a stream cut short.
 */
export function wholeEvents(tail: Buffer): boolean {
  const parser = new SseParser();
  const events = parser.end(parser.push(tail));
  return events.length > 0 && events.every((event) => event.data === '[DONE]' || tryParseJson(event.data) !== undefined);
}
