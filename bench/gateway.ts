// npm run bench: the floor proxy and Sluice over one mock upstream, in one run, each in its own process. Sluice runs as
// up to six variants: `sluice` (keys, metering, ledger on; no governance), and `governed(memory)` / `governed(redis)`:
// the same plus five budgets, a budget template materialized for the consumer, a rate limit (8 counter lines reserved
// and settled per call) and sanctioning (the model's resource sanctioned, unsanctioned ones enforced), with counters in
// memory or on Redis (leased, as by default); each with one worker (`x1`) and with one per core (`xN`).
// Prints requests/s and p50/p99 latency per concurrency, streamed and not, each variant's ratio to the floor measured
// in the same run; the CPU time each target's processes spent per call (machine-load independent, unlike req/s); then
// the targets, what all workers give over one (on shared cores, then each given its CPU by a quota), what governance
// costs over plain Sluice, and a check of the counters.
//
//   BENCH_DURATION     seconds measured per run (default 3; each run follows a warm-up: 1 s in a row's first round)
//   BENCH_ROUNDS       rounds per row (default 3): the targets take turns within a round, so a ratio compares runs made
//                      seconds apart; a row shows each target's medians and the median of its per-round ratios
//   BENCH_CONCURRENCY  comma list of connection counts (default 1,16,64)
//   BENCH_VARIANTS     comma list of variants (default all): sluice x1, governed(memory) x1, governed(redis) x1,
//                      sluice xN, governed(memory) xN, governed(redis) xN (N: the available cores); or for short plain,
//                      memory, redis, plain-all, memory-all, redis-all
//   BENCH_LOAD         the load generator: `wrk` (Debian's package; the default where installed) or `node` (bench/load.ts,
//                      which takes more of the machine's CPU per call: about 48 µs against wrk's 18 µs here)
//   BENCH_REDIS_URL    the Redis for the redis variant (default redis://127.0.0.1:6379)
//   BENCH_CPU_SHARE    for the scaling pass (one worker against all, each Sluice given its CPU): the share of a core
//                      per worker, by a CFS quota (bench/cpu-quota.ts); default (cores - 1) / cores, half a core on 2
//                      cores, so all workers together leave a core to the load generator, the upstream and Redis; `none`
//                      skips the pass (so does a machine with no writable cgroup CPU controller: the run says so)
//   BENCH_BASELINE     the dist folder of another build (e.g. main's, built with `npx tsc -p .` in a worktree of it):
//                      each variant also runs from there, as `<variant>@base`, taking its turn beside this build's in
//                      every round (the two swap order each round); a last table gives this build against it
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { SEMI_SPACE_FLAG } from '../src/cluster/primary.js';
import { cpuQuota, type CpuQuota } from './cpu-quota.js';
import { BUDGET_LINES, governanceYaml } from './governance.js';
import { load as nodeLoad, type LoadResult, type LoadSpec } from './load.js';
import { benchSluiceYaml, median, servingThreadCpuMs, treeCpuMs } from './shared.js';
import { findWrk, wrkLoad } from './wrk.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const DURATION_S = Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = Math.max(1, Math.round(Number(process.env.BENCH_ROUNDS ?? 3)));
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_PREFIX = `sluice-bench:${randomBytes(4).toString('hex')}:`;
const BASELINE =
  process.env.BENCH_BASELINE === undefined || process.env.BENCH_BASELINE === '' ? null : resolvePath(process.env.BENCH_BASELINE);
const THIS_CLI = join(here, '../src/cli/sluice.js');
/** The table's rows, in the order they are measured. */
const ROWS = [false, true].flatMap((stream) => CONCURRENCIES.map((connections) => `${stream ? 'stream' : 'json'}/${connections}`));
const KEY = 'sk-sluice-bench-key-000001';
const MAX_TOKENS = 128;
/** What the mock upstream reports for every call (bench/mock-upstream.ts), and gpt-4o-mini's list price of it. */
const USAGE = { input: 24, output: 11 };
const COST_MICRO_USD = Math.round(USAGE.input * 0.15 + USAGE.output * 0.6);
/** The same in nano-USD, Sluice's cost unit since migration 22 (a build before it counted COST_MICRO_USD x 1,000). */
const COST_NANO_USD = Math.round((USAGE.input * 0.15 + USAGE.output * 0.6) * 1000);

type Counters = 'none' | 'memory' | 'redis';
/** Workers per Sluice: one, or one per available core (`sluice start --workers`'s default). */
const CORES = availableParallelism();
/** The load generator: wrk where installed (unless BENCH_LOAD=node), else bench/load.ts in Node.js. */
const WRK = process.env.BENCH_LOAD === 'node' ? null : findWrk();
if (process.env.BENCH_LOAD === 'wrk' && WRK === null) throw new Error('BENCH_LOAD=wrk: wrk is not installed (apt-get install wrk)');
function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return WRK === null ? nodeLoad(spec) : wrkLoad(WRK, spec);
}
/** Each target's CPU: `share` of a core per worker (the floor: one), or, where none can be set, whatever it can get. */
const QUOTA = cpuQuota(process.env.BENCH_CPU_SHARE, CORES);
/** The all-workers target applies to rows with at least this many connections: one call in flight uses one worker. */
const SCALING_MIN_CONNECTIONS = 2 * CORES;
interface Variant {
  name: string;
  alias: string;
  counters: Counters;
  workers: number;
}
const VARIANTS: readonly Variant[] = [1, CORES].flatMap((workers) => {
  const suffix = workers === 1 ? 'x1' : `x${workers}`;
  const alias = workers === 1 ? '' : '-all';
  return [
    { name: `sluice ${suffix}`, alias: `plain${alias}`, counters: 'none' as const, workers },
    { name: `governed(memory) ${suffix}`, alias: `memory${alias}`, counters: 'memory' as const, workers },
    { name: `governed(redis) ${suffix}`, alias: `redis${alias}`, counters: 'redis' as const, workers },
  ];
});
/** Redis leases as by default (src/counters/open.ts): 1/64 of a limit per lease. */
const LEASE_SHARE = 1 / 64;

