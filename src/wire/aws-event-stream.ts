// AWS event-stream framing: splits bytes pushed in any split into whole messages and decodes each with the
// maintained codec (@smithy/eventstream-codec), which checks the prelude and message CRCs. The codec and its packages
// are loaded by what reads Bedrock's streams, when it is set up (loadAwsEventStreamCodec: a Bedrock provider, the
// discovery proxy): 1.0 MB of heap that a gateway with no Bedrock provider does without.
import { createRequire } from 'node:module';
import type { EventStreamCodec } from '@smithy/eventstream-codec';
import type * as Utf8 from '@smithy/util-utf8';
import { EventTail, MAX_EVENT_BYTES } from './event-tail.js';

export interface AwsEvent {
  /** ':message-type': event, exception or error. */
  messageType: string;
  /** ':event-type' for events, ':exception-type' for exceptions, ':error-code' for errors. */
  type: string;
  /** The payload as text (JSON for Bedrock). */
  body: string;
}

let codec: EventStreamCodec | null = null;

/**
 * Loads the codec (idempotent; synchronous, as it is called at start or at a reload, never on a call's path). A parser
 * built before it loads the codec itself.
 */
export function loadAwsEventStreamCodec(): EventStreamCodec {
  if (codec === null) {
    const require = createRequire(import.meta.url);
    const utf8 = require('@smithy/util-utf8') as typeof Utf8;
    const { EventStreamCodec: Codec } = require('@smithy/eventstream-codec') as { EventStreamCodec: typeof EventStreamCodec };
    codec = new Codec(utf8.toUtf8, utf8.fromUtf8);
  }
  return codec;
}
/** total length (4) + headers length (4) + prelude CRC (4) */
const PRELUDE_BYTES = 12;

export class AwsEventStreamParser {
  private readonly tail: EventTail;
  /** The length the message in the tail declares; 0 until its prelude has come. */
  private awaited: number;
  private readonly codec: EventStreamCodec;

  constructor() {
    this.tail = new EventTail();
    this.awaited = 0;
    this.codec = loadAwsEventStreamCodec();
  }

  /** Throws when a message declares more than MAX_EVENT_BYTES, or cannot be decoded. */
  push(chunk: Buffer, out: AwsEvent[] = []): AwsEvent[] {
    // A read inside a message that has not ended (a long one comes in many): held, the message decoded once whole.
    if (this.awaited > 0 && this.tail.length + chunk.length < this.awaited) {
      this.tail.append(chunk);
      return out;
    }
    const buffer = this.tail.take(chunk);
    this.awaited = 0;
    let start = 0;
    while (buffer.length - start >= PRELUDE_BYTES) {
      const total = buffer.readUInt32BE(start);
      if (total > MAX_EVENT_BYTES) throw new Error(`an event of the stream runs past ${MAX_EVENT_BYTES} bytes`);
      if (buffer.length - start < total) {
        this.awaited = total;
        break;
      }
      const message = this.codec.decode(buffer.subarray(start, start + total));
      const headers = message.headers;
      const header = (name: string) => {
        const value = headers[name]?.value;
        return typeof value === 'string' ? value : '';
      };
      const messageType = header(':message-type') || 'event';
      const type =
        messageType === 'exception' ? header(':exception-type') : messageType === 'error' ? header(':error-code') : header(':event-type');
      out.push({ messageType, type, body: Buffer.from(message.body).toString('utf8') });
      start += total;
    }
    if (start < buffer.length) this.tail.hold(Buffer.from(buffer.subarray(start)));
    return out;
  }

  /** Bytes left over that never made a whole message. */
  get pendingBytes(): number {
    return this.tail.length;
  }
}

/** Encodes one event message (used by tests' mock servers, and kept beside the parser so both agree). */
export function encodeAwsEvent(eventType: string, payload: unknown, messageType: 'event' | 'exception' = 'event'): Uint8Array {
  const typeHeader = messageType === 'exception' ? ':exception-type' : ':event-type';
  return loadAwsEventStreamCodec().encode({
    headers: {
      ':message-type': { type: 'string', value: messageType },
      [typeHeader]: { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: Buffer.from(JSON.stringify(payload), 'utf8'),
  });
}
