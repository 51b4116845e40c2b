// Stage 5: what the call used and cost. Provider usage when reported; otherwise counted with the tokenizer, marked estimated.
import { costMicroUsd } from '../../metering/cost.js';
import { countTextTokens, estimateEmbeddingTokens, estimatePromptTokens } from '../../metering/tokenizer.js';
import type { Call } from './call.js';

/** Whether metering must count tokens itself (an async tokenizer run) rather than price reported figures. */
export function needsCounting(call: Call): boolean {
  if (call.target === null || (call.status >= 400 && call.status !== 499)) return false;
  return !call.usage.reported || (call.status === 499 && call.output !== null);
}

/** Prices reported usage; null when the call has no target or failed, or its model has no price. */
export function price(call: Call): number | null {
  if (call.target === null || (call.status >= 400 && call.status !== 499)) return null;
  return costMicroUsd(call.usage, call.target.pricing);
}

/** Runs after the response is complete, so the tokenizer's cost never lands on the client. */
export async function meter(call: Call): Promise<number | null> {
  if (call.target === null || (call.status >= 400 && call.status !== 499)) return null;
  const usage = call.usage;
  if (!usage.reported) {
    if (call.chat !== null) {
      usage.inputTokens = await estimatePromptTokens(call.chat);
      const output = call.output?.();
      usage.outputTokens = output === undefined ? 0 : Math.round((await countTextTokens(output.texts)) * output.scale);
    } else if (call.embeddings !== null && usage.inputTokens === 0) {
      usage.inputTokens = await estimateEmbeddingTokens(call.embeddings);
    }
  } else if (call.status === 499 && call.output !== null) {
    // The client left mid-stream, so the provider's final output count never came: count what was produced.
    const output = call.output();
    const counted = Math.round((await countTextTokens(output.texts)) * output.scale);
    if (counted > usage.outputTokens) {
      usage.outputTokens = counted;
      usage.reported = false;
    }
  }
  return costMicroUsd(usage, call.target.pricing);
}
