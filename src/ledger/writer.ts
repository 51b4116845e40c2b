// Buffers ledger records in memory and hands them to the writer thread in batches, off the request path.
// A crash loses at most what is buffered: one flush interval, plus a batch the thread had not committed.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Transaction } from './transaction.js';
import type { WorkerCommand, WorkerReply } from './sqlite-worker.js';

export interface LedgerOptions {
  path: string;
  flushIntervalMs: number;
  maxBatch: number;
  logger: Logger;
}

export class LedgerWriter {
  private readonly worker: Worker;
  private readonly options: LedgerOptions;
  private buffer: Transaction[];
  private readonly timer: NodeJS.Timeout;
  private nextBatchId: number;
  /** Batches sent and not yet acknowledged, kept so a failed write can be retried and close() can wait for them. */
  private readonly pending: Map<number, { rows: Transaction[]; tries: number }>;
  private readonly drained: Array<() => void>;
  private closedResolve: (() => void) | null;
  written: number;
  failedWrites: number;

  private constructor(worker: Worker, options: LedgerOptions) {
    this.worker = worker;
    this.options = options;
    this.buffer = [];
    this.nextBatchId = 1;
    this.pending = new Map();
    this.drained = [];
    this.closedResolve = null;
    this.written = 0;
    this.failedWrites = 0;
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs);
    this.timer.unref();
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (error) => options.logger.error({ err: error.message }, 'ledger writer thread failed'));
  }

  static async open(options: LedgerOptions): Promise<LedgerWriter> {
    const worker = new Worker(new URL('./sqlite-worker.js', import.meta.url), { workerData: { path: options.path } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') resolve();
        else reject(new Error(`cannot open the ledger at ${options.path}: ${reply.type === 'failed' ? reply.message : reply.type}`));
      });
      worker.once('error', reject);
    });
    return new LedgerWriter(worker, options);
  }

  append(transaction: Transaction): void {
    this.buffer.push(transaction);
    if (this.buffer.length >= this.options.maxBatch) this.flush();
  }

  get buffered(): number {
    return this.buffer.length;
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.send(this.nextBatchId++, rows);
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
    await new Promise<void>((resolve) => {
      this.closedResolve = resolve;
      this.worker.postMessage({ type: 'close' } satisfies WorkerCommand);
    });
    await this.worker.terminate();
  }

  private send(id: number, rows: Transaction[], tries = 1): void {
    this.pending.set(id, { rows, tries });
    this.worker.postMessage({ type: 'batch', id, rows } satisfies WorkerCommand);
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type === 'written') {
      this.pending.delete(reply.id);
      this.written += reply.count;
    } else if (reply.type === 'failed') {
      const batch = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      this.failedWrites++;
      this.options.logger.error({ batch: reply.id, rows: batch?.rows.length ?? 0, tries: batch?.tries ?? 0, err: reply.message }, 'ledger batch write failed');
      // A failed batch was rolled back whole, so sending it again cannot count a row twice.
      if (batch !== undefined && batch.tries < 3) this.send(this.nextBatchId++, batch.rows, batch.tries + 1);
    } else if (reply.type === 'closed') {
      this.closedResolve?.();
    }
    if (this.pending.size === 0) for (const resolve of this.drained.splice(0)) resolve();
  }
}
