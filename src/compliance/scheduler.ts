// The background of continuous compliance: seals the chains every sealIntervalSeconds (then prunes the ledger's old
// sealed blocks when ledger.retention asks) and assesses every intervalMinutes, reading the settings at each turn. A
// reload sets the sealing and the assessment already waiting again, counted from the last sealing and the last
// scheduled assessment, so a shorter interval applies now rather than after the longer wait set before it. An
// assessment overdue at start (none as recent as the interval) runs soon after start, so restarts do not stretch the
// cadence.
import type { Logger } from 'pino';
import type { ComplianceConfig } from '../config/compliance-schema.js';
import type { ComplianceAssessor } from './assessor.js';
import type { ChainKeeper } from './chain/keeper.js';

/** How long after start an overdue assessment waits: the listeners are up and the first calls in by then. */
const START_DELAY_MS = 5_000;

/** How often a schedule turned off looks again (a reload also looks at once). */
const OFF_POLL_MS = 60_000;

export class ComplianceScheduler {
  private readonly settings: () => ComplianceConfig;
  private readonly assessor: ComplianceAssessor;
  private readonly chains: ChainKeeper;
  private readonly logger: Logger;
  private readonly clock: () => number;
  /** ledger.retention's pruning, run after each sealing (it only ever deletes sealed rows). */
  private readonly retain: () => Promise<unknown>;
  private sealTimer: NodeJS.Timeout | null;
  private assessTimer: NodeJS.Timeout | null;
  /** When the last sealing ended (or the schedule started), and the last scheduled assessment ended (null: none kept). */
  private lastSealedAt: number;
  private lastAssessedAt: number | null;
  /** A sealing or an assessment of the schedule's is running: it sets the next itself when done. */
  private sealing: boolean;
  private assessing: boolean;
  /** Only a started schedule runs (a director's worker processes other than the first never start theirs). */
  private started: boolean;
  private stopped: boolean;

  constructor(options: {
    settings: () => ComplianceConfig;
    assessor: ComplianceAssessor;
    chains: ChainKeeper;
    logger: Logger;
    clock: () => number;
    retain?: () => Promise<unknown>;
  }) {
    this.settings = options.settings;
    this.assessor = options.assessor;
    this.chains = options.chains;
    this.logger = options.logger;
    this.clock = options.clock;
    this.retain = options.retain ?? (async () => undefined);
    this.sealTimer = null;
    this.assessTimer = null;
    this.lastSealedAt = 0;
    this.lastAssessedAt = null;
    this.sealing = false;
    this.assessing = false;
    this.started = false;
    this.stopped = false;
  }

  /** `lastAssessmentEndedAt`: the latest kept assessment's end, or null when there is none. */
  start(lastAssessmentEndedAt: number | null, now: number): void {
    this.started = true;
    this.lastSealedAt = now;
    this.lastAssessedAt = lastAssessmentEndedAt;
    this.scheduleSeal();
    this.scheduleAssessment(START_DELAY_MS);
  }

  /** The settings changed: the sealing and the assessment waiting are set again from them (one running sets its next). */
  reloaded(): void {
    if (!this.started || this.stopped) return;
    if (!this.sealing) {
      if (this.sealTimer !== null) clearTimeout(this.sealTimer);
      this.scheduleSeal();
    }
    if (!this.assessing) {
      if (this.assessTimer !== null) clearTimeout(this.assessTimer);
      this.scheduleAssessment(0);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.sealTimer !== null) clearTimeout(this.sealTimer);
    if (this.assessTimer !== null) clearTimeout(this.assessTimer);
  }

  private scheduleSeal(): void {
    if (this.stopped) return;
    const seconds = this.settings().sealIntervalSeconds;
    const delay = seconds === 0 ? OFF_POLL_MS : Math.max(0, this.lastSealedAt + seconds * 1000 - this.clock());
    this.sealTimer = setTimeout(() => {
      if (this.settings().sealIntervalSeconds === 0) return this.scheduleSeal();
      this.sealing = true;
      this.chains
        .seal()
        .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'compliance: sealing the hash chains failed'))
        .then(() => this.retain())
        .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'ledger retention: pruning failed'))
        .finally(() => {
          this.sealing = false;
          this.lastSealedAt = this.clock();
          this.scheduleSeal();
        });
    }, delay);
    this.sealTimer.unref();
  }

  /** `soonestMs`: the least wait, even for an assessment already due. */
  private scheduleAssessment(soonestMs: number): void {
    if (this.stopped) return;
    const interval = this.settings().intervalMinutes * 60_000;
    const due = this.lastAssessedAt === null ? this.clock() : this.lastAssessedAt + interval;
    const delay = interval === 0 ? OFF_POLL_MS : Math.max(soonestMs, due - this.clock());
    this.assessTimer = setTimeout(() => {
      if (this.settings().intervalMinutes === 0) return this.scheduleAssessment(0);
      this.assessing = true;
      this.assessor
        .assess('schedule', 'scheduler')
        .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'compliance: the scheduled assessment failed'))
        .finally(() => {
          this.assessing = false;
          // A failed one counts too: the next comes one interval later, not at once again.
          this.lastAssessedAt = this.clock();
          this.scheduleAssessment(0);
        });
    }, delay);
    this.assessTimer.unref();
  }
}
