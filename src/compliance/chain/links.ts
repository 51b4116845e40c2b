// How the chains hash: a row's hash is SHA-256 of its table and canonical JSON; a block's is SHA-256 of the previous
// block's hash, the block's place (table, number, row id range, row count) and its rows' hashes in id order. Changing,
// removing or adding a sealed row changes its block's hash and so every later link.
import { createHash } from 'node:crypto';
import type { ChainName, ChainRow } from '../../store/compliance-store.js';
import { canonicalJson } from './canonical.js';

/** The previous hash of a chain's first block. */
export const GENESIS_HASH = '0'.repeat(64);

/** Hex digits of a row's hash kept beside the block, to name the row that no longer matches. */
export const ROW_DIGEST_LENGTH = 16;

export function rowHash(chain: ChainName, row: ChainRow): string {
  return createHash('sha256').update(chain).update('\n').update(canonicalJson(row.columns)).digest('hex');
}

export interface BlockPlace {
  chain: ChainName;
  block: number;
  afterRowId: number;
  lastRowId: number;
}

export function blockHash(previousHash: string, place: BlockPlace, rowHashes: readonly string[]): string {
  const hash = createHash('sha256')
    .update(`${previousHash}\n${place.chain}\n${place.block}\n${place.afterRowId}\n${place.lastRowId}\n${rowHashes.length}\n`);
  for (const row of rowHashes) hash.update(row);
  return hash.digest('hex');
}

/** `id:digest` per row, space-separated. */
export function rowDigests(rows: readonly ChainRow[], hashes: readonly string[]): string {
  return rows.map((row, i) => `${row.id}:${hashes[i]!.slice(0, ROW_DIGEST_LENGTH)}`).join(' ');
}

export function parseRowDigests(text: string): Array<{ id: number; digest: string }> {
  if (text === '') return [];
  return text.split(' ').map((entry) => {
    const at = entry.indexOf(':');
    return { id: Number(entry.slice(0, at)), digest: entry.slice(at + 1) };
  });
}
