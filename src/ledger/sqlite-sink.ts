// Ledger batches into SQLite through the writer thread, so better-sqlite3's blocking inserts never stall the event loop.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { LedgerSink } from './sink.js';
import type { WorkerCommand, WorkerReply } from './sqlite-worker.js';
import type { PackedBatch } from './batch.js';

export class SqliteLedgerSink implements LedgerSink {
  private readonly worker: Worker;
  private nextId: number;
  /** Batches posted to the thread and not yet answered. */
  private readonly waiting: Map<number, { resolve: () => void; reject: (error: Error) => void }>;
  /** Set once the thread has died: later writes fail at once instead of waiting forever for an answer. */
  private failure: Error | null;
  private closedResolve: (() => void) | null;

  private constructor(worker: Worker, logger: Logger) {
    this.worker = worker;
    this.nextId = 1;
    this.waiting = new Map();
    this.failure = null;
    this.closedResolve = null;
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (error) => {
      logger.error({ err: error.message }, 'ledger writer thread failed');
      this.fail(error);
    });
    worker.on('exit', () => {
      this.fail(new Error('the ledger writer thread has stopped'));
      this.closedResolve?.();
    });
  }

  static async open(path: string, logger: Logger): Promise<SqliteLedgerSink> {
    const worker = new Worker(new URL('./sqlite-worker.js', import.meta.url), { workerData: { path } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') resolve();
        else reject(new Error(reply.type === 'failed' ? reply.message : `unexpected ${reply.type} from the ledger writer thread`));
      });
      worker.once('error', reject);
    });
    return new SqliteLedgerSink(worker, logger);
  }

  write(batch: PackedBatch): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'batch', id, batch } satisfies WorkerCommand);
    });
  }

  async close(): Promise<void> {
    if (this.failure === null) {
      await new Promise<void>((resolve) => {
        this.closedResolve = resolve;
        this.worker.postMessage({ type: 'close' } satisfies WorkerCommand);
      });
    }
    await this.worker.terminate();
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type === 'closed') {
      this.closedResolve?.();
      return;
    }
    if (reply.type === 'ready') return;
    const waiter = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    if (reply.type === 'written') waiter?.resolve();
    else waiter?.reject(new Error(reply.message));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
  }
}
