// npm run bench -- cache: a response cache hit's latency beside a miss's, through one Sluice (in this process) in front
// of an OpenAI-compatible upstream that takes BENCH_CACHE_UPSTREAM_MS (default 50) to answer, as a model would. The miss
// row calls a model that is not cached; the hit row repeats one request to a model opted in, so every call after the
// first is answered from the cache.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSluice } from '../src/app.js';
import { validateConfig } from '../src/config/load.js';
import { MasterKey } from '../src/store/master-key.js';
import { load, type LoadResult } from './load.js';

const UPSTREAM_MS = Number(process.env.BENCH_CACHE_UPSTREAM_MS ?? 50);
const SECONDS = Number(process.env.BENCH_DURATION ?? 3);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16').split(',').map(Number);
const KEY = 'sk-sluice-bench-cache-0001';

const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 24, completion_tokens: 11, total_tokens: 35 },
});

async function main(): Promise<void> {
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
        res.end(completion);
      }, UPSTREAM_MS),
    );
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const address = upstream.address();
  const upstreamPort = typeof address === 'object' && address !== null ? address.port : 0;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-cache-'));
  const config = validateConfig(
    {
      gateway: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      storage: `sqlite:${join(dir, 'sluice.db')}`,
      log: { level: 'warn' },
      providers: { mock: { type: 'openai', baseUrl: `http://127.0.0.1:${upstreamPort}/v1`, apiKey: 'upstream-bench-key' } },
      models: [
        { name: 'uncached', targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
        { name: 'cached', targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
      ],
      consumers: [{ name: 'bench', keys: [KEY] }],
      cache: { models: { cached: { ttlSeconds: 3600 } } },
    },
    'bench config',
  );
  const sluice = await startSluice(config, pino({ level: 'warn' }), { masterKey: MasterKey.parse(randomBytes(32).toString('base64')) });
  const origin = `http://127.0.0.1:${sluice.gateway.port}`;
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const body = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something about foxes.' }] });
  console.log(`Response cache: upstream answers in ${UPSTREAM_MS} ms; ${SECONDS} s per row`);
  console.log('row    conc   req/s   p50 ms   p99 ms');
  const show = (name: string, concurrency: number, result: LoadResult) =>
    console.log(
      `${name.padEnd(6)} ${String(concurrency).padStart(4)} ${result.rps.toFixed(0).padStart(7)} ${result.p50.toFixed(2).padStart(8)} ${result.p99.toFixed(2).padStart(8)}` +
        (result.errors > 0 ? `  (${result.errors} errors; first: ${result.firstError})` : ''),
    );
  try {
    for (const concurrency of CONCURRENCY) {
      show(
        'miss',
        concurrency,
        await load({ origin, path: '/v1/chat/completions', headers, body: body('uncached'), connections: concurrency, seconds: SECONDS }),
      );
      show(
        'hit',
        concurrency,
        await load({ origin, path: '/v1/chat/completions', headers, body: body('cached'), connections: concurrency, seconds: SECONDS }),
      );
    }
  } finally {
    await sluice.stop(5_000);
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
