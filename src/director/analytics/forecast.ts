// Month-end spend forecasts from daily costs: pure arithmetic, no store, so it is tested alone.
//
// The method, in full:
// 1. Actual to date: the month's daily costs up to now (today's partial day included).
// 2. History: the full UTC days of the last 28 before today, but none before the ledger's first full day (days before it
//    are unknown, not free, and the day it began mid-day holds only part of a day's spend: averaged as a whole day, it
//    understated a new deployment's daily rate). A day in the history with no cost counts as 0.
// 3. Expected daily cost: with 14 or more history days, weekly seasonality: a day's expected cost is the mean of the
//    history days on the same weekday (equivalently, the mean over the weekday means times that weekday's factor). With
//    fewer (1 to 13 days), a flat mean of all history days. With none, nothing is projected.
// 4. Forecast: actual to date + the expected cost of every day left in the month (today's only for the part still to come).
// 5. Range: residuals are the history days' costs minus their expected cost; s is their standard deviation, with
//    df = n - 7 degrees of freedom seasonal, n - 1 flat. Treating days as independent, the rest of the month's error is
//    the days' own (variance s^2 per day left) plus that of the means it was projected at, each estimated from n_g
//    history days and applied to k_g days left (variance s^2 x k_g^2 / n_g; g the weekday, or all days for the flat
//    mean). So low/high = forecast -/+ t x s x sqrt(days left + sum of k_g^2 / n_g), t the 90th percentile of Student's
//    t with df degrees of freedom (3.078 for 1, 1.440 for 6, 1.323 for 21): an 80% interval (10% each side) under a
//    normal error whose spread is itself estimated from the few days there are. With one day of history (df 0) there is
//    no spread to measure, and with none nothing is projected: high is null (unknown) rather than the forecast itself.
//    low never goes below the actual to date: spend already made cannot shrink.
// Amounts are integer nano-USD in and out (any integer unit would do); the means are fractions and the results are
// rounded once, at the end.
import { DAY_MS, dayCeil, dayFloor, type Span } from './calendar.js';

export interface DailyCost {
  /** Any time in the UTC day; costs of the same day are added. */
  dayStart: number;
  costNanoUsd: number;
}

export interface ForecastInput {
  /** Daily costs covering the history window and the month up to now; days absent cost nothing. */
  daily: readonly DailyCost[];
  month: Span;
  now: number;
  /**
   * The first moment the ledger holds anything (null when it holds nothing): earlier days are not history, nor is its own
   * day unless it starts at midnight.
   */
  historyStart: number | null;
}

export type ForecastMethod =
  /** The month is over: the actual is the answer. */
  | 'complete'
  /** Weekday means of the last 14 to 28 days. */
  | 'weekly-seasonal-28d'
  /** The mean of the 1 to 13 days of history there are. */
  | 'flat-mean'
  /** No full day of history yet: the actual so far, nothing projected, no high end. */
  | 'no-history';

export interface MonthForecast {
  actualToDate: number;
  forecast: number;
  /** The 80% interval; `high` null when there is too little history to measure a spread (none, or a single day). */
  low: number;
  high: number | null;
  method: ForecastMethod;
  /** Full days of history the projection used. */
  historyDays: number;
}

export const HISTORY_DAYS = 28;
export const SEASONAL_MIN_DAYS = 14;
/** The standard normal's 90th percentile: +/- it bounds the central 80%. */
export const Z_80 = 1.2816;
/** Student's t's 90th percentile for 1 to 30 degrees of freedom (scipy.stats.t.ppf(0.9, df)); beyond, the normal's. */
const T_90 = [
  3.0777, 1.8856, 1.6377, 1.5332, 1.4759, 1.4398, 1.4149, 1.3968, 1.383, 1.3722, 1.3634, 1.3562, 1.3502, 1.345, 1.3406, 1.3368, 1.3334,
  1.3304, 1.3277, 1.3253, 1.3232, 1.3212, 1.3195, 1.3178, 1.3163, 1.315, 1.3137, 1.3125, 1.3114, 1.3104,
];

/** The multiplier of an 80% interval whose standard deviation was estimated with `df` degrees of freedom (at least 1). */
export function t80(df: number): number {
  return T_90[df - 1] ?? Z_80;
}

