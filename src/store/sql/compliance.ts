// The ComplianceStore written once over a driver (SQLite or PostgreSQL), beside the director store on the same database.
import type {
  AssessmentSummary,
  ChainAnchor,
  ChainBlock,
  ChainName,
  ChainPage,
  ChainPruning,
  PrunedChunk,
  ComplianceStore,
  GroupCount,
  KeyAge,
  LedgerPeriodCounts,
  ObjectiveOutcome,
  PoamItem,
  StoredAssessment,
} from '../compliance-store.js';
import type { EpochMs, JsonValue, Page } from '../records.js';
import { StoreConflict } from '../errors.js';
import { CHAIN_COLUMNS } from './compliance-statements.js';
import { decodeCursor, pageLimit, toPage } from './cursor.js';
import type { JsonColumns } from './rows.js';
import type { SqlSession, SqlValue, StatementDriver } from './session.js';

interface AssessmentRow {
  id?: number;
  uuid: string;
  started_at: number;
  ended_at: number;
  origin: StoredAssessment['origin'];
  actor: string;
  satisfied: number;
  not_satisfied: number;
  result?: unknown;
}
interface PoamRow {
  uuid: string;
  objective_id: string;
  control_id: string;
  title: string;
  description: string;
  first_seen_at: number;
  first_assessment: string;
  last_seen_at: number;
  last_assessment: string;
  closed_at: number | null;
  closed_by_assessment: string | null;
}
interface BlockRow {
  chain: ChainName;
  block: number;
  after_row_id: number;
  last_row_id: number;
  row_count: number;
  row_digests: string;
  previous_hash: string;
  hash: string;
  sealed_at: number;
  row_layout: number;
}
interface AnchorRow {
  id: number;
  chain: ChainName;
  block: number;
  head_hash: string;
  sealed_rows: number;
  last_row_id: number;
  anchored_at: number;
}
interface PruningRow {
  chain: 'transactions';
  through_block: number;
  through_row_id: number;
  through_hash: string;
  pruned_rows: number;
  sealed_before: number;
  pruned_at: number;
}
interface CountsRow {
  rows_count: number;
  served: number;
  served_anonymous: number;
  incomplete: number;
  served_unpriced: number;
  observed_rows: number;
}
interface KeyRow {
  id: string;
  consumer: string;
  name: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

/** The sealed tables' JSON columns: text in SQLite, parsed by pg; hashed parsed in both. */
const JSON_COLUMNS: Readonly<Record<ChainName, readonly string[]>> = { transactions: [], audit_log: ['before_json', 'after_json'] };

export class SqlComplianceStore implements ComplianceStore {
  private readonly driver: StatementDriver;
  private readonly json: JsonColumns;

  constructor(driver: StatementDriver, json: JsonColumns) {
    this.driver = driver;
    this.json = json;
  }

  recordAssessment(
    assessment: StoredAssessment,
    outcomes: readonly ObjectiveOutcome[],
    itemUuid: (objectiveId: string, firstSeenAt: EpochMs) => string,
  ): Promise<PoamItem[]> {
    return this.driver.transaction(async (session) => {
      await session.run('assessmentInsert', [
        assessment.uuid,
        assessment.startedAt,
        assessment.endedAt,
        assessment.origin,
        assessment.actor,
        assessment.satisfied,
        assessment.notSatisfied,
        this.json.encode(assessment.result),
      ]);
      const touched: PoamItem[] = [];
      for (const outcome of outcomes) {
        const [open] = await session.all<PoamRow>('poamOpenGet', [outcome.objectiveId]);
        if (outcome.satisfied) {
          if (open === undefined) continue;
          await session.run('poamClose', [assessment.endedAt, assessment.uuid, open.uuid]);
          touched.push({ ...poamItem(open), closedAt: assessment.endedAt, closedByAssessment: assessment.uuid });
        } else if (open !== undefined) {
          await session.run('poamUpdate', [outcome.title, outcome.description, assessment.endedAt, assessment.uuid, open.uuid]);
          touched.push({
            ...poamItem(open),
            title: outcome.title,
            description: outcome.description,
            lastSeenAt: assessment.endedAt,
            lastAssessment: assessment.uuid,
          });
        } else {
          const item: PoamItem = {
            uuid: itemUuid(outcome.objectiveId, assessment.endedAt),
            objectiveId: outcome.objectiveId,
            controlId: outcome.controlId,
            title: outcome.title,
            description: outcome.description,
            firstSeenAt: assessment.endedAt,
            firstAssessment: assessment.uuid,
            lastSeenAt: assessment.endedAt,
            lastAssessment: assessment.uuid,
            closedAt: null,
            closedByAssessment: null,
          };
          await session.run('poamInsert', [
            item.uuid,
            item.objectiveId,
            item.controlId,
            item.title,
            item.description,
            item.firstSeenAt,
            item.firstAssessment,
            item.lastSeenAt,
            item.lastAssessment,
          ]);
          touched.push(item);
        }
      }
      return touched;
    });
  }

