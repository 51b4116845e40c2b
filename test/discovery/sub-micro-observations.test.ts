// Observed calls that cost less than a micro-USD: a 3-token embedding on text-embedding-3-small ($0.02 per 1M tokens)
// costs 60 nano-USD. The discovery proxy reports each observation's exact nano-USD (costNanoUsd, beside its rounded
// costMicroUsd), the director's intake records it, and usage sums it, instead of 0 per observation; a director before
// costNanoUsd refuses the field, and the proxy then goes on in whole micro-USD rather than drop its batches. The openai
// SDK through the proxy to a loopback HTTPS mock; a director (SQLite) and a stand-in for an earlier one on loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { json } from '../support/mock-provider.js';
import { HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const BOOTSTRAP = 'sa-bootstrap-discovery-sub-micro-0123';
const PROVIDER_KEY = 'sk-proj-discovery-sub-micro-not-real-0001';
const PROXY_AUTH = `Basic ${Buffer.from('alice:wonderland-pass').toString('base64')}`;
const NANO_PER_CALL = 60;
const CALLS = 3;

interface SentObservation {
  costMicroUsd?: number;
  costNanoUsd?: number;
}

describe('observed calls under a micro-USD', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let director: TestSluice;
  /** Answers the intake as a director before costNanoUsd did: 400 naming the field it does not know. */
  let earlier: Server;
  const earlierReceived: SentObservation[][] = [];

  const admin = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${director.adminURL}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const proxy = (directorUrl: string, spool: string) =>
    startTestDiscovery({
      observer: 'proxy-sub-micro',
      users: [{ name: 'alice', password: 'wonderland-pass' }],
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      upstream: { caFile: tls.upstreamCaFile, resolve: { 'api.openai.com:443': `127.0.0.1:${mock.port}` } },
      director: { url: directorUrl, token: BOOTSTRAP, flushIntervalMs: 3_600_000, spoolDir: `${tls.dir}/${spool}` },
    });
  const embed = async (discovery: RunningDiscovery) => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem, PROXY_AUTH);
    const client = new OpenAI({ apiKey: PROVIDER_KEY, baseURL: 'https://api.openai.com/v1', fetch: proxied.fetch, maxRetries: 0 });
    for (let i = 0; i < CALLS; i++) await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    await proxied.dispatcher.close();
  };

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(['api.openai.com']), (_request, res) =>
      json(res, 200, {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3] }],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 3, total_tokens: 3 },
      }),
    );
    director = await startTestSluice({ admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP }, consumers: [] });
    earlier = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const observations = (JSON.parse(body) as { observations: SentObservation[] }).observations;
        earlierReceived.push(observations);
        const unknown = observations.findIndex((observation) => 'costNanoUsd' in observation);
        if (unknown >= 0) {
          const message = `Invalid request: observations.${unknown}: Unrecognized key: "costNanoUsd"`;
          json(res, 400, { error: { code: 'invalid_request', message, issues: [{ path: `observations.${unknown}`, message }] } });
        } else json(res, 200, { accepted: observations.length, consumers: [] });
      });
    });
    await new Promise<void>((resolve) => earlier.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    await director.stop();
    await mock.close();
    await new Promise((resolve) => earlier.close(resolve));
  });

  test("the proxy reports each observation's exact nano-USD, and the director records and sums it", async () => {
    const discovery = await proxy(director.adminURL, 'spool-director');
    try {
      await embed(discovery);
      await discovery.flush();
    } finally {
      await discovery.stop();
    }
    const rows = (await ledgerRows(director)).filter((row) => row.operation === 'observed');
    assert.ok(rows.length > 0);
    assert.equal(
      rows.reduce((sum, row) => sum + (row.cost_nano_usd ?? 0), 0),
      CALLS * NANO_PER_CALL,
      JSON.stringify(rows),
    );
    const usage = await admin('/api/usage?bucket=month&groupBy=provider');
    assert.equal(usage.status, 200, JSON.stringify(usage.body));
    const openai = usage.body.items.find((item: any) => item.group.provider === 'openai');
    assert.deepEqual(openai?.cost, { microUsd: 0, nanoUsd: CALLS * NANO_PER_CALL, usd: '0.000000' });
  });

  test('the intake takes costNanoUsd, which wins over costMicroUsd; without it, whole micro-USD count as before', async () => {
    const at = Date.UTC(2025, 0, 15, 10);
    const observation = { observer: 'sub-micro-intake', source: { ip: '10.77.0.1' }, provider: 'sub-micro-provider', model: 'm' };
    const sent = await admin('/api/reconciliation/observations', {
      method: 'POST',
      body: JSON.stringify({
        observations: [
          { ...observation, at, calls: 2, costMicroUsd: 0, costNanoUsd: 120 },
          { ...observation, at: at + 60_000, costMicroUsd: 3 },
        ],
      }),
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const usage = await admin(`/api/usage?bucket=month&groupBy=provider&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z`);
    assert.equal(usage.status, 200, JSON.stringify(usage.body));
    const item = usage.body.items.find((one: any) => one.group.provider === 'sub-micro-provider');
    assert.deepEqual(item?.cost, { microUsd: 3, nanoUsd: 3_120, usd: '0.000003' });
  });

  test('a director before costNanoUsd refuses it: the proxy sends the batch again in whole micro-USD, and goes on so', async () => {
    const discovery = await proxy(`http://127.0.0.1:${(earlier.address() as AddressInfo).port}`, 'spool-earlier');
    try {
      await embed(discovery);
      await discovery.flush();
      assert.equal(discovery.reporter!.backlog, 0, 'nothing waits: the batch was taken');
    } finally {
      await discovery.stop();
    }
    assert.equal(earlierReceived.length, 2, 'refused once with costNanoUsd, then taken without it');
    assert.ok(earlierReceived[0]!.every((observation) => observation.costNanoUsd !== undefined));
    assert.ok(earlierReceived[1]!.every((observation) => observation.costNanoUsd === undefined && observation.costMicroUsd === 0));
    const dropped = await discovery.metrics.observationsRejected.get();
    assert.equal(
      dropped.values.reduce((sum, value) => sum + value.value, 0),
      0,
      'no observation dropped',
    );
  });
});
