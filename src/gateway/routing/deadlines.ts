// The deadlines of upstream exchanges (the wait for an answer's head, the silences in its body, a stream's whole time),
// kept by one sweep over the exchanges in flight rather than a timer per exchange. Given timeouts, undici arms a timer
// of its own for each phase of each request, a new one whenever the next phase's limit differs (the head's wait from
// the body's silence, and either from the kept-alive socket's idle timer): two per non-streamed call. A cleared one
// stays in undici's timer list until its next tick, half a second on, so they outlived the young generation's
// collections, made most of what a call promoted to the old one (some 200 of 230 bytes) and so most of its full
// collections. A stream's whole time is no timer either: it caps the deadline each phase sets.
import { errors } from '../../wire/undici.js';

/** An exchange whose deadline the sweep watches. */
export interface Expiring {
  /** When the current phase's limit runs out, on clock(); Infinity while there is none (a paused body, its length unlimited). */
  readonly deadline: number;
  /** Its place in the watched list (-1 when not watched), kept by watch() and unwatch() alone. */
  watchSlot: number;
  /** The deadline has passed: the exchange fails with the phase's timeout error. */
  expire(): void;
}

/**
 * How often deadlines are looked at: at most this, so a minute-long limit runs out within half a second of its time
 * (as undici's own timers do); for short limits a quarter of the shortest one watched, so a 300 ms limit fires by 375 ms.
 */
const SWEEP_MS = 500;
const MIN_SWEEP_MS = 10;

/**
 * The exchanges watched, in no order: a removal moves the last one into the freed place. A Set was tried first: with
 * one add and one delete per call, the exchanges' whole graph of objects (undici's request, the call's state, the
 * answer's chunks) was promoted to the old generation, 950 bytes a call against 31 with this list.
 */
const watched: Expiring[] = [];
let sweeper: NodeJS.Timeout | null = null;
let period = SWEEP_MS;
/** When the sweep last ran, or was started (performance.now()). */
let lastSweep = 0;
/**
 * How long this process has been held, in all: the time by which its sweeps came later than due (a long garbage
 * collection, a machine out of CPU). While held the gateway reads nothing: an upstream's bytes sent meanwhile wait in its
 * socket, and the first sweep after the hold runs before they are read (timers come before I/O in each turn of the event
 * loop). Counted as the upstream's silence, such a hold cut a healthy stream whenever it outlasted the limit.
 */
let held = 0;

/**
 * Milliseconds on a monotonic clock (a wall clock set forward would time out every call in flight at once), less the
 * time the process was held: a limit counts only the time the gateway could have read. It may step back at a sweep
 * after a hold, which only puts the deadlines set just before it later.
 */
export function clock(): number {
  return performance.now() - held;
}

/** Watches `item` until unwatch(); `shortestMs`: the shortest limit it will have, which sets how often to look. */
export function watch(item: Expiring, shortestMs: number): void {
  if (item.watchSlot === -1) {
    item.watchSlot = watched.length;
    watched.push(item);
  }
  const wanted = Math.max(MIN_SWEEP_MS, Math.min(SWEEP_MS, Math.floor(shortestMs / 4)));
  if (sweeper !== null && wanted >= period) return;
  if (sweeper !== null) clearInterval(sweeper);
  period = wanted;
  lastSweep = performance.now();
  // Unref'd: a deadline never keeps the process alive; the exchange's socket does while it lasts.
  sweeper = setInterval(sweep, period).unref();
}

export function unwatch(item: Expiring): void {
  const slot = item.watchSlot;
  if (slot === -1) return;
  item.watchSlot = -1;
  const last = watched.pop()!;
  if (last !== item) {
    watched[slot] = last;
    last.watchSlot = slot;
  }
}

function sweep(): void {
  const at = performance.now();
  const late = at - lastSweep - period;
  lastSweep = at;
  if (late > 0) held += late;
  // Stopped at the first sweep that finds nothing to watch (kept across the gaps between calls of a busy gateway).
  if (watched.length === 0) {
    clearInterval(sweeper!);
    sweeper = null;
    period = SWEEP_MS;
    return;
  }
  const now = at - held;
  // From the end: an expiring exchange unwatches itself, moving the last one into its place, already looked at; the
  // list stays at least i + 1 long while index i is looked at.
  for (let i = watched.length - 1; i >= 0; i--) {
    const item = watched[i]!;
    if (item.deadline <= now) item.expire();
  }
}

/**
 * undici's own errors for the two limits, so callers tell a timeout by the same codes as before; in words a client can
 * read where the error's message reaches it (a stream cut after its first bytes).
 */
export function headersTimeout(): Error {
  return new errors.HeadersTimeoutError('timed out waiting for response headers');
}

export function bodyTimeout(): Error {
  return new errors.BodyTimeoutError('timed out waiting for the body');
}

/**
 * An exchange that ran past its whole time however steadily its bytes came: a stream past retry.maxStreamMs, a whole
 * answer past retry.timeoutMs. Its exchange was aborted there. Before a stream is committed, and for a whole answer, it
 * is a timeout like the others (the next target); after, the client's stream ends.
 */
export class TimeLimit extends Error {
  readonly limitMs: number;

  constructor(limitMs: number, stream: boolean) {
    super(
      stream
        ? `the stream ran past the ${limitMs} ms a stream may last (maxStreamMs)`
        : `the answer took longer than the ${limitMs} ms an attempt may wait for it (timeoutMs)`,
    );
    this.name = 'TimeLimit';
    this.limitMs = limitMs;
  }
}
