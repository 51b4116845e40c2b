// `sluice demo`'s made-up organisation: teams, consumers and how each uses which model, turned into weeks of ledger
// history (a weekday/office-hours rhythm, streams, failures, prompt caches and the response cache, an unsanctioned
// model used in monitor mode) and into the reports of undeclared callers an observer would send to the reconciliation
// intake.
import type { Transaction } from '../ledger/transaction.js';
import { costNanoUsd, microFromNano } from '../metering/cost.js';
import { PriceCatalog } from '../metering/price-catalog.js';
import type { Pricing } from '../config/schema.js';

export const DEMO_TEAMS = [
  { name: 'payments', owner: 'priya@example.com' },
  { name: 'search', owner: 'sam@example.com' },
  { name: 'research', owner: 'rosa@example.com' },
  { name: 'data', owner: 'dan@example.com' },
  { name: 'support', owner: 'lena@example.com' },
] as const;

export interface Profile {
  name: string;
  team: string;
  owner: string;
  labels: Record<string, string>;
  /** Calls an hour at the busiest hour of a weekday. */
  peakPerHour: number;
  /** Model -> share of calls. */
  models: Record<string, number>;
  inputTokens: number;
  outputTokens: number;
  streamShare: number;
  /** Batch jobs run at night, services in office hours. */
  rhythm: 'office' | 'night' | 'flat';
  /** The API it calls Sluice with: OpenAI's chat completions, or Anthropic's Messages. */
  api: 'openai' | 'anthropic';
  /**
   * The share of a call's prompt that is a prefix the provider caches: OpenAI caches long prompts' prefixes by itself;
   * Anthropic those marked with `cache_control`, written now and then and read in between.
   */
  promptCache: number;
  /** The share of its calls to RESPONSE_CACHED models answered by Sluice's response cache (cost 0, the price saved). */
  responseCacheHits: number;
  /**
   * Its calls an hour now against 30 days earlier (1: as many), so that "this month against last" and the cost drivers
   * have a story to tell: consumers being adopted grow, the rest hold steady.
   */
  monthlyGrowth: number;
}

/** How each tier's consumers keep time: online services in office hours, batch jobs at night, experiments with their people. */
const TIER_RHYTHM = { online: 'office', batch: 'night', experimental: 'office' } as const satisfies Record<string, Profile['rhythm']>;

type TeamName = (typeof DEMO_TEAMS)[number]['name'];

/** A consumer's traffic shape: its owner is its team's, its `tier` label sets its rhythm. */
function consumer(
  name: string,
  team: TeamName,
  tier: keyof typeof TIER_RHYTHM,
  peakPerHour: number,
  models: Record<string, number>,
  [inputTokens, outputTokens]: [input: number, output: number],
  streamShare: number,
  caching: { api?: Profile['api']; promptCache?: number; responseCacheHits?: number; monthlyGrowth?: number } = {},
): Profile {
  const owner = DEMO_TEAMS.find((candidate) => candidate.name === team)!.owner;
  return {
    name,
    team,
    owner,
    labels: { tier },
    peakPerHour,
    models,
    inputTokens,
    outputTokens,
    streamShare,
    rhythm: TIER_RHYTHM[tier],
    api: caching.api ?? 'openai',
    promptCache: caching.promptCache ?? 0,
    responseCacheHits: caching.responseCacheHits ?? 0,
    monthlyGrowth: caching.monthlyGrowth ?? 1,
  };
}

export const DEMO_CONSUMERS: Profile[] = [
  // name, team, tier, calls an hour at the peak, model -> share of calls, a call's [input, output] tokens, share
  // streamed, and how it meets caches (and how fast it grows)
  consumer('checkout', 'payments', 'online', 14, { 'gpt-4o-mini': 0.75, 'gpt-4.1': 0.25 }, [2_400, 450], 0.6, {
    responseCacheHits: 0.1,
    monthlyGrowth: 1.15,
  }),
  consumer('invoicing', 'payments', 'batch', 10, { 'gpt-4.1': 0.7, 'gpt-4o-mini': 0.3 }, [6_000, 900], 0, { promptCache: 0.5 }),
  consumer('search-api', 'search', 'online', 18, { 'gpt-4o-mini': 0.6, 'mistral-large': 0.4 }, [1_800, 300], 0.8, {
    responseCacheHits: 0.25,
  }),
  consumer('recommender', 'search', 'online', 8, { 'gpt-4.1': 0.6, 'gpt-4o': 0.4 }, [3_500, 500], 0.3, { responseCacheHits: 0.2 }),
  consumer('notebook', 'research', 'experimental', 6, { 'gpt-4.1': 1 }, [30_000, 1_800], 0.5, {
    promptCache: 0.6,
    monthlyGrowth: 1.6,
  }),
  consumer('etl-nightly', 'data', 'batch', 12, { 'gpt-4o-mini': 1 }, [8_000, 1_200], 0, { promptCache: 0.4 }),
  consumer('helpdesk', 'support', 'online', 9, { 'claude-sonnet-4-5': 1 }, [6_500, 400], 0.7, {
    api: 'anthropic',
    promptCache: 0.8,
    monthlyGrowth: 1.3,
  }),
];

