// npm run bench: the floor proxy and Sluice (keys, metering, ledger on) over one mock upstream, in one run.
// Prints requests/s and p50/p99 latency per concurrency, streamed and not, and Sluice's ratio to the floor.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load as runLoad } from './load.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const KEY = 'sk-sluice-bench-key-000001';

function start(script: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (message: { port: number }) => resolve({ child, port: message.port }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function startSluice(upstreamPort: number): Promise<{ child: ChildProcess; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const config = join(dir, 'sluice.yaml');
  writeFileSync(config, `
gateway: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
storage: sqlite:${join(dir, 'sluice.db')}
log: { level: info }
providers:
  mock: { type: openai, baseUrl: http://127.0.0.1:${upstreamPort}/v1, apiKey: upstream-bench-key }
models:
  - name: gpt-4o-mini
    targets: [{ provider: mock, model: gpt-4o-mini }]
consumers:
  - { name: bench, team: perf, keys: ["${KEY}"] }
`);
  const child = fork(join(here, '../src/cli/sluice.js'), ['start', '--config', config], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /"gateway":\{"port":(\d+)/.exec(buffered) ?? /"gateway":\{"host":"[^"]*","port":(\d+)/.exec(buffered);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`sluice exited with ${code}`)));
  });
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(port: number, stream: boolean, connections: number, seconds: number): Promise<Figures> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'Say something about foxes.' }] });
  const result = await runLoad(`http://127.0.0.1:${port}`, '/v1/chat/completions', { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body, connections, seconds);
  return { rps: result.rps, p50: result.p50, p99: result.p99, errors: result.errors };
}

async function main(): Promise<void> {
  const upstream = await start(join(here, 'mock-upstream.js'), []);
  const floor = await start(join(here, 'floor-proxy.js'), [`http://127.0.0.1:${upstream.port}`]);
  const sluice = await startSluice(upstream.port);
  const rows: string[] = [];
  const header = 'mode       conc | floor req/s   p50   p99 | sluice req/s   p50   p99 | req/s ratio  p50 added';
  console.log(`Sluice benchmark: ${DURATION_S}s per run, concurrencies ${CONCURRENCIES.join(', ')}; latency in ms`);
  console.log(header);
  try {
    for (const stream of [false, true]) {
      for (const connections of CONCURRENCIES) {
        // Warm both paths (connection pools, JIT) before measuring.
        await load(floor.port, stream, connections, 1);
        await load(sluice.port, stream, connections, 1);
        const f = await load(floor.port, stream, connections, DURATION_S);
        const s = await load(sluice.port, stream, connections, DURATION_S);
        const ratio = s.rps / f.rps;
        const added = f.p50 > 0 ? (s.p50 - f.p50) / f.p50 : 0;
        const row = `${(stream ? 'stream' : 'json').padEnd(10)} ${String(connections).padStart(4)} | `
          + `${f.rps.toFixed(0).padStart(11)} ${f.p50.toFixed(2).padStart(5)} ${f.p99.toFixed(2).padStart(5)} | `
          + `${s.rps.toFixed(0).padStart(12)} ${s.p50.toFixed(2).padStart(5)} ${s.p99.toFixed(2).padStart(5)} | `
          + `${(ratio * 100).toFixed(0).padStart(10)}%  ${(added * 100).toFixed(0).padStart(8)}%`
          + (f.errors + s.errors > 0 ? `  (errors: floor ${f.errors}, sluice ${s.errors})` : '');
        rows.push(row);
        console.log(row);
      }
    }
    console.log('Target: Sluice >= 70% of the floor\'s requests/s and <= 30% added to its p50.');
  } finally {
    sluice.child.kill('SIGTERM');
    floor.child.kill();
    upstream.child.kill();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
