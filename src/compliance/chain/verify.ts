// Verifies a hash chain from its first block: recomputes every sealed row's hash and every block's link, and names the
// first place they disagree (a row changed, removed or slipped in; a block or an anchor rewritten). Also counts the rows
// written since the last sealing, which no chain covers yet. A scoped verification (an assessment's) checks every
// block's link and anchors but rehashes the rows of only the blocks sealed since the last one and of a rotating run of
// older blocks: rereading every row at every assessment grows with the ledger without bound. Blocks whose rows
// ledger.retention deleted (chain_prunings) are checked by their stored links and anchors alone.
import { setImmediate as yieldToCalls } from 'node:timers/promises';
import type { ChainAnchor, ChainBlock, ChainName, ChainPruning, ComplianceStore } from '../../store/compliance-store.js';
import { blockHash, GENESIS_HASH, hashRows, parseRowDigests, readRows, ROW_DIGEST_LENGTH } from './links.js';

export type BreakKind = 'row-modified' | 'row-deleted' | 'row-inserted' | 'row-in-pruned-range' | 'block-altered' | 'anchor-mismatch';

export interface BrokenLink {
  chain: ChainName;
  kind: BreakKind;
  block: number;
  /** The row that no longer matches, when the break is a row's. */
  rowId: number | null;
  /** Says it in a sentence, naming the table and row. */
  detail: string;
}

export interface ChainVerification {
  chain: ChainName;
  /** Blocks and rows verified: all of them, or those before the first break. */
  blocks: number;
  sealedRows: number;
  /** The last row id the chain's stored head seals. */
  lastSealedRowId: number;
  /** The head as recomputed; null before the first sealing, or when the chain is broken. */
  headHash: string | null;
  /** Rows above the last sealed id: written since the last sealing, not covered yet. */
  unsealedRows: number;
  anchorsChecked: number;
  /** Rows whose hashes were recomputed: every sealed row, or a scoped verification's share. */
  rowsRehashed: number;
  /** Where the next scoped verification's rotation starts: the block after the last one this one rehashed, or 1. */
  nextRotationBlock: number;
  /** The first disagreement, or null when the chain holds. */
  broken: BrokenLink | null;
  /**
   * The blocks whose rows ledger.retention deleted (1 to throughBlock), or null: their links and anchors are checked
   * against their stored hashes, which their rows can no longer be rehashed to confirm.
   */
  pruned: Omit<ChainPruning, 'chain'> | null;
}

/**
 * What a scoped verification rehashes: the rows of every block after `newAfterBlock` (sealed since the last
 * verification), and of the older blocks from `rotationFromBlock` on, in order, up to `rotationRows` rows (one block at
 * least). Every block's link and anchors are checked whatever the scope.
 */
export interface VerifyScope {
  newAfterBlock: number;
  rotationFromBlock: number;
  rotationRows: number;
}

const BLOCKS_PER_READ = 100;

/** An anchor kept outside the database (copied from the log or the API): the chain must still reach it. */
export interface GivenAnchor {
  block: number;
  headHash: string;
}

/** Stored anchors checked per verification: the newest, some week of them at one sealing a minute. */
const STORED_ANCHORS_CHECKED = 10_000;

/**
 * `given`: anchors from outside the database. A writer to the database can rewrite the rows, the blocks and the stored
 * anchors alike, consistently; only an anchor kept elsewhere catches that.
 */
