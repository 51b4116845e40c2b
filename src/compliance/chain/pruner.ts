// ledger.retention's work: deletes the ledger's rows of whole sealed blocks sealed before the retention's cut, never a
// row not yet sealed (nor, until it is reviewed, an observation of a discovered consumer pending), and records the
// pruning (chain_prunings and the audit log) before deleting anything, so that verification knows which blocks no
// longer have rows. Runs on the chains' thread (thread.ts), one piece of work at a
// time with sealing and verification, in bounded chunks with a yield between. Safe when two directors sharing a
// PostgreSQL both run it: a block recorded twice conflicts on its key, their chunks take turns (an advisory lock:
// compliance-statements.ts), and deleting rows already gone deletes nothing.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChainBlock, ChainPruning, ComplianceStore } from '../../store/compliance-store.js';
import { StoreConflict } from '../../store/errors.js';

/** Ledger rows deleted per statement: one short write transaction, so the ledger's writer never waits long for the lock. */
export const PRUNE_ROWS_PER_DELETE = 5_000;

/**
 * Blocks (4,000 rows each) one run prunes at most: some 400,000 rows, a few seconds of deleting. A ledger that takes
 * 100 calls a second seals 2,160 blocks a day; runs come after every sealing (a minute apart by default).
 */
export const PRUNE_BLOCKS_PER_RUN = 100;

/** The actor the audit log names for a pruning. */
export const RETENTION_ACTOR = 'retention';

const BLOCKS_PER_READ = 100;

export interface PruneOutcome {
  /** The blocks this run recorded as pruned (0 when none was old enough), and the furthest pruning now. */
  blocks: number;
  pruning: ChainPruning | null;
  /** Rows this run deleted: of the blocks it recorded, and any left by a run that stopped midway. */
  deletedRows: number;
  /** Another director recorded a block first (its pruning is as good as this one's). */
  raced: boolean;
  /**
   * The block sealed before the cut that was kept because one of its rows started after it (a clock behind at its
   * sealing, or a gateway's ahead), holding back the blocks after it too; null when none did.
   */
  heldBy: { block: number; newestStart: number } | null;
}

export class ChainPruner {
  private readonly store: ComplianceStore;

  constructor(store: ComplianceStore) {
    this.store = store;
  }

  /**
   * Prunes the ledger's blocks sealed before `sealedBefore` (at most `maxBlocks` of them, oldest first, stopping at the
   * first one sealed later), then deletes every row up to the furthest pruned block's last row id.
   */
  async prune(sealedBefore: number, now: number, maxBlocks = PRUNE_BLOCKS_PER_RUN): Promise<PruneOutcome> {
    const previous = await this.store.latestPruning('transactions');
    let pruning = previous;
    let blocks = 0;
    let raced = false;
    const { candidate, heldBy } = await this.oldBlocks(previous, sealedBefore, maxBlocks, now);
    if (candidate !== null) {
      try {
        await this.store.recordPruning(candidate.pruning, RETENTION_ACTOR);
        pruning = candidate.pruning;
        blocks = candidate.blocks;
      } catch (error) {
        if (!(error instanceof StoreConflict)) throw error;
        raced = true;
        pruning = await this.store.latestPruning('transactions');
      }
    }
    let deletedRows = 0;
    if (pruning !== null) {
      await this.matchesChain(pruning);
      // Each chunk starts after the last row the one before deleted: the rows it keeps (a pending discovered consumer's
      // observations) are passed over once a run, not by every chunk again. Each run starts at the first row, so rows
      // kept by an earlier run (their consumer resolved since) or left by a run stopped halfway go at the next.
      let after = 0;
      for (;;) {
        const chunk = await this.store.deletePrunedRows(after, pruning.throughRowId, PRUNE_ROWS_PER_DELETE);
        deletedRows += chunk.rows;
        after = chunk.lastRowId;
        if (chunk.rows < PRUNE_ROWS_PER_DELETE) break;
        // Between chunks the ledger's writer (and, on SQLite, the serving thread's reads) get the database.
        await sleep(5);
      }
    }
    return { blocks, pruning, deletedRows, raced, heldBy };
  }

  /**
   * Deletes are bounded by the record's last row id alone: a record that does not describe the chain's block (written
   * by hand, or altered) could take rows never sealed. Refused, for verification to name (block-altered).
   */
  private async matchesChain(pruning: ChainPruning): Promise<void> {
    const [block] = await this.store.chainLinks('transactions', pruning.throughBlock - 1, 1);
    if (block?.block === pruning.throughBlock && block.lastRowId === pruning.throughRowId && block.hash === pruning.throughHash) return;
    throw new Error(
      `ledger retention: the pruning record through block ${pruning.throughBlock} (row ${pruning.throughRowId}) does not match the chain's block ${pruning.throughBlock}; deleting nothing (GET /api/compliance/chains names it)`,
    );
  }

  /**
   * The pruning that would take the blocks after the previous one sealed before the cut (null when there is none), and
   * the block that held it back, if one did.
   */
  private async oldBlocks(
    previous: ChainPruning | null,
    sealedBefore: number,
    maxBlocks: number,
    now: number,
  ): Promise<{ candidate: { pruning: ChainPruning; blocks: number } | null; heldBy: PruneOutcome['heldBy'] }> {
    let after = previous?.throughBlock ?? 0;
    let prunedRows = previous?.prunedRows ?? 0;
    let last: ChainBlock | null = null;
    let blocks = 0;
    let heldBy: PruneOutcome['heldBy'] = null;
    scan: while (blocks < maxBlocks) {
      const links = await this.store.chainLinks('transactions', after, Math.min(BLOCKS_PER_READ, maxBlocks - blocks));
      if (links.length === 0) break;
      for (const block of links) {
        // Blocks are sealed in order, so the first one sealed after the cut ends the run.
        if (block.sealedAt >= sealedBefore) break scan;
        // sealed_at is the sealing director's clock, started_at the gateways': a block stamped by a clock that was
        // behind would otherwise take rows younger than the retention. Its rows must have started before the cut too.
        const newestStart = await this.store.newestLedgerStart(block.afterRowId, block.lastRowId);
        if (newestStart !== null && newestStart >= sealedBefore) {
          heldBy = { block: block.block, newestStart };
          break scan;
        }
        last = block;
        prunedRows += block.rowCount;
        blocks++;
      }
      after = links[links.length - 1]!.block;
    }
    // The ledger's newest row is never deleted: SQLite gives a new row the highest id + 1 (its ids are not AUTOINCREMENT,
    // to spare each insert the sequence's update), so a ledger emptied to its last sealed row would hand out ids again,
    // below the chain's head, where sealing never looks and the next pruning would delete them unsealed. So the last block
    // waits for a row after it: an idle ledger keeps its newest block (at most 4,000 rows) past the retention.
    if (last !== null && !(await this.store.hasRowsAfter('transactions', last.lastRowId))) {
      if (blocks === 1) return { candidate: null, heldBy };
      const [previous] = await this.store.chainLinks('transactions', last.block - 2, 1);
      prunedRows -= last.rowCount;
      blocks--;
      last = previous!;
    }
    if (last === null) return { candidate: null, heldBy };
    const candidate: { pruning: ChainPruning; blocks: number } = {
      blocks,
      pruning: {
        chain: 'transactions',
        throughBlock: last.block,
        throughRowId: last.lastRowId,
        throughHash: last.hash,
        prunedRows,
        sealedBefore,
        prunedAt: now,
      },
    };
    return { candidate, heldBy };
  }
}
