// What follows every call's answer, composed in one place: meter (count tokens if the provider did not), settle the
// reservation admission made, record. Synchronous for the usual call, whose provider reported its usage: no promise on
// the busiest path. What it returns (counting, a settlement in Redis) runs after the client has its answer; the
// gateway's drain waits for it.
import { meter, needsCounting, price, type Metered } from '../pipeline/meter.js';
import type { Call } from '../pipeline/call.js';
import { record, recordTransaction, type RecordSinks } from '../pipeline/record.js';
import { settle, settleFollowed } from '../pipeline/settle.js';
import type { Usage } from '../../ir/usage.js';
import { costNanoUsd } from '../../metering/cost.js';
import { followedTransaction, type FollowedRecord } from '../stored-responses/followed-records.js';

export function finishCall(sinks: RecordSinks, call: Call): Promise<void> | undefined {
  if (needsCounting(call)) return countThenFinish(sinks, call);
  return settleAndRecord(sinks, call, price(call));
}

async function countThenFinish(sinks: RecordSinks, call: Call): Promise<void> {
  let metered: Metered;
  try {
    metered = await meter(call);
  } catch (error) {
    sinks.logger.error({ requestId: call.requestId, err: (error as Error).message }, 'metering failed; recorded without cost');
    metered = { usage: call.usage, cost: null };
  }
  await settleAndRecord(sinks, call, metered);
}

/** Contract: a reservation made by admission is settled (or given back) here, once, whatever became of the call. */
function settleAndRecord(sinks: RecordSinks, call: Call, metered: Metered): Promise<void> | undefined {
  const settled = call.reservation === null ? undefined : settle(sinks.governance, call.reservation, call, metered);
  record(sinks, call, metered);
  return settled;
}

/**
 * Finishes a background call from its record, in a process other than the one that served it (that one died, or the
 * response was deleted through another): priced, recorded and settled as finishCall would, from what the record kept.
 */
export function finishFollowed(
  sinks: RecordSinks,
  record: FollowedRecord,
  usage: Usage,
  errorClass: string | null,
): Promise<void> | undefined {
  const metered: Metered = { usage, cost: costNanoUsd(usage, record.pricing ?? undefined) };
  recordTransaction(sinks, followedTransaction(record, metered, errorClass, Date.now()));
  return settleFollowed(sinks.governance, record.budgets, record.row.requestId, metered);
}
