// A chunked request body (RFC 9112 section 7.1) decoded as its bytes arrive, for an upgrade request, whose body Node's
// HTTP server leaves unparsed on the socket: where it ends is where the protocol switched to begins. Written by hand
// because Node exposes its own parser (llhttp) to no public API. Strict: a CRLF after every line and chunk, a size of
// hex digits only, bounded lines; anything else is an error, never a guess. The body goes on framed anew by Node's client,
// so the origin never sees this framing, only what it decoded to.

/** The framing is not chunked as RFC 9112 writes it. */
export class ChunkedFramingError extends Error {}

/** Longest size line (with its extensions) or trailer line, and the most trailer bytes, taken. */
const MAX_LINE_BYTES = 8 * 1024;
const MAX_TRAILER_BYTES = 16 * 1024;
const SIZE_LINE = /^([0-9a-fA-F]{1,13})(?:[ \t]*;.*)?$/;
const TRAILER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

type State = 'size' | 'data' | 'data-end' | 'trailers' | 'done';

export class ChunkedBodyDecoder {
  private state: State;
  /** A line not yet ended by its CRLF. */
  private line: Buffer;
  /** Bytes left of the current chunk's data. */
  private left: number;
  private trailerBytes: number;
  /** Trailer fields, as [name, value] pairs in the order sent. */
  readonly trailers: Array<[string, string]>;
  /** What followed the body in the bytes pushed last, once it is over; empty until then. */
  rest: Buffer;

  constructor() {
    this.state = 'size';
    this.line = Buffer.alloc(0);
    this.left = 0;
    this.trailerBytes = 0;
    this.trailers = [];
    this.rest = Buffer.alloc(0);
  }

  /** True once the last chunk and the trailer section are in. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** Decodes the bytes that arrived: the body's data in them (views of `bytes`); throws ChunkedFramingError. */
  push(bytes: Buffer): Buffer[] {
    const data: Buffer[] = [];
    let at = 0;
    while (at < bytes.length && this.state !== 'done') {
      if (this.state === 'data') {
        const take = Math.min(this.left, bytes.length - at);
        data.push(bytes.subarray(at, at + take));
        at += take;
        this.left -= take;
        if (this.left === 0) this.state = 'data-end';
        continue;
      }
      const end = bytes.indexOf(0x0a, at);
      const piece = bytes.subarray(at, end === -1 ? bytes.length : end + 1);
      at += piece.length;
      if (this.line.length + piece.length > MAX_LINE_BYTES) throw new ChunkedFramingError('a chunked line is too long');
      this.line = this.line.length === 0 ? piece : Buffer.concat([this.line, piece]);
      if (end === -1) continue;
      if (this.line.length < 2 || this.line[this.line.length - 2] !== 0x0d) throw new ChunkedFramingError('a line does not end in CRLF');
      const text = this.line.subarray(0, this.line.length - 2).toString('latin1');
      this.line = Buffer.alloc(0);
      this.takeLine(text);
    }
    if (this.state === 'done') this.rest = bytes.subarray(at);
    return data;
  }

  private takeLine(text: string): void {
    switch (this.state) {
      case 'size': {
        const match = SIZE_LINE.exec(text);
        if (match === null) throw new ChunkedFramingError('a chunk size is not hexadecimal');
        this.left = Number.parseInt(match[1]!, 16);
        if (!Number.isSafeInteger(this.left)) throw new ChunkedFramingError('a chunk size is too large');
        this.state = this.left === 0 ? 'trailers' : 'data';
        return;
      }
      case 'data-end':
        if (text !== '') throw new ChunkedFramingError('a chunk is longer than its size');
        this.state = 'size';
        return;
      case 'trailers': {
        if (text === '') {
          this.state = 'done';
          return;
        }
        this.trailerBytes += text.length + 2;
        const match = TRAILER_LINE.exec(text);
        if (match === null || this.trailerBytes > MAX_TRAILER_BYTES) throw new ChunkedFramingError('a trailer field is malformed');
        this.trailers.push([match[1]!, match[2]!]);
        return;
      }
      default:
        return;
    }
  }
}
