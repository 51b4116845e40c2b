// The ledger's batch insert: one transaction, INSERTs of the dialect's rows per statement, and the rollups' upserts.
import { nanoCostOf, nanoSavedOf, type Transaction } from '../../ir/transaction.js';
import { addToRollups } from './rollup.js';
import type { SqlSession, SqlValue } from './session.js';
import { statementChunks } from './chunks.js';
import { ROWS_PER_STATEMENT, type SizedStatement } from './statements.js';

/** In the order of TRANSACTION_COLUMNS; booleans as 0/1 in both databases (the columns are INTEGER since version 1). */
function values(row: Transaction): SqlValue[] {
  return [
    row.requestId,
    row.startedAt,
    row.operation,
    row.api,
    row.consumer,
    row.team,
    row.requestedModel,
    row.provider,
    row.providerModel,
    row.stream ? 1 : 0,
    row.inputTokens,
    row.outputTokens,
    row.cachedInputTokens,
    row.cacheWriteTokens,
    row.tokensEstimated ? 1 : 0,
    row.costMicroUsd,
    row.latencyMs,
    row.timeToFirstTokenMs,
    row.status,
    row.errorClass,
    row.attempts,
    row.servedModel,
    row.violations,
    row.identity ?? null,
    row.savedMicroUsd ?? 0,
    row.cacheWrite1hTokens ?? 0,
    row.webSearches ?? 0,
    row.serviceTier ?? null,
    row.fileSearches ?? 0,
    nanoCostOf(row),
    nanoSavedOf(row),
    row.reasoningTokens ?? null,
  ];
}

/** How long a batch's key is kept: far longer than any gateway holds a batch it could send again. */
export const LEDGER_BATCH_KEY_RETENTION_MS = 7 * 86_400_000;

/**
 * A ledger batch under its key, in the caller's transaction: false, and nothing written, when a batch with this key was
 * committed before (sent again after its commit's answer was lost). `pruneBefore`: also forget keys committed before it.
 */
export async function insertLedgerBatch(
  session: SqlSession,
  key: string,
  rows: readonly Transaction[],
  rowsPerInsert: number,
  now: number,
  pruneBefore: number | null,
): Promise<boolean> {
  if (pruneBefore !== null) await session.run('ledgerBatchPrune', [pruneBefore]);
  if ((await session.run('ledgerBatchClaim', [key, now, rows.length])) === 0) return false;
  await insertTransactions(session, rows, rowsPerInsert);
  return true;
}

/** `rowsPerInsert` (at most ROWS_PER_STATEMENT): the dialect's ledgerRowsPerInsert. */
export async function insertTransactions(session: SqlSession, rows: readonly Transaction[], rowsPerInsert: number): Promise<void> {
  if (rowsPerInsert === 1) {
    for (const row of rows) await session.run('transactionInsert:1', values(row));
  } else {
    for (const chunk of statementChunks(rows, Math.min(rowsPerInsert, ROWS_PER_STATEMENT))) {
      await session.run(`transactionInsert:${chunk.length}` satisfies SizedStatement, chunk.flatMap(values));
    }
  }
  await addToRollups(session, rows);
}
