// Ledger batches into SQLite through the writer thread, so better-sqlite3's blocking inserts never stall the event loop.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { LedgerWriteFailed, type LedgerSink } from './sink.js';
import type { WorkerCommand, WorkerReply } from './sqlite-worker.js';
import type { PackedBatch } from './batch.js';

export class SqliteLedgerSink implements LedgerSink {
  /** Two: the thread writes one at a time, and the next is already there when it is done. */
  readonly concurrency = 2;
  private readonly worker: Worker;
  private nextId: number;
  /** Batches posted to the thread and not yet answered. */
  private readonly waiting: Map<number, { resolve: (fresh: boolean) => void; reject: (error: Error) => void }>;
  /** Set once the thread has died: later writes fail at once instead of waiting forever for an answer. */
  private failure: LedgerWriteFailed | null;
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

  write(key: string, batch: PackedBatch): Promise<boolean> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'batch', id, key, batch } satisfies WorkerCommand);
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
    if (reply.type === 'written') waiter?.resolve(reply.fresh);
    else waiter?.reject(new LedgerWriteFailed(reply.message, reply.rowsRefused));
  }

  private fail(error: Error): void {
    this.failure ??= new LedgerWriteFailed(error.message, false);
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
  }
}
