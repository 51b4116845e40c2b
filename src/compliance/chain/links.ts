// How the chains hash: a row's hash is SHA-256 of its table and canonical JSON; a block's is SHA-256 of the previous
// block's hash, the block's place (table, number, row id range, row count) and its rows' hashes in id order. Changing,
// removing or adding a sealed row changes its block's hash and so every later link.
import { createHash, hash } from 'node:crypto';
import { setImmediate as yieldToCalls } from 'node:timers/promises';
import type { ChainName, ChainRow, ComplianceStore } from '../../store/compliance-store.js';
import { RowLayout } from './canonical.js';

/** The previous hash of a chain's first block. */
export const GENESIS_HASH = '0'.repeat(64);

/** Hex digits of a row's hash kept beside the block, to name the row that no longer matches. */
export const ROW_DIGEST_LENGTH = 16;

export function rowHash(chain: ChainName, row: ChainRow): string {
  return hashPage(chain, [row])[0]!;
}

/** Each row's hash, as rowHash gives it; rows of one shape (a query's page) share one layout of their columns. */
export function hashPage(chain: ChainName, rows: readonly ChainRow[]): string[] {
  const hashes: string[] = [];
  let layout: RowLayout | null = null;
  for (const row of rows) {
    if (layout === null || !layout.fits(row.columns)) layout = new RowLayout(Object.keys(row.columns));
    hashes.push(hash('sha256', `${chain}\n${layout.canonical(row.columns)}`, 'hex'));
  }
  return hashes;
}

export interface BlockPlace {
  chain: ChainName;
  block: number;
  afterRowId: number;
  lastRowId: number;
}

export function blockHash(previousHash: string, place: BlockPlace, rowHashes: readonly string[]): string {
  const hash = createHash('sha256').update(
    `${previousHash}\n${place.chain}\n${place.block}\n${place.afterRowId}\n${place.lastRowId}\n${rowHashes.length}\n`,
  );
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

/**
 * Rows read per query while sealing or verifying. On SQLite a read blocks the thread that also serves calls: 500 rows
 * are some 10 ms on a busy 2-core machine (4,000 took 70), and the work yields to calls between reads.
 */
export const ROWS_PER_READ = 500;

/** Up to `limit` rows with after < id <= through, in id order, read ROWS_PER_READ at a time with a yield to calls between. */
export async function readRows(
  store: ComplianceStore,
  chain: ChainName,
  afterRowId: number,
  throughRowId: number,
  limit: number,
): Promise<ChainRow[]> {
  const rows: ChainRow[] = [];
  let after = afterRowId;
  while (rows.length < limit) {
    const wanted = Math.min(ROWS_PER_READ, limit - rows.length);
    const page = await store.chainRows(chain, after, throughRowId, wanted);
    rows.push(...page);
    if (page.length < wanted) break;
    after = page[page.length - 1]!.id;
    await yieldToCalls();
  }
  return rows;
}

/** Each row's hash, ROWS_PER_READ at a time with a yield to calls between. */
export async function hashRows(chain: ChainName, rows: readonly ChainRow[]): Promise<string[]> {
  const hashes: string[] = [];
  for (let from = 0; from < rows.length; from += ROWS_PER_READ) {
    if (from > 0) await yieldToCalls();
    for (const rowHash of hashPage(chain, rows.slice(from, from + ROWS_PER_READ))) hashes.push(rowHash);
  }
  return hashes;
}
