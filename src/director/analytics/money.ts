// Integer micro-USD rendered as a USD decimal string, by integer arithmetic: no float ever carries the amount. Costs are
// counted in integer nano-USD (src/metering/cost.ts); the API shows them as whole micro-USD, as it always has, and
// exactly as nano-USD beside them.
import { microFromNano } from '../../metering/cost.js';

const MICROS_PER_USD = 1_000_000;

/** 1234567 -> "1.234567"; -5 -> "-0.000005". Always six decimals, as chargeback sheets and APIs want them. */
export function formatUsd(microUsd: number): string {
  if (!Number.isSafeInteger(microUsd)) throw new RangeError(`not an integer amount of micro-USD: ${microUsd}`);
  const sign = microUsd < 0 ? '-' : '';
  const magnitude = Math.abs(microUsd);
  const whole = Math.floor(magnitude / MICROS_PER_USD);
  const fraction = magnitude % MICROS_PER_USD;
  return `${sign}${whole}.${String(fraction).padStart(6, '0')}`;
}

/** Integer nano-USD as a six-decimal USD string: rounded to the micro-USD once, after summing, never per call. */
export function formatNanoUsd(nanoUsd: number): string {
  return formatUsd(microFromNano(nanoUsd));
}

/**
 * How the API shows an amount of integer nano-USD: `microUsd`, whole micro-USD (rounded half away from zero, the field's
 * unit since the first version), `nanoUsd`, the exact figure, and `usd`, the micro-USD as a USD decimal for people.
 */
export function money(nanoUsd: number): { microUsd: number; nanoUsd: number; usd: string } {
  const microUsd = microFromNano(nanoUsd);
  return { microUsd, nanoUsd, usd: formatUsd(microUsd) };
}
