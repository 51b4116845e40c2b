// How the console shows amounts, counts and times: USD from exact nano-USD, thousands separators, UTC dates.
import type { BurnDown, Instance } from './api';

const usdFormat = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
/** Below a cent: two significant digits, as many decimals as they need (nine at most: costs are whole nano-USD). */
const smallUsdFormat = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumSignificantDigits: 2,
});
const countFormat = new Intl.NumberFormat('en-US');
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

const NANOS_PER_USD = 1_000_000_000;

/** An amount the API gives (a Money) to the nano-USD: its nanoUsd, or for a director before it its micro-USD x 1,000. */
export function nanoOf(money: { microUsd: number; nanoUsd?: number }): number {
  return money.nanoUsd ?? money.microUsd * 1000;
}

/**
 * An amount of integer nano-USD for people: cents for a cent or more; below a cent, two significant digits, so a single
 * cheap call does not read as $0.00 (450 micro-USD is $0.00045, a 60 nano-USD embedding $0.00000006). exactUsd gives
 * every digit, for a tooltip.
 */
export function usd(nanoUsd: number): string {
  const value = nanoUsd / NANOS_PER_USD;
  if (value === 0 || Math.abs(value) >= 0.01) return usdFormat.format(value);
  return smallUsdFormat.format(value);
}

/** An amount of integer nano-USD to its last digit, by integer arithmetic: 60 -> "$0.00000006", 1234567891 -> "$1.234567891". */
export function exactUsd(nanoUsd: number): string {
  const sign = nanoUsd < 0 ? '-' : '';
  const magnitude = Math.abs(Math.round(nanoUsd));
  const whole = Math.floor(magnitude / NANOS_PER_USD);
  const fraction = String(magnitude % NANOS_PER_USD)
    .padStart(9, '0')
    .replace(/0{1,7}$/, '');
  return `${sign}$${countFormat.format(whole)}.${fraction.padEnd(2, '0')}`;
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

/** An amount in a budget's unit (the API's whole micro-USD for cost; nanoUsd where it gives the exact figure). */
export function inUnit(amount: number, unit: string): string {
  if (unit === 'microUsd') return usd(amount * 1000);
  if (unit === 'nanoUsd') return usd(amount);
  return `${count(amount)} ${unit}`;
}

/**
 * A burn-down's or a template instance's limit or use in its unit: a cost budget's to the nano-USD where the API gives
 * them (nanoUsd), else from its whole micro-USD. Not for an instance's untracked use (null).
 */
export function burnAmount(burn: Pick<BurnDown, 'unit' | 'limit' | 'used' | 'nanoUsd'> | Instance, figure: 'limit' | 'used'): string {
  const exact = burn.nanoUsd?.[figure];
  return exact === undefined || exact === null ? inUnit(burn[figure] ?? 0, burn.unit) : usd(exact);
}
