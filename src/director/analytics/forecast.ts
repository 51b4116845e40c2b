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
// 5. Range: residuals are the history days' costs minus their expected cost; s is their standard deviation (n - 7 degrees
//    of freedom seasonal, n - 1 flat). Treating days as independent, the rest of the month's error has a standard
//    deviation of s x sqrt(days left), so low/high = forecast -/+ 1.2816 x s x sqrt(days left): an 80% interval (10% each
//    side) under a normal error. low never goes below the actual to date: spend already made cannot shrink.
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
  /** No full day of history yet: the actual so far, nothing projected. */
  | 'no-history';

export interface MonthForecast {
  actualToDate: number;
  forecast: number;
  /** The 80% interval. */
  low: number;
  high: number;
  method: ForecastMethod;
  /** Full days of history the projection used. */
  historyDays: number;
}

export const HISTORY_DAYS = 28;
export const SEASONAL_MIN_DAYS = 14;
/** The standard normal's 90th percentile: +/- it bounds the central 80%. */
export const Z_80 = 1.2816;

function costsByDay(daily: readonly DailyCost[]): Map<number, number> {
  const byDay = new Map<number, number>();
  for (const { dayStart, costNanoUsd } of daily) {
    const day = dayFloor(dayStart);
    byDay.set(day, (byDay.get(day) ?? 0) + costNanoUsd);
  }
  return byDay;
}

const weekday = (day: number) => new Date(day).getUTCDay();

/** The expected cost of a day, and the parameters it took (for the residuals' degrees of freedom). */
function expectation(history: ReadonlyArray<{ day: number; cost: number }>): { expected: (day: number) => number; parameters: number } {
  const mean = history.reduce((total, { cost }) => total + cost, 0) / history.length;
  if (history.length < SEASONAL_MIN_DAYS) return { expected: () => mean, parameters: 1 };
  // Two weeks or more: every weekday has at least two days in the history.
  const totals = new Array<number>(7).fill(0);
  const counts = new Array<number>(7).fill(0);
  for (const { day, cost } of history) {
    totals[weekday(day)]! += cost;
    counts[weekday(day)]! += 1;
  }
  return { expected: (day) => totals[weekday(day)]! / counts[weekday(day)]!, parameters: 7 };
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
    high: actualToDate,
    method,
    historyDays,
  });
  if (now >= month.end) return settled('complete', 0);

  const today = dayFloor(now);
  const firstDay = input.historyStart === null ? today : Math.max(dayCeil(input.historyStart), today - HISTORY_DAYS * DAY_MS);
  const history: Array<{ day: number; cost: number }> = [];
  for (let day = firstDay; day < today; day += DAY_MS) history.push({ day, cost: byDay.get(day) ?? 0 });
  if (history.length === 0) return settled('no-history', 0);

  const { expected, parameters } = expectation(history);
  let remaining = 0;
  let daysLeft = 0;
  for (let day = dayFloor(Math.max(now, month.start)); day < month.end; day += DAY_MS) {
    // The share of the day still to come: all of a future day, the rest of today.
    const share = (day + DAY_MS - Math.max(now, day)) / DAY_MS;
    remaining += expected(day) * share;
    daysLeft += share;
  }
  const squares = history.reduce((total, { day, cost }) => total + (cost - expected(day)) ** 2, 0);
  const deviation = history.length > parameters ? Math.sqrt(squares / (history.length - parameters)) : 0;
  const margin = Z_80 * deviation * Math.sqrt(daysLeft);
  const forecast = actualToDate + remaining;
  return {
    actualToDate,
    forecast: Math.round(forecast),
    low: Math.round(Math.max(actualToDate, forecast - margin)),
    high: Math.round(forecast + margin),
    method: parameters === 7 ? 'weekly-seasonal-28d' : 'flat-mean',
    historyDays: history.length,
  };
}