interface Target {
  name: string;
  port: number;
  child: ChildProcess;
  /** Sluice only. */
  adminPort?: number;
  counters?: Counters;
  /** Sluice only: what it runs as. */
  variant?: Variant;
  /** A baseline build's run of a variant: the same variant of this build, measured beside it. */
  baselineOf?: Target;
  /** Calls sent to it (warm-ups included), for the counter check. */
  sent: number;
  /** And at most this many more: calls in flight when a run of the load stopped (LoadResult.uncounted). */
  uncounted: number;
  /** Per row, each round's CPU time of the target's processes (the primary and its workers) per call, in µs. */
  cpu: number[][];
  /** One process (the floor, a Sluice of one worker): its serving thread's share of `cpu` is measured too. */
  oneProcess: boolean;
  /** Per row, each round's CPU time of the serving thread per call, in µs; NaN for a target of several processes. */
  serving: number[][];
  errors: number;
  /** Per row, in order: the medians of the row's rounds. */
  figures: Figures[];
  /** Per row, each round's figures. */
  rounds: Figures[][];
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  firstError: string | null;
}

const children = new Set<ChildProcess>();
/** Children being stopped on purpose, whose exit is no news. */
const stopping = new Set<ChildProcess>();
const tempDirs: string[] = [];

function pickVariants(): readonly Variant[] {
  const wanted = process.env.BENCH_VARIANTS;
  if (wanted === undefined || wanted.trim() === '' || wanted.trim() === 'all') return VARIANTS;
  const names = wanted
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !VARIANTS.some((variant) => variant.name === name || variant.alias === name));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_VARIANTS: unknown variant(s) ${unknown.join(', ')}; expected a comma list of ` +
        VARIANTS.map((variant) => `${variant.name} (or ${variant.alias})`).join(', '),
    );
  }
  return VARIANTS.filter((variant) => names.includes(variant.name) || names.includes(variant.alias));
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function start(script: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = track(fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
    child.once('message', (message: { port: number }) => resolve({ child, port: message.port }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function countersYaml(counters: Counters): string {
  if (counters === 'none') return '';
  return governanceYaml(
    counters === 'memory' ? 'memory' : `{ url: "${REDIS_URL}", keyPrefix: "${REDIS_PREFIX}", leaseShare: ${LEASE_SHARE} }`,
  );
}

async function startSluice(name: string, counters: Counters, workers: number, upstreamPort: number, cli: string): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  tempDirs.push(dir);
  const config = join(dir, 'sluice.yaml');
  writeFileSync(config, benchSluiceYaml({ database: join(dir, 'sluice.db'), upstreamPort, key: KEY, extra: countersYaml(counters) }));
  // Workers by SLUICE_WORKERS rather than --workers, which a baseline build from before workers would refuse.
  const child = track(
    fork(cli, ['start', '--config', config], {
      // The Node flags the `sluice` command runs with (a worker gets them from its primary too).
      execArgv: [...process.execArgv, SEMI_SPACE_FLAG],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, SLUICE_WORKERS: String(workers) },
    }),
  );
  return new Promise((resolve, reject) => {
    let ready = false;
    let stdout = '';
    let stderr = '';
    let complaints = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start listening within 30 s${stderr === '' ? '' : `; its stderr:\n${stderr}`}`));
    }, 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      let newline: number;
      while ((newline = stdout.indexOf('\n')) !== -1) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        let entry: { level?: number; msg?: string; gateway?: { port: number }; admin?: { port: number } };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if (!ready && entry.msg === 'sluice is listening' && entry.gateway !== undefined && entry.admin !== undefined) {
          ready = true;
          clearTimeout(timer);
          resolve({
            name,
            port: entry.gateway.port,
            adminPort: entry.admin.port,
            child,
            counters,
            sent: 0,
            uncounted: 0,
            cpu: [],
            oneProcess: workers === 1,
            serving: [],
            errors: 0,
            figures: [],
            rounds: [],
          });
        } else if ((entry.level ?? 0) >= 40 && complaints++ < 5) {
          // Warnings and errors (a counter store outage, say) are shown, a few per variant.
          process.stderr.write(`[${name}] ${line}\n`);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (ready) process.stderr.write(`[${name}] ${chunk.toString()}`);
      else stderr += chunk.toString();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready)
        reject(new Error(`${name} exited with ${code ?? signal} before listening${stderr === '' ? '' : `:\n${stderr.trimEnd()}`}`));
      else if (!stopping.has(child)) process.stderr.write(`[${name}] exited unexpectedly with ${code ?? signal}\n`);
    });
  });
}

