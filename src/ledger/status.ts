// What the ledger writer holds and has done, read by the metrics and the readiness report.

/** What the ledger holds and has done: for metrics and readiness. */
export interface LedgerStatus {
  /** Records in memory: the batch filling, and batches waiting for or being written. */
  bufferedRecords: number;
  /** Records and bytes in spool files (those being replayed included). */
  spooledRecords: number;
  spooledBytes: number;
  writtenRecords: number;
  /** Batch writes that failed: the store unreachable or unwritable, or refusing a batch's rows. */
  writeFailures: { unavailable: number; refused: number };
  /** Records given up: refused by the store on their own, past the spool's bound, or lost with a spool file. */
  droppedRecords: { refused: number; spoolFull: number; spoolFailed: number };
  /** Strings made storable (a NUL, a lone surrogate, past the length cap) before they reached the store. */
  repairedValues: number;
  /** The last write failed for want of a store, and none has succeeded since. */
  failing: boolean;
  /** Failing, or records wait in the spool: readiness is red meanwhile. */
  behind: boolean;
  /** Milliseconds since the oldest batch not yet written was formed; 0 when none waits. */
  oldestUnwrittenMs: number;
}