function costsByDay(daily: readonly DailyCost[]): Map<number, number> {
  const byDay = new Map<number, number>();
  for (const { dayStart, costNanoUsd } of daily) {
    const day = dayFloor(dayStart);
    byDay.set(day, (byDay.get(day) ?? 0) + costNanoUsd);
  }
  return byDay;
}

const weekday = (day: number) => new Date(day).getUTCDay();

interface Expectation {
  /** The expected cost of a day. */
  expected: (day: number) => number;
  /** The means it took (for the residuals' degrees of freedom): 1 flat, 7 seasonal. */
  parameters: number;
  /** Which mean a day is projected at (0 flat, the weekday seasonal), and how many history days each mean averages. */
  group: (day: number) => number;
  counts: readonly number[];
}

function expectation(history: ReadonlyArray<{ day: number; cost: number }>): Expectation {
  const mean = history.reduce((total, { cost }) => total + cost, 0) / history.length;
  if (history.length < SEASONAL_MIN_DAYS) return { expected: () => mean, parameters: 1, group: () => 0, counts: [history.length] };
  // Two weeks or more: every weekday has at least two days in the history.
  const totals = new Array<number>(7).fill(0);
  const counts = new Array<number>(7).fill(0);
  for (const { day, cost } of history) {
    totals[weekday(day)]! += cost;
    counts[weekday(day)]! += 1;
  }
  return { expected: (day) => totals[weekday(day)]! / counts[weekday(day)]!, parameters: 7, group: weekday, counts };
}

export function forecastMonth(input: ForecastInput): MonthForecast {
  const { month, now } = input;
  const byDay = costsByDay(input.daily);
  let actualToDate = 0;
  for (const [day, cost] of byDay) if (day >= month.start && day < month.end && day < now) actualToDate += cost;
  const settled = (method: ForecastMethod, historyDays: number): MonthForecast => ({
    actualToDate,
    forecast: actualToDate,
    low: actualToDate,
    // A month over is certain; with no history, what the rest of the month costs is unknown, not nothing.
    high: method === 'complete' ? actualToDate : null,
    method,
    historyDays,
  });
  if (now >= month.end) return settled('complete', 0);

  const today = dayFloor(now);
  const firstDay = input.historyStart === null ? today : Math.max(dayCeil(input.historyStart), today - HISTORY_DAYS * DAY_MS);
  const history: Array<{ day: number; cost: number }> = [];
  for (let day = firstDay; day < today; day += DAY_MS) history.push({ day, cost: byDay.get(day) ?? 0 });
  if (history.length === 0) return settled('no-history', 0);

  const { expected, parameters, group, counts } = expectation(history);
  let remaining = 0;
  let daysLeft = 0;
  const groupDaysLeft = counts.map(() => 0);
  for (let day = dayFloor(Math.max(now, month.start)); day < month.end; day += DAY_MS) {
    // The share of the day still to come: all of a future day, the rest of today.
    const share = (day + DAY_MS - Math.max(now, day)) / DAY_MS;
    remaining += expected(day) * share;
    daysLeft += share;
    groupDaysLeft[group(day)]! += share;
  }
  const forecast = actualToDate + remaining;
  const method = parameters === 7 ? 'weekly-seasonal-28d' : 'flat-mean';
  const low = (margin: number) => Math.round(Math.max(actualToDate, forecast - margin));
  const df = history.length - parameters;
  // One day of history: what a day cost, not how days vary. No high end rather than a certain-looking one.
  if (df < 1) return { actualToDate, forecast: Math.round(forecast), low: low(Infinity), high: null, method, historyDays: history.length };
  const squares = history.reduce((total, { day, cost }) => total + (cost - expected(day)) ** 2, 0);
  const deviation = Math.sqrt(squares / df);
  const meansError = groupDaysLeft.reduce((total, left, g) => total + left ** 2 / counts[g]!, 0);
  const margin = t80(df) * deviation * Math.sqrt(daysLeft + meansError);
  return {
    actualToDate,
    forecast: Math.round(forecast),
    low: low(margin),
    high: Math.round(forecast + margin),
    method,
    historyDays: history.length,
  };
}
