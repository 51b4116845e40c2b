// The ledger's part of the store on its own: what the ledger writer opens (ledger-store.ts), and what the director's
// store delegates its ledger inserts to.
import type { Transaction } from '../../ir/transaction.js';
import type { LedgerStore } from '../ledger-store.js';
import { insertLedgerBatch, insertTransactions, LEDGER_BATCH_KEY_RETENTION_MS } from './ledger.js';
import { HOUR_MS } from './rollup.js';
import type { CountRow } from './rows.js';
import type { StatementDriver } from './session.js';

export class SqlLedgerStore implements LedgerStore {
  private readonly driver: StatementDriver;
  private readonly clock: () => number;
  /** When insertLedgerBatch last pruned old batch keys. */
  private ledgerKeysPrunedAt: number;

  constructor(driver: StatementDriver, options: { clock?: () => number }) {
    this.driver = driver;
    this.clock = options.clock ?? Date.now;
    this.ledgerKeysPrunedAt = 0;
  }

  async insertTransactions(rows: readonly Transaction[]): Promise<void> {
    if (rows.length === 0) return;
    await this.driver.transaction((session) => insertTransactions(session, rows, this.driver.dialect.ledgerRowsPerInsert));
  }

  async insertLedgerBatch(key: string, rows: readonly Transaction[]): Promise<boolean> {
    const now = this.clock();
    // Old keys go at most once an hour, in a batch's own transaction.
    const pruneBefore = now - this.ledgerKeysPrunedAt >= HOUR_MS ? now - LEDGER_BATCH_KEY_RETENTION_MS : null;
    const written = await this.driver.transaction((session) =>
      insertLedgerBatch(session, key, rows, this.driver.dialect.ledgerRowsPerInsert, now, pruneBefore),
    );
    if (pruneBefore !== null) this.ledgerKeysPrunedAt = now;
    return written;
  }

  async countTransactions(): Promise<number> {
    const [row] = await this.driver.read((session) => session.all<CountRow>('transactionCount', []));
    return row?.count ?? 0;
  }

  rejectsData(error: unknown): boolean {
    return this.driver.dialect.rejectsData(error);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
