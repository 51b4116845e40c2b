// How the chains hash: a row's hash is SHA-256 of its table and canonical JSON over its block's row layout; a block's is
// SHA-256 of the previous block's hash, the block's place (table, number, row id range, row count, and its row layout
// from layout 2 on) and its rows' hashes in id order. Changing, removing or adding a sealed row changes its block's hash
// and so every later link.
import { createHash, hash } from 'node:crypto';
import { setImmediate as yieldToCalls } from 'node:timers/promises';
import type { ChainName, ChainPage, ComplianceStore } from '../../store/compliance-store.js';
import type { JsonValue } from '../../store/director-store.js';
import { RowLayout } from './canonical.js';

/** The previous hash of a chain's first block. */
export const GENESIS_HASH = '0'.repeat(64);

/** Hex digits of a row's hash kept beside the block, to name the row that no longer matches. */
export const ROW_DIGEST_LENGTH = 16;

/** One row's hash, its columns by name (as the rows of a page are hashed: hashPage). */
export function rowHash(chain: ChainName, columns: Readonly<Record<string, JsonValue>>): string {
  const names = Object.keys(columns);
  return hashPage(chain, { columns: names, ids: [0], rows: [names.map((name) => columns[name]!)] })[0]!;
}

/** Each row's hash: SHA-256 of the chain's name, a newline and the row's canonical JSON, in hex. */
export function hashPage(chain: ChainName, page: ChainPage, from = 0, to = page.rows.length): string[] {
  const layout = new RowLayout(page.columns);
  const prefix = `${chain}\n`;
  const hashes: string[] = [];
  for (let i = from; i < to; i++) hashes.push(hash('sha256', prefix + layout.canonical(page.rows[i]!), 'hex'));
  return hashes;
}

export interface BlockPlace {
  chain: ChainName;
  block: number;
  afterRowId: number;
  lastRowId: number;
  rowLayout: number;
}

export function blockHash(previousHash: string, place: BlockPlace, rowHashes: readonly string[]): string {
  // Layout 1's blocks were sealed before blocks named a layout: their hash stays as it was. From layout 2 on the hash
  // holds the layout, so a block's layout cannot be rewritten (to one over fewer columns, say) without breaking its link.
  const layout = place.rowLayout === 1 ? '' : `layout ${place.rowLayout}\n`;
  const hash = createHash('sha256').update(
    `${previousHash}\n${place.chain}\n${place.block}\n${place.afterRowId}\n${place.lastRowId}\n${rowHashes.length}\n${layout}`,
  );
  for (const row of rowHashes) hash.update(row);
  return hash.digest('hex');
}

/** `id:digest` per row, space-separated. */
export function rowDigests(ids: readonly number[], hashes: readonly string[]): string {
  return ids.map((id, i) => `${id}:${hashes[i]!.slice(0, ROW_DIGEST_LENGTH)}`).join(' ');
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

/**
 * Up to `limit` rows with after < id <= through, in id order, with row layout `layout`'s columns, read ROWS_PER_READ at
 * a time with a yield to calls between.
 */
export async function readRows(
  store: ComplianceStore,
  chain: ChainName,
  afterRowId: number,
  throughRowId: number,
  limit: number,
  layout: number,
): Promise<ChainPage> {
  let rows: ChainPage | null = null;
  let after = afterRowId;
  for (;;) {
    const wanted = Math.min(ROWS_PER_READ, limit - (rows?.ids.length ?? 0));
    const page = await store.chainRows(chain, after, throughRowId, wanted, layout);
    if (rows === null) rows = page;
    else {
      // One query's pages: the same columns.
      for (let i = 0; i < page.ids.length; i++) {
        rows.ids.push(page.ids[i]!);
        rows.rows.push(page.rows[i]!);
      }
    }
    if (page.ids.length < wanted || rows.ids.length >= limit) return rows;
    after = page.ids[page.ids.length - 1]!;
    await yieldToCalls();
  }
}

/** Each row's hash, ROWS_PER_READ at a time with a yield to calls between. */
export async function hashRows(chain: ChainName, page: ChainPage): Promise<string[]> {
  const hashes: string[] = [];
  for (let from = 0; from < page.rows.length; from += ROWS_PER_READ) {
    if (from > 0) await yieldToCalls();
    for (const rowHash of hashPage(chain, page, from, Math.min(page.rows.length, from + ROWS_PER_READ))) hashes.push(rowHash);
  }
  return hashes;
}
