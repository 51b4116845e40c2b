// Extends the ledger's and the audit log's hash chains with the rows written since the last sealing, then anchors the
// heads. Runs on the chains' own thread (thread.ts) in the background (the scheduler) and before each assessment; it only
// reads the sealed tables, so the ledger's writes are untouched. Rows written since the last sealing are not yet chained:
// a window of one interval.
import { setImmediate as yieldToCalls } from 'node:timers/promises';
import { CHAIN_NAMES, type ChainAnchor, type ChainBlock, type ChainName, type ComplianceStore } from '../../store/compliance-store.js';
import { StoreConflict } from '../../store/errors.js';
import { blockHash, GENESIS_HASH, hashRows, readRows, rowDigests } from './links.js';

/** Rows per block: a block's digests stay some 100 KB. */
export const BLOCK_ROWS = 4_000;

export interface SealOutcome {
  chain: ChainName;
  /** Blocks and rows this sealing added. */
  blocks: number;
  rows: number;
  /** The chain's head after it (null while nothing was ever sealed). */
  anchor: Omit<ChainAnchor, 'id'> | null;
  /** Another director sealing the same database took a block first (its blocks are as good as this one's). */
  raced: boolean;
}

/** Seals with the clock given; one sealing at a time is the caller's to ensure (ChainKeeper). */
export class ChainSealer {
  private readonly store: ComplianceStore;
  private readonly clock: () => number;

  constructor(options: { store: ComplianceStore; clock: () => number }) {
    this.store = options.store;
    this.clock = options.clock;
  }

  async seal(): Promise<SealOutcome[]> {
    const outcomes: SealOutcome[] = [];
    for (const chain of CHAIN_NAMES) outcomes.push(await this.sealChain(chain));
    return outcomes;
  }

  private async sealChain(chain: ChainName): Promise<SealOutcome> {
    const horizon = await this.store.chainHorizon(chain);
    // Every block this sealing adds hashes its rows over the newest layout: every column the table has.
    const rowLayout = this.store.chainRowLayout(chain);
    let head = await this.store.chainHead(chain);
    let sealedRows = 0;
    let blocks = 0;
    try {
      while ((head?.lastRowId ?? 0) < horizon) {
        const afterRowId = head?.lastRowId ?? 0;
        const rows = await readRows(this.store, chain, afterRowId, horizon, BLOCK_ROWS, rowLayout);
        const ids = rows.ids;
        if (ids.length === 0) break;
        const hashes = await hashRows(chain, rows);
        const place = { chain, block: (head?.block ?? 0) + 1, afterRowId, lastRowId: ids[ids.length - 1]!, rowLayout };
        const previousHash = head?.hash ?? GENESIS_HASH;
        const block: ChainBlock = {
          ...place,
          rowCount: ids.length,
          rowDigests: rowDigests(ids, hashes),
          previousHash,
          hash: blockHash(previousHash, place, hashes),
          sealedAt: this.clock(),
        };
        await this.store.appendBlocks([block], null);
        head = block;
        blocks++;
        sealedRows += ids.length;
        // A sealing run on the serving thread (an in-memory database's) lets calls in between blocks.
        await yieldToCalls();
      }
    } catch (error) {
      // Another director sealing the same database took the block first; its blocks are as good as ours.
      if (!(error instanceof StoreConflict)) throw error;
      return { chain, blocks, rows: sealedRows, anchor: null, raced: true };
    }
    if (head === null || blocks === 0) return { chain, blocks: 0, rows: 0, anchor: null, raced: false };
    const total = await this.sealedRowCount(chain, head);
    const anchor = {
      chain,
      block: head.block,
      headHash: head.hash,
      sealedRows: total,
      lastRowId: head.lastRowId,
      anchoredAt: this.clock(),
    };
    await this.store.appendBlocks([], anchor);
    return { chain, blocks, rows: sealedRows, anchor, raced: false };
  }

  /** The previous anchor's count plus the rows sealed since; the sum of all block counts when there is none. */
  private async sealedRowCount(chain: ChainName, head: ChainBlock): Promise<number> {
    const [previous] = await this.store.listAnchors(chain, 1);
    if (previous !== undefined && previous.block <= head.block) {
      let count = previous.sealedRows;
      for (const block of await this.store.chainBlocks(chain, previous.block, head.block - previous.block)) count += block.rowCount;
      return count;
    }
    let count = 0;
    let after = 0;
    for (;;) {
      const page = await this.store.chainBlocks(chain, after, 1000);
      if (page.length === 0) return count;
      for (const block of page) count += block.rowCount;
      after = page[page.length - 1]!.block;
    }
  }
}
