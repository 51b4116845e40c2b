// The governance every governed bench target runs with: five budgets, a budget template's budget for the consumer, a
// rate limit on every call (8 counter lines reserved and settled per call), and sanctioning with unsanctioned and
// unreviewed resources enforced. Limits no run comes near: every call is checked against all of them, none refused.
// The config it goes into names provider `mock`, model `gpt-4o-mini` and consumer `bench` of team `perf`.

/** Counter lines each call reserves and settles under this governance. */
export const BUDGET_LINES = 8;
const LIMIT = 1_000_000_000_000;

/** The YAML, `counters` being what follows `counters:` (`memory`, or a Redis store's settings). */
export function governanceYaml(counters: string): string {
  return `
budgets:
  - { name: bench-cost-month, consumers: everyone, measure: cost_usd, limit: 1000000, window: month }
  - { name: bench-consumer-tokens-day, consumers: { consumer: bench }, measure: total_tokens, limit: ${LIMIT}, window: day }
  - { name: bench-team-input-hour, consumers: { team: perf }, measure: input_tokens, limit: ${LIMIT}, window: hour }
  - { name: bench-model-requests-1h, resources: { model: gpt-4o-mini }, measure: requests, limit: ${LIMIT}, window: { rolling: 1h } }
  - { name: bench-provider-output-24h, resources: { provider: mock }, measure: output_tokens, limit: ${LIMIT}, window: { rolling: 24h } }
budgetTemplates:
  - { name: bench-team-daily, selector: { team: perf }, measure: requests, limit: ${LIMIT}, window: day }
resources:
  mock/gpt-4o-mini: sanctioned
resourcePolicy: { unsanctioned: enforce, unreviewed: enforce }
rateLimits:
  - { name: bench-rate, consumers: { consumer: bench }, per: consumer, tokensPerMinute: ${LIMIT}, requestsPerMinute: ${LIMIT} }
counters: ${counters}
`;
}
