// Buffers ledger records in memory, packed (batch.ts), and hands them to the storage's sink in batches, off the request path.
// When the store is slow or away, batches wait: in memory up to a bound, then in the spool (spool.ts), retried with
// backoff until the store takes them, oldest first. Each batch goes under a key the store remembers, so one sent again
// after a commit whose answer was lost is not written twice. A batch the store refuses for its data is split until only
// the refused records are left out (dropped and counted). A crash loses what was in memory: at most the memory bound.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { BatchBuilder, requestIdAt, sliceBatch, type PackedBatch } from './batch.js';
import { openLedgerSink } from './open-sink.js';
import { LedgerWriteFailed, type LedgerSink } from './sink.js';
import { Spool } from './spool.js';
import type { LedgerStatus } from './status.js';
import type { Transaction } from './transaction.js';

export interface LedgerOptions {
  /** sluice.yaml's `storage`: `sqlite:<path>` (written by a worker thread) or `postgres://...` (written from this thread). */
  storage: string;
  flushIntervalMs: number;
  maxBatch: number;
  /** Records waiting in memory for the store; batches past it go to the spool. */
  maxBufferedRecords: number;
  /** This process's spool folder (defaultSpoolDir()). */
  spoolDir: string;
  /** The spool's bound; a batch that would pass it is dropped and counted. */
  maxSpoolBytes: number;
  /** The wait before sending again to a store that failed, doubled per failure up to the maximum. */
  retry: { initialBackoffMs: number; maxBackoffMs: number };
  logger: Logger;
  /** Where batches go instead of the storage's own sink: a worker's goes to its primary (src/cluster/shared-ledger.ts). */
  sink?: LedgerSink;
}

/** A batch on its way to the store. */
interface Queued {
  /** The store's idempotency key: this process's prefix and a number, `/from-to` per split. */
  key: string;
  /** Breaks ties between batches formed in the same millisecond. */
  order: number;
  batch: PackedBatch;
  /** When the batch was formed (spooled, for one from a previous run): batches are sent oldest first. */
  queuedAt: number;
  /** The spool file it came from, deleted when every part of it is settled. */
  spooled: { file: string; parts: number } | null;
}

function isAfter(a: Queued, b: Queued): boolean {
  return a.queuedAt > b.queuedAt || (a.queuedAt === b.queuedAt && a.order > b.order);
}

/** At most one log line per this interval about a store that keeps failing. */
const FAILURE_LOG_INTERVAL_MS = 10_000;

export class LedgerWriter {
  private readonly sink: LedgerSink;
  private readonly spool: Spool;
  private readonly options: LedgerOptions;
  private readonly logger: Logger;
  private readonly builder: BatchBuilder;
  private readonly timer: NodeJS.Timeout;
  private readonly keyPrefix: string;
  private nextOrder: number;
  /** Waiting to be sent, in order. */
  private readonly memory: Queued[];
  private readonly inFlight: Set<Queued>;
  /** Records in `memory` and `inFlight`. */
  private memoryRecords: number;
  /** A take() from the spool is under way. */
  private refilling: boolean;
  private failing: boolean;
  private failingSince: number;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null;
  private lastFailureLog: number;
  private closing: boolean;
  /** drain() callers, each waiting for the batches formed up to its mark (Queued.order). */
  private readonly idleWaiters: Array<{ mark: number; resolve: () => void }>;
  private closeWaiter: (() => void) | null;
  written: number;
  private readonly writeFailures: LedgerStatus['writeFailures'];
  private readonly dropped: LedgerStatus['droppedRecords'];

