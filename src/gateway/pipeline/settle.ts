// Stage 6a: settlement. A call's reservation becomes its real usage: the difference between what it used and what was
// reserved is added to every budget it was reserved in (a failed call gives its tokens back; a budget scoped to a
// provider that did not serve the call gives all of it back), then threshold alerts are checked on the new figures.
import type { Measure } from '../../config/governance-schema.js';
import { CounterStoreUnavailable, type CounterLine } from '../../counters/counter-store.js';
import { coversTarget, type Budget } from '../../policy/budgets.js';
import type { FollowedBudgetLine } from '../stored-responses/followed-records.js';
import type { Governance } from '../../policy/governance.js';
import { AMOUNT, FIGURES, PREVIOUS_WEIGHT, TTL_MS, type Reservation } from './admit.js';
import type { Call } from './call.js';
import type { Metered } from './meter.js';

/** What settlement reads of the call. */
export type SettledCall = Pick<Readonly<Call>, 'requestId' | 'target' | 'status'>;

/** Never throws: counter trouble after the answer was sent is logged and metered, not the client's problem. */
export function settle(governance: Governance, reservation: Reservation, call: SettledCall, metered: Metered): Promise<void> | undefined {
  const served = call.target !== null && (call.status < 400 || call.status === 499);
  const { budgets, keys, figures } = reservation;
  const lines: CounterLine[] = new Array(budgets.length);
  for (let i = 0; i < budgets.length; i++) {
    const budget = budgets[i]!;
    const budgetKeys = keys[i]!;
    const at = i * FIGURES;
    lines[i] = {
      key: budgetKeys.key,
      previousKey: budgetKeys.previousKey,
      previousWeight: figures[at + PREVIOUS_WEIGHT]!,
      limit: budget.limit,
      amount: used(budget, call, served, metered) - figures[at + AMOUNT]!,
      enforce: false,
      ttlMs: figures[at + TTL_MS]!,
      reserved: figures[at + AMOUNT]!,
    };
  }
  const now = governance.clock.now();
  let pending: number[] | Promise<number[]>;
  try {
    pending = governance.store.settle(now, lines);
  } catch (error) {
    governance.counterTrouble('settle', 'lost', error as Error);
    return undefined;
  }
  if (pending instanceof Promise) {
    return pending.then(
      (used) => alert(governance, reservation, used, now),
      (error: unknown) => {
        if (error instanceof CounterStoreUnavailable) governance.counterTrouble('settle', 'lost', error);
        else governance.logger.error({ requestId: call.requestId, err: (error as Error).message }, 'settlement failed');
      },
    );
  }
  return alert(governance, reservation, pending, now);
}

/**
 * Settles a background call finished from its record (stored-responses/followed-records.ts), by whichever process took
 * it: what it used minus what its reservation added to the shared counters. No alerts: its window positions are gone
 * with the process that reserved it. Never throws.
 */
export function settleFollowed(
  governance: Governance,
  budgets: readonly FollowedBudgetLine[],
  requestId: string,
  metered: Metered,
): Promise<void> | undefined {
  if (budgets.length === 0) return undefined;
  const lines: CounterLine[] = budgets.map((line) => ({
    key: line.key,
    previousKey: line.previousKey,
    previousWeight: line.previousWeight,
    limit: line.limit,
    amount: amountUsed(line.measure, line.covers, true, metered) - line.reserved,
    enforce: false,
    ttlMs: line.ttlMs,
    reserved: line.reserved,
  }));
  let pending: number[] | Promise<number[]>;
  try {
    pending = governance.store.settle(governance.clock.now(), lines);
  } catch (error) {
    governance.counterTrouble('settle', 'lost', error as Error);
    return undefined;
  }
  if (!(pending instanceof Promise)) return undefined;
  return pending.then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof CounterStoreUnavailable) governance.counterTrouble('settle', 'lost', error);
      else governance.logger.error({ requestId, err: (error as Error).message }, 'settlement failed');
    },
  );
}

function used(budget: Budget, call: SettledCall, served: boolean, metered: Metered): number {
  // Requests count whether or not the provider served them: a rate limit protects the gateway and the provider alike.
  if (budget.measure === 'requests') return call.target === null || coversTarget(budget.resources, call.target) ? 1 : 0;
  if (!served || !coversTarget(budget.resources, call.target!)) return 0;
  return amountUsed(budget.measure, true, true, metered);
}

/**
 * What a call used of one budget's measure: `covered`, whether the budget's scope covers the target that served it (or
 * no target did); `served`, whether a provider served it.
 */
export function amountUsed(measure: Measure, covered: boolean, served: boolean, metered: Metered): number {
  if (measure === 'requests') return covered ? 1 : 0;
  if (!served || !covered) return 0;
  const usage = metered.usage;
  switch (measure) {
    case 'input_tokens':
      return usage.inputTokens;
    case 'output_tokens':
      return usage.outputTokens;
    case 'total_tokens':
      return usage.inputTokens + usage.outputTokens;
    case 'cost_usd':
      return metered.cost ?? 0;
  }
}

function alert(governance: Governance, reservation: Reservation, used: number[], now: number): Promise<void> | undefined {
  const positions = reservation.positions;
  if (positions === null) return undefined; // no budget of the call has alerts
  let pending: Promise<void>[] | undefined;
  for (let i = 0; i < reservation.budgets.length; i++) {
    const position = positions[i]!;
    if (position === null) continue; // a budget without alerts
    const checked = governance.alerts.check(now, reservation.budgets[i]!, reservation.keys[i]!.counter, position, used[i]!);
    if (checked !== undefined) (pending ??= []).push(checked);
  }
  if (pending === undefined) return undefined;
  return Promise.all(pending).then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof CounterStoreUnavailable) governance.counterTrouble('alert', 'lost', error);
      else governance.logger.error({ err: (error as Error).message }, 'alert failed');
    },
  );
}
