// npm run bench -- streams: streams at scale on one worker, beside the floor proxy (bench/floor-proxy.ts).
// 1. BENCH_STREAMS (default 1,000) streamed chat calls held open at once through each target (opened over
//    BENCH_STREAM_RAMP_MS, default 2 s, rather than in one burst of connections), against an upstream that
//    sends its first token at once and then one word every BENCH_STREAM_WORD_MS (default 500 ms): the target's RSS
//    (VmRSS of /proc/<pid>/status, sampled) before and at the peak, and time to first token p50 / p99 as the client sees it.
// 2. BENCH_IDLE (default 10,000) idle keep-alive client connections, each after one request, held for a few seconds:
//    how many are still open and the target's RSS with them. Sluice is started with gateway.maxConnections raised above
//    that (its default, 4,096, would close the rest as they are accepted).
// Sluice runs as `sluice start --workers 1` (one process); both targets may open as many upstream connections as there
// are streams. Figures on a busy machine are not final.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 1_000);
const IDLE = Number(process.env.BENCH_IDLE ?? 10_000);
const WORD_MS = Number(process.env.BENCH_STREAM_WORD_MS ?? 500);
const WORDS = 8;
/** Streams are opened evenly over this time (they last WORDS × WORD_MS, longer, so all are open together at the end). */
const RAMP_MS = Number(process.env.BENCH_STREAM_RAMP_MS ?? 2_000);
/**
 * Upstream connections per origin, for both targets: every open stream holds one, so the default of 128
 * (providers.<name>.connections) would queue the rest of the 1,000 behind the first 128.
 */
const UPSTREAM_CONNECTIONS = STREAMS + 50;
const KEY = 'sk-sluice-bench-streams-0001';
const CLI = fileURLToPath(new URL('../src/cli/sluice.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('floor-proxy.js', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const children = new Set<ChildProcess>();

const chunk = (delta: string) =>
  `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":${delta},"finish_reason":null}]}\n\n`;
const usage =
  'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":24,"completion_tokens":8,"total_tokens":32}}\n\n';
const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/** The slow streaming upstream, in this process (it only waits on timers). */
function slowUpstream(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (data: Buffer) => chunks.push(data));
    req.on('end', () => {
      if (!Buffer.concat(chunks).toString().includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
        res.end(completion);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('{"role":"assistant","content":"The "}'));
      let sent = 1;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        if (sent++ < WORDS) {
          res.write(chunk(`{"content":"word${sent} "}`));
          return;
        }
        clearInterval(timer);
        res.end(`${usage}data: [DONE]\n\n`);
      }, WORD_MS);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.maxHeadersCount = 0;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', 1024, () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address !== null ? address.port : 0 });
    }),
  );
}

