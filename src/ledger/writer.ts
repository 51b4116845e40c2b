// Buffers ledger records in memory, packed (batch.ts), and hands them to the storage's sink in batches, off the request path.
// A crash loses at most what is buffered: one flush interval, plus a batch the sink had not committed.
import type { Logger } from 'pino';
import { BatchBuilder, type PackedBatch } from './batch.js';
import { openLedgerSink, type LedgerSink } from './sink.js';
import type { Transaction } from './transaction.js';

export interface LedgerOptions {
  /** sluice.yaml's `storage`: `sqlite:<path>` (written by a worker thread) or `postgres://...` (written from this thread). */
  storage: string;
  flushIntervalMs: number;
  maxBatch: number;
  logger: Logger;
}

/** Tries per batch before its rows are given up (and counted in failedWrites). */
const ATTEMPTS = 3;

export class LedgerWriter {
  private readonly sink: LedgerSink;
  private readonly options: LedgerOptions;
  private readonly buffer: BatchBuilder;
  private readonly timer: NodeJS.Timeout;
  private nextBatchId: number;
  /** Batches sent and not yet acknowledged, kept so a failed write can be retried and close() can wait for them. */
  private readonly pending: Map<number, { batch: PackedBatch; tries: number }>;
  private readonly drained: Array<() => void>;
  written: number;
  failedWrites: number;

  private constructor(sink: LedgerSink, options: LedgerOptions) {
    this.sink = sink;
    this.options = options;
    this.buffer = new BatchBuilder(options.maxBatch);
    this.nextBatchId = 1;
    this.pending = new Map();
    this.drained = [];
    this.written = 0;
    this.failedWrites = 0;
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  static async open(options: LedgerOptions): Promise<LedgerWriter> {
    return new LedgerWriter(await openLedgerSink(options.storage, options.logger), options);
  }

  append(transaction: Transaction): void {
    this.buffer.append(transaction);
    if (this.buffer.length >= this.options.maxBatch) this.flush();
  }

  get buffered(): number {
    return this.buffer.length;
  }

  flush(): void {
    const batch = this.buffer.take();
    if (batch !== null) this.send(this.nextBatchId++, batch);
  }

  /** Resolves once every record appended so far is committed (or has failed for good). */
  async drain(): Promise<void> {
    this.flush();
    if (this.pending.size === 0) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.drain();
    await this.sink.close();
  }

  private send(id: number, batch: PackedBatch, tries = 1): void {
    this.pending.set(id, { batch, tries });
    this.sink.write(batch).then(
      () => this.onWritten(id, batch.count),
      (error: Error) => this.onFailed(id, error),
    );
  }

  private onWritten(id: number, count: number): void {
    this.pending.delete(id);
    this.written += count;
    this.settled();
  }

  private onFailed(id: number, error: Error): void {
    const batch = this.pending.get(id);
    this.pending.delete(id);
    this.failedWrites++;
    this.options.logger.error({ batch: id, rows: batch?.batch.count ?? 0, tries: batch?.tries ?? 0, err: error.message }, 'ledger batch write failed');
    // A failed batch was rolled back whole, so sending it again cannot count a row twice.
    if (batch !== undefined && batch.tries < ATTEMPTS) this.send(this.nextBatchId++, batch.batch, batch.tries + 1);
    this.settled();
  }

  private settled(): void {
    if (this.pending.size === 0) for (const resolve of this.drained.splice(0)) resolve();
  }
}
