// `sluice demo`'s made-up organisation: teams, consumers and how each uses which model, turned into weeks of ledger
// history (a weekday/office-hours rhythm, streams, failures, an unsanctioned model used in monitor mode) and into the
// reports of undeclared callers an observer would send to the reconciliation intake.
import type { Transaction } from '../ledger/transaction.js';
import { costMicroUsd } from '../metering/cost.js';
import { PriceCatalog } from '../metering/price-catalog.js';
import type { Pricing } from '../config/schema.js';

export const DEMO_TEAMS = [
  { name: 'payments', owner: 'priya@example.com' },
  { name: 'search', owner: 'sam@example.com' },
  { name: 'research', owner: 'rosa@example.com' },
  { name: 'data', owner: 'dan@example.com' },
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
}

export const DEMO_CONSUMERS: Profile[] = [
  {
    name: 'checkout',
    team: 'payments',
    owner: 'priya@example.com',
    labels: { tier: 'online' },
    peakPerHour: 14,
    models: { 'gpt-4o-mini': 0.75, 'gpt-4.1': 0.25 },
    inputTokens: 2_400,
    outputTokens: 450,
    streamShare: 0.6,
    rhythm: 'office',
  },
  {
    name: 'invoicing',
    team: 'payments',
    owner: 'priya@example.com',
    labels: { tier: 'batch' },
    peakPerHour: 10,
    models: { 'gpt-4.1': 0.7, 'gpt-4o-mini': 0.3 },
    inputTokens: 6_000,
    outputTokens: 900,
    streamShare: 0,
    rhythm: 'night',
  },
  {
    name: 'search-api',
    team: 'search',
    owner: 'sam@example.com',
    labels: { tier: 'online' },
    peakPerHour: 18,
    models: { 'gpt-4o-mini': 0.6, 'mistral-large': 0.4 },
    inputTokens: 1_800,
    outputTokens: 300,
    streamShare: 0.8,
    rhythm: 'office',
  },
  {
    name: 'recommender',
    team: 'search',
    owner: 'sam@example.com',
    labels: { tier: 'online' },
    peakPerHour: 8,
    models: { 'gpt-4.1': 0.6, 'gpt-4o': 0.4 },
    inputTokens: 3_500,
    outputTokens: 500,
    streamShare: 0.3,
    rhythm: 'office',
  },
  {
    name: 'notebook',
    team: 'research',
    owner: 'rosa@example.com',
    labels: { tier: 'experimental' },
    peakPerHour: 6,
    models: { 'gpt-4.1': 1 },
    inputTokens: 30_000,
    outputTokens: 1_800,
    streamShare: 0.5,
    rhythm: 'office',
  },
  {
    name: 'etl-nightly',
    team: 'data',
    owner: 'dan@example.com',
    labels: { tier: 'batch' },
    peakPerHour: 12,
    models: { 'gpt-4o-mini': 1 },
    inputTokens: 8_000,
    outputTokens: 1_200,
    streamShare: 0,
    rhythm: 'night',
  },
];

/** Sluice model -> the provider and its model name behind it. */
export const DEMO_ROUTES: Record<string, { provider: string; model: string }> = {
  'gpt-4o-mini': { provider: 'openai', model: 'gpt-4o-mini' },
  'gpt-4.1': { provider: 'openai', model: 'gpt-4.1' },
  'gpt-4o': { provider: 'openai', model: 'gpt-4o' },
  'mistral-large': { provider: 'mistral', model: 'mistral-large-latest' },
};

/** Mistral is not in Sluice's price catalog: the demo declares its price, as sluice.yaml would. */
export const MISTRAL_PRICING: Pricing = { input: 2, output: 6 };

const catalog = new PriceCatalog();

export function pricingOf(model: string): Pricing | undefined {
  const route = DEMO_ROUTES[model];
  if (route === undefined) return undefined;
  return route.provider === 'mistral' ? MISTRAL_PRICING : catalog.lookup('openai', route.model);
}

const HOUR = 3_600_000;

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
  const usage = { inputTokens: failed ? 0 : inputTokens, outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0 };
  const firstToken = Math.round(180 + random() * 500);
  return {
    requestId: `demo-history-${sequence}`,
    startedAt,
    operation: 'chat',
    api: 'openai',
    consumer: profile.name,
    team: profile.team,
    requestedModel: model,
    provider: route.provider,
    providerModel: route.model,
    stream,
    ...usage,
    tokensEstimated: false,
    costMicroUsd: failed ? null : costMicroUsd({ ...usage, reported: true }, pricingOf(model)),
    latencyMs: failed ? Math.round(800 + random() * 2_000) : firstToken + Math.round(outputTokens * (4 + random() * 5)),
    timeToFirstTokenMs: stream && !failed ? firstToken : null,
    status: failed ? 502 : 200,
    errorClass: failed ? 'upstream_unavailable' : null,
    attempts: failed ? 2 : random() < 0.02 ? 2 : 1,
    servedModel: null,
    violations: model === 'gpt-4o' && !failed ? 'resource:openai/gpt-4o' : null,
  };
}

/** Every call of every consumer from `from` up to `to`, hour by hour. */
export function historyCalls(from: number, to: number, seed = 16): Transaction[] {
  const random = seededRandom(seed);
  const calls: Transaction[] = [];
  let sequence = 0;
  for (let hour = Math.floor(from / HOUR) * HOUR; hour < to; hour += HOUR) {
    for (const profile of DEMO_CONSUMERS) {
      const expected = profile.peakPerHour * rhythm(profile.rhythm, hour);
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
      const pricing = caller.provider === 'mistral' ? MISTRAL_PRICING : catalog.lookup(caller.provider, caller.model);
      observations.push({
        observer: 'demo-discovery-proxy',
        at: to - day * 86_400_000 + Math.floor(random() * 3_600_000),
        source: { ...caller.source },
        provider: caller.provider,
        model: caller.model,
        calls,
        inputTokens,
        outputTokens,
        costMicroUsd: costMicroUsd({ inputTokens, outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0, reported: true }, pricing),
      });
    }
  }
  return observations;
}