/** Models whose answers Sluice's response cache keeps (the demo's `cache.models`). */
export const RESPONSE_CACHED = ['gpt-4o-mini', 'gpt-4.1'];

/** Sluice model -> the provider and its model name behind it. */
export const DEMO_ROUTES: Record<string, { provider: string; model: string }> = {
  'gpt-4o-mini': { provider: 'openai', model: 'gpt-4o-mini' },
  'gpt-4.1': { provider: 'openai', model: 'gpt-4.1' },
  'gpt-4o': { provider: 'openai', model: 'gpt-4o' },
  'mistral-large': { provider: 'mistral', model: 'mistral-large-latest' },
  'claude-sonnet-4-5': { provider: 'anthropic', model: 'claude-sonnet-4-5' },
};

/** Mistral is not in Sluice's price catalog: the demo declares its price, as sluice.yaml would. */
export const MISTRAL_PRICING: Pricing = { input: 2, output: 6 };

const catalog = new PriceCatalog();

/** A provider model's price: Mistral's the demo's own, the others' from the catalog. */
function priceOf(provider: string, model: string): Pricing | undefined {
  return provider === 'mistral' ? MISTRAL_PRICING : catalog.lookup(provider, model);
}

export function pricingOf(model: string): Pricing | undefined {
  const route = DEMO_ROUTES[model];
  return route === undefined ? undefined : priceOf(route.provider, route.model);
}

const HOUR = 3_600_000;
const MONTH = 30 * 24 * HOUR;

/** Share of the peak rate at this UTC hour and weekday. */
function rhythm(kind: Profile['rhythm'], at: number): number {
  const date = new Date(at);
  const hour = date.getUTCHours();
  const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
  if (kind === 'flat') return 0.6;
  if (kind === 'night') return (hour >= 1 && hour <= 5 ? 1 : 0.08) * (weekend ? 0.7 : 1);
  const office = hour >= 8 && hour <= 18 ? 1 - Math.abs(hour - 13) / 9 : 0.08;
  return office * (weekend ? 0.15 : 1);
}

/** A reproducible sequence, so two demos look alike. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick(weights: Record<string, number>, random: () => number): string {
  let roll = random() * Object.values(weights).reduce((sum, weight) => sum + weight, 0);
  for (const [name, weight] of Object.entries(weights)) {
    roll -= weight;
    if (roll <= 0) return name;
  }
  return Object.keys(weights)[0]!;
}

/** One call as the gateway would have recorded it. */
export function simulatedCall(profile: Profile, startedAt: number, random: () => number, sequence: number): Transaction {
  const model = pick(profile.models, random);
  const route = DEMO_ROUTES[model]!;
  const stream = random() < profile.streamShare;
  const failed = random() < 0.012;
  const inputTokens = Math.round(profile.inputTokens * (0.5 + random()));
  const outputTokens = failed ? 0 : Math.round(profile.outputTokens * (0.4 + random() * 1.2));
  // The cached prefix: read from the provider's cache, or (Anthropic, about one call in twelve) written to it.
  const prefix = failed ? 0 : Math.round(inputTokens * profile.promptCache);
  const written = route.provider === 'anthropic' && random() < 0.08;
  const usage = {
    inputTokens: failed ? 0 : inputTokens,
    outputTokens,
    cachedInputTokens: written ? 0 : prefix,
    cacheWriteTokens: written ? prefix : 0,
  };
  const firstToken = Math.round(180 + random() * 500);
  // Recorded as the gateway records a call: its exact nano-USD, and that rounded once to whole micro-USD beside it.
  const cost = failed ? null : costNanoUsd({ ...usage, reported: true }, pricingOf(model));
  if (!failed && RESPONSE_CACHED.includes(model) && random() < profile.responseCacheHits) {
    // Answered by Sluice's response cache, as the gateway records a hit: no upstream attempt, nothing spent, the
    // answer's price saved.
    const latency = Math.round(2 + random() * 6);
    const saved =
      costNanoUsd({ inputTokens, outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0, reported: true }, pricingOf(model)) ?? 0;
    return {
      ...recorded(profile, model, route, startedAt, sequence, stream),
      inputTokens,
      outputTokens,
      cachedInputTokens: inputTokens,
      cacheWriteTokens: 0,
      costMicroUsd: 0,
      costNanoUsd: 0,
      savedMicroUsd: microFromNano(saved),
      savedNanoUsd: saved,
      latencyMs: latency,
      timeToFirstTokenMs: stream ? latency : null,
      status: 200,
      errorClass: null,
      attempts: 0,
    };
  }
  return {
    ...recorded(profile, model, route, startedAt, sequence, stream),
    ...usage,
    costMicroUsd: cost === null ? null : microFromNano(cost),
    costNanoUsd: cost,
    latencyMs: failed ? Math.round(800 + random() * 2_000) : firstToken + Math.round(outputTokens * (4 + random() * 5)),
    timeToFirstTokenMs: stream && !failed ? firstToken : null,
    status: failed ? 502 : 200,
    errorClass: failed ? 'upstream_unavailable' : null,
    attempts: failed ? 2 : random() < 0.02 ? 2 : 1,
  };
}