function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? Number.NaN : Number(match[1]) / 1024;
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function startFloor(upstreamPort: number): Promise<{ child: ChildProcess; port: number }> {
  const child = track(
    fork(FLOOR, [`http://127.0.0.1:${upstreamPort}`, String(UPSTREAM_CONNECTIONS)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the floor proxy exited with ${code}`)));
  });
  return { child, port };
}

async function startSluice(dir: string, upstreamPort: number): Promise<{ child: ChildProcess; port: number }> {
  const config = join(dir, 'sluice.yaml');
  writeFileSync(
    config,
    `
gateway: { host: 127.0.0.1, port: 0, maxConnections: ${IDLE + STREAMS + 1_000} }
admin: { host: 127.0.0.1, port: 0 }
storage: sqlite:${join(dir, 'sluice.db')}
log: { level: info }
providers:
  mock: { type: openai, baseUrl: http://127.0.0.1:${upstreamPort}/v1, apiKey: upstream-bench-key, connections: ${UPSTREAM_CONNECTIONS} }
models:
  - name: gpt-4o-mini
    targets: [{ provider: mock, model: gpt-4o-mini }]
consumers:
  - { name: bench, team: perf, keys: ["${KEY}"] }
`,
  );
  const child = track(
    fork(CLI, ['start', '--workers', '1', '--config', config], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: { PATH: process.env.PATH, SLUICE_MASTER_KEY: randomBytes(32).toString('base64') },
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (data: Buffer) => {
      out += data.toString();
      const match =
        /"msg":"sluice is listening".*?"gateway":\{"port":(\d+)/.exec(out) ?? /"gateway":\{"port":(\d+)[^\n]*sluice is listening/.exec(out);
      if (match !== null) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`sluice exited with ${code} before listening:\n${out}`)));
  });
  return { child, port };
}

/** Opens `count` streams at once; resolves with each one's time to first token (ms) once all have ended, and the peak RSS. */
async function streams(port: number, pid: number, count: number): Promise<{ ttft: number[]; failed: number; peakMb: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Tell me a story.' }],
  });
  let peakMb = rssMb(pid);
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssMb(pid))), 100);
  const ttft: number[] = [];
  let failed = 0;
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Promise<void>((resolve) => setTimeout(resolve, (i * RAMP_MS) / count)).then(
        () =>
          new Promise<void>((resolve) => {
            const started = process.hrtime.bigint();
            const outgoing = request(
              {
                host: '127.0.0.1',
                port,
                method: 'POST',
                path: '/v1/chat/completions',
                agent,
                headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
              },
              (res) => {
                let first = true;
                res.on('data', (data: Buffer) => {
                  if (first && data.includes('"content"')) {
                    first = false;
                    ttft.push(Number(process.hrtime.bigint() - started) / 1e6);
                  }
                });
                res.on('end', () => {
                  if (res.statusCode !== 200 || first) failed++;
                  resolve();
                });
                res.on('error', () => {
                  failed++;
                  resolve();
                });
              },
            );
            outgoing.on('error', () => {
              failed++;
              resolve();
            });
            outgoing.end(body);
          }),
      ),
    ),
  );
  clearInterval(sampler);
  agent.destroy();
  ttft.sort((a, b) => a - b);
  return { ttft, failed, peakMb };
}

/** Opens `count` connections, each sending one request and kept alive; holds them `holdMs`; counts those still open. */
async function idleConnections(
  port: number,
  pid: number,
  count: number,
  raw: string,
  holdMs: number,
): Promise<{ held: number; rssMb: number }> {
  const sockets: Socket[] = [];
  let open = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let answered = false;
      socket.on('data', () => {
        if (!answered) {
          answered = true;
          open++;
          resolve();
        }
      });
      socket.on('close', () => {
        if (answered) open--;
        else resolve();
      });
      socket.on('error', () => undefined);
      socket.write(raw);
      sockets.push(socket);
    });
  for (let i = 0; i < count; i += 250) await Promise.all(Array.from({ length: Math.min(250, count - i) }, one));
  await sleep(holdMs);
  const result = { held: open, rssMb: rssMb(pid) };
  for (const socket of sockets) socket.destroy();
  return result;
}

function at(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
}

async function main(): Promise<void> {
  const limits = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).stdout.trim().split('\n');
  console.log(
    `Streams at scale, one worker: ${STREAMS} concurrent streams (opened over ${RAMP_MS} ms, a word every ${WORD_MS} ms, ` +
      `${WORDS} words), then ${IDLE} idle ` +
      `keep-alive connections. Open files: ${limits[0]} soft, ${limits[1]} hard (each side holds one per connection).`,
  );
  const upstream = await slowUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-streams-'));
  const rows: string[][] = [];
  try {
    for (const name of ['floor', 'sluice']) {
      const target = name === 'floor' ? await startFloor(upstream.port) : await startSluice(dir, upstream.port);
      const pid = target.child.pid!;
      try {
        // A few streams first, so both have warmed up their code and pools before the baseline is read.
        await streams(target.port, pid, 20);
        await sleep(500);
        const idleRss = rssMb(pid);
        const run = await streams(target.port, pid, STREAMS);
        const raw =
          name === 'floor'
            ? `POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`
            : 'GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n';
        const idle = await idleConnections(target.port, pid, IDLE, raw, 3_000);
        rows.push([
          name,
          idleRss.toFixed(1),
          run.peakMb.toFixed(1),
          (run.peakMb - idleRss).toFixed(1),
          at(run.ttft, 0.5).toFixed(2),
          at(run.ttft, 0.99).toFixed(2),
          String(run.failed),
          `${idle.held}/${IDLE}`,
          idle.rssMb.toFixed(1),
        ]);
      } finally {
        await stop(target.child);
      }
    }
  } finally {
    upstream.server.closeAllConnections();
    upstream.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const header = [
    'target',
    'RSS idle MB',
    `RSS ${STREAMS} streams MB`,
    'added MB',
    'TTFT p50 ms',
    'TTFT p99 ms',
    'failed',
    'idle conns held',
    'RSS idle conns MB',
  ];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  const [floor, sluice] = rows;
  if (floor !== undefined && sluice !== undefined)
    console.log(
      `Sluice: RSS at ${STREAMS} streams ${sluice[2]} MB (target < 150 MB); TTFT p50 ${(Number(sluice[4]) - Number(floor[4])).toFixed(2)} ms ` +
        `and p99 ${(Number(sluice[5]) - Number(floor[5])).toFixed(2)} ms beside the floor's (target within 1 ms).`,
    );
}

process.on('SIGTERM', () => {
  for (const child of children) child.kill('SIGTERM');
  process.exit(143);
});
await main();
