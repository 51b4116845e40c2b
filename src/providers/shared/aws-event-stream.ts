// AWS event-stream framing: splits bytes pushed in any split into whole messages and decodes each with the
// maintained codec (@smithy/eventstream-codec), which checks the prelude and message CRCs.
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

export interface AwsEvent {
  /** ':message-type': event, exception or error. */
  messageType: string;
  /** ':event-type' for events, ':exception-type' for exceptions, ':error-code' for errors. */
  type: string;
  /** The payload as text (JSON for Bedrock). */
  body: string;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
/** total length (4) + headers length (4) + prelude CRC (4) */
const PRELUDE_BYTES = 12;

export class AwsEventStreamParser {
  private tail: Buffer | null;

  constructor() {
    this.tail = null;
  }

  push(chunk: Buffer, out: AwsEvent[] = []): AwsEvent[] {
    const buffer = this.tail === null ? chunk : Buffer.concat([this.tail, chunk]);
    this.tail = null;
    let start = 0;
    while (buffer.length - start >= PRELUDE_BYTES) {
      const total = buffer.readUInt32BE(start);
      if (buffer.length - start < total) break;
      const message = codec.decode(buffer.subarray(start, start + total));
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
    if (start < buffer.length) this.tail = Buffer.from(buffer.subarray(start));
    return out;
  }

  /** Bytes left over that never made a whole message. */
  get pendingBytes(): number {
    return this.tail?.length ?? 0;
  }
}

/** Encodes one event message (used by tests' mock servers, and kept beside the parser so both agree). */
export function encodeAwsEvent(eventType: string, payload: unknown, messageType: 'event' | 'exception' = 'event'): Uint8Array {
  const typeHeader = messageType === 'exception' ? ':exception-type' : ':event-type';
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: messageType },
      [typeHeader]: { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}
