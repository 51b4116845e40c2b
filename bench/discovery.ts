// npm run bench -- discovery: the discovery gateway's throughput and added latency, in one run: the same calls to a
// loopback HTTPS mock provider straight (the baseline), through a spliced CONNECT tunnel (a non-AI host), and through an
// intercepted tunnel (an AI host: TLS ended and re-made, the answer read on the way).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { validateConfig } from '../src/config/load.js';
import { createCertificateAuthority, issueCertificate, writeCertificateAuthority } from '../src/discovery/ca.js';
import { startDiscovery } from '../src/discovery/discovery.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ANSWER = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'benchmark answer '.repeat(20) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 40, completion_tokens: 60, total_tokens: 100 },
});
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello '.repeat(50) }] });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-discovery-'));
  const org = { cert: join(dir, 'org.pem'), key: join(dir, 'org-key.pem') };
  await writeCertificateAuthority(org.cert, org.key);
  const upstreamCa = await createCertificateAuthority('Bench upstream CA');
  writeFileSync(join(dir, 'upstream.pem'), upstreamCa.certPem);
  const leaf = await issueCertificate(upstreamCa, ['api.openai.com', '127.0.0.1'], 30);
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) });
      res.end(ANSWER);
    });
  });
  let upstreamConnections = 0;
  server.on('secureConnection', () => upstreamConnections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const config = validateConfig(
    {
      log: { level: 'silent' },
      discovery: {
        host: '127.0.0.1',
        port: 0,
        ca: { certFile: org.cert, keyFile: org.key },
        upstream: { caFile: join(dir, 'upstream.pem'), resolve: { 'api.openai.com': `127.0.0.1:${port}` } },
      },
    },
    'bench',
  );
  const discovery = await startDiscovery(config, pino({ level: 'silent' }));
  const orgPem = (await import('node:fs')).readFileSync(org.cert, 'utf8');
  const variants: Array<{ name: string; url: string; dispatcher: Dispatcher }> = [
    {
      name: 'direct',
      url: `https://127.0.0.1:${port}/v1/chat/completions`,
      dispatcher: new Agent({ connect: { ca: upstreamCa.certPem } }),
    },
    {
      name: 'tunneled (non-AI host)',
      url: `https://127.0.0.1:${port}/v1/chat/completions`,
      dispatcher: new ProxyAgent({ uri: discovery.url, requestTls: { ca: upstreamCa.certPem } }),
    },
    {
      name: 'intercepted (AI host)',
      url: 'https://api.openai.com/v1/chat/completions',
      dispatcher: new ProxyAgent({ uri: discovery.url, requestTls: { ca: orgPem } }),
    },
  ];
  console.log(
    `discovery benchmark: ${CALLS} calls per variant, ${CONCURRENCY} at a time, ${BODY.length} B request, ${ANSWER.length} B answer`,
  );
  let baseline = 0;
  for (const variant of variants) {
    const one = async () => {
      const started = performance.now();
      const answer = await request(variant.url, {
        method: 'POST',
        dispatcher: variant.dispatcher,
        body: BODY,
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-not-real' },
      });
      await answer.body.text();
      return performance.now() - started;
    };
    for (let i = 0; i < 100; i++) await one(); // warm-up: connections, leaf certificate
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < CALLS) latencies.push(await one());
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length / 2)]!;
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    if (variant.name === 'direct') baseline = p50;
    const added = variant.name === 'direct' ? '' : `  added p50 ${(p50 - baseline).toFixed(2)} ms`;
    console.log(
      `${variant.name.padEnd(24)} ${(CALLS / seconds).toFixed(0).padStart(6)} calls/s  p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms${added}`,
    );
    console.log(`  upstream TLS connections so far: ${upstreamConnections}`);
    await variant.dispatcher.close();
  }
  await discovery.stop();
  server.closeAllConnections();
  server.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
