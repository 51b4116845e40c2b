// A synthetic ledger for bench/analytics.ts: seeded, so every run and both stores get the same rows, with a realistic
// spread: ~200 consumers in ~20 teams with Zipf-like traffic, each using 1-3 of 15 models, office-hours and weekday
// peaks, growth over the period, ~3% failures and one unpriced (self-hosted) model.
import type { Transaction } from '../src/ledger/transaction.js';

const HOUR_MS = 3_600_000;

export interface LedgerShape {
  rows: number;
  /** Exclusive end, a UTC midnight; the rows fill the `days` before it. */
  end: number;
  days: number;
  consumers: number;
  teams: number;
}

interface Model {
  name: string;
  provider: string;
  providerModel: string;
  /** USD per 1M tokens (= micro-USD per token); null for a model without a price. */
  input: number | null;
  output: number;
  /** Relative popularity when a consumer picks its models. */
  popularity: number;
  embeddings?: boolean;
}

const MODELS: readonly Model[] = [
  { name: 'gpt-4o-mini', provider: 'openai', providerModel: 'gpt-4o-mini-2024-07-18', input: 0.15, output: 0.6, popularity: 30 },
  { name: 'gpt-4o', provider: 'openai', providerModel: 'gpt-4o-2024-11-20', input: 2.5, output: 10, popularity: 12 },
  { name: 'gpt-4.1', provider: 'openai', providerModel: 'gpt-4.1-2025-04-14', input: 2, output: 8, popularity: 6 },
  { name: 'gpt-4.1-mini', provider: 'openai', providerModel: 'gpt-4.1-mini-2025-04-14', input: 0.4, output: 1.6, popularity: 8 },
  { name: 'o3-mini', provider: 'openai', providerModel: 'o3-mini-2025-01-31', input: 1.1, output: 4.4, popularity: 4 },
  {
    name: 'text-embedding-3-small',
    provider: 'openai',
    providerModel: 'text-embedding-3-small',
    input: 0.02,
    output: 0,
    popularity: 10,
    embeddings: true,
  },
  { name: 'claude-haiku', provider: 'anthropic', providerModel: 'claude-3-5-haiku-20241022', input: 0.8, output: 4, popularity: 10 },
  { name: 'claude-sonnet', provider: 'anthropic', providerModel: 'claude-sonnet-4-20250514', input: 3, output: 15, popularity: 9 },
  { name: 'claude-opus', provider: 'anthropic', providerModel: 'claude-opus-4-20250514', input: 15, output: 75, popularity: 2 },
  { name: 'gemini-flash', provider: 'gemini', providerModel: 'gemini-2.0-flash', input: 0.1, output: 0.4, popularity: 6 },
  { name: 'gemini-pro', provider: 'gemini', providerModel: 'gemini-2.5-pro', input: 1.25, output: 10, popularity: 3 },
  {
    name: 'titan-embed',
    provider: 'bedrock',
    providerModel: 'amazon.titan-embed-text-v2:0',
    input: 0.02,
    output: 0,
    popularity: 2,
    embeddings: true,
  },
  { name: 'llama-70b', provider: 'bedrock', providerModel: 'meta.llama3-3-70b-instruct-v1:0', input: 0.72, output: 0.72, popularity: 2 },
  { name: 'mistral-large', provider: 'bedrock', providerModel: 'mistral.mistral-large-2407-v1:0', input: 2, output: 6, popularity: 1 },
  { name: 'local-llama', provider: 'local', providerModel: 'llama-3.1-8b-instruct', input: null, output: 0, popularity: 3 },
];

/** mulberry32: small, fast and good enough to spread synthetic traffic; seeded so runs repeat. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Index drawn from cumulative weights by binary search. */
function draw(cumulative: readonly number[], next: () => number): number {
  const target = next() * cumulative[cumulative.length - 1]!;
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (cumulative[middle]! <= target) low = middle + 1;
    else high = middle;
  }
  return low;
}

function cumulate(weights: readonly number[]): number[] {
  let total = 0;
  return weights.map((weight) => (total += weight));
}

interface Caller {
  consumer: string;
  team: string;
  models: number[];
  modelWeights: number[];
}

