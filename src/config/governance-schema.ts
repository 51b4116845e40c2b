// The governance parts of sluice.yaml: resource statuses, budgets, budget templates, rate limits, counters and alerts.
import { z } from 'zod';
import { headersRecord, httpUrl, labelsRecord, nameText, TEXT_LIMITS } from './limits.js';

/** `30s`, `15m`, `24h`, `7d`: the length of a rolling window. */
export const DURATION = /^([1-9][0-9]*)(s|m|h|d)$/;
const DURATION_UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The milliseconds of a duration DURATION matched. */
export function durationMs(text: string): number {
  const match = DURATION.exec(text)!;
  return Number(match[1]) * DURATION_UNIT_MS[match[2]!]!;
}

const window = z.union([
  z.enum(['minute', 'hour', 'day', 'month']),
  z
    .object({ rolling: z.string().max(32).regex(DURATION, 'a duration such as 30m, 24h or 7d').describe('a duration such as 24h') })
    .strict(),
]);

/** A resource: provider/model. */
function resourceId() {
  return z
    .string()
    .max(TEXT_LIMITS.name + 1 + TEXT_LIMITS.providerModel)
    .regex(/^[^/]+\/.+$/, 'provider/model');
}

/** Who a budget covers: one consumer, a team, or everyone. */
const consumerScope = z.union([
  z.literal('everyone'),
  z.object({ consumer: nameText() }).strict(),
  z.object({ team: nameText() }).strict(),
]);

/** Which calls a budget covers: one Sluice model, one provider, one resource (provider/model), or any. */
const resourceScope = z.union([
  z.literal('any'),
  z.object({ model: nameText() }).strict(),
  z.object({ provider: nameText() }).strict(),
  z.object({ resource: resourceId() }).strict(),
]);

export const MEASURES = ['input_tokens', 'output_tokens', 'total_tokens', 'cost_usd', 'requests'] as const;

const onExhausted = z.union([z.literal('refuse'), z.object({ downgrade: nameText() }).strict()]);

/** What a budget and a template share: everything but whom it binds. */
const budgetTerms = {
  resources: resourceScope.default('any'),
  measure: z.enum(MEASURES),
  /** Tokens, requests, or USD for cost_usd. */
  limit: z.number().positive(),
  window,
  mode: z.enum(['monitor', 'enforce']).default('enforce'),
  /** Percentages of the limit at which one alert per window is sent. */
  alerts: z.array(z.number().positive().max(1000)).max(20).default([]),
  onExhausted: onExhausted.default('refuse'),
};

/** The smallest cost limit, in USD: costs are counted in whole nano-USD (src/metering/cost.ts). */
const MIN_COST_LIMIT_USD = 0.000000001;

/**
 * A cost limit is counted in whole nano-USD (the limit x 1,000,000,000, rounded: src/policy/budgets.ts' costLimitNanoUsd):
 * one under a nano-USD would be a limit of 0, which an enforced budget reaches before its first call, refusing them all.
 */
function costLimitCountable(terms: { measure: Measure; limit: number }, context: z.RefinementCtx): void {
  if (terms.measure === 'cost_usd' && terms.limit < MIN_COST_LIMIT_USD) {
    context.addIssue({
      code: 'custom',
      path: ['limit'],
      message: `a cost_usd limit is at least ${MIN_COST_LIMIT_USD.toFixed(9)} (USD; costs are counted in whole nano-USD)`,
    });
  }
}

const budget = z
  .object({
    name: nameText().regex(/^[^/]+$/, 'a name without "/"'),
    consumers: consumerScope.default('everyone'),
    ...budgetTerms,
  })
  .strict()
  .superRefine(costLimitCountable);

/** Which consumers a template is materialized for: a team, consumers carrying all the given labels, or everyone. */
const selector = z.union([z.literal('everyone'), z.object({ team: nameText() }).strict(), z.object({ labels: labelsRecord() }).strict()]);

const template = z
  .object({
    name: nameText().regex(/^[^/]+$/, 'a name without "/"'),
    selector,
    ...budgetTerms,
  })
  .strict()
  .superRefine(costLimitCountable);

const rateLimit = z
  .object({
    name: nameText().regex(/^[^/]+$/, 'a name without "/"'),
    consumers: consumerScope.default('everyone'),
    resources: resourceScope.default('any'),
    /** `consumer`: every consumer in scope has its own counters; `shared`: the scope shares one. */
    per: z.enum(['consumer', 'shared']).default('consumer'),
    tokensPerMinute: z.number().int().positive().optional(),
    requestsPerMinute: z.number().int().positive().optional(),
    mode: z.enum(['monitor', 'enforce']).default('enforce'),
  })
  .strict()
  .refine((limit) => limit.tokensPerMinute !== undefined || limit.requestsPerMinute !== undefined, {
    message: 'set tokensPerMinute, requestsPerMinute or both',
  });

