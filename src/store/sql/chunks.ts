// Multi-row statements come in a few sizes only: how many rows each holds, and how a list of rows is cut to those sizes.

/**
 * The row counts a sized statement exists for: `max` and the powers of two under it (50, 32, 16, 8, 4, 2, 1). Each is
 * prepared once per connection and holds its compiled program for the connection's life: one per count from 1 to 50, for
 * the four sized kinds (ledger inserts, key touches, hourly and daily rollups), held some 9 MB per SQLite connection
 * (the director's and the ledger writer thread's); these seven per kind, under 1 MB.
 */
export function statementSizes(max: number): number[] {
  const sizes = [max];
  for (let size = 2 ** Math.floor(Math.log2(max)); size >= 1; size /= 2) if (size < max) sizes.push(size);
  return sizes;
}

/** `rows` in chunks of the sizes statementSizes(max) gives, largest first: the full chunks, then at most six for the rest. */
export function statementChunks<T>(rows: readonly T[], max: number): T[][] {
  const chunks: T[][] = [];
  let at = 0;
  for (const size of statementSizes(max)) {
    for (; rows.length - at >= size; at += size) chunks.push(rows.slice(at, at + size));
  }
  return chunks;
}
