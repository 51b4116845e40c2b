// This process's claims on the records of the background calls it follows (followed-records.ts), where the records are
// shared: kept under its name, renewed every third of their life, and let go at its stop; and the claims of a process
// that died, left to expire, adopted here. background.ts follows the calls; this keeps them claimed.
import type { Logger } from 'pino';
import type { FollowedRecord, FollowedRecords } from './followed-records.js';

/** What the claims ask of the follower (background.ts). */
export interface ClaimHolder {
  /** The ids of the calls followed here whose record is kept: their claims are renewed. */
  kept(): string[];
  /** A call whose record another process has now (adopted, or taken at a delete): no longer followed here. */
  lost(id: string): void;
  /** How many more calls may be adopted (responses.maxBackground). */
  room(): number;
  /** Follows a call adopted from a process that died, unless already followed here. */
  adopt(record: FollowedRecord): void;
}

export class FollowedClaims {
  readonly records: FollowedRecords;
  private readonly owner: string;
  private readonly claimMs: number;
  private readonly holder: ClaimHolder;
  private readonly logger: Logger;
  private stopped: boolean;
  /** The sweep that renews this process's claims and adopts those left to expire (null: not started, or stopped). */
  private sweeper: NodeJS.Timeout | null;
  private sweeping: Promise<void> | null;

  /** `owner`: this process's name on its claims; `claimMs`: how long a claim lasts unrenewed. */
  constructor(records: FollowedRecords, owner: string, claimMs: number, holder: ClaimHolder, logger: Logger) {
    this.records = records;
    this.owner = owner;
    this.claimMs = claimMs;
    this.holder = holder;
    this.logger = logger;
    this.stopped = false;
    this.sweeper = null;
    this.sweeping = null;
  }

  /** Adopts at once the calls of a process that died (this one's predecessor, say), then sweeps every third of a claim's life. */
  start(): void {
    if (this.sweeper !== null || this.stopped) return;
    this.sweeper = setInterval(() => void this.sweep(), Math.max(100, Math.floor(this.claimMs / 3)));
    this.sweeper.unref();
    void this.sweep();
  }

  /** No sweep from now on; resolves once one under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.sweeping;
  }

  /** Keeps a call's record, claimed by this process. */
  keep(record: FollowedRecord): Promise<void> {
    return this.records.put(record, this.owner, this.claimMs);
  }

  /** Lets this process's claims on `ids` expire now, for another process (or this one's next start) to adopt them. */
  release(ids: readonly string[]): Promise<void> {
    return this.records.release(ids, this.owner);
  }

  private sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  /**
   * Renews this process's claims (those another took over are no longer followed here: the other records them) and
   * adopts, as far as the holder has room, the calls whose claims expired: their owner died.
   */
  private async sweepOnce(): Promise<void> {
    try {
      for (const id of await this.records.renew(this.holder.kept(), this.owner, this.claimMs)) this.holder.lost(id);
      if (this.stopped) return;
      for (const record of await this.records.adopt(this.owner, this.claimMs, this.holder.room())) {
        if (this.stopped) return;
        this.holder.adopt(record);
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'background responses: the shared record could not be swept; retrying');
    }
  }
}
