// Budget burn-down: from a budget's limit and its usage so far in its window, when it is projected to run out. Pure.
//
// A calendar window (hour, day, month) is projected linearly: usage goes on at its average rate since the window began,
// or since the ledger did if later (the time before it is unknown, not idle: a deployment begun mid-month spread over the
// whole month ran at a fraction of its rate), so it reaches the limit at now + (limit - used) / rate; no exhaustion date
// when that falls at or after the window's end.
// A rolling window of length L never ends, so it is projected over the next L: its total then is today's total, plus
// what comes at the recent rate, minus what rolls off. Usage already in the window is taken as spread evenly over it (as
// src/policy/windows.ts does for Retry-After), so it rolls off at total / L; the total at now + t is
// total + (recent rate - total / L) x t, which reaches the limit only while the recent rate outruns the roll-off.

export interface BurnDownInput {
  /** In the budget's units: tokens, requests or micro-USD. */
  limit: number;
  used: number;
  now: number;
  /** A calendar window: its start and end. */
  window: { start: number; end: number };
  /**
   * The first moment the budget's scope (its team, its consumer, or everyone: the ledger) held any usage, when it is
   * later than the window's start: the rate is read from there.
   */
  since?: number;
  /** A rolling window instead: its length, and the usage over its latest part (`recentMs` long) to read the rate from. */
  rolling?: { lengthMs: number; recentUsed: number; recentMs: number };
}

export interface BurnDown {
  used: number;
  limit: number;
  /** Never below 0. */
  remaining: number;
  exhausted: boolean;
  /** The projected total when the window ends (rolling: one window length from now). */
  projectedAtEnd: number;
  /** When the limit is projected to be reached (now, if it already is); null if not before the end. */
  exhaustsAt: number | null;
  /** The end the projection runs to. */
  horizon: number;
  method: 'linear-since-window-start' | 'rolling-recent-rate';
}

export function burnDown(input: BurnDownInput): BurnDown {
  const { limit, used, now } = input;
  const exhausted = used >= limit;
  const common = { used, limit, remaining: Math.max(0, limit - used), exhausted };
  if (input.rolling !== undefined) {
    const { lengthMs, recentUsed, recentMs } = input.rolling;
    const slope = recentUsed / Math.max(1, recentMs) - used / lengthMs;
    const horizon = now + lengthMs;
    let exhaustsAt: number | null = exhausted ? now : null;
    if (!exhausted && slope > 0) {
      const reachedIn = (limit - used) / slope;
      if (reachedIn < lengthMs) exhaustsAt = Math.ceil(now + reachedIn);
    }
    return {
      ...common,
      projectedAtEnd: Math.round(Math.max(0, used + slope * lengthMs)),
      exhaustsAt,
      horizon,
      method: 'rolling-recent-rate',
    };
  }
  const { start, end } = input.window;
  const rate = used / Math.max(1, now - Math.max(start, input.since ?? start));
  let exhaustsAt: number | null = exhausted ? now : null;
  if (!exhausted && rate > 0) {
    const reachedAt = now + (limit - used) / rate;
    if (reachedAt < end) exhaustsAt = Math.ceil(reachedAt);
  }
  return {
    ...common,
    projectedAtEnd: Math.round(used + rate * Math.max(0, end - now)),
    exhaustsAt,
    horizon: end,
    method: 'linear-since-window-start',
  };
}
