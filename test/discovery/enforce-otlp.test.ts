// Enforce mode (an unsanctioned model answered with the provider's own 403, the provider seeing nothing) and the OTLP
// intake (spans exported by the official OpenTelemetry JS exporters, protobuf and JSON, become discovered traffic).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { json, openaiCompletion } from '../support/mock-provider.js';
import { connectTunnel, HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const BOOTSTRAP = 'sa-bootstrap-discovery-enforce-0123';

describe('discovery: enforce mode and the OTLP intake', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let director: TestSluice;
  let discovery: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(['api.openai.com']), (_request, res) => json(res, 200, openaiCompletion('ok')));
    director = await startTestSluice({ admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP }, consumers: [] });
    // An admin marks openai/gpt-4o unsanctioned once it has been seen; enforce mode reads the statuses from the director.
    const admin = (path: string, body: unknown) =>
      fetch(`${director.adminURL}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const seen = await admin('/api/reconciliation/observations', {
      observations: [{ observer: 'seed', at: Date.now() - 60_000, source: { ip: '10.0.0.9' }, provider: 'openai', model: 'gpt-4o' }],
    });
    assert.equal(seen.status, 200, await seen.text());
    const resolved = await admin('/api/reconciliation/resources/openai%2Fgpt-4o/resolve', { status: 'unsanctioned' });
    assert.equal(resolved.status, 200, await resolved.text());
    discovery = await startTestDiscovery({
      mode: 'enforce',
      observer: 'proxy-enforce',
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      upstream: { caFile: tls.upstreamCaFile, resolve: { 'api.openai.com': `127.0.0.1:${mock.port}` } },
      director: { url: director.adminURL, token: BOOTSTRAP, flushIntervalMs: 3_600_000, spoolDir: `${tls.dir}/spool` },
    });
  });

  after(async () => {
    await discovery.stop();
    await director.stop();
    await mock.close();
  });

  test("enforce: an unsanctioned model gets a 403 in OpenAI's shape and the provider sees nothing; a sanctioned one passes", async () => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const client = new OpenAI({
      apiKey: 'sk-enforce-test-not-real',
      baseURL: 'https://api.openai.com/v1',
      fetch: proxied.fetch,
      maxRetries: 0,
    });
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.PermissionDeniedError);
        assert.equal(error.status, 403);
        assert.equal(error.code, 'model_not_sanctioned');
        assert.match(error.message, /openai\/gpt-4o is not sanctioned/);
        return true;
      },
    );
    assert.equal(mock.received.length, 0);
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.choices[0]!.message.content, 'ok');
    assert.equal(mock.received.length, 1);
    await proxied.dispatcher.close();
  });

  test('enforce: a WebSocket session with an unsanctioned model (the Realtime API) gets the 403 before it opens', async () => {
    const { socket } = await connectTunnel(discovery.port, 'api.openai.com:443');
    const secure = tlsConnect({ socket, ca: tls.orgCaPem, servername: 'api.openai.com', ALPNProtocols: ['http/1.1'] });
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    secure.write(
      'GET /v1/realtime?model=gpt-4o HTTP/1.1\r\nHost: api.openai.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer sk-enforce-ws-not-real\r\n\r\n',
    );
    const chunks: Buffer[] = [];
    for await (const chunk of secure) chunks.push(chunk as Buffer);
    const answer = Buffer.concat(chunks).toString('utf8');
    assert.match(answer, /^HTTP\/1\.1 403 /);
    assert.equal(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code, 'model_not_sanctioned');
    assert.equal(mock.received.length, 1, 'only the sanctioned call of the test before reached the provider');
  });

  for (const [kind, Exporter] of [
    ['protobuf', ProtoExporter],
    ['JSON', JsonExporter],
  ] as const) {
    test(`OTLP (${kind}): a GenAI span from the official exporter shows up as discovered traffic with its model and tokens`, async () => {
      const service = `billing-bot-${kind.toLowerCase()}`;
      const exporter: SpanExporter = new Exporter({ url: `${discovery.url}/v1/traces` });
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      });
      const tracer = provider.getTracer('test');
      tracer
        .startSpan('chat claude-sonnet-4-5', {
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'anthropic',
            'gen_ai.request.model': 'claude-sonnet-4-5',
            'gen_ai.usage.input_tokens': 321,
            'gen_ai.usage.output_tokens': 45,
            'server.address': 'api.anthropic.com',
          },
        })
        .end();
      tracer.startSpan('not an AI call', { attributes: { 'http.request.method': 'GET' } }).end();
      await provider.forceFlush();
      await provider.shutdown();
      await discovery.flush();
      const response = await fetch(`${director.adminURL}/api/reconciliation/consumers`, {
        headers: { authorization: `Bearer ${BOOTSTRAP}` },
      });
      const { items } = (await response.json()) as { items: Array<{ calls: number; hints: Record<string, string[]> }> };
      const consumer = items.find((item) => item.hints.services?.includes(service));
      assert.ok(consumer, JSON.stringify(items));
      assert.deepEqual(consumer.hints.ips, ['127.0.0.1']);
      const rows = (await ledgerRows(director)).filter((row) => row.operation === 'observed' && row.provider === 'anthropic');
      const mine = rows.at(-1)!;
      assert.equal(mine.provider_model, 'claude-sonnet-4-5');
      assert.equal(mine.input_tokens, 321);
      assert.equal(mine.output_tokens, 45);
      assert.equal(mine.cost_micro_usd, 321 * 3 + 45 * 15);
    });
  }

  test("OTLP: a body that is not OTLP is a 400 in OTLP's status shape", async () => {
    const response = await fetch(`${discovery.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: 'not protobuf at all',
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { code: number }).code, 3);
  });

  test('OTLP: JSON in the wrong shape (attributes not a list, a null attribute) is a 400, not a cut connection', async () => {
    for (const body of [
      { resourceSpans: 5 },
      { resourceSpans: [{ scopeSpans: [{ spans: [{ attributes: [null] }] }] }] },
      { resourceSpans: [{ resource: { attributes: 7 }, scopeSpans: [] }] },
    ]) {
      const response = await fetch(`${discovery.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(((await response.json()) as { code: number }).code, 3);
    }
    assert.equal((await fetch(`${discovery.url}/healthz`)).status, 200);
  });

  test('OTLP: a gzip body that inflates past the bound is a 413, never inflated whole in memory', async () => {
    // 64 MiB of zeros compress to about 64 KiB: well within the 4 MiB bound on the wire, 16 times past it inflated.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    assert.ok(bomb.length < 1024 * 1024);
    const response = await fetch(`${discovery.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { code: number }).code, 8);
  });
});
