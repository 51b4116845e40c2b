// Budget burn-down: from a budget's limit and its usage so far in its window, when it is projected to run out. Pure.
//
// A calendar window (hour, day, month) is projected linearly: usage goes on at its average rate since the window began,
// or since the ledger did if later (the time before it is unknown, not idle: a deployment begun mid-month spread over the
// whole month ran at a fraction of its rate), so it reaches the limit at now + (limit - used) / rate; no exhaustion date
// when that falls at or after the window's end.
// A rolling window of length L never ends, so it is projected over the next L: its total then is today's total, plus
// what comes at the recent rate, minus what rolls off. Usage already in the window is taken as spread evenly over it (a
// projection's simplification: Retry-After, src/policy/windows.ts, reads the counter's buckets), so it rolls off at
// total / L; the total at now + t is
// total + (recent rate - total / L) x t, which reaches the limit only while the recent rate outruns the roll-off.
// When the usage began inside the window (the ledger's, or the scope's first call, `since`), it is spread over the time
// since then, H, not over L: nothing rolls off for the first L - H, the total growing at the recent rate, and then it
// rolls off at total / H; the recent rate is read over the part of the latest quarter since then.

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
  /**
   * A rolling window instead: its length, and the usage over its latest part (`recentMs` long) to read the rate from;
   * `since`, when given, applies to both.
   */
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
    // How much of the window held usage, H: all of it, unless the usage began inside it.
    const heldMs = Math.max(1, Math.min(lengthMs, now - (input.since ?? now - lengthMs)));
    // The latest quarter is read over the part of it since the usage began (with no `since`, all of it).
    const recentHeldMs = input.since === undefined ? recentMs : Math.min(recentMs, now - input.since);
    const rate = recentUsed / Math.max(1, recentHeldMs);
    const quietMs = lengthMs - heldMs;
    const slope = rate - used / heldMs;
    const horizon = now + lengthMs;
    let exhaustsAt: number | null = exhausted ? now : null;
    if (!exhausted && rate > 0) {
      // Growing at the recent rate while nothing rolls off, then at that rate less the roll-off.
      const atQuietEnd = used + rate * quietMs;
      const reachedIn = atQuietEnd >= limit ? (limit - used) / rate : slope > 0 ? quietMs + (limit - atQuietEnd) / slope : Infinity;
      if (reachedIn < lengthMs) exhaustsAt = Math.ceil(now + reachedIn);
    }
    return {
      ...common,
      // One window on, all of today's usage has rolled off: what is left is a window at the recent rate.
      projectedAtEnd: Math.round(rate * lengthMs),
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
