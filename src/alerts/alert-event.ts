// The budget alert Sluice sends to webhooks when a budget's usage crosses one of its alert thresholds.

/** What a budget counts. */
export type BudgetMeasure = 'input_tokens' | 'output_tokens' | 'total_tokens' | 'cost_usd' | 'requests';

/** monitor: the budget only alerts; enforce: it also refuses traffic once the limit is reached. */
export type BudgetMode = 'monitor' | 'enforce';

export interface BudgetAlert {
  /** Unique per event (randomUUID); also sent as x-sluice-event-id, identical on every retry, so receivers can deduplicate. */
  id: string;
  type: 'budget.threshold_crossed';
  /** When the threshold was crossed, ISO 8601. */
  at: string;
  /** Budget name; for an instance of a budget template: "<template>/<consumer>". */
  budget: string;
  /** The template the budget was instantiated from, or null for a plain budget. */
  template: string | null;
  /** Human description of the consumer scope, e.g. "team payments", "consumer checkout-service", "everyone". */
  consumers: string;
  /** Human description of the resource scope, e.g. "model gpt-4o", "provider openai", "any". */
  resources: string;
  measure: BudgetMeasure;
  mode: BudgetMode;
  /** The threshold crossed, as a percentage of the limit (e.g. 80, 100). */
  thresholdPercent: number;
  /** In the measure's unit (USD for cost_usd). */
  limit: number;
  /** Usage in the window so far, same unit as limit. */
  used: number;
  /** The budget window the usage belongs to; start and end ISO 8601. */
  window: { kind: string; start: string; end: string };
}
