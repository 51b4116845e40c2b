// Where the ledger's batches go (open-sink.ts chooses one by the storage URL), and how a batch fails.
import type { PackedBatch } from './batch.js';

export interface LedgerSink {
  /** Batches worth sending at once (PostgreSQL writes them on several connections). */
  readonly concurrency: number;
  /**
   * Resolves true once every row is committed, false when a batch under this key was committed before (nothing is written
   * again); rejects with LedgerWriteFailed when none was (a batch is written whole or rolled back whole).
   */
  write(key: string, batch: PackedBatch): Promise<boolean>;
  /** Called once nothing is pending. */
  close(): Promise<void>;
}

/** A batch the store did not commit, and whether the rows themselves were refused (the same rows would fail again). */
export class LedgerWriteFailed extends Error {
  readonly rowsRefused: boolean;

  constructor(message: string, rowsRefused: boolean) {
    super(message);
    this.name = 'LedgerWriteFailed';
    this.rowsRefused = rowsRefused;
  }
}
