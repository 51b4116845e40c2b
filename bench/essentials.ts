// npm run bench -- essentials: how far the floor falls when it does only the work a governed call cannot do without
// (bench/essentials-proxy.ts: Sluice's way of moving bytes, then the key's hash and a request id, the JSON, counter
// lines, metrics and the ledger, each the plainest way), beside plain and governed(memory) Sluice at one worker, json at
// 16 connections. What the essentials cost is what no implementation of these features avoids; what Sluice costs past
// them is its own pipeline. Prints each target's requests/s and CPU per call (its process, /proc; and its serving thread
// alone) against the floor, medians of the rounds' ratios, the targets taking turns in each round.
//
//   BENCH_ROUNDS       rounds (default 5)
//   BENCH_DURATION     seconds per run (default 4, after a 2 s warm-up of each target)
//   BENCH_CONCURRENCY  connections (default 16)
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEMI_SPACE_FLAG } from '../src/cluster/primary.js';
import { governanceYaml } from './governance.js';
import { load as nodeLoad, type LoadResult, type LoadSpec } from './load.js';
import { benchSluiceYaml, median, servingThreadCpuMs, treeCpuMs } from './shared.js';
import { findWrk, wrkLoad } from './wrk.js';

const ROUNDS = Math.max(1, Math.round(Number(process.env.BENCH_ROUNDS ?? 5)));
const DURATION_S = Number(process.env.BENCH_DURATION ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONCURRENCY ?? 16);
const KEY = 'sk-sluice-bench-key-000001';
const here = fileURLToPath(new URL('.', import.meta.url));
const WRK = process.env.BENCH_LOAD === 'node' ? null : findWrk();
const runLoad = (spec: LoadSpec): Promise<LoadResult> => (WRK === null ? nodeLoad(spec) : wrkLoad(WRK, spec));
/** The essentials' steps, each with the pieces before it. */
const STEPS = ['io', 'io,identity', 'io,identity,json', 'io,identity,json,counters,metrics,ledger'];

interface Target {
  name: string;
  port: number;
  child: ChildProcess;
  rps: number[];
  cpu: number[];
  /** The serving thread's CPU per call (every target here is one process). */
  serving: number[];
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
function cleanUp(): void {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanUp);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

function startReporting(script: string, args: string[], execArgv: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(script, args, { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.push(child);
    child.once('message', (message: { port: number }) => resolve({ child, port: message.port }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function startSluice(upstreamPort: number, governed: boolean): Promise<{ child: ChildProcess; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  dirs.push(dir);
  const config = join(dir, 'sluice.yaml');
  writeFileSync(
    config,
    benchSluiceYaml({ database: join(dir, 'sluice.db'), upstreamPort, key: KEY, extra: governed ? governanceYaml('memory') : '' }),
  );
  // The `sluice` command's Node flags; the port is read from its "listening" log line.
  const child = fork(join(here, '../src/cli/sluice.js'), ['start', '--config', config], {
    execArgv: [SEMI_SPACE_FLAG],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, SLUICE_WORKERS: '1' },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      let newline: number;
      while ((newline = out.indexOf('\n')) !== -1) {
        const line = out.slice(0, newline);
        out = out.slice(newline + 1);
        let entry: { msg?: string; gateway?: { port: number } };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if (entry.msg === 'sluice is listening' && entry.gateway !== undefined) {
          child.stdout!.off('data', onData);
          // Its later lines are read and dropped, so a full pipe never blocks it.
          child.stdout!.resume();
          resolve({ child, port: entry.gateway.port });
          return;
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`sluice exited with ${code} before listening`)));
  });
}

const body = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: false,
  max_tokens: 128,
  messages: [{ role: 'user', content: 'Say something about foxes.' }],
});
async function run(target: Target, seconds: number): Promise<LoadResult & { cpuPerCall: number; servingPerCall: number }> {
  const pid = target.child.pid!;
  const before = treeCpuMs(pid);
  const servingBefore = servingThreadCpuMs(pid);
  const result = await runLoad({
    origin: `http://127.0.0.1:${target.port}`,
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body,
    connections: CONNECTIONS,
    seconds,
  });
  if (result.errors > 0) throw new Error(`${target.name}: ${result.errors} calls failed; the first: ${result.firstError}`);
  const calls = Math.max(1, result.requests);
  return {
    ...result,
    cpuPerCall: ((treeCpuMs(pid) - before) * 1000) / calls,
    servingPerCall: ((servingThreadCpuMs(pid) - servingBefore) * 1000) / calls,
  };
}

const upstream = await startReporting(join(here, 'mock-upstream.js'), []);
const origin = `http://127.0.0.1:${upstream.port}`;
const targets: Target[] = [];
const add = (name: string, started: { child: ChildProcess; port: number }) =>
  targets.push({ name, ...started, rps: [], cpu: [], serving: [] });
add('floor', await startReporting(join(here, 'floor-proxy.js'), [origin]));
for (const step of STEPS) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-essentials-'));
  dirs.push(dir);
  add(`essentials: ${step}`, await startReporting(join(here, 'essentials-proxy.js'), [origin, step, dir]));
}
add('sluice x1', await startSluice(upstream.port, false));
add('governed(memory) x1', await startSluice(upstream.port, true));

console.log(
  `Essentials against the floor: json at ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s, targets taking turns; ` +
    `load: ${WRK ?? 'bench/load.ts'}`,
);
for (const target of targets) await run(target, 2);
for (let round = 0; round < ROUNDS; round++) {
  // A new order every round, so no target always follows the same one.
  const order = round % 2 === 0 ? targets : [...targets].reverse();
  for (const target of order) {
    const result = await run(target, DURATION_S);
    target.rps.push(result.rps);
    target.cpu.push(result.cpuPerCall);
    target.serving.push(result.servingPerCall);
  }
}
const floor = targets[0]!;
// The serving thread: what limits the calls one process serves; the rest is on its ledger's and V8's helper threads.
console.log(`${'target'.padEnd(54)}   req/s   of floor   CPU µs/call   of floor   serving thread`);
for (const target of targets) {
  const ratio = median(target.rps.map((rps, round) => rps / floor.rps[round]!));
  const cpuRatio = median(target.cpu.map((cpu, round) => cpu / floor.cpu[round]!));
  console.log(
    `${target.name.padEnd(54)} ${median(target.rps).toFixed(0).padStart(7)} ${`${(ratio * 100).toFixed(0)}%`.padStart(10)} ` +
      `${median(target.cpu).toFixed(1).padStart(13)} ${`${cpuRatio.toFixed(2)}x`.padStart(10)} ` +
      `${median(target.serving).toFixed(1).padStart(16)}`,
  );
}
process.exit(0);
