// The director stopped under traffic: calls keep flowing, observations wait in the spool and arrive exactly once when it
// returns; a spool past its bound counts what it dropped. Bad input: a garbage CONNECT line, a client hello for an
// excluded host, a client that closes mid-handshake, a 50 MB body; the proxy keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { freePort } from '../support/sluice-process.js';
import { json, openaiCompletion } from '../support/mock-provider.js';
import { connectTunnel, counter, HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import { until } from '../support/until.js';
import { scratchDir } from '../support/scratch.js';

const BOOTSTRAP = 'sa-bootstrap-discovery-outage-0123';

describe('discovery: director outage and bad input', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let director: TestSluice;
  let discovery: RunningDiscovery;
  let adminPort: number;
  let storage: string;

  const startDirector = () => startTestSluice({ admin: { host: '127.0.0.1', port: adminPort, token: BOOTSTRAP }, storage, consumers: [] });

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(['api.openai.com', 'api.groq.com']), async (request, res) => {
      json(res, 200, { ...openaiCompletion('ok', { prompt_tokens: 10, completion_tokens: 2 }), received: request.rawBody.length });
    });
    adminPort = await freePort();
    storage = `sqlite:${join(scratchDir('sluice-outage-'), 'director.db')}`;
    director = await startDirector();
    discovery = await startTestDiscovery({
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      exclude: ['api.groq.com'],
      maxParseBytes: 1024 * 1024,
      upstream: {
        caFile: tls.upstreamCaFile,
        resolve: { 'api.openai.com': `127.0.0.1:${mock.port}`, 'api.groq.com': `127.0.0.1:${mock.port}` },
      },
      director: {
        url: `http://127.0.0.1:${adminPort}`,
        token: BOOTSTRAP,
        flushIntervalMs: 3_600_000,
        spoolDir: join(tls.dir, 'spool'),
        initialBackoffMs: 50,
        maxBackoffMs: 200,
      },
    });
  });

  after(async () => {
    await discovery.stop();
    await director.stop();
    await mock.close();
  });

  const call = async (key: string) => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const response = await proxied.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
    });
    assert.equal(response.status, 200);
    await response.text();
    await proxied.dispatcher.close();
  };

  const recordedCalls = async (): Promise<number> => {
    const response = await fetch(`http://127.0.0.1:${adminPort}/api/reconciliation/consumers`, {
      headers: { authorization: `Bearer ${BOOTSTRAP}` },
    });
    const { items } = (await response.json()) as { items: Array<{ calls: number; hints: { hosts: string[] } }> };
    return items.reduce((sum, item) => sum + item.calls, 0);
  };

  test('the director stopped under traffic: calls flow, observations spool, and each arrives exactly once when it returns', async () => {
    for (let i = 0; i < 3; i++) await call(`sk-outage-a-${i}-not-real`);
    await discovery.flush();
    assert.equal(await recordedCalls(), 3);
    await director.stop();
    for (let i = 0; i < 4; i++) await call(`sk-outage-b-${i}-not-real`);
    await discovery.flush();
    for (let i = 0; i < 2; i++) await call(`sk-outage-c-${i}-not-real`);
    await discovery.flush();
    assert.ok(discovery.reporter!.backlog > 0, 'batches wait in the spool');
    assert.equal(await counter(discovery.metrics.observationsSpooled), 6);
    director = await startDirector();
    await until('the spool has drained', async () => {
      await discovery.flush();
      return discovery.reporter!.backlog === 0;
    });
    assert.equal(await recordedCalls(), 9);
    assert.equal(await counter(discovery.metrics.observationsSent), 9);
    assert.equal(await counter(discovery.metrics.observationsDropped), 0);
  });

  test('the director recorded a batch but its answer was lost: the batch sent again is not counted twice', async () => {
    // Between the proxy and the director: the first batch reaches the director, which records it, then the connection is
    // cut before the answer gets back (a timeout, a load balancer's reset); later ones pass through.
    let cut = 0;
    const relay = createServer((request, res) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const headers = Object.fromEntries(
          ['authorization', 'content-type', 'idempotency-key'].flatMap((name) => {
            const value = request.headers[name];
            return typeof value === 'string' ? [[name, value]] : [];
          }),
        );
        void fetch(`http://127.0.0.1:${adminPort}${request.url}`, { method: request.method, headers, body: Buffer.concat(chunks) }).then(
          async (answer) => {
            const text = await answer.text();
            if (cut++ === 0) return request.socket.destroy();
            res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(text);
          },
        );
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const lossy = await startTestDiscovery({
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      upstream: { caFile: tls.upstreamCaFile, resolve: { 'api.openai.com': `127.0.0.1:${mock.port}` } },
      director: {
        url: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
        token: BOOTSTRAP,
        flushIntervalMs: 3_600_000,
        spoolDir: join(tls.dir, 'lossy-spool'),
        initialBackoffMs: 50,
        maxBackoffMs: 200,
      },
    });
    try {
      const before = await recordedCalls();
      const proxied = proxiedFetch(lossy.url, tls.orgCaPem);
      for (let i = 0; i < 2; i++) {
        const response = await proxied.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer sk-lossy-${i}-not-real` },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
        });
        assert.equal(response.status, 200);
        await response.text();
      }
      await proxied.dispatcher.close();
      await until('the batch was sent again and taken', async () => {
        await lossy.flush();
        return lossy.reporter!.backlog === 0;
      });
      assert.ok(cut >= 2, 'the batch was sent twice');
      assert.equal((await recordedCalls()) - before, 2);
    } finally {
      await lossy.stop();
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  test('a spool past its bound counts what it dropped', async () => {
    const small = await startTestDiscovery({
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      upstream: { caFile: tls.upstreamCaFile, resolve: { 'api.openai.com': `127.0.0.1:${mock.port}` } },
      director: {
        url: `http://127.0.0.1:${await freePort()}`,
        token: BOOTSTRAP,
        flushIntervalMs: 3_600_000,
        spoolDir: join(tls.dir, 'small-spool'),
        maxSpoolBytes: 400,
      },
    });
    try {
      const proxied = proxiedFetch(small.url, tls.orgCaPem);
      for (let i = 0; i < 4; i++) {
        const response = await proxied.fetch('https://api.openai.com/v1/chat/completions', {
          method: 'POST',
          headers: { authorization: `Bearer sk-small-${i}-not-real` },
          body: JSON.stringify({ model: 'gpt-4o-mini' }),
        });
        assert.equal(response.status, 200, 'calls flow while nothing can be reported');
        await response.text();
        await small.flush();
      }
      await proxied.dispatcher.close();
      const spooled = await counter(small.metrics.observationsSpooled);
      const dropped = await counter(small.metrics.observationsDropped);
      assert.ok(dropped > 0, 'some were dropped');
      assert.equal(spooled + dropped, 4);
    } finally {
      await small.stop();
    }
  });

  test('bad input: a garbage CONNECT line is a 400 and the proxy keeps serving', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = netConnect(discovery.port, '127.0.0.1', () => socket.write('CONNECT \u0001\u0002 garbage\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 400/);
    const health = await fetch(`${discovery.url}/healthz`);
    assert.equal(health.status, 200);
  });

  test("bad input: a client hello for an excluded host is tunneled untouched (the origin's certificate)", async () => {
    const { socket, status } = await connectTunnel(discovery.port, 'api.groq.com:443');
    assert.equal(status, 200);
    const secure = tlsConnect({ socket, ca: tls.upstreamCa.certPem, servername: 'api.groq.com' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    assert.equal(secure.getPeerCertificate().issuer.CN, 'Test upstream CA');
    secure.destroy();
  });

  test('bad input: a client that closes mid-handshake leaves the proxy serving', async () => {
    const { socket, status } = await connectTunnel(discovery.port, 'api.openai.com:443');
    assert.equal(status, 200);
    // The first bytes of a TLS client hello, then gone.
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    socket.destroy();
    await call('sk-after-handshake-close-not-real');
  });

  test('bad input: a 50 MB body passes through whole and the call is counted as unparsed', async () => {
    const before = await counter(discovery.metrics.calls, { outcome: 'unparsed' });
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(50 * 1024 * 1024) }] });
    const response = await proxied.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-big-body-not-real' },
      body,
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { received: number }).received, body.length);
    await proxied.dispatcher.close();
    assert.equal(await counter(discovery.metrics.calls, { outcome: 'unparsed' }), before + 1);
    await call('sk-after-big-body-not-real');
  });
  test('bad input: a model named in the path with broken percent-encoding passes through and the proxy keeps serving', async () => {
    // Azure OpenAI's path names the deployment; without a model in the body, that name is the model the proxy reads.
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    for (const deployment of ['%E0%A4%A', '%zz', 'gpt%']) {
      const response = await proxied.fetch(`https://api.openai.com/openai/deployments/${deployment}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-broken-path-not-real' },
        body: JSON.stringify({ messages: [] }),
      });
      assert.equal(response.status, 200);
      await response.text();
    }
    await proxied.dispatcher.close();
    await call('sk-after-broken-path-not-real');
  });
});