  private constructor(sink: LedgerSink, spool: Spool, options: LedgerOptions) {
    this.sink = sink;
    this.spool = spool;
    this.options = options;
    this.logger = options.logger;
    this.builder = new BatchBuilder(options.maxBatch);
    this.keyPrefix = randomUUID();
    this.nextOrder = 1;
    this.memory = [];
    this.inFlight = new Set();
    this.memoryRecords = 0;
    this.refilling = false;
    this.failing = false;
    this.failingSince = 0;
    this.backoffMs = options.retry.initialBackoffMs;
    this.retryTimer = null;
    this.lastFailureLog = 0;
    this.closing = false;
    this.idleWaiters = [];
    this.closeWaiter = null;
    this.written = 0;
    this.writeFailures = { unavailable: 0, refused: 0 };
    this.dropped = { refused: 0, spoolFull: 0, spoolFailed: 0 };
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** Opens the store and the spool; batches a previous run left in the spool are replayed first. */
  static async open(options: LedgerOptions): Promise<LedgerWriter> {
    const spool = await Spool.open(options.spoolDir, options.maxSpoolBytes, (file, records, error) => {
      writer.dropped.spoolFailed += records;
      options.logger.error({ file, records, err: error.message }, 'ledger spool file unreadable; its records are not replayed');
    });
    let sink: LedgerSink;
    try {
      sink = options.sink ?? (await openLedgerSink(options.storage, options.logger));
    } catch (error) {
      await spool.close();
      throw error;
    }
    const writer = new LedgerWriter(sink, spool, options);
    if (spool.length > 0) {
      options.logger.warn({ spoolDir: options.spoolDir, batches: spool.length, records: spool.records }, 'replaying the ledger spool');
      writer.pump();
    }
    return writer;
  }

  /** On the request path: a few array writes; a full batch is handed on. */
  append(transaction: Transaction): void {
    this.builder.append(transaction);
    if (this.builder.length >= this.options.maxBatch) this.flush();
  }

  /** Records in memory, not yet committed. */
  get buffered(): number {
    return this.builder.length + this.memoryRecords;
  }

  /** Batch writes that failed, for any reason. */
  get failedWrites(): number {
    return this.writeFailures.unavailable + this.writeFailures.refused;
  }

  status(): LedgerStatus {
    const now = Date.now();
    let oldest = this.spool.oldestAt ?? now;
    for (const queued of this.inFlight) oldest = Math.min(oldest, queued.queuedAt);
    if (this.memory.length > 0) oldest = Math.min(oldest, this.memory[0]!.queuedAt);
    return {
      bufferedRecords: this.buffered,
      spooledRecords: this.spool.records,
      spooledBytes: this.spool.bytes,
      writtenRecords: this.written,
      writeFailures: { ...this.writeFailures },
      droppedRecords: { ...this.dropped },
      repairedValues: this.builder.repaired,
      failing: this.failing,
      behind: this.failing || this.spool.length > 0,
      oldestUnwrittenMs: now - oldest,
    };
  }

  flush(): void {
    const batch = this.builder.take();
    if (batch === null) return;
    const order = this.nextOrder++;
    const queued: Queued = { key: `${this.keyPrefix}:${order}`, order, batch, queuedAt: Date.now(), spooled: null };
    // Past the memory bound: to the spool. Below it, new batches stay in memory even while the spool is replayed, so the
    // disk is used only while memory is full.
    if (this.memoryRecords + batch.count > this.options.maxBufferedRecords) {
      this.toSpool(queued);
      return;
    }
    this.memory.push(queued);
    this.memoryRecords += batch.count;
    this.pump();
  }

  /**
   * Resolves once every record appended so far is committed (or given up): the batches formed up to now are written, and
   * the spool is empty. Records appended meanwhile are not waited for, so a drain under steady traffic ends.
   */
  async drain(): Promise<void> {
    this.flush();
    const mark = this.nextOrder - 1;
    if (this.settledThrough(mark)) return;
    await new Promise<void>((resolve) => this.idleWaiters.push({ mark, resolve }));
  }

  /**
   * Writes what is in memory, or spools it when the store is failing, and closes. What the spool holds stays there for
   * the next start.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.closing = true;
    this.flush();
    if (this.failing) this.spoolMemory();
    if (!this.closed()) await new Promise<void>((resolve) => (this.closeWaiter = resolve));
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    await this.spool.close();
    await this.sink.close();
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  /** Sends what waits, as many at once as the sink takes (one while the store is failing), refilling from the spool. */
  private pump(): void {
    if (this.retryTimer !== null) return;
    const limit = this.failing ? 1 : this.sink.concurrency;
    while (this.inFlight.size < limit && this.memory.length > 0) this.send(this.memory.shift()!);
    if (!this.failing && !this.closing) this.refill();
  }

  private send(queued: Queued): void {
    this.inFlight.add(queued);
    this.sink.write(queued.key, queued.batch).then(
      (fresh) => this.onWritten(queued, fresh),
      (error: unknown) => this.onFailed(queued, error),
    );
  }

  private onWritten(queued: Queued, fresh: boolean): void {
    this.inFlight.delete(queued);
    this.memoryRecords -= queued.batch.count;
    if (fresh) this.written += queued.batch.count;
    else this.logger.info({ batch: queued.key, records: queued.batch.count }, 'ledger batch was already committed; not written again');
    if (this.failing) {
      this.failing = false;
      this.backoffMs = this.options.retry.initialBackoffMs;
      this.logger.warn(
        { unavailableMs: Date.now() - this.failingSince, spooledRecords: this.spool.records, bufferedRecords: this.buffered },
        'ledger writes resumed; catching up',
      );
    }
    this.settlePart(queued);
    this.pump();
    this.checkIdle();
  }

  private onFailed(queued: Queued, error: unknown): void {
    this.inFlight.delete(queued);
    const message = (error as Error).message;
    if (error instanceof LedgerWriteFailed && error.rowsRefused) {
      this.writeFailures.refused++;
      this.refused(queued, message);
    } else {
      this.writeFailures.unavailable++;
      const now = Date.now();
      if (!this.failing) {
        this.failing = true;
        this.failingSince = now;
      }
      if (now - this.lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
        this.lastFailureLog = now;
        this.logger.error(
          { err: message, bufferedRecords: this.buffered, spooledRecords: this.spool.records },
          'ledger store unavailable: holding records (memory, then spool) and retrying',
        );
      }
      if (this.closing) {
        this.memoryRecords -= queued.batch.count;
        this.spoolAway(queued);
        this.spoolMemory();
      } else {
        this.requeue(queued);
        this.retryLater();
      }
    }
    this.pump();
    this.checkIdle();
  }

  /** The store refused the batch's rows: halves are sent instead, until a refused record stands alone and is dropped. */
  private refused(queued: Queued, message: string): void {
    const { batch } = queued;
    if (batch.count === 1) {
      this.memoryRecords -= 1;
      this.dropped.refused++;
      this.logger.error({ requestId: requestIdAt(batch, 0), err: message }, 'ledger record refused by the store; dropped');
      this.settlePart(queued);
      return;
    }
    const half = Math.ceil(batch.count / 2);
    if (queued.spooled !== null) queued.spooled.parts++;
    // Keys follow from the split alone, so a replay of the same batch splits into the same keys.
    this.requeue(
      { ...queued, key: `${queued.key}/0-${half}`, batch: sliceBatch(batch, 0, half) },
      { ...queued, key: `${queued.key}/${half}-${batch.count}`, batch: sliceBatch(batch, half, batch.count) },
    );
  }

  /** Back in order among the batches waiting: by when they were formed, oldest first. */
  private requeue(...batches: Queued[]): void {
    const first = batches[0]!;
    let at = 0;
    while (at < this.memory.length && !isAfter(this.memory[at]!, first)) at++;
    this.memory.splice(at, 0, ...batches);
  }

  private retryLater(): void {
    if (this.retryTimer !== null) return;
    // Jittered, so gateways that lost one store together do not return to it in step.
    const delay = this.backoffMs * (0.75 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.retry.maxBackoffMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, delay);
    this.retryTimer.unref();
  }

  /** The spool's oldest batches come back into memory as it has room, ahead of newer batches, to be sent first. */
  private refill(): void {
    if (this.refilling || this.spool.waiting === 0) return;
    // At least one batch when memory is empty, whatever its size against the bound.
    const room =
      this.memory.length === 0 && this.inFlight.size === 0
        ? Math.max(this.options.maxBufferedRecords - this.memoryRecords, this.spool.nextRecords)
        : this.options.maxBufferedRecords - this.memoryRecords;
    if (room < this.spool.nextRecords) return;
    this.refilling = true;
    this.spool.take(room, this.sink.concurrency * 2).then(
      (batches) => {
        this.refilling = false;
        for (const spooled of batches) {
          this.requeue({
            key: spooled.key,
            order: this.nextOrder++,
            batch: spooled.batch,
            queuedAt: spooled.spooledAt,
            spooled: { file: spooled.file, parts: 1 },
          });
          this.memoryRecords += spooled.batch.count;
        }
        if (this.closing) this.spoolMemory();
        this.pump();
        this.checkIdle();
      },
      (error: unknown) => {
        this.refilling = false;
        this.logger.error({ err: (error as Error).message }, 'cannot read the ledger spool');
        this.retryLater();
        this.checkIdle();
      },
    );
  }

  private toSpool(queued: Queued): void {
    const written = this.spool.append(queued.key, queued.batch);
    if (written === 'full') {
      this.dropped.spoolFull += queued.batch.count;
      const now = Date.now();
      if (now - this.lastFailureLog >= FAILURE_LOG_INTERVAL_MS) {
        this.lastFailureLog = now;
        this.logger.error(
          { spoolDir: this.options.spoolDir, maxSpoolBytes: this.options.maxSpoolBytes, records: queued.batch.count },
          'ledger spool full: records dropped',
        );
      }
      return;
    }
    written.then(
      () => {
        this.pump();
        this.checkIdle();
      },
      (error: unknown) => {
        this.dropped.spoolFailed += queued.batch.count;
        this.logger.error(
          { spoolDir: this.options.spoolDir, records: queued.batch.count, err: (error as Error).message },
          'cannot write the ledger spool: records dropped',
        );
        this.checkIdle();
      },
    );
  }

  /** Out of memory and onto disk, while closing: a batch from the spool is still there, the others are written to it. */
  private spoolAway(queued: Queued): void {
    if (queued.spooled === null) this.toSpool(queued);
  }

  private spoolMemory(): void {
    for (const queued of this.memory.splice(0)) {
      this.memoryRecords -= queued.batch.count;
      this.spoolAway(queued);
    }
  }

  /** One part of a batch is settled; the batch's spool file goes with its last part. */
  private settlePart(queued: Queued): void {
    const spooled = queued.spooled;
    if (spooled === null || --spooled.parts > 0) return;
    this.spool.remove(spooled.file).then(
      () => this.checkIdle(),
      (error: unknown) => {
        this.logger.error(
          { file: spooled.file, err: (error as Error).message },
          'cannot delete a replayed ledger spool file; it may be replayed again (its key keeps it from being written twice)',
        );
      },
    );
  }

  /** No batch formed up to `mark` waits in memory or on its way (split parts keep their batch's order), and none in the spool. */
  private settledThrough(mark: number): boolean {
    if (this.spool.length > 0 || this.refilling) return false;
    for (const queued of this.memory) if (queued.order <= mark) return false;
    for (const queued of this.inFlight) if (queued.order <= mark) return false;
    return true;
  }

  /** Closing: nothing left in memory or on its way. */
  private closed(): boolean {
    return this.memory.length === 0 && this.inFlight.size === 0 && !this.refilling && this.spool.writing === 0;
  }

  private checkIdle(): void {
    if (this.closeWaiter !== null && this.closed()) {
      const resolve = this.closeWaiter;
      this.closeWaiter = null;
      resolve();
    }
    if (this.idleWaiters.length === 0) return;
    for (let at = this.idleWaiters.length - 1; at >= 0; at--) {
      const waiter = this.idleWaiters[at]!;
      if (!this.settledThrough(waiter.mark)) continue;
      this.idleWaiters.splice(at, 1);
      waiter.resolve();
    }
  }
}
