// The ledger's batch insert: one transaction, one multi-row INSERT per up to ROWS_PER_STATEMENT rows, and the rollups' upserts.
import type { Transaction } from '../../ledger/transaction.js';
import { addToRollups } from './rollup.js';
import type { SqlSession, SqlValue } from './session.js';
import { ROWS_PER_STATEMENT, type SizedStatement } from './statements.js';

/** In the order of TRANSACTION_COLUMNS; booleans as 0/1 in both databases (the columns are INTEGER since version 1). */
function values(row: Transaction): SqlValue[] {
  return [
    row.requestId, row.startedAt, row.operation, row.api, row.consumer, row.team, row.requestedModel, row.provider, row.providerModel,
    row.stream ? 1 : 0, row.inputTokens, row.outputTokens, row.cachedInputTokens, row.cacheWriteTokens, row.tokensEstimated ? 1 : 0,
    row.costMicroUsd, row.latencyMs, row.timeToFirstTokenMs, row.status, row.errorClass, row.attempts, row.servedModel, row.violations,
  ];
}

/** Many rows per statement: far fewer statement steps (and, on PostgreSQL, round trips) than one INSERT per row. */
export async function insertTransactions(session: SqlSession, rows: readonly Transaction[]): Promise<void> {
  for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(at, at + ROWS_PER_STATEMENT);
    await session.run(`transactionInsert:${chunk.length}` satisfies SizedStatement, chunk.flatMap(values));
  }
  await addToRollups(session, rows);
}
