// Stage 5: what the call used and cost. Provider usage when reported; otherwise counted with the tokenizer, marked estimated.
import type { Usage } from '../../ir/usage.js';
import { costNanoUsd } from '../../metering/cost.js';
import { countTextTokens, estimateEmbeddingTokens, estimatePromptTokens } from '../../metering/tokenizer.js';
import type { Call } from './call.js';

/** What metering produced: the usage to record and settle (a new object when counted), and its cost. */
export interface Metered {
  usage: Usage;
  /** Integer nano-USD (src/metering/cost.ts). Null when the call has no target or failed, or its model has no price. */
  cost: number | null;
}

/** What metering reads of the call. */
export type MeteredCall = Pick<Readonly<Call>, 'target' | 'status' | 'errorClass' | 'usage' | 'output' | 'chat' | 'embeddings'>;

function failed(call: MeteredCall): boolean {
  return call.target === null || (call.status >= 400 && call.status !== 499);
}

/**
 * A stream that ended before the provider's final figure: the client left (499), the upstream broke off or was cut at
 * its time limit, or it sent an error event. What usage it reported (Anthropic's message_start: output_tokens 1) is not
 * what was produced.
 */
function cutShort(call: MeteredCall): boolean {
  if (call.output === null) return false;
  const errorClass = call.errorClass;
  return call.status === 499 || errorClass === 'stream_interrupted' || errorClass === 'stream_time_limit' || errorClass === 'stream_error';
}

/** Whether metering must count tokens itself (an async tokenizer run) rather than price reported figures. */
export function needsCounting(call: MeteredCall): boolean {
  if (failed(call)) return false;
  return !call.usage.reported || cutShort(call);
}

/** Prices reported usage, as it is. */
export function price(call: MeteredCall): Metered {
  return { usage: call.usage, cost: failed(call) ? null : costNanoUsd(call.usage, call.target!.pricing) };
}

/** Runs after the response is complete, so the tokenizer's cost never lands on the client. */
export async function meter(call: MeteredCall): Promise<Metered> {
  if (failed(call)) return { usage: call.usage, cost: null };
  let usage = call.usage;
  if (!usage.reported) {
    if (call.chat !== null) {
      const inputTokens = await estimatePromptTokens(call.chat);
      const output = call.output?.();
      const outputTokens = output === undefined ? 0 : Math.round((await countTextTokens(output.texts)) * output.scale);
      usage = { ...usage, inputTokens, outputTokens };
    } else if (call.embeddings !== null && usage.inputTokens === 0) {
      usage = { ...usage, inputTokens: await estimateEmbeddingTokens(call.embeddings) };
    }
  } else if (cutShort(call)) {
    // The stream ended early, so the provider's final output count never came: count what was produced.
    const output = call.output!();
    const counted = Math.round((await countTextTokens(output.texts)) * output.scale);
    if (counted > usage.outputTokens) usage = { ...usage, outputTokens: counted, reported: false };
  }
  return { usage, cost: costNanoUsd(usage, call.target!.pricing) };
}