  async latestAssessment(): Promise<StoredAssessment | null> {
    const [row] = await this.driver.read((session) => session.all<AssessmentRow>('assessmentLatest', []));
    return row === undefined ? null : this.assessment(row);
  }

  async getAssessment(uuid: string): Promise<StoredAssessment | null> {
    const [row] = await this.driver.read((session) => session.all<AssessmentRow>('assessmentGet', [uuid]));
    return row === undefined ? null : this.assessment(row);
  }

  async listAssessments(filter: { limit?: number; cursor?: string | null }): Promise<Page<AssessmentSummary>> {
    const limit = pageLimit(filter.limit);
    const listing = { name: 'assessments', filters: [] };
    const before = decodeCursor(filter.cursor, listing, 'number');
    const rows = await this.driver.read((session) => session.all<AssessmentRow>('assessmentList', [before, before, limit + 1]));
    const page = toPage(
      rows,
      limit,
      listing,
      (row) => ({ id: Number(row.id), summary: summary(row) }),
      (item) => item.id,
    );
    return { items: page.items.map((item) => item.summary), nextCursor: page.nextCursor };
  }

  async listPoamItems(): Promise<PoamItem[]> {
    const rows = await this.driver.read((session) => session.all<PoamRow>('poamList', []));
    return rows.map(poamItem);
  }

  async chainHead(chain: ChainName): Promise<ChainBlock | null> {
    const [row] = await this.driver.read((session) => session.all<BlockRow>('chainHead', [chain]));
    return row === undefined ? null : block(row);
  }

  async chainBlocks(chain: ChainName, afterBlock: number, limit: number): Promise<ChainBlock[]> {
    const rows = await this.driver.read((session) => session.all<BlockRow>('chainBlocks', [chain, afterBlock, limit]));
    return rows.map(block);
  }

  async chainLinks(chain: ChainName, afterBlock: number, limit: number): Promise<ChainBlock[]> {
    const rows = await this.driver.read((session) => session.all<BlockRow>('chainLinks', [chain, afterBlock, limit]));
    return rows.map(block);
  }

  async chainBlockDigests(chain: ChainName, number: number): Promise<string | null> {
    const [row] = await this.driver.read((session) => session.all<{ row_digests: string }>('chainBlockDigests', [chain, number]));
    return row?.row_digests ?? null;
  }

  chainRowLayout(chain: ChainName): number {
    return CHAIN_COLUMNS[chain].length;
  }

  async chainRows(chain: ChainName, afterRowId: number, throughRowId: number, limit: number, layout: number): Promise<ChainPage> {
    const columns = CHAIN_COLUMNS[chain][layout - 1];
    if (columns === undefined)
      throw new RangeError(`${chain}: no row layout ${layout} (this version knows 1 to ${CHAIN_COLUMNS[chain].length})`);
    const statement = `chainRows:${chain}:${layout}` as const;
    const params = [afterRowId, throughRowId, limit];
    let rows: unknown[][];
    if (this.driver.dialect.name === 'sqlite') {
      // Each row one JSON array of the layout's values (compliance-statements.ts says why).
      const read = await this.driver.read((session) => session.all<{ row: string }>(statement, params));
      rows = read.map((row) => JSON.parse(row.row) as unknown[]);
    } else {
      rows = (await this.driver.read((session) => session.table(statement, params))).rows;
    }
    // id is the first column.
    const ids = rows.map((row) => Number(row[0]));
    // The ledger has no JSON column: its rows are hashed as read.
    const json = JSON_COLUMNS[chain].map((name) => columns.indexOf(name));
    for (const row of rows) for (const at of json) row[at] = this.json.decode(row[at] as SqlValue);
    return { columns, ids, rows: rows as JsonValue[][] };
  }

  chainHorizon(chain: ChainName): Promise<number> {
    const highest = async (session: SqlSession) => {
      const [row] = await session.all<{ id: number }>(`chainHorizon:${chain}`, []);
      return Number(row?.id ?? 0);
    };
    // PostgreSQL's lock lasts until the transaction ends; SQLite's plain read takes no lock that would make this thread
    // wait for the ledger's writer.
    return this.driver.dialect.name === 'sqlite' ? this.driver.read(highest) : this.driver.transaction(highest);
  }

