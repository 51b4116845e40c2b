// The discovery gateway end to end: the real openai SDK (through undici's ProxyAgent) and curl call loopback HTTPS mock
// providers through the proxy, plain and streamed, several calls on one tunnel; answers are byte-identical to those
// without the proxy, and the director shows the discovered consumer with its hints, the model, exact tokens and cost.
// A non-AI host is tunneled untouched (its own certificate), an untrusted upstream is refused, h2 is spoken on request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect as h2connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { startTestSluice, ledgerRows, type TestSluice } from '../support/sluice.js';
import { json, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import {
  connectTunnel,
  directFetch,
  HttpsMock,
  proxiedFetch,
  startTestDiscovery,
  tlsFixture,
  type TlsFixture,
} from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import { PriceCatalog } from '../../src/metering/price-catalog.js';
import { costNanoUsd, microFromNano } from '../../src/metering/cost.js';
import { keyFingerprint } from '../../src/policy/discovery.js';

const run = promisify(execFile);
const BOOTSTRAP = 'sa-bootstrap-discovery-test-0123456';
const PROVIDER_KEY = 'sk-proj-discovery-test-key-not-real-0001';
const PROXY_AUTH = `Basic ${Buffer.from('alice:wonderland-pass').toString('base64')}`;

describe('discovery proxy end to end', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let untrusted: HttpsMock;
  let plainSite: HttpsMock;
  let director: TestSluice;
  let discovery: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(['api.openai.com']), async (request, res) => {
      if (request.body.stream === true) await sse(res, openaiStreamFrames(['Hel', 'lo', '!'], { prompt_tokens: 21, completion_tokens: 3 }));
      else json(res, 200, openaiCompletion('Hello!', { prompt_tokens: 17, completion_tokens: 4 }), { 'openai-organization': 'org-mock' });
    });
    untrusted = await HttpsMock.start(await tls.serverCert(['api.mistral.ai'], false), (_request, res) => json(res, 200, {}));
    plainSite = await HttpsMock.start(await tls.serverCert(['127.0.0.1', 'intranet.example']), (_request, res) =>
      json(res, 200, { ok: true }),
    );
    director = await startTestSluice({ admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP }, consumers: [] });
    discovery = await startTestDiscovery({
      observer: 'proxy-e2e',
      users: [{ name: 'alice', password: 'wonderland-pass' }],
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      upstream: {
        caFile: tls.upstreamCaFile,
        resolve: { 'api.openai.com:443': `127.0.0.1:${mock.port}`, 'api.mistral.ai:443': `127.0.0.1:${untrusted.port}` },
      },
      director: { url: director.adminURL, token: BOOTSTRAP, flushIntervalMs: 3_600_000, spoolDir: `${tls.dir}/spool` },
    });
  });

  after(async () => {
    await discovery.stop();
    await director.stop();
    await Promise.all([mock.close(), untrusted.close(), plainSite.close()]);
  });

  const sdk = (fetch: typeof globalThis.fetch, baseURL: string) =>
    new OpenAI({
      apiKey: PROVIDER_KEY,
      baseURL,
      fetch,
      organization: 'org-acme',
      project: 'proj-shadow',
      maxRetries: 0,
    });

  test('the openai SDK through the proxy: plain and streamed answers byte-identical to direct, several calls on one tunnel', async () => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem, PROXY_AUTH);
    const direct = directFetch(tls.upstreamCa.certPem);
    const viaProxy = sdk(proxied.fetch, 'https://api.openai.com/v1');
    const straight = sdk(direct.fetch, `https://api.openai.com:${mock.port}/v1`);
    const plain = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
    const streamed = { ...plain, stream: true as const, stream_options: { include_usage: true } };
    const before = (await discovery.metrics.connections.get()).values.find((v) => v.labels.kind === 'intercepted')?.value ?? 0;
    for (let i = 0; i < 3; i++) {
      const a = await (await viaProxy.chat.completions.create(plain).asResponse()).text();
      const b = await (await straight.chat.completions.create(plain).asResponse()).text();
      assert.equal(a, b);
      assert.equal(JSON.parse(a).choices[0].message.content, 'Hello!');
    }
    const streamText = await (await viaProxy.chat.completions.create(streamed).asResponse()).text();
    assert.equal(streamText, await (await straight.chat.completions.create(streamed).asResponse()).text());
    assert.match(streamText, /data: \[DONE\]/);
    // The SDK's own stream parsing works through the proxy too.
    let text = '';
    for await (const chunk of await viaProxy.chat.completions.create(streamed)) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Hello!');
    const after = (await discovery.metrics.connections.get()).values.find((v) => v.labels.kind === 'intercepted')?.value ?? 0;
    assert.equal(after - before, 1, 'five calls, one intercepted tunnel (keep-alive)');
    assert.equal(discovery.leaves.minted, 1);
    // The mock saw the client's own headers: the proxy forwarded them, not its own.
    const last = mock.received.at(-1)!;
    assert.equal(last.headers.authorization, `Bearer ${PROVIDER_KEY}`);
    assert.equal(last.headers['proxy-authorization'], undefined);
    await proxied.dispatcher.close();
    await direct.dispatcher.close();
  });

  test('curl --proxy --cacert: the same bytes as curl straight to the provider', async () => {
    const payload = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'from curl' }] });
    const common = [
      '-s',
      '--fail-with-body',
      '-H',
      'content-type: application/json',
      '-H',
      `authorization: Bearer ${PROVIDER_KEY}`,
      '-A',
      'curl-batch/1.0',
      '-d',
      payload,
    ];
    const proxied = await run('curl', [
      ...common,
      '--proxy',
      discovery.url,
      '--proxy-user',
      'alice:wonderland-pass',
      '--cacert',
      tls.orgCaFile,
      'https://api.openai.com/v1/chat/completions',
    ]);
    const direct = await run('curl', [
      ...common,
      '--resolve',
      `api.openai.com:${mock.port}:127.0.0.1`,
      '--cacert',
      tls.upstreamCaFile,
      `https://api.openai.com:${mock.port}/v1/chat/completions`,
    ]);
    assert.equal(proxied.stdout, direct.stdout);
    assert.equal(JSON.parse(proxied.stdout).usage.prompt_tokens, 17);
  });

  test('without proxy credentials: 407, and nothing reaches the provider', async () => {
    const seen = mock.received.length;
    const { socket, status, head } = await connectTunnel(discovery.port, 'api.openai.com:443');
    socket.destroy();
    assert.equal(status, 407);
    assert.match(head, /proxy-authenticate: Basic/i);
    assert.equal(mock.received.length, seen);
  });

  test("a host outside the catalog is tunneled untouched: the client sees the origin's own certificate", async () => {
    const { socket, status } = await connectTunnel(discovery.port, `127.0.0.1:${plainSite.port}`, { 'proxy-authorization': PROXY_AUTH });
    assert.equal(status, 200);
    const secure = tlsConnect({ socket, ca: tls.upstreamCa.certPem, servername: 'intranet.example' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    const issuer = secure.getPeerCertificate().issuer;
    assert.equal(issuer.CN, 'Test upstream CA');
    secure.destroy();
  });

  test('an upstream whose certificate is not trusted is refused, not silently accepted', async () => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem, PROXY_AUTH);
    const response = await proxied.fetch('https://api.mistral.ai/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer x-not-real' },
      body: JSON.stringify({ model: 'mistral-small' }),
    });
    assert.equal(response.status, 502);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /not trusted/);
    assert.equal(untrusted.received.length, 0);
    await proxied.dispatcher.close();
  });

  test('ALPN h2: a client speaking HTTP/2 over the intercepted tunnel gets the same answer', async () => {
    const { socket, status } = await connectTunnel(discovery.port, 'api.openai.com:443', { 'proxy-authorization': PROXY_AUTH });
    assert.equal(status, 200);
    const session = h2connect('https://api.openai.com', {
      createConnection: () => tlsConnect({ socket, ca: tls.orgCaPem, servername: 'api.openai.com', ALPNProtocols: ['h2'] }),
    });
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'over h2' }] });
    const stream = session.request({
      ':method': 'POST',
      ':path': '/v1/chat/completions',
      'content-type': 'application/json',
      authorization: `Bearer ${PROVIDER_KEY}`,
      'user-agent': 'h2-client/1',
    });
    stream.end(body);
    let status2 = 0;
    stream.on('response', (headers) => {
      status2 = Number(headers[':status']);
    });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    session.close();
    assert.equal(status2, 200);
    assert.deepEqual(
      JSON.parse(Buffer.concat(chunks).toString('utf8')),
      openaiCompletion('Hello!', { prompt_tokens: 17, completion_tokens: 4 }),
    );
  });

  test('the director shows the discovered consumer with its hints, the model, exact tokens and cost', async () => {
    await discovery.flush();
    const response = await fetch(`${director.adminURL}/api/reconciliation/consumers`, {
      headers: { authorization: `Bearer ${BOOTSTRAP}` },
    });
    const { items } = (await response.json()) as {
      items: Array<{ identity: { kind: string; value: string }; calls: number; hints: Record<string, string[]> }>;
    };
    const fingerprint = keyFingerprint(PROVIDER_KEY);
    const consumer = items.find((item) => item.identity.value === fingerprint);
    assert.ok(consumer, JSON.stringify(items));
    assert.equal(consumer.identity.kind, 'keyFingerprint');
    assert.deepEqual(consumer.hints.ips, ['127.0.0.1']);
    assert.deepEqual(consumer.hints.users, ['alice']);
    // The SDK names its organization; the curl and h2 calls do not, and the answer's openai-organization header is taken.
    assert.deepEqual(consumer.hints.organizations, ['org-acme', 'org-mock']);
    assert.deepEqual(consumer.hints.projects, ['proj-shadow']);
    assert.deepEqual(consumer.hints.hosts, ['api.openai.com']);
    assert.deepEqual(consumer.hints.observers, ['proxy-e2e']);
    assert.ok(
      consumer.hints.userAgents!.some((agent) => agent.startsWith('OpenAI/JS')),
      consumer.hints.userAgents!.join(),
    );
    assert.ok(consumer.hints.userAgents!.includes('curl-batch/1.0'));
    // 3 plain + 2 streamed (SDK) + 1 curl + 1 h2 = 7 calls, each gpt-4o-mini.
    assert.equal(consumer.calls, 7);
    const rows = (await ledgerRows(director)).filter((row) => row.operation === 'observed');
    assert.equal(
      rows.reduce((sum, row) => sum + row.input_tokens, 0),
      4 * 17 + 2 * 21 + 17,
    );
    assert.equal(
      rows.reduce((sum, row) => sum + row.output_tokens, 0),
      4 * 4 + 2 * 3 + 4,
    );
    assert.ok(
      rows.every((row) => row.provider === 'openai' && row.provider_model === 'gpt-4o-mini'),
      JSON.stringify(rows[0]),
    );
    const pricing = new PriceCatalog().lookup('openai', 'gpt-4o-mini-2024-07-18');
    assert.ok(pricing);
    const one = (input: number, output: number) =>
      costNanoUsd({ inputTokens: input, outputTokens: output, cachedInputTokens: 0, cacheWriteTokens: 0, reported: true }, pricing)!;
    // Each call to the nano-USD, summed; each observation's micro-USD is its sum rounded once.
    assert.equal(
      rows.reduce((sum, row) => sum + (row.cost_nano_usd ?? 0), 0),
      5 * one(17, 4) + 2 * one(21, 3),
    );
    assert.ok(
      rows.every((row) => row.cost_micro_usd === microFromNano(row.cost_nano_usd!)),
      JSON.stringify(rows),
    );
    // Secrets never leave: neither the provider key nor the proxy password is anywhere in what the director stored.
    const stored = JSON.stringify(items) + JSON.stringify(rows);
    assert.ok(!stored.includes(PROVIDER_KEY) && !stored.includes('wonderland-pass'));
  });
});
