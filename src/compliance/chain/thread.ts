// The chains' thread: sealing and verifying read and hash every ledger row, some 10 µs each, which on the thread that
// serves calls took a fifth of its time at full load, and an assessment's verification from the first block grows with
// the ledger. So do an assessment's evidence reads, which scan its period of the ledger (a day by default: some 2 µs a
// row in SQLite, whose reads block the thread that makes them). Here they cost only this thread, with its own connection
// to the database. It starts with the first piece of work and stops when none came for IDLE_MS, so a director spends no
// memory on it between sealings.
import { Worker } from 'node:worker_threads';
import { LEDGER_EVIDENCE, type ChainName, type LedgerEvidence } from '../../store/compliance-store.js';
import type { ChainWork } from './keeper.js';
import type { PruneOutcome } from './pruner.js';
import type { SealOutcome } from './sealer.js';
import type { ChainVerification, GivenAnchor, VerifyScope } from './verify.js';

export type ChainCommand =
  | { type: 'seal'; id: number; now: number }
  | { type: 'verify'; id: number; chain: ChainName; given: readonly GivenAnchor[]; scope: VerifyScope | null }
  | { type: 'evidence'; id: number; read: EvidenceRead; args: unknown[] }
  | { type: 'prune'; id: number; sealedBefore: number; now: number }
  | { type: 'close' };
export type EvidenceRead = (typeof LEDGER_EVIDENCE)[number];
export type ChainReply =
  | { type: 'ready' }
  | { type: 'sealed'; id: number; outcomes: SealOutcome[] }
  | { type: 'verified'; id: number; verification: ChainVerification }
  | { type: 'read'; id: number; result: unknown }
  | { type: 'pruned'; id: number; outcome: PruneOutcome }
  | { type: 'failed'; id: number; message: string };

/**
 * The nice value this thread takes: sealing comes in bursts (some 15 µs a ledger row, every minute, so at full load
 * several seconds of a core at once) and nothing waits on it, while the serving thread and the ledger's writer have
 * calls waiting. At 10 the scheduler gives this thread about a tenth of a core another thread wants, and all of an
 * idle one.
 */
export const CHAINS_NICE = 10;

/** How long the thread waits for more work before it stops. */
const IDLE_MS = 1_000;

interface Waiter {
  resolve: (reply: ChainReply) => void;
  reject: (error: Error) => void;
}

/** `storage`: the director's `sqlite:<path>` or PostgreSQL URL, which the thread opens for itself. */
export function chainThread(storage: string): ChainWork {
  return new ChainThread(storage);
}

class ChainThread implements ChainWork {
  readonly evidence: LedgerEvidence;
  private readonly storage: string;
  private worker: Promise<Worker> | null;
  private readonly waiting: Map<number, Waiter>;
  private nextId: number;
  private idleTimer: NodeJS.Timeout | null;

  constructor(storage: string) {
    this.storage = storage;
    this.worker = null;
    this.waiting = new Map();
    this.nextId = 1;
    this.idleTimer = null;
    const evidence: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const read of LEDGER_EVIDENCE) {
      evidence[read] = async (...args) => {
        const reply = await this.ask({ type: 'evidence', id: this.nextId++, read, args });
        return (reply as Extract<ChainReply, { type: 'read' }>).result;
      };
    }
    this.evidence = evidence as unknown as LedgerEvidence;
  }

  async seal(now: number): Promise<SealOutcome[]> {
    const reply = await this.ask({ type: 'seal', id: this.nextId++, now });
    return (reply as Extract<ChainReply, { type: 'sealed' }>).outcomes;
  }

  async verify(chain: ChainName, given: readonly GivenAnchor[], scope: VerifyScope | null): Promise<ChainVerification> {
    const reply = await this.ask({ type: 'verify', id: this.nextId++, chain, given, scope });
    return (reply as Extract<ChainReply, { type: 'verified' }>).verification;
  }

  async prune(sealedBefore: number, now: number): Promise<PruneOutcome> {
    const reply = await this.ask({ type: 'prune', id: this.nextId++, sealedBefore, now });
    return (reply as Extract<ChainReply, { type: 'pruned' }>).outcome;
  }

  async close(): Promise<void> {
    this.disarm();
    await this.stop();
  }

  private async ask(command: Extract<ChainCommand, { id: number }>): Promise<ChainReply> {
    this.disarm();
    try {
      const worker = await (this.worker ??= this.start());
      return await new Promise<ChainReply>((resolve, reject) => {
        this.waiting.set(command.id, { resolve, reject });
        worker.postMessage(command);
      });
    } finally {
      if (this.waiting.size === 0) this.arm();
    }
  }

  private start(): Promise<Worker> {
    const worker = new Worker(new URL('./thread-worker.js', import.meta.url), { workerData: { storage: this.storage } });
    // Never what keeps a stopping process alive; a caller waiting for a reply keeps its own promise.
    worker.unref();
    const started = new Promise<Worker>((resolve, reject) => {
      worker.once('message', (reply: ChainReply) => {
        if (reply.type === 'ready') resolve(worker);
        else reject(new Error(reply.type === 'failed' ? reply.message : `unexpected ${reply.type} from the chains' thread`));
      });
      worker.once('error', reject);
    });
    worker.on('message', (reply: ChainReply) => {
      if (reply.type === 'ready') return;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.type === 'failed') waiter?.reject(new Error(reply.message));
      else waiter?.resolve(reply);
    });
    worker.on('error', (error) => this.fail(error));
    worker.once('exit', (code) => {
      this.fail(new Error(`the chains' thread stopped (exit code ${code})`));
      if (this.worker === started) this.worker = null;
    });
    // A thread that failed to start is forgotten, so the next piece of work tries again.
    started.catch(() => {
      if (this.worker === started) this.worker = null;
      void worker.terminate();
    });
    return started;
  }

  private fail(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  private arm(): void {
    this.idleTimer = setTimeout(() => void this.stop(), IDLE_MS);
    this.idleTimer.unref();
  }

  private disarm(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** Closes the thread's connection and ends it (work still waiting is refused by the exit). */
  private async stop(): Promise<void> {
    const starting = this.worker;
    this.worker = null;
    const worker = await starting?.catch(() => null);
    if (worker === null || worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies ChainCommand);
    const timer = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
