// UTC hours, days and calendar months as epoch milliseconds: the grain of the rollups and of every report built on them.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface Span {
  /** Inclusive. */
  start: number;
  /** Exclusive. */
  end: number;
}

export function hourFloor(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

/** The first whole hour at or after `at`: the exclusive end of a range that includes the hour now under way. */
export function hourCeil(at: number): number {
  return Math.ceil(at / HOUR_MS) * HOUR_MS;
}

export function dayFloor(at: number): number {
  return Math.floor(at / DAY_MS) * DAY_MS;
}

/** The first midnight at or after `at`: where the first full day from `at` begins. */
export function dayCeil(at: number): number {
  return Math.ceil(at / DAY_MS) * DAY_MS;
}

/** Midnight UTC on the 1st of the month holding `at`. */
export function monthFloor(at: number): number {
  const date = new Date(at);
  return monthStart(date.getUTCFullYear(), date.getUTCMonth());
}

/** `2026-12` -> December 2026 in UTC; null for anything else. */
export function parseMonth(text: string): Span | null {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text);
  if (match === null) return null;
  const [year, month] = [Number(match[1]), Number(match[2]) - 1];
  return { start: monthStart(year, month), end: monthStart(year, month + 1) };
}

/** Midnight UTC on the 1st; unlike Date.UTC, years 0 to 99 are those years, not 1900 to 1999. */
function monthStart(year: number, month: number): number {
  return new Date(0).setUTCFullYear(year, month, 1);
}

/** The `YYYY-MM` of the UTC month holding `at`. */
export function monthName(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}
