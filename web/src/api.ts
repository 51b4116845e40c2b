// The director API as the console calls it: the admin token in session storage (never in a URL), JSON in and out, and
// the API's error shape turned into an Error whose message a page can show.

const TOKEN_KEY = 'sluice.adminToken';

export type Role = 'admin' | 'operator' | 'viewer' | 'team-owner';
export interface Session {
  actor: string;
  role: Role;
  /** A team-owner token's team: what it reads and changes is that team's. */
  team: string | null;
  /** The operations (`GET /api/budgets`, `PATCH /api/consumers/{name}`) the role may call, as the API answers them. */
  operations: string[];
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function rememberToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

async function send(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    // The browser says only "Failed to fetch": the admin listener is down or unreachable.
    throw new ApiFailure(0, 'unreachable', 'Sluice did not answer: is it running, and is this its admin address?');
  }
  if (!response.ok) {
    let code = 'error';
    let message = `${response.status} ${response.statusText}`;
    try {
      const parsed = (await response.json()) as { error?: { code?: string; message?: string } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
    } catch {
      // Not the API's error shape: keep the status line.
    }
    if (response.status === 401) window.dispatchEvent(new Event('sluice:unauthenticated'));
    throw new ApiFailure(response.status, code, message);
  }
  return response;
}

function token(): string {
  const value = storedToken();
  if (value === null) throw new ApiFailure(401, 'unauthenticated', 'Not signed in.');
  return value;
}

export async function api<T>(path: string): Promise<T> {
  return (await (await send('GET', path, token())).json()) as T;
}

/** A listing answered as `{items}`. */
export async function list<T>(path: string): Promise<T[]> {
  return (await api<{ items: T[] }>(path)).items;
}

export async function change<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T | null> {
  const response = await send(method, path, token(), body);
  return response.status === 204 ? null : ((await response.json()) as T);
}

export async function download(path: string): Promise<Blob> {
  return (await send('GET', path, token())).blob();
}

/** Checks a token before keeping it: the API answers who it is, or 401. */
export async function signIn(candidate: string): Promise<Session> {
  const response = await send('GET', '/api/session', candidate);
  const session = (await response.json()) as Session;
  rememberToken(candidate);
  return session;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** Every page of a keyset-paginated listing. */
export async function allPages<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: T[]; nextCursor: string | null } = await api(
      `${path}${query({ ...params, limit: 1000, cursor: cursor ?? undefined })}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

export interface Money {
  /** Whole micro-USD: nanoUsd rounded. */
  microUsd: number;
  /** The exact amount in integer nano-USD; absent from a director before it (format.ts' nanoOf). */
  nanoUsd?: number;
  usd: string;
}
export interface UsageItem {
  bucketStart: string;
  group: Record<string, string>;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cost: Money;
  unpricedCalls: number;
  refusedCalls: number;
  failedCalls: number;
  /** Input tokens written to a prompt cache (in inputTokens, priced above them); of them, to the 1-hour cache. */
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  /** What the calls answered from the response cache would have cost (their own cost is 0). */
  saved: Money;
}
export interface UsageAnswer {
  from: string;
  to: string;
  bucket: string;
  groupBy: string[];
  items: UsageItem[];
}
export interface Consumer {
  name: string;
  team: string | null;
  owner: string | null;
  labels: Record<string, string>;
  models: string[] | null;
}
export interface Team {
  name: string;
  owner: string;
}
export interface ConsumerKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}
export interface Discovered {
  id: number;
  identity: { kind: string; value: string; host: string | null };
  hints: { ips: string[]; keyFingerprints: string[]; userAgents: string[]; hosts: string[]; observers: string[] };
  firstSeenAt: string;
  lastSeenAt: string;
  calls: number;
  status: 'pending' | 'resolved' | 'ignored';
  consumer: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
}
export interface DiscoveredResource {
  id: string;
  provider: string;
  model: string;
  firstSeenAt: string;
  lastSeenAt: string;
  calls: number;
}
export interface Resource {
  id: string;
  status: 'sanctioned' | 'unsanctioned' | 'unreviewed';
  note: string | null;
}
export type Window = 'minute' | 'hour' | 'day' | 'month' | { rolling: string };

const DURATION_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Whether the API keeps a burn-down of a budget of this window: one of an hour or more (usage is rolled up by the
 * hour; it refuses the rest with a 400), so the console asks only for those.
 */
export function hasBurnDown(window: Window): boolean {
  if (typeof window === 'string') return window !== 'minute';
  const match = /^([1-9][0-9]*)(s|m|h|d)$/.exec(window.rolling);
  return match !== null && Number(match[1]) * DURATION_MS[match[2]!]! >= 3_600_000;
}
export interface BudgetTerms {
  resources: 'any' | { model: string } | { provider: string } | { resource: string };
  measure: 'input_tokens' | 'output_tokens' | 'total_tokens' | 'cost_usd' | 'requests';
  limit: number;
  window: Window;
  mode: 'monitor' | 'enforce';
  alerts: number[];
  onExhausted: 'refuse' | { downgrade: string };
}
export interface Budget extends BudgetTerms {
  name: string;
  consumers: 'everyone' | { consumer: string } | { team: string };
}
export interface Template extends BudgetTerms {
  name: string;
  selector: 'everyone' | { team: string } | { labels: Record<string, string> };
}
export type Stored<T> = T & { createdAt: string; updatedAt: string };
export interface BurnDown {
  budget: string;
  unit: 'tokens' | 'requests' | 'microUsd';
  limit: number;
  used: number;
  remaining: number;
  usedPercent: number;
  exhausted: boolean;
  projectedAtEnd: number;
  exhaustsAt: string | null;
  window: { kind: string; start: string; end: string };
  usd: { limit: string; used: string; remaining: string; projectedAtEnd: string } | null;
  /** Cost budgets: the figures exactly, in integer nano-USD; absent from a director before it. */
  nanoUsd?: { limit: number; used: number; remaining: number; projectedAtEnd: number } | null;
}
export interface Instance {
  name: string;
  consumer: string;
  team: string | null;
  unit: string;
  limit: number;
  used: number | null;
  usedPercent: number | null;
  exhausted: boolean | null;
  /** Cost templates: limit and used exactly, in integer nano-USD; absent from a director before it. */
  nanoUsd?: { limit: number; used: number | null } | null;
}
export interface Transaction {
  id: string;
  requestId: string;
  startedAt: string;
  operation: string;
  api: string;
  consumer: string | null;
  team: string | null;
  requestedModel: string | null;
  provider: string | null;
  providerModel: string | null;
  servedModel: string | null;
  stream: boolean;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Of outputTokens, those spent reasoning; null where the provider stated no split. */
  reasoningTokens: number | null;
  cacheWriteTokens: number;
  /** Of cacheWriteTokens, the 1-hour cache's (billed at 2x input, 5-minute writes at 1.25x). */
  cacheWrite1hTokens: number;
  webSearches: number;
  fileSearches: number;
  serviceTier: 'priority' | 'flex' | 'fast' | null;
  tokensEstimated: boolean;
  cost: Money | null;
  /** A call answered from the response cache: what the original call cost (its own cost is 0); else 0. */
  saved: Money;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  status: number;
  errorClass: string | null;
  outcome: 'served' | 'refused' | 'failed';
  attempts: number;
  violations: string[];
  discoveredConsumer: number | null;
}
export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
}
export interface ChargebackLine {
  team: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  totalTokens: number;
  cost: Money;
  unpricedCalls: number;
  refusedCalls: number;
  failedCalls: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  saved: Money;
}
export interface MonthForecast {
  actualToDate: Money;
  forecast: Money;
  low: Money;
  /** Null when there is too little history (none, or one day) to bound the month by. */
  high: Money | null;
  method: string;
  historyDays: number;
}
export interface Forecast {
  month: string;
  asOf: string;
  /** Null for a team-owner: its figure is its team's line. */
  overall: MonthForecast | null;
  teams: Array<MonthForecast & { team: string }>;
}
