// o200k_base's text tokens and their ranks in typed arrays, in place of gpt-tokenizer's Map from each token's string to
// its rank. The Map held 198,427 strings of their own, its hash table and the ranks' array: 14.6 MB of the gateway's
// heap for as long as it ran, and building it paused the gateway's event loop for some 240 ms. These arrays take 3.4 MB
// outside the heap, are built in the thread that loads the ranks, and reach the gateway's thread moved rather than
// copied (docs/metering.md has the measurements).
// Written by hand: the library takes its table only as that Map, and no package keeps one in typed arrays.
import type { RawBytePairRanks } from 'gpt-tokenizer/BytePairEncodingCore';

/** What the loading thread hands over (transferable: only typed arrays). */
export interface RankTableData {
  /** The text of the tokens whose characters all fit a byte (most: Latin script, code), one after the other. */
  narrow: Uint8Array<ArrayBuffer>;
  /** The UTF-16 code units of the other tokens, one after the other. */
  wide: Uint16Array<ArrayBuffer>;
  /** Where rank r's text starts in `narrow`, or (with WIDE set) in `wide`; none for a rank that is bytes, not text. */
  starts: Uint32Array<ArrayBuffer>;
  /** Rank r's length in UTF-16 code units (no token is longer than 255). */
  lengths: Uint8Array<ArrayBuffer>;
  /**
   * Open addressing, probed linearly from a token's hash: each slot -1, or a rank in its low RANK_BITS with bits of the
   * token's hash above them, so that a probe passes most other tokens without reading their text.
   */
  slots: Int32Array<ArrayBuffer>;
}

const WIDE = 0x8000_0000;
/** Ranks below 2^18 (o200k_base has 200,000): the slot's other 13 bits (short of the sign) hold the tag. */
const RANK_BITS = 18;
const RANK_MASK = (1 << RANK_BITS) - 1;
/** The tag: hash bits the slot index (at most 2^18 slots) does not use. */
const tagOf = (hash: number) => hash >>> (32 - (31 - RANK_BITS));
const MAX_LENGTH = 255;
/**
 * Slots per token, at least: some 0.76 of them full for o200k_base. With the tags, a probe that meets another token
 * compares a few bits in the slot itself; the table is 1 MB, half what a table at most half full took.
 */
const LOAD = 0.8;

/** A token's hash: FNV-1a over its UTF-16 code units. One function for the table's build and its look-ups. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function isNarrow(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Builds the table from the library's ranks (an array of strings, and of byte arrays for tokens that are not text). */
export function buildRankTable(ranks: RawBytePairRanks): RankTableData {
  if (ranks.length > RANK_MASK + 1) throw new Error(`a rank table holds at most ${RANK_MASK + 1} ranks, not ${ranks.length}`);
  let narrowLength = 0;
  let wideLength = 0;
  let tokens = 0;
  for (const token of ranks) {
    if (typeof token !== 'string') continue;
    if (token.length > MAX_LENGTH) throw new Error(`a rank table holds tokens of at most ${MAX_LENGTH} characters`);
    if (isNarrow(token)) narrowLength += token.length;
    else wideLength += token.length;
    tokens++;
  }
  const narrow = new Uint8Array(narrowLength);
  const wide = new Uint16Array(wideLength);
  const starts = new Uint32Array(ranks.length);
  const lengths = new Uint8Array(ranks.length);
  let size = 1;
  while (size * LOAD < tokens) size *= 2;
  const slots = new Int32Array(size).fill(-1);
  const data = { narrow, wide, starts, lengths, slots };
  const table = new RankTable(data);
  narrowLength = 0;
  wideLength = 0;
  for (let rank = 0; rank < ranks.length; rank++) {
    const token = ranks[rank];
    if (typeof token !== 'string') continue;
    lengths[rank] = token.length;
    if (isNarrow(token)) {
      starts[rank] = narrowLength;
      for (let i = 0; i < token.length; i++) narrow[narrowLength++] = token.charCodeAt(i);
    } else {
      starts[rank] = (wideLength | WIDE) >>> 0;
      for (let i = 0; i < token.length; i++) wide[wideLength++] = token.charCodeAt(i);
    }
    table.put(token, rank);
  }
  return data;
}

/**
 * The look-up gpt-tokenizer makes of its Map (`get`), answered from the arrays: the rank of the token spelled by `key`,
 * or undefined.
 */
export class RankTable {
  private readonly narrow: Uint8Array;
  private readonly wide: Uint16Array;
  private readonly starts: Uint32Array;
  private readonly lengths: Uint8Array;
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor({ narrow, wide, starts, lengths, slots }: RankTableData) {
    this.narrow = narrow;
    this.wide = wide;
    this.starts = starts;
    this.lengths = lengths;
    this.slots = slots;
    this.mask = slots.length - 1;
  }

  get(key: string): number | undefined {
    const value = this.slots[this.slotOf(key)]!;
    return value === -1 ? undefined : value & RANK_MASK;
  }

  /** As the Map's set did: a later rank with the same text takes the slot. Only while building. */
  put(key: string, rank: number): void {
    this.slots[this.slotOf(key)] = (tagOf(hashOf(key)) << RANK_BITS) | rank;
  }

  /** The slot holding `key`'s rank, or the empty one where it would go. */
  private slotOf(key: string): number {
    const { slots, mask, lengths } = this;
    const length = key.length;
    const hash = hashOf(key);
    const tag = tagOf(hash);
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const value = slots[slot]!;
      if (value === -1) return slot;
      if (value >>> RANK_BITS !== tag) continue;
      const rank = value & RANK_MASK;
      if (lengths[rank] !== length) continue;
      if (this.spells(rank, key)) return slot;
    }
  }

  /** Whether rank's text is `key` (of the same length). */
  private spells(rank: number, key: string): boolean {
    const start = this.starts[rank]!;
    const length = key.length;
    if (start < WIDE) {
      const narrow = this.narrow;
      for (let i = 0; i < length; i++) if (narrow[start + i] !== key.charCodeAt(i)) return false;
      return true;
    }
    const wide = this.wide;
    const at = start - WIDE;
    for (let i = 0; i < length; i++) if (wide[at + i] !== key.charCodeAt(i)) return false;
    return true;
  }
}
