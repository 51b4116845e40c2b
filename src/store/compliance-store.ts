// The part of the store compliance owns: assessments and POA&M items, the hash chains over the ledger and the audit log,
// and the read-only evidence queries the checks run. SQLite and PostgreSQL implement it alike (src/store/sql/compliance.ts).
import type { EpochMs, JsonValue, Page } from './records.js';

/** The append-only tables sealed into hash chains. */
export const CHAIN_NAMES = ['transactions', 'audit_log'] as const;
export type ChainName = (typeof CHAIN_NAMES)[number];

/** Rows (after_row_id, last_row_id] of one table, sealed together. */
export interface ChainBlock {
  chain: ChainName;
  /** 1, 2, ... */
  block: number;
  /** The previous block's last row id (0 for the first block). */
  afterRowId: number;
  lastRowId: number;
  rowCount: number;
  /** `<row id>:<first 16 hex digits of the row's hash>` per row, space-separated, in id order: names a changed row. */
  rowDigests: string;
  /** The previous block's hash; 64 zeros for the first. */
  previousHash: string;
  hash: string;
  sealedAt: EpochMs;
  /**
   * Which columns its rows were hashed over: 1 for the columns of schema version 12 (every block sealed before
   * migration 19), each later layout adding the columns added since (src/store/sql/compliance-statements.ts).
   * Part of the block's hash from layout 2 on.
   */
  rowLayout: number;
}

/** A chain's head as it was after one sealing, to be copied somewhere the database's writers cannot reach. */
export interface ChainAnchor {
  id: number;
  chain: ChainName;
  block: number;
  headHash: string;
  /** Rows sealed into the chain so far. */
  sealedRows: number;
  lastRowId: number;
  anchoredAt: EpochMs;
}

/**
 * The ledger's blocks 1 to `throughBlock` had their rows deleted by ledger.retention (chain_prunings): verification trusts
 * their stored hashes, as their rows can no longer be rehashed. Only the ledger is ever pruned.
 */
export interface ChainPruning {
  chain: 'transactions';
  throughBlock: number;
  /** The last pruned block's last row id: every row up to it is deleted (or is being, by the pruning that recorded it). */
  throughRowId: number;
  /** The last pruned block's hash as it was when pruned: the link the next block names. */
  throughHash: string;
  /** Rows sealed in blocks 1 to throughBlock. */
  prunedRows: number;
  /** The retention's cut: every pruned block was sealed before it. */
  sealedBefore: EpochMs;
  prunedAt: EpochMs;
}

/** One chunk of a pruning's deleting: the rows deleted, and the highest id among them (the chunk's lower bound if none). */
export interface PrunedChunk {
  rows: number;
  lastRowId: number;
}

/**
 * A sealed table's rows as hashed: each row's values in the order of `columns` (JSON columns parsed), and its id. Arrays
 * rather than an object per row: every ledger row is read this way at sealing and at each verification.
 */
export interface ChainPage {
  columns: readonly string[];
  ids: number[];
  rows: JsonValue[][];
}

export type AssessmentOrigin = 'schedule' | 'on-demand';

/** The evidence reads that scan the ledger over an assessment's period (a day by default): kept off the serving thread. */
export const LEDGER_EVIDENCE = [
  'ledgerPeriodCounts',
  'incompleteRowIds',
  'servedResourceViolations',
  'callsByConsumer',
  'callsByProvider',
] as const satisfies readonly (keyof ComplianceStore)[];
export type LedgerEvidence = Pick<ComplianceStore, (typeof LEDGER_EVIDENCE)[number]>;

export interface StoredAssessment {
  uuid: string;
  startedAt: EpochMs;
  endedAt: EpochMs;
  origin: AssessmentOrigin;
  /** Who asked: `scheduler`, or the API caller's actor. */
  actor: string;
  satisfied: number;
  notSatisfied: number;
  /** The assessment as src/compliance/assessment.ts records it (observations and findings). */
  result: JsonValue;
}

export type AssessmentSummary = Omit<StoredAssessment, 'result'>;

/** One objective's outcome in an assessment, as the POA&M bookkeeping needs it. */
export interface ObjectiveOutcome {
  objectiveId: string;
  controlId: string;
  satisfied: boolean;
  /** For a new or still-open item: what is wrong now. */
  title: string;
  description: string;
}

/** One objective's spell of not-satisfied findings: open until an assessment satisfies the objective. */
export interface PoamItem {
  uuid: string;
  objectiveId: string;
  controlId: string;
  title: string;
  /** As the latest not-satisfied finding described it. */
  description: string;
  firstSeenAt: EpochMs;
  firstAssessment: string;
  lastSeenAt: EpochMs;
  lastAssessment: string;
  closedAt: EpochMs | null;
  closedByAssessment: string | null;
}

/** Counts over the ledger's gateway rows (not observed traffic) whose call started in [from, to). */
export interface LedgerPeriodCounts {
  rows: number;
  /** Status below 400. */
  served: number;
  /** Served without a consumer: never authenticated. */
  servedAnonymous: number;
  /** Rows missing a field every record must hold; see SqlComplianceStore for the rule. */
  incomplete: number;
  /** Served rows with no cost: their model has no price. */
  servedUnpriced: number;
  /** Observed (discovery) rows and the calls they stand for. */
  observedRows: number;
}

/** Served calls counted per group (resource, consumer, provider) in a period. */
export interface GroupCount {
  name: string;
  calls: number;
}

