// Integer micro-USD rendered as a USD decimal string, by integer arithmetic: no float ever carries the amount.

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

/** How the API shows an amount: exact integer micro-USD, and the same as a USD decimal for people. */
export function money(microUsd: number): { microUsd: number; usd: string } {
  return { microUsd, usd: formatUsd(microUsd) };
}
