// npm run bench -- streams: streams at scale on one worker, beside the floor proxy (bench/floor-proxy.ts).
// 1. BENCH_STREAMS (default 1,000) streamed chat calls held open at once through each target (opened over
//    BENCH_STREAM_RAMP_MS, default 2 s, rather than in one burst of connections), against an upstream that
//    sends its first token at once and then one word every BENCH_STREAM_WORD_MS (default 500 ms): the target's RSS
//    (VmRSS of /proc/<pid>/status, sampled) before and at the peak, and time to first token p50 / p99 as the client sees it.
//    Each target is measured once it has settled (BENCH_SETTLE_MS, default 10 s after its warm-up: SETTLE_MS says why).
// 2. BENCH_IDLE (default 10,000) idle keep-alive client connections, each after one request, held for a few seconds:
//    how many are still open and the target's RSS with them. Sluice is started with gateway.maxConnections raised above
//    that (its default, 4,096, would close the rest as they are accepted).
// Sluice runs with the Node flags the `sluice` command gives it (SEMI_SPACE_FLAG; a BENCH_SLUICE_FLAGS target may
// override it), as `sluice start --workers 1` (one process: the director and its gateway), and as `sluice gateway
// --workers 1` (`sluice lone`: one gateway process taking its configuration from a director in another process, as each
// gateway of a scaled-out deployment runs; the director's memory is not counted), and as `sluice start --workers 1`
// governed as `npm run bench`'s governed targets are (bench/governance.ts; `sluice governed`: budgets load the
// tokenizer, which the others never need); all may open as many upstream connections as there are streams. Each
// target's heap (process.memoryUsage(), asked over IPC from bench/memory-probe.ts) is printed beside its RSS.
// BENCH_ROUNDS (default 3) rounds, the targets in a new order each round and started afresh, then the medians;
// the idle connections are held in the last round only. The slow upstream runs in a process of its own, so its timers
// do not delay the client's reading of first tokens. BENCH_BASELINE=<dist folder> adds `sluice@base` and `sluice
// governed@base`, another build (e.g. main's) in the same rounds; BENCH_TARGETS=<names, comma-separated> keeps only those
// targets (e.g. `floor,sluice governed`). Figures on a busy machine are not final.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEMI_SPACE_FLAG } from '../src/cluster/primary.js';
import { governanceYaml } from './governance.js';
import { benchSluiceYaml, median } from './shared.js';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 1_000);
const IDLE = Number(process.env.BENCH_IDLE ?? 10_000);
const WORD_MS = Number(process.env.BENCH_STREAM_WORD_MS ?? 500);
const WORDS = 8;
/** Streams are opened evenly over this time (they last WORDS × WORD_MS, longer, so all are open together at the end). */
const RAMP_MS = Number(process.env.BENCH_STREAM_RAMP_MS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/**
 * How long a target is left alone after its warm-up, before its idle figures are read and the streams start. V8 gives
 * back what the process's start used (the young generation it grew, the compilers' memory; and in Sluice the tokenizer's
 * loading thread and the first compliance assessment, 5 s after start) when its memory reducer first runs, some 8 s
 * after start: read before that, a target's RSS counted 10 to 20 MB of its start, more or less of it as the rounds fell.
 */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 10_000);
