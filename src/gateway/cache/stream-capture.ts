// A streamed answer's bytes as the client got them, kept for the response cache up to a bound (past it, nothing is kept).
export class StreamCapture {
  private readonly maxBytes: number;
  private chunks: Buffer[] | null;
  private size: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
    this.chunks = [];
    this.size = 0;
  }

  add(text: string | Buffer): void {
    if (this.chunks === null) return;
    const chunk = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    this.size += chunk.length;
    if (this.size > this.maxBytes) this.chunks = null;
    else this.chunks.push(chunk);
  }

  /** The whole stream, or null when it outgrew the bound. */
  whole(): Buffer | null {
    return this.chunks === null ? null : Buffer.concat(this.chunks, this.size);
  }
}