export interface KeyAge {
  id: string;
  consumer: string;
  name: string;
  createdAt: EpochMs;
  expiresAt: EpochMs | null;
  lastUsedAt: EpochMs | null;
}

export interface ComplianceStore {
  /**
   * Records the assessment and, in the same transaction, its POA&M bookkeeping: a not-satisfied objective without an open
   * item opens one (uuid from `itemUuid(objectiveId, firstSeenAt)`), an open one is brought up to date, and a satisfied
   * objective's open item is closed. Resolves to the items it opened, updated or closed.
   */
  recordAssessment(
    assessment: StoredAssessment,
    outcomes: readonly ObjectiveOutcome[],
    itemUuid: (objectiveId: string, firstSeenAt: EpochMs) => string,
  ): Promise<PoamItem[]>;
  latestAssessment(): Promise<StoredAssessment | null>;
  getAssessment(uuid: string): Promise<StoredAssessment | null>;
  /** Newest first; keyset-paginated. */
  listAssessments(filter: { limit?: number; cursor?: string | null }): Promise<Page<AssessmentSummary>>;
  /** Every item, open and closed, oldest first. */
  listPoamItems(): Promise<PoamItem[]>;

  /** The chain's last block, or null before the first sealing. */
  chainHead(chain: ChainName): Promise<ChainBlock | null>;
  /** Blocks after `afterBlock`, in order, at most `limit`. */
  chainBlocks(chain: ChainName, afterBlock: number, limit: number): Promise<ChainBlock[]>;
  /** As chainBlocks, with each rowDigests empty: the links alone. */
  chainLinks(chain: ChainName, afterBlock: number, limit: number): Promise<ChainBlock[]>;
  /** One block's row digests, or null when there is no such block. */
  chainBlockDigests(chain: ChainName, block: number): Promise<string | null>;
  /** The row layout sealing hashes with: the newest. Every layout from 1 up to it can be read (chainRows). */
  chainRowLayout(chain: ChainName): number;
  /** Rows with after < id <= through, in id order, at most `limit`, with the columns of row layout `layout`. */
  chainRows(chain: ChainName, afterRowId: number, throughRowId: number, limit: number, layout: number): Promise<ChainPage>;
  /**
   * The highest row id below which every row is committed: what a sealing may seal up to. PostgreSQL hands out ids before
   * commit, so there it first waits, for a moment, for the inserts in progress (a SHARE lock that new inserts queue behind).
   */
  chainHorizon(chain: ChainName): Promise<number>;
  /** Rows with id above `afterRowId` (not sealed yet). */
  countRowsAfter(chain: ChainName, afterRowId: number): Promise<number>;
  /** The lowest row id above `afterRowId`, or null when there is none: one look into the primary key. */
  firstRowAfter(chain: ChainName, afterRowId: number): Promise<number | null>;
  /** Whether any row has an id above `afterRowId`: one look into the primary key, where countRowsAfter counts them all. */
  hasRowsAfter(chain: ChainName, afterRowId: number): Promise<boolean>;
  /** Appends the blocks and the anchor (if any) in one transaction; StoreConflict when another sealer took a block number first. */
  appendBlocks(blocks: readonly ChainBlock[], anchor: Omit<ChainAnchor, 'id'> | null): Promise<void>;
  /** Newest first. */
  listAnchors(chain: ChainName | null, limit: number): Promise<ChainAnchor[]>;
  /** The furthest pruning of the chain (null while none, and always for the audit log, which is never pruned). */
  latestPruning(chain: ChainName): Promise<ChainPruning | null>;
  /**
   * Records a pruning and, in the same transaction, its audit record (actor `actor`, entity `ledger`): before any of
   * its rows is deleted. StoreConflict when another director recorded the same block first.
   */
  recordPruning(pruning: ChainPruning, actor: string): Promise<void>;
  /**
   * The database server's clock (PostgreSQL's now()), a reference every director sharing it agrees on; null on SQLite,
   * whose clock is the host's own, the director's.
   */
  databaseClock(): Promise<EpochMs | null>;
  /** The latest started_at of the ledger's rows with ids in (afterRowId, lastRowId], or null when it has none there. */
  newestLedgerStart(afterRowId: number, lastRowId: number): Promise<number | null>;
  /**
   * Deletes up to `limit` ledger rows with afterRowId < id <= throughRowId, lowest ids first, but observations of a
   * discovered consumer still pending (reconciliation needs them); resolves to how many, and the highest id deleted.
   */
  deletePrunedRows(afterRowId: number, throughRowId: number, limit: number): Promise<PrunedChunk>;

  /** Evidence: the ledger's gateway rows of [from, to). */
  ledgerPeriodCounts(from: EpochMs, to: EpochMs): Promise<LedgerPeriodCounts>;
  /** Evidence: ids of up to `limit` incomplete rows of [from, to), to name them. */
  incompleteRowIds(from: EpochMs, to: EpochMs, limit: number): Promise<number[]>;
  /** Evidence: served calls that broke the resource policy in monitor mode (a `resource:` violation), per provider/model. */
  servedResourceViolations(from: EpochMs, to: EpochMs): Promise<GroupCount[]>;
  /** Evidence: calls (served or not) per consumer of [from, to). */
  callsByConsumer(from: EpochMs, to: EpochMs): Promise<GroupCount[]>;
  /** Evidence: calls per provider of [from, to), gateway and observed rows alike. */
  callsByProvider(from: EpochMs, to: EpochMs): Promise<GroupCount[]>;
  /** Evidence: every unrevoked consumer key, without its hash. */
  unrevokedKeys(): Promise<KeyAge[]>;
}
