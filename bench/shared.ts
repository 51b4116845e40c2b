// What the benchmarks share: the sluice.yaml each starts Sluice with (one mock OpenAI provider serving gpt-4o-mini, one
// consumer), the CPU time a target's processes spent (from /proc), and the median their figures are quoted by.
import { readFileSync } from 'node:fs';
import { processTree } from '../test/support/processes.js';

export interface BenchConfig {
  /** The SQLite file. */
  database: string;
  upstreamPort: number;
  /** The consumer `bench`'s key. */
  key: string;
  /** 0 (the default): a port the system picks, read from Sluice's "listening" log line. */
  gatewayPort?: number;
  gatewayMaxConnections?: number;
  /** The provider's upstream connections (providers.<name>.connections; Sluice's default when left out). */
  upstreamConnections?: number;
  /** More top-level YAML: governance, ledger settings. */
  extra?: string;
}

export function benchSluiceYaml(config: BenchConfig): string {
  const gateway = [`host: 127.0.0.1`, `port: ${config.gatewayPort ?? 0}`];
  if (config.gatewayMaxConnections !== undefined) gateway.push(`maxConnections: ${config.gatewayMaxConnections}`);
  const connections = config.upstreamConnections === undefined ? '' : `, connections: ${config.upstreamConnections}`;
  return `
gateway: { ${gateway.join(', ')} }
admin: { host: 127.0.0.1, port: 0 }
storage: sqlite:${config.database}
log: { level: info }
providers:
  mock: { type: openai, baseUrl: http://127.0.0.1:${config.upstreamPort}/v1, apiKey: upstream-bench-key${connections} }
models:
  - name: gpt-4o-mini
    targets: [{ provider: mock, model: gpt-4o-mini }]
consumers:
  - { name: bench, team: perf, keys: ["${config.key}"] }
${config.extra ?? ''}`;
}

const TICKS_PER_MS = 100 / 1000; // USER_HZ, 100 on Linux

/**
 * CPU time (user + system, ms) of a process and its descendants (a Sluice primary's workers), from /proc: what the
 * target spent on its calls whatever else the machine was doing, where req/s depends on the cores it was given. 0 off
 * Linux.
 */
export function treeCpuMs(root: number): number {
  let total = 0;
  let pids: number[];
  try {
    pids = processTree(root);
  } catch {
    return 0;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    total += statCpuMs(stat);
  }
  return total;
}

/**
 * CPU time (user + system, ms) of a process's main thread alone: in one Node process, the thread that serves the calls,
 * apart from the ledger's, the chains' and V8's helper threads. NaN off Linux.
 */
export function servingThreadCpuMs(pid: number): number {
  try {
    return statCpuMs(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** utime + stime of a /proc stat line, in ms. */
function statCpuMs(stat: string): number {
  // The fields after the command, which is in parentheses and may hold spaces: state, ppid, ..., utime (14), stime (15).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_MS;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
