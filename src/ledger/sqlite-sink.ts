// Ledger batches into SQLite through the writer thread, so better-sqlite3's blocking inserts never stall the event loop.
// A thread that dies fails the batches it held (the ledger writer keeps and resends them) and is started again at the
// next write, paced by the writer's backoff.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { LedgerWriteFailed, type LedgerSink } from './sink.js';
import type { WorkerCommand, WorkerReply } from './sqlite-worker.js';
import type { PackedBatch } from './batch.js';

export class SqliteLedgerSink implements LedgerSink {
  /** Two: the thread writes one at a time, and the next is already there when it is done. */
  readonly concurrency = 2;
  private readonly path: string;
  private readonly logger: Logger;
  private worker: Worker;
  private nextId: number;
  /** Batches posted to the thread and not yet answered. */
  private readonly waiting: Map<number, { resolve: (fresh: boolean) => void; reject: (error: Error) => void }>;
  /** Set once the thread has died: writes then start a new one first. */
  private failure: LedgerWriteFailed | null;
  private restarting: Promise<void> | null;
  private closedResolve: (() => void) | null;

  private constructor(path: string, worker: Worker, logger: Logger) {
    this.path = path;
    this.logger = logger;
    this.nextId = 1;
    this.waiting = new Map();
    this.failure = null;
    this.restarting = null;
    this.closedResolve = null;
    this.worker = worker;
    this.attach(worker);
  }

  static async open(path: string, logger: Logger): Promise<SqliteLedgerSink> {
    return new SqliteLedgerSink(path, await startWorker(path), logger);
  }

  write(key: string, batch: PackedBatch): Promise<boolean> {
    if (this.failure !== null) return this.restart().then(() => this.post(key, batch));
    return this.post(key, batch);
  }

  async close(): Promise<void> {
    await this.restarting?.catch(() => undefined);
    if (this.failure === null) {
      await new Promise<void>((resolve) => {
        this.closedResolve = resolve;
        this.worker.postMessage({ type: 'close' } satisfies WorkerCommand);
      });
    }
    await this.worker.terminate();
  }

  private post(key: string, batch: PackedBatch): Promise<boolean> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'batch', id, key, batch } satisfies WorkerCommand);
    });
  }

  /** One new thread for every write waiting on it; a start that fails is a failed write, retried by the writer. */
  private restart(): Promise<void> {
    this.restarting ??= startWorker(this.path)
      .then(
        (worker) => {
          this.worker = worker;
          this.failure = null;
          this.attach(worker);
          this.logger.warn('ledger writer thread started again');
        },
        (error: Error) => {
          throw new LedgerWriteFailed(`cannot start the ledger writer thread: ${error.message}`, false);
        },
      )
      .finally(() => {
        this.restarting = null;
      });
    return this.restarting;
  }

  private attach(worker: Worker): void {
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (error) => {
      this.logger.error({ err: error.message }, 'ledger writer thread failed');
      if (this.worker === worker) this.fail(error);
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.fail(new Error('the ledger writer thread has stopped'));
      this.closedResolve?.();
    });
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

async function startWorker(path: string): Promise<Worker> {
  const worker = new Worker(new URL('./sqlite-worker.js', import.meta.url), { workerData: { path } });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') resolve();
      else reject(new Error(reply.type === 'failed' ? reply.message : `unexpected ${reply.type} from the ledger writer thread`));
    });
    worker.once('error', reject);
  });
  return worker;
}