function body(stream: boolean): string {
  return JSON.stringify({
    model: 'gpt-4o-mini',
    stream,
    max_tokens: MAX_TOKENS,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
    messages: [{ role: 'user', content: 'Say something about foxes.' }],
  });
}
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };

async function load(
  target: Target,
  stream: boolean,
  connections: number,
  seconds: number,
): Promise<Figures & { cpuPerCall: number; servingPerCall: number }> {
  const pid = target.child.pid!;
  const cpuBefore = treeCpuMs(pid);
  const servingBefore = target.oneProcess ? servingThreadCpuMs(pid) : Number.NaN;
  const result = await runLoad({
    origin: `http://127.0.0.1:${target.port}`,
    path: '/v1/chat/completions',
    headers: HEADERS,
    body: body(stream),
    connections,
    seconds,
  });
  const calls = Math.max(1, result.requests);
  const cpuPerCall = ((treeCpuMs(pid) - cpuBefore) * 1000) / calls;
  const servingPerCall = target.oneProcess ? ((servingThreadCpuMs(pid) - servingBefore) * 1000) / calls : Number.NaN;
  target.sent += result.requests;
  target.uncounted += result.uncounted;
  target.errors += result.errors;
  return {
    rps: result.rps,
    p50: result.p50,
    p99: result.p99,
    errors: result.errors,
    firstError: result.firstError,
    cpuPerCall,
    servingPerCall,
  };
}

/** One call per mode before measuring: a target that cannot answer, or answers without usage, is reported and dropped. */
async function probe(target: Target): Promise<string | null> {
  for (const stream of [false, true]) {
    try {
      const response = await request(`http://127.0.0.1:${target.port}/v1/chat/completions`, {
        method: 'POST',
        headers: HEADERS,
        body: body(stream),
      });
      const text = await response.body.text();
      target.sent++;
      if (response.statusCode !== 200)
        return `${stream ? 'a streamed' : 'a JSON'} call was answered ${response.statusCode}: ${text.slice(0, 600)}`;
      if (!new RegExp(`"prompt_tokens":${USAGE.input},"completion_tokens":${USAGE.output}`).test(text)) {
        return `${stream ? 'a streamed' : 'a JSON'} call's answer reports no usage: ${text.slice(0, 600)}`;
      }
    } catch (error) {
      return `${stream ? 'a streamed' : 'a JSON'} call failed: ${(error as Error).message}`;
    }
  }
  return null;
}

async function adminJson(target: Target, path: string): Promise<Record<string, unknown>> {
  const response = await request(`http://127.0.0.1:${target.adminPort}${path}`);
  return (await response.body.json()) as Record<string, unknown>;
}

/** Sums of the governance metrics that must stay 0: refusals and counter store failures. */
async function troubles(target: Target): Promise<{ refusals: number; failures: number }> {
  const response = await request(`http://127.0.0.1:${target.adminPort}/metrics`);
  const text = await response.body.text();
  const sum = (metric: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return { refusals: sum('sluice_budget_refusals_total'), failures: sum('sluice_counter_store_failures_total') };
}

/** Row i: the median over its rounds of target's req/s over base's, each ratio taken within one round. */
function rowRatio(target: Target, base: Target, i: number): number {
  return median(target.rounds[i]!.map((figures, round) => figures.rps / base.rounds[i]![round]!.rps));
}

/** Row i: the median over its rounds of what target adds to base's p50: in ms, or `relative` to base's p50. */
function rowAddedP50(target: Target, base: Target, i: number, relative = false): number {
  return median(
    target.rounds[i]!.map((figures, round) => {
      const baseP50 = base.rounds[i]![round]!.p50;
      return relative ? (figures.p50 - baseP50) / baseP50 : figures.p50 - baseP50;
    }),
  );
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

function pct(value: number): string {
  return `${(value * 100).toFixed(0)}%`;
}

function signed(format: (value: number) => string): (value: number) => string {
  return (value) => (value < 0 ? `-${format(-value)}` : `+${format(value)}`);
}

function range(values: number[], format: (value: number) => string): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return format(low) === format(high) ? format(low) : `${format(low)} to ${format(high)}`;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  stopping.add(child);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** The values of every key under the run's prefix, by key without the prefix; with `drop`, the keys are deleted. */
async function redisCounters(drop: boolean): Promise<Map<string, number>> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy: () => null });
  redis.on('error', () => {
    /* reported through the rejected commands */
  });
  try {
    await redis.connect();
    const values = new Map<string, number>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const got = await redis.mget(...keys);
      keys.forEach((key, i) => values.set(key.slice(REDIS_PREFIX.length), Number(got[i] ?? 0)));
      if (drop) await redis.del(...keys);
    } while (cursor !== '0');
    return values;
  } finally {
    redis.disconnect();
  }
}

async function redisReachable(): Promise<string | null> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null });
  let cause: string | null = null;
  redis.on('error', (error: Error) => {
    cause ??= error.message;
  });
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return cause ?? (error as Error).message;
  } finally {
    redis.disconnect();
  }
}

/**
 * What the redis variant added to each counter key over the run, from samples taken between runs: a key gone at a
 * sample has expired (a minute bucket of the rate limit, the last hour's bucket...) and is counted as it last was. A
 * bucket is written only while its window is current and outlives that by a minute or more, far longer than between
 * two samples, so nothing written is missed.
 */
