// `sluice demo`'s made-up history is recorded as the gateway records calls: each call's cost and response-cache saving
// to the nano-USD (whole micro-USD, that rounded once, beside them), and the discovery proxy's reports with their exact
// cost, so the demo's figures are the exact sums the console shows for real traffic, not sums of rounded calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { historyCalls, historyObservations, MISTRAL_PRICING, pricingOf } from '../../src/demo/scenario.js';
import { nanoCostOf, nanoSavedOf } from '../../src/ir/transaction.js';
import { costNanoUsd, microFromNano } from '../../src/metering/cost.js';
import { PriceCatalog } from '../../src/metering/price-catalog.js';

const DAY = 86_400_000;
const TO = Date.UTC(2026, 11, 8, 12);
const calls = historyCalls(TO - 3 * DAY, TO);

/** A call's tokens as the gateway prices them. */
function tokens(call: { inputTokens: number; outputTokens: number; cachedInputTokens?: number; cacheWriteTokens?: number }, prefix = true) {
  return {
    inputTokens: call.inputTokens,
    outputTokens: call.outputTokens,
    cachedInputTokens: prefix ? (call.cachedInputTokens ?? 0) : 0,
    cacheWriteTokens: prefix ? (call.cacheWriteTokens ?? 0) : 0,
    reported: true,
  };
}

test('every history call costs (or, answered from the response cache, saves) what its tokens cost, to the nano-USD', () => {
  let costed = 0;
  let saved = 0;
  let underAMicro = 0;
  for (const call of calls) {
    const pricing = pricingOf(call.requestedModel!);
    if (call.status !== 200) {
      assert.equal(nanoCostOf(call), null, call.requestId);
    } else if (call.attempts === 0) {
      const exact = costNanoUsd(tokens(call, false), pricing)!;
      assert.equal(nanoSavedOf(call), exact, call.requestId);
      assert.equal(call.savedMicroUsd, microFromNano(exact), call.requestId);
      assert.equal(nanoCostOf(call), 0, call.requestId);
      saved++;
    } else {
      const exact = costNanoUsd(tokens(call), pricing)!;
      assert.equal(nanoCostOf(call), exact, call.requestId);
      assert.equal(call.costMicroUsd, microFromNano(exact), call.requestId);
      if (exact % 1000 !== 0) underAMicro++;
      costed++;
    }
  }
  // Cached prompt prefixes (gpt-4o-mini's $0.075 per 1M) cost fractions of a micro-USD, which whole micro-USD dropped.
  assert.ok(costed > 100 && saved > 10 && underAMicro > costed / 2, `${costed} costed, ${saved} saved, ${underAMicro} under a micro-USD`);
});

test("the discovery proxy's reports in the history carry their exact cost", () => {
  const catalog = new PriceCatalog();
  const observations = historyObservations(TO, 14);
  assert.ok(observations.length > 0);
  for (const observation of observations) {
    const pricing = observation.provider === 'mistral' ? MISTRAL_PRICING : catalog.lookup(observation.provider, observation.model);
    const exact = costNanoUsd(tokens(observation, false), pricing)!;
    const reported = observation as { costMicroUsd: number | null; costNanoUsd?: number | null };
    // The intake takes costNanoUsd where given, else costMicroUsd x 1,000 (docs/reconciliation.md).
    assert.equal(reported.costNanoUsd ?? reported.costMicroUsd! * 1000, exact, `${observation.model} at ${observation.at}`);
    assert.equal(reported.costMicroUsd, microFromNano(exact));
  }
});
