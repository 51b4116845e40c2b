// The hash chains' work for a director: sealing (one at a time, shared by the schedule and an assessment) and
// verification, run where ChainWork runs it (on its own thread: thread.ts), with each new anchor logged here.
import type { Logger } from 'pino';
import type { ChainName, ComplianceStore, LedgerEvidence } from '../../store/compliance-store.js';
import { ChainPruner, type PruneOutcome } from './pruner.js';
import { ChainSealer, type SealOutcome } from './sealer.js';
import { verifyChain, type ChainVerification, type GivenAnchor, type VerifyScope } from './verify.js';

/**
 * What seals and verifies: this thread on a store (localChainWork), or the chains' thread (chainThread). An assessment's
 * reads over the ledger run there too: like the chains, they scan the ledger, a day of it by default.
 */
export interface ChainWork {
  readonly evidence: LedgerEvidence;
  /** `now`: the time the blocks and anchors are stamped with. */
  seal(now: number): Promise<SealOutcome[]>;
  /** `scope`: null to rehash every row (verify.ts). */
  verify(chain: ChainName, given: readonly GivenAnchor[], scope: VerifyScope | null): Promise<ChainVerification>;
  /** ledger.retention: the ledger's rows of the blocks sealed before `sealedBefore` deleted (pruner.ts). */
  prune(sealedBefore: number, now: number): Promise<PruneOutcome>;
  close(): Promise<void>;
}

/** The work on this thread, against an open store: the chains' thread runs this; so does an in-memory database. */
export function localChainWork(store: ComplianceStore, close: () => Promise<void> = async () => undefined): ChainWork {
  return {
    evidence: store,
    seal: (now) => new ChainSealer({ store, clock: () => now }).seal(),
    verify: (chain, given, scope) => verifyChain(store, chain, given, scope),
    prune: (sealedBefore, now) => new ChainPruner(store).prune(sealedBefore, now),
    close,
  };
}

export class ChainKeeper {
  private readonly work: ChainWork;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private sealing: Promise<SealOutcome[]> | null;

  constructor(options: { work: ChainWork; clock: () => number; logger: Logger }) {
    this.work = options.work;
    this.clock = options.clock;
    this.logger = options.logger;
    this.sealing = null;
  }

  /** The assessment's reads over the ledger, where the chains' work runs. */
  get evidence(): LedgerEvidence {
    return this.work.evidence;
  }

  /** Seals what was written since the last sealing; a call while one runs gets that one's outcome. */
  seal(): Promise<SealOutcome[]> {
    this.sealing ??= this.work
      .seal(this.clock())
      .then((outcomes) => {
        for (const outcome of outcomes) this.logOutcome(outcome);
        return outcomes;
      })
      .finally(() => {
        this.sealing = null;
      });
    return this.sealing;
  }

  /** Every row rehashed, unless a scope says which (an assessment's: verify.ts). */
  verify(chain: ChainName, given: readonly GivenAnchor[] = [], scope: VerifyScope | null = null): Promise<ChainVerification> {
    return this.work.verify(chain, given, scope);
  }

  /**
   * Deletes the ledger's rows of whole blocks sealed before `sealedBefore` (ledger.retention), logging what it pruned. On
   * the chains' thread it runs after the work asked before it: never beside a sealing or a verification there.
   */
  async prune(sealedBefore: number): Promise<PruneOutcome> {
    const outcome = await this.work.prune(sealedBefore, this.clock());
    if (outcome.blocks > 0 || outcome.deletedRows > 0) {
      this.logger.info(
        {
          throughBlock: outcome.pruning?.throughBlock,
          throughRowId: outcome.pruning?.throughRowId,
          blocks: outcome.blocks,
          deletedRows: outcome.deletedRows,
          sealedBefore: new Date(sealedBefore).toISOString(),
        },
        'ledger retention: pruned the rows of sealed blocks',
      );
    }
    if (outcome.heldBy !== null) {
      this.logger.warn(
        {
          block: outcome.heldBy.block,
          newestStart: new Date(outcome.heldBy.newestStart).toISOString(),
          sealedBefore: new Date(sealedBefore).toISOString(),
        },
        "ledger retention: a block sealed before the cut holds a row started after it (a clock behind at its sealing, or a gateway's ahead); it and the blocks after it are kept until the cut passes that row",
      );
    }
    if (outcome.raced) this.logger.debug('ledger retention: another process pruned the same blocks first');
    return outcome;
  }

  /** Resolves when no sealing is running. */
  async idle(): Promise<void> {
    await this.sealing?.catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.idle();
    await this.work.close();
  }

  private logOutcome(outcome: SealOutcome): void {
    if (outcome.raced) this.logger.debug({ chain: outcome.chain }, 'chain sealing: another process sealed first');
    const anchor = outcome.anchor;
    if (anchor === null) return;
    // The anchor in the log too: a copy outside the database, which its writers cannot rewrite.
    this.logger.info(
      {
        chain: anchor.chain,
        block: anchor.block,
        headHash: anchor.headHash,
        sealedRows: anchor.sealedRows,
        lastRowId: anchor.lastRowId,
        addedRows: outcome.rows,
      },
      'compliance chain anchored',
    );
  }
}