export async function verifyChain(
  store: ComplianceStore,
  chain: ChainName,
  given: readonly GivenAnchor[] = [],
  scope: VerifyScope | null = null,
): Promise<ChainVerification> {
  // The anchors by block, to check each block's recomputed hash against what was anchored.
  const anchors = new Map<number, Array<Pick<ChainAnchor, 'headHash' | 'anchoredAt'> & { source: string }>>();
  const stored = await store.listAnchors(chain, STORED_ANCHORS_CHECKED);
  for (const anchor of [
    ...stored.map((a) => ({ ...a, source: `the anchor taken at ${new Date(a.anchoredAt).toISOString()}` })),
    ...given.map((a) => ({ ...a, anchoredAt: 0, source: 'the anchor given' })),
  ]) {
    const list = anchors.get(anchor.block) ?? [];
    list.push(anchor);
    anchors.set(anchor.block, list);
  }
  // Read before the blocks; read again when a block's rows look deleted, in case a pruning recorded since took them.
  let pruning = await store.latestPruning(chain);
  let previousHash = GENESIS_HASH;
  let previousLastRowId = 0;
  let expectedBlock = 1;
  let sealedRows = 0;
  let anchorsChecked = 0;
  let rowsRehashed = 0;
  // The rotation: open until a block would take it past its rows (or past the blocks that are not new).
  let rotationRows = 0;
  let rotationOpen = scope !== null;
  let nextRotationBlock = 1;
  let broken: BrokenLink | null = null;
  // The lowest row id present above the pruned blocks checked so far (undefined: not looked up yet; null: none).
  let nextPresent: number | null | undefined;
  let after = 0;
  // Each block's rows are rehashed over the layout it was sealed with: any from 1 up to the newest.
  const rowLayouts = store.chainRowLayout(chain);
  scan: for (;;) {
    const blocks = await (scope === null
      ? store.chainBlocks(chain, after, BLOCKS_PER_READ)
      : store.chainLinks(chain, after, BLOCKS_PER_READ));
    if (blocks.length === 0) break;
    for (const block of blocks) {
      const at = (kind: BreakKind, rowId: number | null, detail: string): BrokenLink => ({
        chain,
        kind,
        block: block.block,
        rowId,
        detail,
      });
      if (block.block !== expectedBlock || block.afterRowId !== previousLastRowId || block.previousHash !== previousHash) {
        broken = at(
          'block-altered',
          null,
          `${chain}: block ${block.block} does not follow block ${expectedBlock - 1} (its number, row range or previous hash was changed)`,
        );
        break scan;
      }
      let pruned = pruning !== null && block.block <= pruning.throughBlock;
      if (pruned && block.block === pruning!.throughBlock) {
        const mismatch = prunedBlockMismatch(pruning!, block, sealedRows + block.rowCount);
        if (mismatch !== null) {
          broken = at('block-altered', null, `${chain}: block ${block.block}'s ${mismatch}`);
          break scan;
        }
      }
      if (pruned) {
        // Rows retention leaves in a pruned block are rows sealed there, unchanged (a pending discovered consumer's
        // observations, rows a pruning has yet to delete): any other was put there since, by a restore or an insert
        // naming its id. One look into the primary key finds whether the block has rows at all.
        if (nextPresent === undefined) nextPresent = await store.firstRowAfter(chain, block.afterRowId);
        if (nextPresent !== null && nextPresent <= block.lastRowId) {
          const digests = scope === null ? block.rowDigests : ((await store.chainBlockDigests(chain, block.block)) ?? '');
          const put = await rowNotSealed(store, chain, block, digests);
          if (put !== null) {
            broken = at(
              'row-in-pruned-range',
              put.id,
              `${chain} row ${put.id} is inside pruned block ${block.block}, whose rows retention deleted, ${put.sealed ? 'but is not the row sealed there' : 'at an id the block did not seal'}: it was put there since`,
            );
            break scan;
          }
          nextPresent = await store.firstRowAfter(chain, block.lastRowId);
        }
      }
      let rehash = !pruned && (scope === null || block.block > scope.newAfterBlock);
      if (!pruned && !rehash && rotationOpen && block.block >= scope!.rotationFromBlock) {
        if (rotationRows === 0 || rotationRows + block.rowCount <= scope!.rotationRows) {
          rehash = true;
          rotationRows += block.rowCount;
        } else {
          rotationOpen = false;
          nextRotationBlock = block.block;
        }
      }
      // The hash the next block must name and the anchors must match: recomputed from the rows where they are rehashed,
      // else the stored one (its link alone is checked).
      let linkHash = block.hash;
      if (!Number.isInteger(block.rowLayout) || block.rowLayout < 1 || block.rowLayout > rowLayouts) {
        broken = at(
          'block-altered',
          null,
          `${chain}: block ${block.block} names row layout ${block.rowLayout}, which this version of Sluice does not know (1 to ${rowLayouts})`,
        );
        break scan;
      }
      if (rehash) {
        const digests = scope === null ? block.rowDigests : ((await store.chainBlockDigests(chain, block.block)) ?? '');
        const listed = parseRowDigests(digests);
        // One row more than sealed, to see a row slipped in at the end of the range.
        const rows = await readRows(store, chain, block.afterRowId, block.lastRowId, listed.length + 1, block.rowLayout);
        rowsRehashed += rows.ids.length;
        const hashes = await hashRows(chain, rows);
        const ids = rows.ids;
        let rowBreak: BrokenLink | null = null;
        for (let i = 0; i < Math.max(ids.length, listed.length) && rowBreak === null; i++) {
          const id = ids[i];
          const seal = listed[i];
          if (id === undefined) {
            rowBreak = at('row-deleted', seal!.id, `${chain} row ${seal!.id} was sealed in block ${block.block} and is gone`);
          } else if (seal === undefined || id < seal.id) {
            rowBreak = at('row-inserted', id, `${chain} row ${id} is inside block ${block.block}'s sealed range but was not sealed in it`);
          } else if (id > seal.id) {
            rowBreak = at('row-deleted', seal.id, `${chain} row ${seal.id} was sealed in block ${block.block} and is gone`);
          } else if (hashes[i]!.slice(0, ROW_DIGEST_LENGTH) !== seal.digest) {
            rowBreak = at('row-modified', id, `${chain} row ${id} was changed after it was sealed in block ${block.block}`);
          }
        }
        if (rowBreak?.kind === 'row-deleted') {
          // Pruned while this verification ran (by this director's retention, or another's): the block's rows go whole.
          const latest = await store.latestPruning(chain);
          const matches =
            latest === null ||
            block.block !== latest.throughBlock ||
            prunedBlockMismatch(latest, block, sealedRows + block.rowCount) === null;
          if (latest !== null && block.block <= latest.throughBlock && matches) {
            pruning = latest;
            pruned = true;
            rowBreak = null;
          }
        }
        if (rowBreak !== null) {
          broken = rowBreak;
          break scan;
        }
        if (!pruned) {
          linkHash = blockHash(previousHash, block, hashes);
          if (linkHash !== block.hash || block.rowCount !== listed.length) {
            broken = at('block-altered', null, `${chain}: block ${block.block}'s stored hash or row count does not match its rows`);
            break scan;
          }
        }
      }
      for (const anchor of anchors.get(block.block) ?? []) {
        anchorsChecked++;
        if (anchor.headHash !== linkHash) {
          broken = at('anchor-mismatch', null, `${chain}: ${anchor.source} for block ${block.block} does not match the chain`);
          break scan;
        }
      }
      previousHash = linkHash;
      previousLastRowId = block.lastRowId;
      sealedRows += block.rowCount;
      expectedBlock++;
      // Rereading the ledger is the longest part of an assessment: let calls in between blocks.
      await yieldToCalls();
    }
    after = blocks[blocks.length - 1]!.block;
  }
  // A pruning record naming a block past the chain's end would have every block trusted by its stored links, no hash
  // compared with what was recorded: a record no pruning wrote (a pruning only ever names a block already sealed).
  if (broken === null && pruning !== null && pruning.throughBlock >= expectedBlock) {
    broken = {
      chain,
      kind: 'block-altered',
      block: pruning.throughBlock,
      rowId: null,
      detail: `${chain}: the pruning record names block ${pruning.throughBlock}, past the chain's end (block ${expectedBlock - 1})`,
    };
  }
  // An anchor, stored or given, naming a block the chain no longer reaches: blocks were removed from its end. The stored
  // anchors were read before the blocks, so a sealing meanwhile cannot have anchored a block this scan did not see.
  if (broken === null) {
    let beyond: { block: number; source: string } | undefined;
    for (const [block, list] of anchors) {
      if (block >= expectedBlock && (beyond === undefined || block < beyond.block)) beyond = { block, source: list[0]!.source };
    }
    if (beyond !== undefined) {
      broken = {
        chain,
        kind: 'anchor-mismatch',
        block: beyond.block,
        rowId: null,
        detail: `${chain}: ${beyond.source} for block ${beyond.block} is past the chain's end (block ${expectedBlock - 1}): blocks were removed`,
      };
    }
  }
  const head = await store.chainHead(chain);
  const lastSealedRowId = head?.lastRowId ?? 0;
  return {
    chain,
    blocks: expectedBlock - 1,
    sealedRows,
    lastSealedRowId,
    headHash: expectedBlock === 1 || broken !== null ? null : previousHash,
    unsealedRows: await store.countRowsAfter(chain, lastSealedRowId),
    anchorsChecked,
    rowsRehashed,
    nextRotationBlock,
    broken,
    pruned: pruning === null ? null : withoutChain(pruning),
  };
}

