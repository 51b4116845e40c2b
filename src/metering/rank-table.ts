// o200k_base's text tokens and their ranks in three typed arrays, in place of gpt-tokenizer's Map from each token's
// string to its rank. The Map held 198,427 strings of their own, its hash table and the ranks' array: 14.6 MB of the
// gateway's heap for as long as it ran, and building it paused the gateway's event loop for some 240 ms. These arrays
// take 5 MB outside the heap, are built in the thread that loads the ranks, and reach the gateway's thread moved rather
// than copied (docs/metering.md has the measurements).
// Written by hand: the library takes its table only as that Map, and no package keeps one in typed arrays.
import type { RawBytePairRanks } from 'gpt-tokenizer/BytePairEncodingCore';

/** What the loading thread hands over (transferable: only typed arrays). */
export interface RankTableData {
  /** Every text token's UTF-16 code units, one after the other, in rank order. */
  units: Uint16Array<ArrayBuffer>;
  /** Rank r's units are units[starts[r]] up to units[starts[r + 1]]; none for a rank that is bytes, not text. */
  starts: Uint32Array<ArrayBuffer>;
  /** Open addressing, probed linearly from a token's hash: each slot a rank, or -1. */
  slots: Int32Array<ArrayBuffer>;
}

/** A token's hash: FNV-1a over its UTF-16 code units. One function for the table's build and its look-ups. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Builds the table from the library's ranks (an array of strings, and of byte arrays for tokens that are not text). */
export function buildRankTable(ranks: RawBytePairRanks): RankTableData {
  const starts = new Uint32Array(ranks.length + 1);
  let length = 0;
  let tokens = 0;
  for (let rank = 0; rank < ranks.length; rank++) {
    starts[rank] = length;
    const token = ranks[rank];
    if (typeof token === 'string') {
      length += token.length;
      tokens++;
    }
  }
  starts[ranks.length] = length;
  const units = new Uint16Array(length);
  // At most half full, so a look-up for a string that is no token ends after a probe or two.
  let size = 1;
  while (size < tokens * 2) size *= 2;
  const slots = new Int32Array(size).fill(-1);
  const table = new RankTable({ units, starts, slots });
  for (let rank = 0; rank < ranks.length; rank++) {
    const token = ranks[rank];
    if (typeof token !== 'string') continue;
    const start = starts[rank]!;
    for (let i = 0; i < token.length; i++) units[start + i] = token.charCodeAt(i);
    table.put(token, rank);
  }
  return { units, starts, slots };
}

/**
 * The look-up gpt-tokenizer makes of its Map (`get`), answered from the arrays: the rank of the token spelled by `key`,
 * or undefined.
 */
export class RankTable {
  private readonly units: Uint16Array;
  private readonly starts: Uint32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor({ units, starts, slots }: RankTableData) {
    this.units = units;
    this.starts = starts;
    this.slots = slots;
    this.mask = slots.length - 1;
  }

  get(key: string): number | undefined {
    const slot = this.slotOf(key);
    const rank = this.slots[slot]!;
    return rank === -1 ? undefined : rank;
  }

  /** As the Map's set did: a later rank with the same text takes the slot. Only while building. */
  put(key: string, rank: number): void {
    this.slots[this.slotOf(key)] = rank;
  }

  /** The slot holding `key`'s rank, or the empty one where it would go. */
  private slotOf(key: string): number {
    const { units, starts, slots, mask } = this;
    const length = key.length;
    for (let slot = hashOf(key) & mask; ; slot = (slot + 1) & mask) {
      const rank = slots[slot]!;
      if (rank === -1) return slot;
      const start = starts[rank]!;
      if (starts[rank + 1]! - start !== length) continue;
      let i = 0;
      while (i < length && units[start + i] === key.charCodeAt(i)) i++;
      if (i === length) return slot;
    }
  }
}