class RedisTally {
  private last = new Map<string, number>();
  readonly added = new Map<string, number>();

  async sample(): Promise<void> {
    const now = await redisCounters(false);
    for (const [key, value] of now) this.added.set(key, (this.added.get(key) ?? 0) + value - (this.last.get(key) ?? 0));
    this.last = now;
  }
}

/**
 * The redis variants' counters against what they were sent: every call settled in all 8 lines. Leases are counted in
 * Redis when taken and what is left of them is given back at stop, so a line holds exactly its usage: at least the calls
 * counted (less would be usage lost), and at most `uncounted` more calls' worth (in flight when a run of wrk stopped,
 * answered and metered but not counted), or more only when a lease was still held as its window closed (a minute of
 * the rate limit).
 */
function checkRedisCounters(values: Map<string, number>, calls: number, uncounted: number): string {
  // An id's `*` is one key segment: a rate limit's key names the digest of what it counts before the consumer.
  const total = (id: string) => {
    const pattern = new RegExp(`^${id.replaceAll('*', '[^:]+')}:`);
    return [...values].filter(([key]) => pattern.test(key)).reduce((sum, [, value]) => sum + value, 0);
  };
  // The cost budget's counters, in nano-USD. A build from before nano-USD counted micro-USD under another digest (the
  // key's next segment): a digest's counters holding no more than micro-USD could are read as micro-USD, x 1,000.
  const costNano = () => {
    const digests = new Map<string, number>();
    for (const [key, value] of values) {
      const match = /^budget:bench-cost-month:([^:]+):/.exec(key);
      if (match !== null) digests.set(match[1]!, (digests.get(match[1]!) ?? 0) + value);
    }
    const microAtMost = (calls + uncounted) * COST_MICRO_USD * 10;
    return [...digests.values()].reduce((sum, value) => sum + (value <= microAtMost ? value * 1000 : value), 0);
  };
  // Each line: its label, counter id, what a call adds, and what a call of a build from before nano-USD added at least.
  const perCall: [string, string, number, number?][] = [
    ['cost_usd (nano-USD)', 'budget:bench-cost-month', COST_NANO_USD, COST_MICRO_USD * 1000],
    ['total_tokens', 'budget:bench-consumer-tokens-day', USAGE.input + USAGE.output],
    ['input_tokens', 'budget:bench-team-input-hour', USAGE.input],
    ['requests', 'budget:bench-model-requests-1h', 1],
    ['output_tokens', 'budget:bench-provider-output-24h', USAGE.output],
    ['template requests', 'template:bench-team-daily:bench', 1],
    ['rate tokens', 'rate:bench-rate:tokens:*:bench', USAGE.input + USAGE.output],
    ['rate requests', 'rate:bench-rate:requests:*:bench', 1],
  ];
  const counted = (id: string) => (id === 'budget:bench-cost-month' ? costNano() : total(id));
  const wrong = perCall
    .filter(([, id, each, least]) => counted(id) < calls * (least ?? each))
    .map(([label, id, each, least]) => `${label} ${counted(id)}, expected ${calls * (least ?? each)}`);
  const held = perCall
    .filter(([, id, each]) => counted(id) > (calls + uncounted) * each)
    .map(([label, id, each]) => `${label} +${counted(id) - (calls + uncounted) * each}`);
  const leases = held.length === 0 ? '' : `; held by leases in windows that closed: ${held.join(', ')}`;
  const sent =
    uncounted === 0 ? `the ${calls} calls sent` : `the ${calls} calls counted (and at most ${uncounted} in flight as runs stopped)`;
  return wrong.length === 0
    ? `all ${BUDGET_LINES} counters hold ${sent} (${USAGE.input} in + ${USAGE.output} out tokens, ${COST_NANO_USD} nano-USD each)${leases}`
    : `MISMATCH (usage lost) over ${calls} calls counted: ${wrong.join('; ')}${leases}`;
}

/** Starts a variant from the build at `cli` and probes it; null (and why, in `failed`) when it cannot be measured. */
async function startVariant(variant: Variant, name: string, upstreamPort: number, cli: string, failed: string[]): Promise<Target | null> {
  const counters = variant.counters;
  let target: Target;
  try {
    target = { ...(await startSluice(name, counters, variant.workers, upstreamPort, cli)), variant };
  } catch (error) {
    failed.push(`${name}: did not start: ${(error as Error).message}`);
    return null;
  }
  let problem = QUOTA.quota === null ? null : await QUOTA.quota.confine(target.child.pid!);
  problem ??= await probe(target);
  if (problem === null && counters !== 'none') {
    const health = await adminJson(target, '/healthz');
    const { refusals, failures } = await troubles(target);
    if (health.budgets !== BUDGET_LINES || health.counters !== counters) {
      problem = `expected ${BUDGET_LINES} budgets on ${counters} counters, /healthz says ${JSON.stringify(health)}`;
    } else if (refusals + failures > 0) {
      problem = `the first calls met ${refusals} budget refusals and ${failures} counter store failures`;
    }
  }
  if (problem !== null) {
    failed.push(`${name}: ${problem}`);
    await stopChild(target.child, 'SIGTERM');
    return null;
  }
  return target;
}