const resourceAction = z.enum(['allow', 'monitor', 'enforce']);

export const governanceFields = {
  /** Resource (provider/model) -> status; a resource not listed is unreviewed. */
  resources: z.record(resourceId(), z.enum(['sanctioned', 'unsanctioned', 'unreviewed'])).default({}),
  resourcePolicy: z
    .object({
      /** What a call to an unsanctioned resource gets: enforce (403), monitor (served, logged and counted) or allow. */
      unsanctioned: resourceAction.default('enforce'),
      unreviewed: resourceAction.default('allow'),
    })
    .strict()
    .default({ unsanctioned: 'enforce', unreviewed: 'allow' }),
  budgets: z.array(budget).default([]),
  budgetTemplates: z.array(template).default([]),
  rateLimits: z.array(rateLimit).default([]),
  admission: z
    .object({
      /** The output reserved for a call that names no max_tokens. */
      defaultMaxTokens: z.number().int().positive().default(4096),
      /** The searches reserved for a provider's search tool the call sets no bound on (max_uses, max_tool_calls). */
      defaultMaxSearches: z.number().int().nonnegative().default(5),
      /**
       * A call an enforced cost budget covers, to a model with a target that has no price: admitted and counted at $0
       * (warned of at start and reload), or refused with a 403, so that no call escapes a spending limit uncounted.
       */
      unpriced: z.enum(['admit', 'refuse']).default('admit'),
    })
    .strict()
    .default({ defaultMaxTokens: 4096, defaultMaxSearches: 5, unpriced: 'admit' }),
  counters: z
    .union([
      z.literal('memory'),
      z
        .string()
        .max(TEXT_LIMITS.url)
        .regex(/^rediss?:\/\//, 'memory or redis://host:port'),
      z
        .object({
          url: z
            .string()
            .max(TEXT_LIMITS.url)
            .regex(/^(memory|rediss?:\/\/.*)$/, 'memory or redis://host:port'),
          /** open: admit calls unmetered while Redis is unreachable (logged, metered); closed: refuse them with 503. */
          failMode: z.enum(['open', 'closed']).default('open'),
          timeoutMs: z.number().int().positive().default(1000),
          /** Put before every Redis key, so gateways of different deployments can share one Redis. */
          keyPrefix: z.string().max(64).default('sluice:'),
          /**
           * Room leased per budget counter at once, as a fraction of its limit, admitted against without asking the store
           * (docs/scale-out.md); 0: every call asks the store. Default: 1/64, on Redis and between workers alike
           * (DEFAULT_LEASE_SHARE in counters/open.ts).
           */
          leaseShare: z.number().min(0).max(0.5).optional(),
        })
        .strict(),
    ])
    .default('memory'),
  alerts: z
    .object({
      webhooks: z
        .array(
          z
            .object({
              url: httpUrl(),
              /** Signs each delivery (x-sluice-signature: v1=HMAC-SHA256 of "timestamp.body"). */
              secret: webhookSecret(),
              headers: headersRecord().optional(),
            })
            .strict(),
        )
        .default([]),
      attempts: z.number().int().min(1).max(20).default(5),
      backoffMs: z.number().int().min(0).default(500),
    })
    .strict()
    .default({ webhooks: [], attempts: 5, backoffMs: 500 }),
};

/** A webhook's signing secret, in sluice.yaml and the API alike. */
export function webhookSecret() {
  return z.string().min(16, 'a secret of at least 16 characters').max(1024);
}

/** The same definitions the admin API validates its bodies with. */
export const budgetSchema = budget;
export const budgetTemplateSchema = template;
export const rateLimitSchema = rateLimit;
export const resourceStatusSchema = z.enum(['sanctioned', 'unsanctioned', 'unreviewed']);

export type BudgetConfig = z.infer<typeof budget>;
export type BudgetTemplateConfig = z.infer<typeof template>;
export type RateLimitConfig = z.infer<typeof rateLimit>;
export type WindowConfig = z.infer<typeof window>;
export type ConsumerScope = z.infer<typeof consumerScope>;
export type ResourceScope = z.infer<typeof resourceScope>;
export type TemplateSelector = z.infer<typeof selector>;
export type Measure = (typeof MEASURES)[number];
export type ResourceStatus = 'sanctioned' | 'unsanctioned' | 'unreviewed';
export type ResourceAction = z.infer<typeof resourceAction>;
