// A bounded sample of what a stream produced, kept only to estimate output tokens when a provider reports no usage.
// Constant memory per stream: past the budget only the length is counted, and the estimate is scaled up by it.

const BUDGET_CHARS = 64 * 1024;

export interface OutputEstimate {
  texts: string[];
  /** Multiply the token count of `texts` by this to cover what was not kept. */
  scale: number;
}

export class OutputSample {
  private readonly kept: Array<string | Buffer>;
  private keptChars: number;
  private totalChars: number;

  constructor() {
    this.kept = [];
    this.keptChars = 0;
    this.totalChars = 0;
  }

  /**
   * A Buffer piece is kept as it is, a view of the upstream read it came from: the relays sample the runs of plain
   * events, nearly all of each read, so what the views pin stays close to what is kept (a copy of a small piece would
   * pin an 8 KB slab of Buffer's pool anyway).
   */
  add(piece: string | Buffer): void {
    this.totalChars += piece.length;
    if (this.keptChars >= BUDGET_CHARS) return;
    this.kept.push(piece);
    this.keptChars += piece.length;
  }

  /** `extract` turns a kept piece into the model's text (a relay keeps raw event data and parses only if needed). */
  estimate(extract?: (piece: string) => string[]): OutputEstimate {
    const pieces = this.kept.map((piece) => (typeof piece === 'string' ? piece : piece.toString('utf8')));
    const texts = extract === undefined ? pieces : pieces.flatMap(extract);
    return { texts, scale: this.keptChars === 0 ? 1 : this.totalChars / this.keptChars };
  }
}