/** Node flags for one more target, `sluice <flags>` (this build started with them), e.g. --max-semi-space-size=4. */
const SLUICE_FLAGS = (process.env.BENCH_SLUICE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
const BASELINE =
  process.env.BENCH_BASELINE === undefined || process.env.BENCH_BASELINE === '' ? null : resolvePath(process.env.BENCH_BASELINE);
/**
 * Upstream connections per origin, for both targets: every open stream holds one, so the default of 128
 * (providers.<name>.connections) would queue the rest of the 1,000 behind the first 128.
 */
const UPSTREAM_CONNECTIONS = STREAMS + 50;
const KEY = 'sk-sluice-bench-streams-0001';
const CLI = fileURLToPath(new URL('../src/cli/sluice.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('floor-proxy.js', import.meta.url));
const PROBE = ['--import', new URL('memory-probe.js', import.meta.url).href];
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

/** The slow upstream in a child process (this script, run with "upstream"), so the client's event loop is its own. */
async function startUpstream(): Promise<{ child: ChildProcess; port: number }> {
  const child = track(fork(fileURLToPath(import.meta.url), ['upstream'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the upstream exited with ${code}`)));
  });
  return { child, port };
}

/** CPU time (user + system) the process has used, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime, fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
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

/** The target's heap in MB, asked over IPC (bench/memory-probe.ts); NaN when it does not answer within a second. */
function heapMb(child: ChildProcess): Promise<{ used: number; total: number }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done({ used: Number.NaN, total: Number.NaN }), 1_000);
    const listener = (message: { benchMemory?: NodeJS.MemoryUsage }) => {
      if (message.benchMemory !== undefined)
        done({ used: message.benchMemory.heapUsed / 1_048_576, total: message.benchMemory.heapTotal / 1_048_576 });
    };
    const done = (heap: { used: number; total: number }) => {
      clearTimeout(timer);
      child.off('message', listener);
      resolve(heap);
    };
    child.on('message', listener);
    child.send('bench:memory');
  });
}

async function startFloor(upstreamPort: number): Promise<{ child: ChildProcess; port: number }> {
  const child = track(
    fork(FLOOR, [`http://127.0.0.1:${upstreamPort}`, String(UPSTREAM_CONNECTIONS)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [...process.execArgv, ...PROBE],
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the floor proxy exited with ${code}`)));
  });
  return { child, port };
}

interface Started {
  child: ChildProcess;
  port: number;
  /** Sluice: its admin listener's port. */
  adminPort?: number;
  /** Processes the target needs beside the measured one (a lone gateway's director), stopped with it. */
  others?: ChildProcess[];
}

async function startSluice(
  cli: string,
  dir: string,
  upstreamPort: number,
  flags: readonly string[] = [],
  masterKey = randomBytes(32).toString('base64'),
  governed = false,
): Promise<Started> {
  const config = join(dir, 'sluice.yaml');
  writeFileSync(
    config,
    benchSluiceYaml({
      database: join(dir, 'sluice.db'),
      upstreamPort,
      key: KEY,
      gatewayMaxConnections: IDLE + STREAMS + 1_000,
      upstreamConnections: UPSTREAM_CONNECTIONS,
      extra: governed ? governanceYaml('memory') : '',
    }),
  );
  const child = track(
    fork(cli, ['start', '--workers', '1', '--config', config], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      execArgv: [...process.execArgv, SEMI_SPACE_FLAG, ...flags, ...PROBE],
      env: { PATH: process.env.PATH, SLUICE_MASTER_KEY: masterKey },
    }),
  );
  const ports = await listening(child);
  return { child, ...ports };
}

/** The gateway's (and the admin listener's) port from Sluice's "sluice is listening" line. */
function listening(child: ChildProcess): Promise<{ port: number; adminPort?: number }> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (data: Buffer) => {
      out += data.toString();
      const line = out.split('\n').find((text) => text.includes('"msg":"sluice is listening"'));
      if (line === undefined) return;
      const entry = JSON.parse(line) as { gateway: { port: number }; admin?: { port: number } };
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({ port: entry.gateway.port, ...(entry.admin === undefined ? {} : { adminPort: entry.admin.port }) });
    });
    child.once('exit', (code) => reject(new Error(`sluice exited with ${code} before listening:\n${out}`)));
  });
}

/**
 * A lone gateway (`sluice gateway --director`, one worker) beside a director started as startSluice starts it: the
 * gateway is what is measured, with its own ledger file; consumers, keys and the provider come from the director.
 */
async function startLoneGateway(cli: string, dir: string, upstreamPort: number, flags: readonly string[] = []): Promise<Started> {
  const masterKey = randomBytes(32).toString('base64');
  const director = await startSluice(cli, dir, upstreamPort, [], masterKey);
  try {
    const gatewayDir = join(dir, 'gateway');
    mkdirSync(gatewayDir);
    const config = join(gatewayDir, 'gateway.yaml');
    writeFileSync(
      config,
      `
gateway: { host: 127.0.0.1, port: 0, maxConnections: ${IDLE + STREAMS + 1_000} }
storage: sqlite:${join(gatewayDir, 'gateway.db')}
log: { level: info }
`,
    );
    const child = track(
      fork(cli, ['gateway', '--workers', '1', '--director', `http://127.0.0.1:${director.adminPort!}`, '--config', config], {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        execArgv: [...process.execArgv, SEMI_SPACE_FLAG, ...flags, ...PROBE],
        env: {
          PATH: process.env.PATH,
          SLUICE_MASTER_KEY: masterKey,
          SLUICE_DIRECTOR_TOKEN: readFileSync(join(dir, 'admin.token'), 'utf8').trim(),
        },
      }),
    );
    const { port } = await listening(child);
    return { child, port, others: [director.child] };
  } catch (error) {
    await stop(director.child);
    throw error;
  }
}

interface StreamsRun {
  ttft: number[];
  failed: number;
  peakMb: number;
  /** The largest heap used and heap reserved (total) seen while the streams were open. */
  peakHeapUsedMb: number;
  peakHeapTotalMb: number;
}

/** Opens `count` streams over RAMP_MS; resolves with each one's time to first token (ms) once all have ended, and the peaks. */
async function streams(port: number, target: ChildProcess, count: number): Promise<StreamsRun> {
  const pid = target.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Tell me a story.' }],
  });
  let peakMb = rssMb(pid);
  let peakHeapUsedMb = 0;
  let peakHeapTotalMb = 0;
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssMb(pid))), 100);
  // Less often than the RSS: each sample is a message the target answers on its event loop.
  const heapSampler = setInterval(() => {
    void heapMb(target).then((heap) => {
      peakHeapUsedMb = Math.max(peakHeapUsedMb, heap.used);
      peakHeapTotalMb = Math.max(peakHeapTotalMb, heap.total);
    });
  }, 500);
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
  clearInterval(heapSampler);
  agent.destroy();
  ttft.sort((a, b) => a - b);
  return { ttft, failed, peakMb, peakHeapUsedMb, peakHeapTotalMb };
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

