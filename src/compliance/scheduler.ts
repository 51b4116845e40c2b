// The background of continuous compliance: seals the chains every sealIntervalSeconds and assesses every
// intervalMinutes, reading the settings at each turn (a reload applies from the next). An assessment overdue at start
// (none as recent as the interval) runs soon after start, so restarts do not stretch the cadence.
import type { Logger } from 'pino';
import type { ComplianceConfig } from '../config/compliance-schema.js';
import type { ComplianceAssessor } from './assessor.js';
import type { ChainKeeper } from './chain/keeper.js';

/** How long after start an overdue assessment waits: the listeners are up and the first calls in by then. */
const START_DELAY_MS = 5_000;

export class ComplianceScheduler {
  private readonly settings: () => ComplianceConfig;
  private readonly assessor: ComplianceAssessor;
  private readonly chains: ChainKeeper;
  private readonly logger: Logger;
  private sealTimer: NodeJS.Timeout | null;
  private assessTimer: NodeJS.Timeout | null;
  private stopped: boolean;

  constructor(options: { settings: () => ComplianceConfig; assessor: ComplianceAssessor; chains: ChainKeeper; logger: Logger }) {
    this.settings = options.settings;
    this.assessor = options.assessor;
    this.chains = options.chains;
    this.logger = options.logger;
    this.sealTimer = null;
    this.assessTimer = null;
    this.stopped = false;
  }

  /** `lastAssessmentEndedAt`: the latest kept assessment's end, or null when there is none. */
  start(lastAssessmentEndedAt: number | null, now: number): void {
    this.scheduleSeal();
    const interval = this.settings().intervalMinutes * 60_000;
    if (interval === 0) return this.scheduleAssessment(null);
    const due = lastAssessmentEndedAt === null ? now : lastAssessmentEndedAt + interval;
    this.scheduleAssessment(Math.max(START_DELAY_MS, due - now));
  }

  stop(): void {
    this.stopped = true;
    if (this.sealTimer !== null) clearTimeout(this.sealTimer);
    if (this.assessTimer !== null) clearTimeout(this.assessTimer);
  }

  private scheduleSeal(): void {
    if (this.stopped) return;
    // Turned off, it looks again a minute later: a reload may turn it on.
    const seconds = this.settings().sealIntervalSeconds;
    this.sealTimer = setTimeout(
      () => {
        const sealing = seconds === 0 || this.settings().sealIntervalSeconds === 0 ? Promise.resolve() : this.chains.seal();
        sealing
          .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'compliance: sealing the hash chains failed'))
          .finally(() => this.scheduleSeal());
      },
      (seconds === 0 ? 60 : seconds) * 1000,
    );
    this.sealTimer.unref();
  }

  /** `delayMs` null: the schedule is off; look again in a minute. */
  private scheduleAssessment(delayMs: number | null): void {
    if (this.stopped) return;
    this.assessTimer = setTimeout(() => {
      const interval = this.settings().intervalMinutes * 60_000;
      if (interval === 0) return this.scheduleAssessment(null);
      this.assessor
        .assess('schedule', 'scheduler')
        .catch((error: unknown) => this.logger.error({ err: (error as Error).message }, 'compliance: the scheduled assessment failed'))
        .finally(() => this.scheduleAssessment(this.settings().intervalMinutes * 60_000 || null));
    }, delayMs ?? 60_000);
    this.assessTimer.unref();
  }
}