  async countRowsAfter(chain: ChainName, afterRowId: number): Promise<number> {
    const [row] = await this.driver.read((session) => session.all<{ count: number }>(`chainCountAfter:${chain}`, [afterRowId]));
    return Number(row?.count ?? 0);
  }

  async firstRowAfter(chain: ChainName, afterRowId: number): Promise<number | null> {
    const [row] = await this.driver.read((session) => session.all<{ id: number | string }>(`chainRowAfter:${chain}`, [afterRowId]));
    return row === undefined ? null : Number(row.id);
  }

  async hasRowsAfter(chain: ChainName, afterRowId: number): Promise<boolean> {
    const rows = await this.driver.read((session) => session.all<{ id: number }>(`chainRowAfter:${chain}`, [afterRowId]));
    return rows.length > 0;
  }

  async appendBlocks(blocks: readonly ChainBlock[], anchor: Omit<ChainAnchor, 'id'> | null): Promise<void> {
    try {
      await this.driver.transaction(async (session) => {
        for (const b of blocks) {
          await session.run('chainBlockInsert', [
            b.chain,
            b.block,
            b.afterRowId,
            b.lastRowId,
            b.rowCount,
            b.rowDigests,
            b.previousHash,
            b.hash,
            b.sealedAt,
            b.rowLayout,
          ]);
        }
        if (anchor !== null) {
          await session.run('chainAnchorInsert', [
            anchor.chain,
            anchor.block,
            anchor.headHash,
            anchor.sealedRows,
            anchor.lastRowId,
            anchor.anchoredAt,
          ]);
        }
      });
    } catch (error) {
      if (this.driver.dialect.violation(error) === 'duplicate') {
        throw new StoreConflict(
          'duplicate',
          `chain ${blocks[0]?.chain ?? anchor?.chain}: block ${blocks[0]?.block ?? anchor?.block} was sealed by another process`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async listAnchors(chain: ChainName | null, limit: number): Promise<ChainAnchor[]> {
    const rows = await this.driver.read((session) =>
      chain === null ? session.all<AnchorRow>('chainAnchorListAll', [limit]) : session.all<AnchorRow>('chainAnchorList', [chain, limit]),
    );
    return rows.map((row) => ({
      id: Number(row.id),
      chain: row.chain,
      block: Number(row.block),
      headHash: row.head_hash,
      sealedRows: Number(row.sealed_rows),
      lastRowId: Number(row.last_row_id),
      anchoredAt: Number(row.anchored_at),
    }));
  }

  async latestPruning(chain: ChainName): Promise<ChainPruning | null> {
    if (chain !== 'transactions') return null;
    const [row] = await this.driver.read((session) => session.all<PruningRow>('chainPruningLatest', [chain]));
    if (row === undefined) return null;
    return {
      chain: row.chain,
      throughBlock: Number(row.through_block),
      throughRowId: Number(row.through_row_id),
      throughHash: row.through_hash,
      prunedRows: Number(row.pruned_rows),
      sealedBefore: Number(row.sealed_before),
      prunedAt: Number(row.pruned_at),
    };
  }

  async recordPruning(pruning: ChainPruning, actor: string): Promise<void> {
    try {
      await this.driver.transaction(async (session) => {
        await session.run('chainPruningInsert', [
          pruning.chain,
          pruning.throughBlock,
          pruning.throughRowId,
          pruning.throughHash,
          pruning.prunedRows,
          pruning.sealedBefore,
          pruning.prunedAt,
        ]);
        // In the audit log too, which is itself sealed into its chain: a pruning cannot be slipped in unrecorded there.
        const { chain: _chain, prunedAt: _at, ...recorded } = pruning;
        await session.run('auditInsert', [
          pruning.prunedAt,
          actor,
          'delete',
          'ledger',
          'transactions',
          this.json.encode(recorded),
          this.json.encode(null),
        ]);
      });
    } catch (error) {
      if (this.driver.dialect.violation(error) === 'duplicate') {
        throw new StoreConflict('duplicate', `ledger retention: block ${pruning.throughBlock} was pruned by another process`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async databaseClock(): Promise<EpochMs | null> {
    if (this.driver.dialect.name === 'sqlite') return null;
    const [row] = await this.driver.read((session) => session.all<{ now: number | string }>('databaseClock', []));
    return row === undefined ? null : Number(row.now);
  }

  async newestLedgerStart(afterRowId: number, lastRowId: number): Promise<number | null> {
    const [row] = await this.driver.read((session) =>
      session.all<{ started_at: number | string | null }>('chainPruneNewestStart', [afterRowId, lastRowId]),
    );
    return row === undefined || row.started_at === null ? null : Number(row.started_at);
  }

  async deletePrunedRows(afterRowId: number, throughRowId: number, limit: number): Promise<PrunedChunk> {
    const gone = await this.driver.transaction(async (session) => {
      if (this.driver.dialect.name === 'postgres') await session.all('chainPruneLock', []);
      return session.all<{ id: number | string }>('chainPrunedRowsDelete', [afterRowId, afterRowId, throughRowId, limit]);
    });
    let lastRowId = afterRowId;
    for (const row of gone) lastRowId = Math.max(lastRowId, Number(row.id));
    return { rows: gone.length, lastRowId };
  }

  async ledgerPeriodCounts(from: EpochMs, to: EpochMs): Promise<LedgerPeriodCounts> {
    const [row] = await this.driver.read((session) => session.all<CountsRow>('evidenceLedgerCounts', [from, to, from, to]));
    return {
      rows: Number(row?.rows_count ?? 0),
      served: Number(row?.served ?? 0),
      servedAnonymous: Number(row?.served_anonymous ?? 0),
      incomplete: Number(row?.incomplete ?? 0),
      servedUnpriced: Number(row?.served_unpriced ?? 0),
      observedRows: Number(row?.observed_rows ?? 0),
    };
  }

  async incompleteRowIds(from: EpochMs, to: EpochMs, limit: number): Promise<number[]> {
    const rows = await this.driver.read((session) => session.all<{ id: number }>('evidenceIncompleteIds', [from, to, limit]));
    return rows.map((row) => Number(row.id));
  }

  servedResourceViolations(from: EpochMs, to: EpochMs): Promise<GroupCount[]> {
    return this.groupCounts('evidenceResourceViolations', from, to);
  }

  callsByConsumer(from: EpochMs, to: EpochMs): Promise<GroupCount[]> {
    return this.groupCounts('evidenceCallsByConsumer', from, to);
  }

  callsByProvider(from: EpochMs, to: EpochMs): Promise<GroupCount[]> {
    return this.groupCounts('evidenceCallsByProvider', from, to);
  }

  async unrevokedKeys(): Promise<KeyAge[]> {
    const rows = await this.driver.read((session) => session.all<KeyRow>('evidenceUnrevokedKeys', []));
    return rows.map((row) => ({
      id: row.id,
      consumer: row.consumer,
      name: row.name,
      createdAt: Number(row.created_at),
      expiresAt: row.expires_at === null ? null : Number(row.expires_at),
      lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    }));
  }

  private async groupCounts(
    statement: 'evidenceResourceViolations' | 'evidenceCallsByConsumer' | 'evidenceCallsByProvider',
    from: EpochMs,
    to: EpochMs,
  ): Promise<GroupCount[]> {
    const rows = await this.driver.read((session: SqlSession) => session.all<{ name: string; calls: number }>(statement, [from, to]));
    return rows.map((row) => ({ name: row.name, calls: Number(row.calls) }));
  }

  private assessment(row: AssessmentRow): StoredAssessment {
    return { ...summary(row), result: this.json.decode(row.result) ?? {} };
  }
}

function summary(row: AssessmentRow): AssessmentSummary {
  return {
    uuid: row.uuid,
    startedAt: Number(row.started_at),
    endedAt: Number(row.ended_at),
    origin: row.origin,
    actor: row.actor,
    satisfied: Number(row.satisfied),
    notSatisfied: Number(row.not_satisfied),
  };
}

function poamItem(row: PoamRow): PoamItem {
  return {
    uuid: row.uuid,
    objectiveId: row.objective_id,
    controlId: row.control_id,
    title: row.title,
    description: row.description,
    firstSeenAt: Number(row.first_seen_at),
    firstAssessment: row.first_assessment,
    lastSeenAt: Number(row.last_seen_at),
    lastAssessment: row.last_assessment,
    closedAt: row.closed_at === null ? null : Number(row.closed_at),
    closedByAssessment: row.closed_by_assessment,
  };
}

function block(row: BlockRow): ChainBlock {
  return {
    chain: row.chain,
    block: Number(row.block),
    afterRowId: Number(row.after_row_id),
    lastRowId: Number(row.last_row_id),
    rowCount: Number(row.row_count),
    rowDigests: row.row_digests,
    previousHash: row.previous_hash,
    hash: row.hash,
    sealedAt: Number(row.sealed_at),
    rowLayout: Number(row.row_layout),
  };
}
