// The floor plus the work a governed call cannot do without, each piece done the plainest way (bench/essentials.ts runs
// it): what the 80% target leaves for everything else a gateway does. Pieces, named in argv[3] (comma-separated):
//   io        Sluice's I/O: undici's dispatch with a handler collecting the answer, sent with its content-length
//             (the floor reads and writes through async iterators and chunked encoding)
//   identity  the key's SHA-256 looked up among the consumers, a request id sent back in x-request-id
//   json      the request parsed, the upstream body written again with the target's model, the answer's usage parsed
//   counters  8 counter lines reserved before the call and settled after, in a Map, as governed(memory)'s budgets
//   metrics   4 observations on bound histograms (Sluice's own, src/observability/series-metrics.ts)
//   ledger    a record per call through Sluice's ledger writer to a SQLite file (its writer thread)
// `io` alone is the floor with Sluice's way of moving bytes; each later piece includes `io`. argv[4]: a folder for the
// ledger's file, which the runner removes.
import { hash, randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Pool, type Dispatcher } from 'undici';
import { LedgerWriter } from '../src/ledger/writer.js';
import { createLogger } from '../src/observability/logger.js';
import { SeriesHistogram, type HistogramSeries } from '../src/observability/series-metrics.js';
import { openLedgerStore } from '../src/store/ledger-store.js';

const upstream = process.argv[2]!;
const pieces = new Set((process.argv[3] ?? 'io').split(','));
const KEY = 'sk-sluice-bench-key-000001';
const MODEL = 'gpt-4o-mini';
const LINES = 8;
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 30_000 });
const consumers = new Map([[hash('sha256', KEY, 'hex'), { name: 'bench', team: 'perf' }]]);
const counters = new Map<string, { used: number; reserved: number }>();
const lineKeys = Array.from({ length: LINES }, (_, i) => `line-${i}`);

let ledger: LedgerWriter | null = null;
if (pieces.has('ledger')) {
  const dir = process.argv[4]!;
  const storage = `sqlite:${join(dir, 'ledger.db')}`;
  // The store's tables, made as a gateway's start makes them, before the writer thread opens the file.
  await (await openLedgerStore(storage)).close();
  ledger = await LedgerWriter.open({
    storage,
    flushIntervalMs: 200,
    maxBatch: 1000,
    maxBufferedRecords: 100_000,
    spoolDir: join(dir, 'spool'),
    maxSpoolBytes: 1e9,
    retry: { initialBackoffMs: 100, maxBackoffMs: 1000 },
    logger: createLogger('warn'),
  });
}
const histograms: HistogramSeries[] = [];
if (pieces.has('metrics')) {
  const registry = new Registry();
  for (const name of ['duration', 'first_token', 'input', 'output']) {
    const histogram = new SeriesHistogram({ name: `bench_${name}`, help: name, buckets: [0.01, 0.1, 1, 10, 100], registry });
    histograms.push(histogram.bind({ consumer: 'bench', model: MODEL, provider: 'mock', status: '200' }));
  }
}

interface Call {
  res: ServerResponse;
  startedAt: number;
  requestId: string;
  consumer: { name: string; team: string };
}

function reserve(): boolean {
  for (const key of lineKeys) {
    let line = counters.get(key);
    if (line === undefined) counters.set(key, (line = { used: 0, reserved: 0 }));
    if (line.used + line.reserved >= Number.MAX_SAFE_INTEGER) return false;
    line.reserved++;
  }
  return true;
}

function settle(tokens: number): void {
  for (const key of lineKeys) {
    const line = counters.get(key)!;
    line.reserved--;
    line.used += tokens;
  }
}

function finish(call: Call, status: number, text: string): void {
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  if (pieces.has('identity')) headers['x-request-id'] = call.requestId;
  call.res.writeHead(status, headers);
  call.res.end(text);
  let input = 0;
  let output = 0;
  if (pieces.has('json')) {
    // The mock upstream's usage object holds no nested object: it ends at the first closing brace.
    const at = text.lastIndexOf('"usage"');
    const usage = JSON.parse(text.slice(text.indexOf('{', at), text.indexOf('}', at) + 1)) as Record<string, number>;
    input = usage.prompt_tokens ?? 0;
    output = usage.completion_tokens ?? 0;
  }
  if (pieces.has('counters')) settle(input + output);
  const latencyMs = Date.now() - call.startedAt;
  for (const histogram of histograms) histogram.observe(latencyMs / 1000);
  ledger?.append({
    requestId: call.requestId,
    startedAt: call.startedAt,
    operation: 'chat',
    api: 'openai',
    consumer: call.consumer.name,
    team: call.consumer.team,
    requestedModel: MODEL,
    provider: 'mock',
    providerModel: MODEL,
    stream: false,
    inputTokens: input,
    outputTokens: output,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: 10,
    latencyMs,
    timeToFirstTokenMs: null,
    status,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
    identity: 'key:bench',
    savedMicroUsd: 0,
  });
}

/** Collects the answer and finishes the call with it. */
class Answer implements Dispatcher.DispatchHandler {
  private readonly call: Call;
  private readonly chunks: Buffer[] = [];
  private status = 502;

  constructor(call: Call) {
    this.call = call;
  }

  // undici tells this handler API from the older one by this method.
  onRequestStart(): void {}

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    finish(this.call, this.status, (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)).toString('utf8'));
  }

  onResponseError(): void {
    this.call.res.writeHead(502);
    this.call.res.end();
  }
}

const anonymous = { name: '', team: '' };
const server = createServer((req, res) => {
  const call: Call = { res, startedAt: Date.now(), requestId: '', consumer: anonymous };
  if (pieces.has('identity')) {
    call.requestId = randomUUID();
    const consumer = consumers.get(hash('sha256', (req.headers.authorization ?? '').slice('Bearer '.length), 'hex'));
    if (consumer === undefined) {
      res.writeHead(401);
      res.end();
      return;
    }
    call.consumer = consumer;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => {
    let body: Buffer | string = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (pieces.has('json')) {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (pieces.has('counters') && !reserve()) {
        res.writeHead(429);
        res.end();
        return;
      }
      body = JSON.stringify({ ...parsed, model: MODEL });
    }
    pool.dispatch(
      {
        path: req.url ?? '/',
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer upstream-bench-key' },
        body,
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      new Answer(call),
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
