// How the console shows amounts, counts and times: USD from exact micro-USD, thousands separators, UTC dates.

const usdFormat = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const smallUsdFormat = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 4,
  maximumFractionDigits: 4,
});
const countFormat = new Intl.NumberFormat('en-US');
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/**
 * Cents for a cent or more; four decimals below a cent, so a single cheap call does not read as $0.00; and below half a
 * hundredth of a cent, which four decimals would round to $0.0000, "<$0.0001": a cost, not none.
 */
export function usd(microUsd: number): string {
  const value = microUsd / 1_000_000;
  if (value === 0 || Math.abs(value) >= 0.01) return usdFormat.format(value);
  if (Math.abs(microUsd) < 50) return `${value < 0 ? '-' : ''}<$0.0001`;
  return smallUsdFormat.format(value);
}

/**
 * What the console calls a consumer's or a ledger row's missing team, on every page: the API answers it as null (a
 * consumer, a transaction) or '' (usage and chargeback groups).
 */
export const NO_TEAM = 'no team';

/** A team's name, or NO_TEAM for none. */
export function teamName(team: string | null | undefined): string {
  return team === null || team === undefined || team === '' ? NO_TEAM : team;
}

/**
 * What the console calls traffic of no consumer (an undeclared caller's, until reconciliation attributes it), on every
 * page: the term of the CLI (`(unattributed)`) and docs/reconciliation.md. The API answers it as null (a transaction)
 * or '' (a usage group).
 */
export const UNATTRIBUTED = 'unattributed';

/** A consumer's (or a model's, a provider's) name in a usage group, or UNATTRIBUTED for none. */
export function groupName(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? UNATTRIBUTED : value;
}

/** A duration in whole milliseconds. */
export function ms(value: number): string {
  return `${countFormat.format(Math.round(value))} ms`;
}

export function count(value: number): string {
  return countFormat.format(value);
}

export function compact(value: number): string {
  return compactFormat.format(value);
}

export function dateTime(iso: string | null): string {
  if (iso === null) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function day(iso: string): string {
  return new Date(iso).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

export function monthLabel(month: string): string {
  return new Date(`${month}-01T00:00:00Z`).toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

const HOUR = 3_600_000;

export function hourFloor(ms: number): number {
  return Math.floor(ms / HOUR) * HOUR;
}

export function monthStart(ms: number, offset = 0): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1);
}

export function monthName(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function isoHour(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** An amount in a budget's unit. */
export function inUnit(amount: number, unit: string): string {
  if (unit === 'microUsd') return usd(amount);
  return `${count(amount)} ${unit}`;
}