interface Target {
  name: string;
  start: (dir: string, upstreamPort: number) => Promise<Started>;
  /** A request the target answers, for the idle connections. */
  raw: string;
}

/**
 * One round's figures for one target: [RSS idle, heap used idle, heap total idle, RSS peak, heap used peak, heap total
 * peak, p50, p99, CPU ms for the streams].
 */
type Figures = number[];

async function measure(
  target: Target,
  dir: string,
  upstreamPort: number,
  idleToo: boolean,
): Promise<{ figures: Figures; failed: number; idle: string }> {
  const started = await target.start(dir, upstreamPort);
  try {
    // A few streams first, so the target has warmed up its code and pools before the baseline is read; then the target
    // settles as a gateway that has been up a while has (see SETTLE_MS).
    await streams(started.port, started.child, 20);
    await sleep(SETTLE_MS);
    const idleRss = rssMb(started.child.pid!);
    const idleHeap = await heapMb(started.child);
    const cpuBefore = cpuMs(started.child.pid!);
    const run = await streams(started.port, started.child, STREAMS);
    const cpu = cpuMs(started.child.pid!) - cpuBefore;
    let idle = '';
    if (idleToo) {
      const held = await idleConnections(started.port, started.child.pid!, IDLE, target.raw, 3_000);
      idle = `${held.held}/${IDLE} held, RSS ${held.rssMb.toFixed(1)} MB`;
    }
    return {
      figures: [
        idleRss,
        idleHeap.used,
        idleHeap.total,
        run.peakMb,
        run.peakHeapUsedMb,
        run.peakHeapTotalMb,
        at(run.ttft, 0.5),
        at(run.ttft, 0.99),
        cpu,
      ],
      failed: run.failed,
      idle,
    };
  } finally {
    await stop(started.child);
    for (const other of started.others ?? []) await stop(other);
  }
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const limits = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).stdout.trim().split('\n');
  console.log(
    `Streams at scale, one worker: ${STREAMS} concurrent streams (opened over ${RAMP_MS} ms, a word every ${WORD_MS} ms, ` +
      `${WORDS} words), ${ROUNDS} rounds, then ${IDLE} idle ` +
      `keep-alive connections. Open files: ${limits[0]} soft, ${limits[1]} hard (each side holds one per connection).`,
  );
  const sluiceRaw = 'GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n';
  const targets: Target[] = [
    {
      name: 'floor',
      start: (_dir, upstreamPort) => startFloor(upstreamPort),
      raw: `POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    },
    { name: 'sluice', start: (dir, upstreamPort) => startSluice(CLI, dir, upstreamPort), raw: sluiceRaw },
    { name: 'sluice lone', start: (dir, upstreamPort) => startLoneGateway(CLI, dir, upstreamPort), raw: sluiceRaw },
    {
      name: 'sluice governed',
      start: (dir, upstreamPort) => startSluice(CLI, dir, upstreamPort, [], undefined, true),
      raw: sluiceRaw,
    },
  ];
  if (SLUICE_FLAGS.length > 0) {
    targets.push({
      name: `sluice ${SLUICE_FLAGS.join(' ')}`,
      start: (dir, upstreamPort) => startSluice(CLI, dir, upstreamPort, SLUICE_FLAGS),
      raw: sluiceRaw,
    });
    targets.push({
      name: `sluice lone ${SLUICE_FLAGS.join(' ')}`,
      start: (dir, upstreamPort) => startLoneGateway(CLI, dir, upstreamPort, SLUICE_FLAGS),
      raw: sluiceRaw,
    });
  }
  if (BASELINE !== null) {
    const cli = join(BASELINE, 'src/cli/sluice.js');
    if (!existsSync(cli)) throw new Error(`BENCH_BASELINE: ${BASELINE} holds no src/cli/sluice.js; give the dist folder of a build`);
    targets.push({ name: 'sluice@base', start: (dir, upstreamPort) => startSluice(cli, dir, upstreamPort), raw: sluiceRaw });
    targets.push({
      name: 'sluice governed@base',
      start: (dir, upstreamPort) => startSluice(cli, dir, upstreamPort, [], undefined, true),
      raw: sluiceRaw,
    });
  }
  const only = (process.env.BENCH_TARGETS ?? '').split(',').filter((name) => name !== '');
  if (only.length > 0) targets.splice(0, targets.length, ...targets.filter((target) => only.includes(target.name)));
  const upstream = await startUpstream();
  const results = new Map<string, Figures[]>(targets.map((target) => [target.name, []]));
  const failures = new Map<string, number>(targets.map((target) => [target.name, 0]));
  const idle = new Map<string, string>();
  const header = [
    'target',
    'RSS idle',
    'heap used',
    'heap total',
    `RSS ${STREAMS} streams`,
    'heap used',
    'heap total',
    'TTFT p50 ms',
    'TTFT p99 ms',
    'CPU ms',
  ];
  const row = (name: string, figures: Figures) => [name, ...figures.map((value, i) => value.toFixed(i < 6 ? 1 : i < 8 ? 2 : 0))];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // A new order every round: whichever runs while the machine is busier is not always the same one.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      const rows: string[][] = [];
      for (const target of order) {
        const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-streams-'));
        try {
          const measured = await measure(target, dir, upstream.port, round === ROUNDS - 1);
          results.get(target.name)!.push(measured.figures);
          failures.set(target.name, failures.get(target.name)! + measured.failed);
          if (measured.idle !== '') idle.set(target.name, measured.idle);
          rows.push(row(target.name, measured.figures));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      console.log(`Round ${round + 1} (MB; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}):`);
      table(header, rows);
    }
  } finally {
    await stop(upstream.child);
  }
  console.log(`Medians over ${ROUNDS} rounds (MB):`);
  table(
    [...header, 'failed', 'idle connections (last round)'],
    targets.map((target) => {
      const rounds = results.get(target.name)!;
      const medians = header.slice(1).map((_, i) => median(rounds.map((figures) => figures[i]!)));
      return [...row(target.name, medians), String(failures.get(target.name)), idle.get(target.name) ?? ''];
    }),
  );
  const floor = results.get('floor')!;
  for (const name of targets.slice(1).map((target) => target.name)) {
    const rounds = results.get(name)!;
    // The differences are taken round by round (each beside the floor of its own round), then their median.
    const difference = (i: number) => median(rounds.map((figures, round) => figures[i]! - floor[round]![i]!)).toFixed(2);
    console.log(
      `${name}: RSS at ${STREAMS} streams ${median(rounds.map((figures) => figures[3]!)).toFixed(1)} MB (target < 150 MB); ` +
        `TTFT p50 ${difference(6)} ms and p99 ${difference(7)} ms beside the floor's, median of the rounds' differences (target within 1 ms).`,
    );
  }
}

if (process.argv[2] === 'upstream') {
  const upstream = await slowUpstream();
  process.send!({ port: upstream.port });
  process.on('SIGTERM', () => process.exit(0));
} else {
  process.on('SIGTERM', () => {
    for (const child of children) child.kill('SIGTERM');
    process.exit(143);
  });
  await main();
}