/** Calls in the hour starting at `hour`: office hours (UTC 7-19) peak, weekends quieter, traffic growing by half. */
function hourWeight(hour: number, start: number, span: number): number {
  const date = new Date(hour);
  const hourOfDay = date.getUTCHours();
  const office = hourOfDay >= 7 && hourOfDay < 19 ? 1 + Math.sin(((hourOfDay - 7) / 12) * Math.PI) : 0.35;
  const weekend = [0, 6].includes(date.getUTCDay()) ? 0.3 : 1;
  return office * weekend * (1 + 0.5 * ((hour - start) / span));
}

/** Yields the ledger in time order, `batch` rows at a time. */
export function* generateLedger(shape: LedgerShape, batch: number): Generator<Transaction[]> {
  const next = random(20_261_201);
  const modelCumulative = cumulate(MODELS.map((model) => model.popularity));
  const callers: Caller[] = Array.from({ length: shape.consumers }, (_, i) => {
    const count = 1 + Math.floor(next() * 3);
    const models = [...new Set(Array.from({ length: count }, () => draw(modelCumulative, next)))];
    return {
      consumer: `svc-${String(i).padStart(3, '0')}`,
      team: `team-${String(i % shape.teams).padStart(2, '0')}`,
      models,
      modelWeights: cumulate(models.map((_, rank) => 1 / (rank + 1))),
    };
  });
  // Zipf-like traffic (exponent 0.9) over a shuffled order, so the heavy consumers land in different teams.
  const order = callers.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const consumerCumulative = cumulate(order.map((_, rank) => 1 / (rank + 1) ** 0.9));

  const start = shape.end - shape.days * 24 * HOUR_MS;
  const span = shape.end - start;
  const hours = Array.from({ length: shape.days * 24 }, (_, i) => start + i * HOUR_MS);
  const weights = hours.map((hour) => hourWeight(hour, start, span));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let made = 0;
  let owed = 0;
  let rows: Transaction[] = [];
  for (let h = 0; h < hours.length; h++) {
    owed += (shape.rows * weights[h]!) / total;
    const count = h === hours.length - 1 ? shape.rows - made : Math.floor(owed) - made;
    for (let i = 0; i < count; i++) {
      rows.push(makeCall(made + i, hours[h]! + Math.floor((i / count) * HOUR_MS), callers[order[draw(consumerCumulative, next)]!]!, next));
      if (rows.length === batch) {
        yield rows;
        rows = [];
      }
    }
    made += count;
  }
  if (rows.length > 0) yield rows;
}

function makeCall(id: number, startedAt: number, caller: Caller, next: () => number): Transaction {
  const model = MODELS[caller.models[draw(caller.modelWeights, next)]!]!;
  const roll = next();
  const status = roll < 0.97 ? 200 : roll < 0.985 ? 429 : roll < 0.995 ? 502 : 400;
  const ok = status === 200;
  // A few of the mini model's calls fall back to an Azure deployment.
  const fallback = model.name === 'gpt-4o-mini' && next() < 0.03;
  const inputTokens = ok ? 50 + Math.floor(next() ** 2 * 4_000) : 0;
  const outputTokens = ok && !model.embeddings ? 10 + Math.floor(next() ** 3 * 1_500) : 0;
  const cachedInputTokens = ok && next() < 0.3 ? Math.floor(inputTokens / 2) : 0;
  const costMicroUsd =
    model.input === null ? null : Math.round((inputTokens - cachedInputTokens / 2) * model.input + outputTokens * model.output);
  return {
    requestId: `bench-${id}`,
    startedAt,
    operation: model.embeddings ? 'embeddings' : 'chat',
    api: next() < 0.8 ? 'openai' : 'anthropic',
    consumer: caller.consumer,
    team: caller.team,
    requestedModel: model.name,
    provider: fallback ? 'azure' : model.provider,
    providerModel: fallback ? 'my-4o-mini-deployment' : model.providerModel,
    stream: next() < 0.4,
    inputTokens,
    outputTokens,
    cachedInputTokens,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd,
    latencyMs: 80 + next() * 2_000,
    timeToFirstTokenMs: null,
    status,
    errorClass: ok ? null : status === 429 ? 'rate_limited' : 'upstream_error',
    attempts: ok ? 1 : 2,
    servedModel: null,
    violations: null,
  };
}