/**
 * The order targets take their turns in a round: as listed, a baseline right after its build; in odd rounds each build
 * and its baseline swap places, so neither always runs on the heels of the other.
 */
function turnOrder(targets: readonly Target[], round: number): number[] {
  const order: number[] = [];
  for (let t = 0; t < targets.length; t++) {
    const next = targets[t + 1];
    if (round % 2 === 1 && next !== undefined && next.baselineOf === targets[t]) {
      order.push(t + 1, t);
      t++;
    } else {
      order.push(t);
    }
  }
  return order;
}

function times(value: number): string {
  return `${value.toFixed(2)}x`;
}

/** This build's one-worker target with the same counters as `all`. */
function oneWorkerOf(sluices: readonly Target[], all: Target): Target | undefined {
  return sluices.find(
    (candidate) => candidate.variant!.workers === 1 && candidate.counters === all.counters && candidate.baselineOf === undefined,
  );
}

/**
 * All workers against one where each is given its CPU: one worker `share` of a core, N workers N times that, by CFS
 * quotas (bench/cpu-quota.ts), the load keeping the rest of the machine. Rows with SCALING_MIN_CONNECTIONS or more
 * connections only: one call in flight is served by one worker, whatever their number. Prints each pair's req/s and
 * the median of the rounds' ratios, then the target (>= 1.7x on every row).
 */
async function scalingPass(sluices: readonly Target[], quota: CpuQuota, tally: RedisTally): Promise<void> {
  const pairs = sluices.flatMap((all) => {
    if (all.variant!.workers <= 1 || all.baselineOf !== undefined) return [];
    const one = oneWorkerOf(sluices, all);
    return one === undefined ? [] : [{ one, all, ratios: [] as number[][] }];
  });
  const rows = [false, true].flatMap((stream) =>
    CONCURRENCIES.filter((connections) => connections >= SCALING_MIN_CONNECTIONS).map((connections) => ({ stream, connections })),
  );
  if (pairs.length === 0) return;
  if (rows.length === 0) {
    console.log(`Scaling under quotas: not measured, BENCH_CONCURRENCY has no count of ${SCALING_MIN_CONNECTIONS} or more`);
    return;
  }
  console.log(
    `Scaling, each Sluice given its CPU by a quota: one worker ${quota.share.toFixed(2)} of a core, ${CORES} workers ` +
      `${(quota.share * CORES).toFixed(2)} cores; the load generator, the upstream and Redis keep the rest (BENCH_CPU_SHARE):`,
  );
  console.log(`mode  conc${pairs.map(({ all }) => ` | ${all.name.split(' ')[0]!.padEnd(24)}`).join('')}`);
  console.log(
    `${' '.repeat(10)}${pairs.map(() => ` | ${'x1 req/s'.padStart(8)} ${`x${CORES} req/s`.padStart(8)} ${'ratio'.padStart(6)}`).join('')}`,
  );
  for (const { stream, connections } of rows) {
    const notes: string[] = [];
    const perPair = pairs.map(() => ({ one: [] as number[], all: [] as number[], ratios: [] as number[] }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [p, pair] of pairs.entries()) {
        const order = round % 2 === 0 ? [pair.one, pair.all] : [pair.all, pair.one];
        const rps = new Map<Target, number>();
        for (const target of order) {
          quota.limit(target.child.pid!, target.variant!.workers);
          try {
            await load(target, stream, connections, round === 0 ? 1 : 0.3);
            const figures = await load(target, stream, connections, DURATION_S);
            rps.set(target, figures.rps);
            if (figures.errors > 0) notes.push(`${target.name}: ${figures.errors} errors; first: ${figures.firstError}`);
          } finally {
            quota.limit(target.child.pid!, null);
          }
          if (target.counters === 'redis') await tally.sample();
        }
        perPair[p]!.one.push(rps.get(pair.one)!);
        perPair[p]!.all.push(rps.get(pair.all)!);
        perPair[p]!.ratios.push(rps.get(pair.all)! / rps.get(pair.one)!);
      }
    }
    let line = `${(stream ? 'stream' : 'json').padEnd(6)}${String(connections).padStart(4)}`;
    for (const [p, pair] of pairs.entries()) {
      const { one, all, ratios } = perPair[p]!;
      pair.ratios.push(ratios);
      line += ` | ${median(one).toFixed(0).padStart(8)} ${median(all).toFixed(0).padStart(8)} ${times(median(ratios)).padStart(6)}`;
    }
    console.log(line);
    for (const note of notes) console.log(`  ! ${note}`);
  }
  const width = Math.max(...pairs.map(({ all }) => all.name.length));
  for (const { one, all, ratios } of pairs) {
    const byRow = ratios.map((rounds) => median(rounds));
    console.log(
      `  ${all.name.padEnd(width)}  req/s ${range(byRow, times)} of ${one.name}'s given ${CORES}x the CPU (median ${times(median(byRow))}); ` +
        `target >= 1.70x${byRow.every((ratio) => ratio >= 1.7) ? '' : '  (target missed)'}`,
    );
  }
}

