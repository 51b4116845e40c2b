// How far back Sluice reads the ledger's raw rows (not the rollups), and so the shortest `ledger.retention.transactionsDays`
// it accepts: a retention below it would make counter seeding or an assessment read a ledger with rows missing.
import { DURATION, type WindowConfig } from './governance-schema.js';

export const DAY_MS = 86_400_000;

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS };
const CALENDAR_MS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: DAY_MS, month: 31 * DAY_MS };

/** One reader of raw rows and how far back it reads. */
export interface RawRowReach {
  /** Names the setting that needs the rows, e.g. `budgets[2] ("monthly", window { rolling: 30d })`. */
  what: string;
  ms: number;
}

/**
 * How far back seeding a budget's counters reads (src/policy/counter-seeding.ts): the rows of the partial hours at the
 * start of its oldest bucket. A calendar window's bucket starts at most its length ago (a month's, 31 days); a rolling
 * window's previous bucket, which admission reads at its weight, starts up to twice its length ago.
 */
export function windowReachMs(window: WindowConfig): number {
  if (typeof window === 'string') return CALENDAR_MS[window]!;
  const match = DURATION.exec(window.rolling)!;
  return 2 * Number(match[1]) * UNIT_MS[match[2]!]!;
}

export interface RetentionReaders {
  budgets: ReadonlyArray<{ name: string; window: WindowConfig }>;
  budgetTemplates: ReadonlyArray<{ name: string; window: WindowConfig }>;
  compliance: { periodHours: number };
}

/** The reader that reaches furthest back: an assessment's period (compliance.periodHours), or a budget's seeding. */
export function furthestRawRowReach(readers: RetentionReaders): RawRowReach {
  let furthest: RawRowReach = {
    what: `compliance.periodHours (${readers.compliance.periodHours}: each assessment reads that much of the ledger's rows)`,
    ms: readers.compliance.periodHours * 3_600_000,
  };
  const consider = (list: RetentionReaders['budgets'], label: string) =>
    list.forEach((budget, i) => {
      const ms = windowReachMs(budget.window);
      if (ms <= furthest.ms) return;
      const window = typeof budget.window === 'string' ? budget.window : `{ rolling: ${budget.window.rolling} }`;
      furthest = { what: `${label}[${i}] ("${budget.name}", window ${window}: seeding its counters reads rows that old)`, ms };
    });
  consider(readers.budgets, 'budgets');
  consider(readers.budgetTemplates, 'budgetTemplates');
  return furthest;
}

/** The shortest retention, in whole days, that keeps every row `reach` reads. */
export function shortestRetentionDays(reach: RawRowReach): number {
  return Math.max(1, Math.ceil(reach.ms / DAY_MS));
}

/** Why `days` is too short for the config's readers, or null when it is long enough. */
export function retentionProblem(days: number, readers: RetentionReaders): string | null {
  const reach = furthestRawRowReach(readers);
  const shortest = shortestRetentionDays(reach);
  if (days >= shortest) return null;
  return `ledger.retention.transactionsDays: ${days} days is shorter than the ${shortest} days of raw ledger rows Sluice reads: ${reach.what}; set at least ${shortest}`;
}
