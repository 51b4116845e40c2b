// The unfinished event a stream parser carries from one read to the next: grown in place, and bounded.

/**
 * The most of one stream event (an SSE event, an AWS event-stream message) held while it is incomplete: the largest
 * answer the gateway holds by default (routing.maxResponseBytes), far above any real event (a Responses API stream's
 * final event repeats the whole answer). An upstream whose event runs past it has broken its stream.
 */
export const MAX_EVENT_BYTES = 32 * 1024 * 1024;

/**
 * The bytes after a stream's last complete event. A parser looks for an event's end only in what a read adds, and
 * appends a read that ends nothing here, in a buffer that doubles as it fills: an event that comes in many reads costs
 * its size in copies, where joining the tail to each read and searching the whole again cost its size times its reads
 * (an 8 MiB event in 64 KiB reads held the event loop for seconds). Past MAX_EVENT_BYTES, it throws.
 */
export class EventTail {
  private buffer: Buffer | null;
  private size: number;

  constructor() {
    this.buffer = null;
    this.size = 0;
  }

  get length(): number {
    return this.size;
  }

  /** The byte `back` places from the end (1: the last), or -1 when the tail is shorter. */
  byteFromEnd(back: number): number {
    return back > this.size ? -1 : this.buffer![this.size - back]!;
  }

  /** Starts the tail over with `rest` (a view of a read, taken as it is: appending copies it first). */
  hold(rest: Buffer): void {
    if (rest.length > MAX_EVENT_BYTES) throw tooLarge();
    this.buffer = rest.length === 0 ? null : rest;
    this.size = rest.length;
  }

  /** Adds a read that completes nothing. */
  append(chunk: Buffer): void {
    const size = this.size + chunk.length;
    if (size > MAX_EVENT_BYTES) throw tooLarge();
    // `hold` leaves a view of someone's read in place: the first append always copies it out.
    if (this.buffer === null || size > this.buffer.length || this.buffer.length === this.size) {
      const grown = Buffer.allocUnsafe(Math.min(MAX_EVENT_BYTES, Math.max(size, this.size * 2)));
      if (this.buffer !== null) this.buffer.copy(grown, 0, 0, this.size);
      this.buffer = grown;
    }
    chunk.copy(this.buffer, this.size);
    this.size = size;
  }

  /** The tail followed by `chunk`, as one buffer (`chunk` itself when the tail is empty); the tail is emptied. */
  take(chunk: Buffer): Buffer {
    if (this.size === 0) return chunk;
    const joined = Buffer.concat([this.buffer!.subarray(0, this.size), chunk], this.size + chunk.length);
    this.buffer = null;
    this.size = 0;
    return joined;
  }

  /** What is held, emptied; null when nothing is. */
  takeAll(): Buffer | null {
    if (this.size === 0) return null;
    const rest = this.buffer!.subarray(0, this.size);
    this.buffer = null;
    this.size = 0;
    return rest;
  }
}

function tooLarge(): Error {
  return new Error(`an event of the stream runs past ${MAX_EVENT_BYTES} bytes`);
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Whether `chunk`, read after `tail`, may end an SSE event as the relays find ends (LF LF, or CR LF CR LF): false only
 * when no such blank line can end in it. The tail holds none (it begins after the last), so only one ending in `chunk`
 * counts, and the tail's last three bytes are enough to see one that starts before it.
 */
export function mayEndEvent(tail: EventTail, chunk: Buffer): boolean {
  if (chunk.indexOf(LF) === -1) return false;
  if (chunk.indexOf('\n\n') !== -1 || chunk.indexOf('\r\n\r\n') !== -1) return true;
  // A blank line across the join: the tail's last bytes and the chunk's first.
  const head = chunk.subarray(0, 3);
  const joined = Buffer.from([tail.byteFromEnd(3), tail.byteFromEnd(2), tail.byteFromEnd(1), ...head]);
  return joined.indexOf('\n\n') !== -1 || joined.indexOf('\r\n\r\n') !== -1;
}

/** Whether `chunk` holds a line's end (LF or CR): an SSE parser holding an unfinished line has nothing to do before one. */
export function endsLine(chunk: Buffer): boolean {
  return chunk.indexOf(LF) !== -1 || chunk.indexOf(CR) !== -1;
}