async function main(): Promise<void> {
  if (BASELINE !== null && !existsSync(join(BASELINE, 'src/cli/sluice.js'))) {
    throw new Error(`BENCH_BASELINE: ${BASELINE} holds no src/cli/sluice.js; give the dist folder of a build (npx tsc -p . in its tree)`);
  }
  const variants = pickVariants();
  const [cpus, busy] = [availableParallelism(), loadavg()[0]!];
  console.log(
    `Sluice benchmark: ${ROUNDS} rounds per row, in each every target measured ${DURATION_S} s after a warm-up, ` +
      `concurrencies ${CONCURRENCIES.join(', ')}; medians; latency in ms; % = median of the rounds' req/s ratios to the floor`,
  );
  if (variants.some((variant) => variant.counters !== 'none')) {
    console.log(
      `governed = 5 budgets, a template's budget and 1 rate limit on every call (${BUDGET_LINES} counter lines), none ever exhausted; ` +
        `max_tokens ${MAX_TOKENS}`,
    );
  }
  console.log(
    `host: ${cpus} CPUs, load average ${busy.toFixed(1)} before the run${busy > cpus / 2 ? ' (busy: other work skews the figures)' : ''}`,
  );
  console.log(
    WRK === null
      ? `load: bench/load.ts, in Node.js${process.env.BENCH_LOAD === 'node' ? '' : ' (wrk is not installed: apt-get install wrk for a load that takes less CPU)'}`
      : `load: ${WRK}, one thread (BENCH_LOAD=node for the Node.js generator)`,
  );
  if (QUOTA.quota === null && variants.some((variant) => variant.workers > 1)) {
    console.log(`no CPU quotas (${QUOTA.why}): all workers are compared with one only on cores shared with the load`);
  }
  const sluices: Target[] = [];
  const failed: string[] = [];
  let redisUsed = false;
  const tally = new RedisTally();
  try {
    const upstream = await start(join(here, 'mock-upstream.js'), []);
    const floorProcess = await start(join(here, 'floor-proxy.js'), [`http://127.0.0.1:${upstream.port}`]);
    const floor: Target = {
      name: 'floor',
      ...floorProcess,
      sent: 0,
      uncounted: 0,
      cpu: [],
      oneProcess: true,
      serving: [],
      errors: 0,
      figures: [],
      rounds: [],
    };
    const floorProblem = await probe(floor);
    if (floorProblem !== null) throw new Error(`the floor proxy does not work: ${floorProblem}`);
    for (const variant of variants) {
      if (variant.counters === 'redis') {
        const problem = await redisReachable();
        if (problem !== null) {
          failed.push(`${variant.name}: skipped, Redis at ${REDIS_URL} is unreachable: ${problem}`);
          continue;
        }
        redisUsed = true;
      }
      const built = await startVariant(variant, variant.name, upstream.port, THIS_CLI, failed);
      if (built === null) continue;
      sluices.push(built);
      if (BASELINE !== null) {
        const base = await startVariant(variant, `${variant.name}@base`, upstream.port, join(BASELINE, 'src/cli/sluice.js'), failed);
        if (base !== null) sluices.push({ ...base, baselineOf: built });
      }
    }
    for (const line of failed) console.log(`NOT MEASURED ${line}`);
    if (sluices.length === 0) throw new Error('no Sluice variant could be measured');

    // The table: a row per mode and concurrency, a column group per target (floor: 16 columns, each Sluice: 22).
    const floorCells = (rps: string, p50: string, p99: string) => `${rps.padStart(6)} ${p50.padStart(4)} ${p99.padStart(4)}`;
    const sluiceCells = (rps: string, share: string, p50: string, p99: string) =>
      ` | ${rps.padStart(6)} ${share.padStart(5)} ${p50.padStart(4)} ${p99.padStart(4)}`;
    console.log(
      `${' '.repeat(12)}${'floor'.padEnd(16)}${sluices.map((target) => ` | ${target.name.slice(0, 22).padEnd(22)}`).join('')}`.trimEnd(),
    );
    console.log(`mode  conc  ${floorCells('req/s', 'p50', 'p99')}${sluices.map(() => sluiceCells('req/s', '%', 'p50', 'p99')).join('')}`);
    for (const stream of [false, true]) {
      for (const connections of CONCURRENCIES) {
        const notes: string[] = [];
        const targets = [floor, ...sluices];
        const rounds = targets.map((): Figures[] => []);
        const cpu = targets.map((): number[] => []);
        const serving = targets.map((): number[] => []);
        for (let round = 0; round < ROUNDS; round++) {
          // Each target warmed (connection pools, JIT) just before it is measured.
          for (const t of turnOrder(targets, round)) {
            const target = targets[t]!;
            await load(target, stream, connections, round === 0 ? 1 : 0.3);
            const before = target.counters === 'none' || target.counters === undefined ? null : await troubles(target);
            const figures = await load(target, stream, connections, DURATION_S);
            rounds[t]!.push(figures);
            cpu[t]!.push(figures.cpuPerCall);
            serving[t]!.push(figures.servingPerCall);
            if (figures.errors > 0) notes.push(`${target.name}: ${figures.errors} errors; first: ${figures.firstError}`);
            if (target.counters === 'redis') await tally.sample();
            if (before !== null) {
              const after = await troubles(target);
              if (after.failures > before.failures)
                notes.push(
                  `${target.name}: ${after.failures - before.failures} counter store failures (calls admitted unmetered or refused)`,
                );
              if (after.refusals > before.refusals) notes.push(`${target.name}: ${after.refusals - before.refusals} budget refusals`);
            }
          }
        }
        for (const [t, target] of targets.entries()) {
          const own = rounds[t]!;
          target.rounds.push(own);
          target.cpu.push(cpu[t]!);
          target.serving.push(serving[t]!);
          target.figures.push({
            rps: median(own.map((figures) => figures.rps)),
            p50: median(own.map((figures) => figures.p50)),
            p99: median(own.map((figures) => figures.p99)),
            errors: own.reduce((sum, figures) => sum + figures.errors, 0),
            firstError: own.find((figures) => figures.firstError !== null)?.firstError ?? null,
          });
        }
        const f = floor.figures.at(-1)!;
        let row = `${(stream ? 'stream' : 'json').padEnd(6)}${String(connections).padStart(4)}  ${floorCells(f.rps.toFixed(0), ms(f.p50), ms(f.p99))}`;
        for (const target of sluices) {
          const s = target.figures.at(-1)!;
          row += sluiceCells(s.rps.toFixed(0), pct(rowRatio(target, floor, target.figures.length - 1)), ms(s.p50), ms(s.p99));
        }
        console.log(row);
        for (const note of notes) console.log(`  ! ${note}`);
      }
    }

    // CPU per call: what each target's processes (a Sluice primary and its workers) spent per call, median of the rounds.
    const cpuOf = (target: Target, i: number) => median(target.cpu[i]!);
    const cpuRatio = (target: Target, base: Target, i: number) =>
      median(target.cpu[i]!.map((value, round) => value / Math.max(1e-9, base.cpu[i]![round]!)));
    // A one-process target's serving thread (in parentheses): what limits the calls one worker serves; the rest of its
    // CPU is on the ledger's, the chains' and V8's helper threads, which another core can take.
    const servingOf = (target: Target, i: number) => median(target.serving[i]!);
    const serving = (target: Target, i: number) => (target.oneProcess ? `(${servingOf(target, i).toFixed(0)})` : '');
    console.log(
      "CPU time per call in µs (user + system, the target's processes; (the serving thread's, one-process targets); " +
        "x = median of the rounds' ratios to the floor's):",
    );
    console.log(
      `mode  conc  ${'floor'.padStart(12)}${sluices.map((target) => ` | ${target.name.slice(0, 22).padEnd(22)}`).join('')}`.trimEnd(),
    );
    for (const [i, row] of ROWS.entries()) {
      const [mode, connections] = row.split('/');
      let line = `${mode!.padEnd(6)}${connections!.padStart(4)}  ${cpuOf(floor, i).toFixed(0).padStart(6)}${serving(floor, i).padStart(6)}`;
      for (const target of sluices)
        line += ` | ${cpuOf(target, i).toFixed(0).padStart(6)} ${`${cpuRatio(target, floor, i).toFixed(2)}x`.padStart(6)} ${serving(target, i).padEnd(8)}`;
      console.log(line.trimEnd());
    }
    // The floor does the same work for every call of a mode in every run, so the spread of its CPU per call is the host's
    // doing (other tenants of a shared machine, frequency scaling): a wide one says this run's ratios are uncertain.
    const floorJsonCpu = floor.cpu.filter((_, i) => ROWS[i]!.startsWith('json/')).flat();
    console.log(
      `host: the floor's CPU per json call, ${range(floorJsonCpu, (value) => value.toFixed(0))} µs over the rows and ` +
        `rounds (the same work each time: the spread is the host's), load average ${loadavg()[0]!.toFixed(1)} at the end`,
    );

    // The targets: plain Sluice >= 70% of the floor's req/s and <= 30% added to its p50 (the gateway's); governed Sluice
    // on one worker >= 80% in memory and >= 70% on Redis (scale-out's); all workers >= 1.7x one worker.
    const width = Math.max(...sluices.map((target) => target.name.length));
    console.log('Targets, against the floor in the same rows:');
    for (const target of sluices.filter((candidate) => candidate.variant!.workers === 1)) {
      const ratios = target.figures.map((_, i) => rowRatio(target, floor, i));
      const added = target.figures.map((_, i) => rowAddedP50(target, floor, i, true));
      const want = target.counters === 'memory' ? 0.8 : 0.7;
      const met = ratios.every((ratio) => ratio >= want) && (target.counters !== 'none' || added.every((value) => value <= 0.3));
      const goal = `>= ${pct(want)}${target.counters === 'none' ? ', p50 <= +30%' : ''}`;
      console.log(
        `  ${target.name.padEnd(width)}  req/s ${range(ratios, pct)} of the floor's (median ${pct(median(ratios))}), ` +
          `p50 ${range(added, signed(pct))}; target ${goal}${met ? '' : '  (target missed)'}`,
      );
    }
    const scaled = sluices.filter((target) => target.variant!.workers > 1 && target.baselineOf === undefined);
    if (scaled.length > 0) {
      console.log(
        `All ${CORES} workers against one, in the same rows, every core shared with the load generator, the upstream and ` +
          `the floor${QUOTA.quota === null ? ` (target >= 1.7x req/s at ${SCALING_MIN_CONNECTIONS}+ connections)` : ' (the target is measured under quotas below)'}:`,
      );
      const rows = ROWS.flatMap((row, i) => (Number(row.split('/')[1]) >= SCALING_MIN_CONNECTIONS ? [i] : []));
      for (const target of scaled) {
        const one = oneWorkerOf(sluices, target);
        if (one === undefined) continue;
        const ratios = rows.map((i) => rowRatio(target, one, i));
        const cpu = target.figures.map((_, i) => cpuRatio(target, one, i));
        const met = QUOTA.quota !== null || (ratios.length > 0 && ratios.every((ratio) => ratio >= 1.7));
        console.log(
          `  ${target.name.padEnd(width)}  req/s ${ratios.length === 0 ? 'n/a' : range(ratios, times)} of ${one.name}'s at ` +
            `${SCALING_MIN_CONNECTIONS}+ connections (median ${ratios.length === 0 ? 'n/a' : times(median(ratios))}), ` +
            `CPU per call ${range(cpu, times)}${met ? '' : '  (target missed)'}`,
        );
      }
      if (QUOTA.quota !== null) await scalingPass(sluices, QUOTA.quota, tally);
    }
    const governed = sluices.filter((target) => target.counters !== 'none' && target.baselineOf === undefined);
    if (governed.length > 0) console.log('What governance costs, against plain sluice with as many workers in the same rows:');
    for (const target of governed) {
      const plain = sluices.find(
        (candidate) =>
          candidate.counters === 'none' && candidate.variant!.workers === target.variant!.workers && candidate.baselineOf === undefined,
      );
      if (plain === undefined) continue;
      const ratios = target.figures.map((_, i) => rowRatio(target, plain, i));
      const added = target.figures.map((_, i) => rowAddedP50(target, plain, i));
      const cpu = target.figures.map((_, i) => cpuRatio(target, plain, i));
      console.log(
        `  ${target.name.padEnd(width)}  req/s ${range(ratios, pct)} of ${plain.name}'s, p50 ${range(added, signed(ms))} ms, ` +
          `CPU per call ${range(cpu, (value) => `${value.toFixed(2)}x`)}`,
      );
    }
    const bases = sluices.filter((target) => target.baselineOf !== undefined);
    if (bases.length > 0) {
      console.log(`This build against the baseline (${BASELINE}), in the same rows (median of the rounds' ratios):`);
      for (const base of bases) {
        const built = base.baselineOf!;
        const ratios = built.figures.map((_, i) => rowRatio(built, base, i));
        const added = built.figures.map((_, i) => rowAddedP50(built, base, i));
        const addedP99 = built.figures.map((_, i) =>
          median(built.rounds[i]!.map((figures, round) => figures.p99 - base.rounds[i]![round]!.p99)),
        );
        const cpu = built.figures.map((_, i) => cpuRatio(built, base, i));
        console.log(
          `  ${built.name.padEnd(width)}  req/s ${range(ratios, pct)} of the baseline's, p50 ${range(added, signed(ms))} ms, ` +
            `p99 ${range(addedP99, signed(ms))} ms; median over the rows: req/s ${pct(median(ratios))}, p50 ${signed(ms)(median(added))} ms, ` +
            `CPU per call ${median(cpu).toFixed(2)}x`,
        );
        console.log(
          `    by row (mode/concurrency: req/s ratio, p50 added): ${ROWS.map((row, i) => `${row} ${pct(ratios[i]!)} ${signed(ms)(added[i]!)}`).join(', ')}`,
        );
      }
    }
  } finally {
    const memory = sluices.find((target) => target.counters === 'memory' && target.baselineOf === undefined);
    const memoryTroubles = memory === undefined ? null : await troubles(memory).catch(() => null);
    // Sluice drains and settles its calls on SIGTERM; then the others.
    await Promise.all(sluices.map((target) => stopChild(target.child, 'SIGTERM')));
    await Promise.all([...children].map((child) => stopChild(child, 'SIGTERM')));
    QUOTA.quota?.release();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    if (memory !== undefined && memoryTroubles !== null) {
      console.log(
        `Check ${memory.name}: ${memoryTroubles.refusals} refusals, ${memoryTroubles.failures} counter store failures over ${memory.sent} calls`,
      );
    }
    if (redisUsed) {
      // A baseline's redis variant shares the run's keys: the counters hold both builds' calls.
      const redis = sluices.filter((target) => target.counters === 'redis');
      try {
        if (redis.length > 0) await tally.sample();
        const values = await redisCounters(true);
        if (redis.length > 0) {
          const sent = redis.reduce((sum, target) => sum + target.sent, 0);
          const uncounted = redis.reduce((sum, target) => sum + target.uncounted, 0);
          const errors = redis.reduce((sum, target) => sum + target.errors, 0);
          const verdict = errors === 0 ? checkRedisCounters(tally.added, sent, uncounted) : `not checked (${errors} calls failed)`;
          console.log(`Check ${redis.map((target) => target.name).join(' + ')}: ${verdict}`);
        }
        console.log(`Redis: deleted ${values.size} keys under ${REDIS_PREFIX}`);
      } catch (error) {
        console.log(
          `Redis: could not read or delete the keys under ${REDIS_PREFIX} (they expire by themselves): ${(error as Error).message}`,
        );
      }
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGTERM');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    setTimeout(() => {
      QUOTA.quota?.release();
      process.exit(130);
    }, 500);
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `bench: ${error.message}` : error);
  process.exitCode = 1;
});