/**
 * The first row present in pruned block `block` that is not one it sealed, unchanged: at an id it did not seal
 * (`sealed` false), or not as sealed (`sealed` true); null when every row there is.
 */
async function rowNotSealed(
  store: ComplianceStore,
  chain: ChainName,
  block: ChainBlock,
  digests: string,
): Promise<{ id: number; sealed: boolean } | null> {
  const sealed = new Map(parseRowDigests(digests).map((seal) => [seal.id, seal.digest]));
  const rows = await readRows(store, chain, block.afterRowId, block.lastRowId, sealed.size + 1, block.rowLayout);
  const hashes = await hashRows(chain, rows);
  for (let i = 0; i < rows.ids.length; i++) {
    const digest = sealed.get(rows.ids[i]!);
    if (digest === undefined || hashes[i]!.slice(0, ROW_DIGEST_LENGTH) !== digest)
      return { id: rows.ids[i]!, sealed: digest !== undefined };
  }
  return null;
}

/**
 * How the last pruned block differs from what its pruning recorded (its hash, its last row, the rows sealed up to it), or
 * null: a record that does not match would have verification trust blocks, or delete rows, it does not describe.
 */
function prunedBlockMismatch(pruning: ChainPruning, block: { hash: string; lastRowId: number }, rowsThrough: number): string | null {
  if (block.hash !== pruning.throughHash) return 'stored hash is not the one recorded when its rows were pruned';
  if (block.lastRowId !== pruning.throughRowId || rowsThrough !== pruning.prunedRows) {
    return `row range (through row ${block.lastRowId}, ${rowsThrough} rows sealed up to it) is not the one its pruning recorded (through row ${pruning.throughRowId}, ${pruning.prunedRows} rows)`;
  }
  return null;
}

function withoutChain({ chain: _chain, ...rest }: ChainPruning): Omit<ChainPruning, 'chain'> {
  return rest;
}
