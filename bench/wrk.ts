// The closed-loop load from wrk (Debian's `wrk` package), where it is installed: the same measure as bench/load.ts,
// from a C program that spends a fraction of the CPU per call that a Node.js generator does (about 18 µs against 48 µs
// here), so on a small machine more of the cores go to the targets, and the load's cost weighs less in what is compared.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { LoadResult, LoadSpec } from './load.js';

/** wrk's path, or null when it is not installed. */
export function findWrk(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : null;
}

/** A Lua string literal holding `text` as it is. */
function lua(text: string): string {
  return `"${text.replace(/[\\"]/g, (character) => `\\${character}`).replace(/\n/g, '\\n')}"`;
}

/** A latency as wrk prints it (`612.00us`, `1.23ms`, `2.01s`), in milliseconds. */
function milliseconds(figure: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(figure);
  if (match === null) return Number.NaN;
  const scale = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * scale;
}

/**
 * `seconds` of load from `connections` connections, each sending the next request once the last answer is read.
 * wrk measures whole seconds: a shorter run (a warm-up) lasts one. A call answered with another status than 200 is an
 * error; the first's text comes from one more call made alike, as wrk does not keep bodies.
 */
export async function wrkLoad(wrk: string, { origin, path, headers, body, connections, seconds }: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-wrk-'));
  try {
    const script = join(dir, 'request.lua');
    writeFileSync(
      script,
      [
        `wrk.method = "POST"`,
        `wrk.path = ${lua(path)}`,
        `wrk.body = ${lua(body)}`,
        ...Object.entries(headers).map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`),
        '',
      ].join('\n'),
    );
    // wrk's own timeout (2 s) would count a call slower than that as an error: a target under a CPU quota can be slower.
    const args = [
      '-t1',
      `-c${connections}`,
      `-d${Math.max(1, Math.round(seconds))}s`,
      '--timeout',
      '30s',
      '--latency',
      '-s',
      script,
      origin,
    ];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}: ${out.trim()}`))));
    });
    const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? Number.NaN);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN);
    if (!Number.isFinite(requests) || !Number.isFinite(rps)) throw new Error(`wrk's output was not understood:\n${output}`);
    const percentile = (q: string) => milliseconds(new RegExp(`^\\s+${q}%\\s+(\\S+)$`, 'm').exec(output)?.[1] ?? '');
    const refused = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
    const socketErrors = socket === null ? 0 : socket.slice(1).reduce((sum, count) => sum + Number(count), 0);
    let firstError: string | null = socket === null ? null : `socket errors: ${socket[0]}`;
    if (refused > 0) {
      const response = await request(`${origin}${path}`, { method: 'POST', headers, body });
      const text = await response.body.text();
      firstError = `${response.statusCode} ${text.replace(/\s+/g, ' ').slice(0, 400)} (a call made alike after the run)`;
    }
    // wrk stops with a call in flight on each connection, which it never counts.
    return {
      requests,
      rps,
      p50: percentile('50'),
      p99: percentile('99'),
      errors: refused + socketErrors,
      firstError,
      uncounted: connections,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