/** What every recorded call of a consumer's says alike, whatever its outcome. */
function recorded(
  profile: Profile,
  model: string,
  route: { provider: string; model: string },
  startedAt: number,
  sequence: number,
  stream: boolean,
): Omit<
  Transaction,
  | 'inputTokens'
  | 'outputTokens'
  | 'cachedInputTokens'
  | 'cacheWriteTokens'
  | 'costMicroUsd'
  | 'latencyMs'
  | 'timeToFirstTokenMs'
  | 'status'
  | 'errorClass'
  | 'attempts'
> {
  return {
    requestId: `demo-history-${sequence}`,
    startedAt,
    operation: 'chat',
    api: profile.api,
    consumer: profile.name,
    team: profile.team,
    requestedModel: model,
    provider: route.provider,
    providerModel: route.model,
    stream,
    tokensEstimated: false,
    servedModel: null,
    violations: model === 'gpt-4o' ? 'resource:openai/gpt-4o' : null,
  };
}

/** Every call of every consumer from `from` up to `to`, hour by hour. */
export function historyCalls(from: number, to: number, seed = 16): Transaction[] {
  const random = seededRandom(seed);
  // A consumer's rate `to - hour` before the end, against its rate at the end (which the live traffic keeps).
  const growth = (profile: Profile, hour: number) => profile.monthlyGrowth ** ((hour - to) / MONTH);
  const calls: Transaction[] = [];
  let sequence = 0;
  for (let hour = Math.floor(from / HOUR) * HOUR; hour < to; hour += HOUR) {
    for (const profile of DEMO_CONSUMERS) {
      const expected = profile.peakPerHour * rhythm(profile.rhythm, hour) * growth(profile, hour);
      const count = Math.floor(expected + random());
      for (let index = 0; index < count; index++) {
        const at = hour + Math.floor(random() * HOUR);
        if (at < to) calls.push(simulatedCall(profile, at, random, sequence++));
      }
    }
  }
  return calls;
}

/** Callers nobody declared, as a discovery proxy on the egress path would report them. */
export const UNDECLARED_CALLERS = [
  {
    source: { keyFingerprint: 'sha256:5e2c9a81d04f7b36', ip: '10.20.4.17', userAgent: 'python-requests/2.32.3' },
    provider: 'openai',
    model: 'gpt-4o',
    perDay: 60,
    input: 2_500,
    output: 400,
  },
  {
    source: { ip: '10.20.9.3', userAgent: 'langchain-js/0.3.19', host: 'api.anthropic.com' },
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    perDay: 120,
    input: 1_500,
    output: 300,
  },
  {
    source: { ip: '192.168.7.21', userAgent: 'curl/8.5.0', host: 'api.mistral.ai' },
    provider: 'mistral',
    model: 'mistral-large-latest',
    perDay: 25,
    input: 4_000,
    output: 700,
  },
] as const;

export interface DemoObservation {
  observer: string;
  at: number;
  source: Record<string, string>;
  provider: string;
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number | null;
  costNanoUsd: number | null;
}

/**
 * What an undeclared caller's calls cost, as the discovery proxy prices what it sees (the catalog, Mistral's declared
 * price) and reports it: the exact nano-USD, and that rounded once to whole micro-USD for an intake older than it.
 */
export function observedCost(
  caller: (typeof UNDECLARED_CALLERS)[number],
  inputTokens: number,
  outputTokens: number,
): Pick<DemoObservation, 'costMicroUsd' | 'costNanoUsd'> {
  const nano = costNanoUsd(
    { inputTokens, outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0, reported: true },
    priceOf(caller.provider, caller.model),
  );
  return { costMicroUsd: nano === null ? null : microFromNano(nano), costNanoUsd: nano };
}

/** One observation per caller per day, over the days before `to`. */
export function historyObservations(to: number, days: number, seed = 61): DemoObservation[] {
  const random = seededRandom(seed);
  const observations: DemoObservation[] = [];
  for (let day = days; day >= 1; day--) {
    for (const caller of UNDECLARED_CALLERS) {
      const calls = Math.max(1, Math.round(caller.perDay * (0.6 + random() * 0.8)));
      const inputTokens = calls * caller.input;
      const outputTokens = calls * caller.output;
      observations.push({
        observer: 'demo-discovery-proxy',
        at: to - day * 86_400_000 + Math.floor(random() * 3_600_000),
        source: { ...caller.source },
        provider: caller.provider,
        model: caller.model,
        calls,
        inputTokens,
        outputTokens,
        ...observedCost(caller, inputTokens, outputTokens),
      });
    }
  }
  return observations;
}
