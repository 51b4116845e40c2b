// Where provider base URLs may point: private networks and loopback yes; link-local and cloud metadata addresses,
// Sluice's own listeners, PostgreSQL and Redis no (unless providerTargets.allow says so). Refused when written (API and
// sluice.yaml) and again when a connection opens, on the address a name resolves to.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { pino } from 'pino';
import { WebhookNotifier, type DeliveryOutcome } from '../../src/alerts/webhooks.js';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { guardedConnector, ProviderTargetRefused } from '../../src/gateway/routing/guarded-connector.js';
import { ProviderTargets } from '../../src/config/provider-targets.js';
import { adminClient, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';

describe('provider targets in the director API', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let admin: AdminClient;

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      ...OFFLINE_CATALOG,
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providerTargets: { allow: ['169.254.10.0/24'] },
    });
    admin = adminClient(sluice, BOOTSTRAP);
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test("refuses metadata and link-local addresses and Sluice's own listeners, saying how to allow them", async () => {
    const adminPort = sluice.sluice.admin.port;
    const gatewayPort = sluice.sluice.gateway.port;
    const refused = [
      'http://169.254.169.254/latest/meta-data',
      'http://metadata.google.internal/computeMetadata/v1',
      'http://metadata/computeMetadata/v1',
      'http://[fe80::1]/v1',
      'http://[fd00:ec2::254]/latest',
      'http://[::ffff:169.254.169.254]/v1',
      `http://127.0.0.1:${adminPort}/api`,
      `http://localhost:${adminPort}/v1`,
      `http://0.0.0.0:${gatewayPort}/v1`,
      `http://[::1]:${gatewayPort}/v1`,
    ];
    for (const baseUrl of refused) {
      const answer = await admin('POST', '/api/providers', { name: 'sneaky', type: 'openai', baseUrl });
      assert.equal(answer.status, 400, `${baseUrl}: ${JSON.stringify(answer.body)}`);
      assert.deepEqual(
        answer.body.error.issues.map((issue: { path: string }) => issue.path),
        ['baseUrl'],
      );
      assert.match(answer.body.error.message, /providerTargets\.allow/);
    }
    assert.equal((await admin('PATCH', '/api/providers/openai', { baseUrl: 'http://169.254.169.254/v1' })).status, 400);
  });

  test('accepts private networks, loopback on other ports, and what the allow-list names', async () => {
    for (const [name, baseUrl] of [
      ['vllm', 'http://10.1.2.3:8000/v1'],
      ['local', `${mock.url}/v1`],
      ['allowed', 'http://169.254.10.5/v1'],
    ] as const) {
      const answer = await admin('POST', '/api/providers', { name, type: 'openai', baseUrl });
      assert.equal(answer.status, 201, `${baseUrl}: ${JSON.stringify(answer.body)}`);
    }
  });

  test("refuses webhook URLs at metadata addresses or Sluice's own listeners, naming the url field", async () => {
    const secret = 'whsec-test-secret-0123456789';
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://[fd00:ec2::254]/latest',
      'http://metadata.google.internal/computeMetadata/v1',
      `http://127.0.0.1:${sluice.sluice.admin.port}/api`,
    ]) {
      const answer = await admin('POST', '/api/webhooks', { url, secret });
      assert.equal(answer.status, 400, `${url}: ${JSON.stringify(answer.body)}`);
      assert.deepEqual(
        answer.body.error.issues.map((issue: { path: string }) => issue.path),
        ['url'],
      );
      assert.match(answer.body.error.message, /url: .*providerTargets\.allow/);
    }
    const created = await admin('POST', '/api/webhooks', { url: `${mock.url}/hook`, secret });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const patched = await admin('PATCH', `/api/webhooks/${created.body.id}`, { url: 'http://169.254.169.254/latest' });
    assert.equal(patched.status, 400, JSON.stringify(patched.body));
    const allowed = await admin('POST', '/api/webhooks', { url: 'http://169.254.10.5/hook', secret });
    assert.equal(allowed.status, 201, 'providerTargets.allow opens it for webhooks too');
  });

  test("refuses at connect time what only the running process knows: a listener's port chosen at start", async () => {
    // sluice.yaml names port 0, so the file cannot be refused for the admin port; the connection to it is.
    const target = `http://127.0.0.1:${sluice.sluice.admin.port}/v1`;
    await sluice.sluice.reload(
      validateConfig(
        {
          gateway: { host: '127.0.0.1', port: 0 },
          admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
          storage: `sqlite:${sluice.dbPath}`,
          log: { level: 'silent' },
          routing: { retry: { attempts: 0, backoffMs: 5, timeoutMs: 5_000 } },
          providers: { loop: { type: 'openai', baseUrl: target, apiKey: 'sk-upstream-not-real' } },
          models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'loop', model: 'gpt-4o-mini' }] }],
          consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
        },
        'reloaded',
      ),
    );
    const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(response.status, 502, JSON.stringify(body));
    assert.equal(body.error.code, 'upstream_unavailable');
    assert.match(body.error.message, /SLUICE_PROVIDER_TARGET_REFUSED/, 'refused before connecting, not answered by the admin listener');
  });
});

describe('provider targets in sluice.yaml', () => {
  const provider = (baseUrl: string) => ({ providers: { upstream: { type: 'openai', baseUrl } } });
  const cases: Array<[string, Record<string, unknown>, RegExp | null]> = [
    [
      'the metadata address',
      provider('http://169.254.169.254/v1'),
      /providers\.upstream\.baseUrl: 169\.254\.169\.254 is a link-local or cloud metadata address/,
    ],
    ['the admin listener', { ...provider('http://127.0.0.1:4001/v1'), admin: { port: 4001 } }, /Sluice's admin listener/],
    ['the gateway listener by name', { ...provider('http://localhost:4000/v1') }, /Sluice's gateway listener/],
    ['the configured Redis', { ...provider('http://127.0.0.1:6379'), counters: 'redis://localhost:6379' }, /Sluice's Redis counters/],
    [
      'the Redis of the record of stored responses',
      { ...provider('http://127.0.0.1:6380'), responses: { store: 'redis://localhost:6380' } },
      /Sluice's Redis record of stored responses/,
    ],
    [
      'the Redis of the response cache',
      { ...provider('http://127.0.0.1:6381'), cache: { store: 'redis://localhost:6381' } },
      /Sluice's Redis response cache/,
    ],
    [
      'the configured PostgreSQL',
      { ...provider('http://db.internal:5432'), storage: 'postgres://sluice@db.internal/sluice' },
      /Sluice's PostgreSQL store/,
    ],
    [
      'Redis when allowed by host:port',
      { ...provider('http://127.0.0.1:6379'), counters: 'redis://localhost:6379', providerTargets: { allow: ['127.0.0.1:6379'] } },
      null,
    ],
    [
      'a link-local address when allowed by CIDR',
      { ...provider('http://169.254.10.5/v1'), providerTargets: { allow: ['169.254.10.0/24'] } },
      null,
    ],
    ['a private network', provider('http://10.1.2.3:8000/v1'), null],
  ];
  for (const [name, config, refusal] of cases) {
    test(`${refusal === null ? 'accepts' : 'refuses'} ${name}`, () => {
      if (refusal === null) validateConfig(config, 'sluice.yaml');
      else
        assert.throws(
          () => validateConfig(config, 'sluice.yaml'),
          (error: unknown) => error instanceof ConfigError && refusal.test(error.message),
        );
    });
  }

  const webhook = (url: string) => ({ alerts: { webhooks: [{ url, secret: 'whsec-test-secret-0123456789' }] } });
  const mcpServer = (url: string) => ({ mcp: { servers: { tools: { url } } } });
  const outbound: Array<[string, Record<string, unknown>, RegExp | null]> = [
    [
      'a webhook at the metadata address',
      webhook('http://169.254.169.254/latest/meta-data'),
      /alerts\.webhooks\[0\]\.url: 169\.254\.169\.254 is a link-local or cloud metadata address; list it in providerTargets\.allow/,
    ],
    ['a webhook at AWS IPv6 metadata', webhook('http://[fd00:ec2::254]/latest'), /alerts\.webhooks\[0\]\.url: fd00:ec2::254/],
    ['a webhook at the admin listener', { ...webhook('http://localhost:4001/api'), admin: { port: 4001 } }, /Sluice's admin listener/],
    [
      'an MCP server at a metadata name',
      mcpServer('http://metadata.google.internal/computeMetadata/v1'),
      /mcp\.servers\.tools\.url: metadata\.google\.internal is a cloud metadata service/,
    ],
    [
      'a webhook at a link-local address the allow-list names',
      { ...webhook('http://169.254.10.5/hook'), providerTargets: { allow: ['169.254.10.0/24'] } },
      null,
    ],
    ['a webhook on a private network', webhook('http://10.1.2.3:8080/hook'), null],
  ];
  for (const [name, config, refusal] of outbound) {
    test(`${refusal === null ? 'accepts' : 'refuses'} ${name}`, () => {
      if (refusal === null) validateConfig(config, 'sluice.yaml');
      else
        assert.throws(
          () => validateConfig(config, 'sluice.yaml'),
          (error: unknown) => error instanceof ConfigError && refusal.test(error.message),
        );
    });
  }

  test('refuses an allow-list entry that is not a CIDR, an address or host:port', () => {
    assert.throws(() => validateConfig({ providerTargets: { allow: ['everything'] } }, 'sluice.yaml'), /providerTargets\.allow/);
  });
});

describe('the guarded connector', () => {
  let server: Server;
  let port: number;
  let requests = 0;

  before(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.end('reached');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** The test server stands in for one of Sluice's own listeners. */
  const targets = () => {
    const guard = new ProviderTargets([], []);
    guard.setListeners([{ host: '127.0.0.1', port, what: "Sluice's admin listener" }]);
    return guard;
  };

  for (const host of ['127.0.0.1', 'localhost']) {
    test(`refuses a connection to ${host} that reaches the listener (${host === 'localhost' ? 'a name, checked on what it resolves to' : 'a literal address'})`, async () => {
      const origin = `http://${host}:${port}`;
      const pool = new Pool(origin, { connect: guardedConnector(targets(), origin) });
      try {
        await assert.rejects(
          pool.request({ path: '/', method: 'GET' }),
          (error: unknown) => error instanceof ProviderTargetRefused && /admin listener/.test(error.message),
        );
        assert.equal(requests, 0, 'nothing reached the listener');
      } finally {
        await pool.close();
      }
    });
  }

  test('connects when the policy allows it', async () => {
    const origin = `http://localhost:${port}`;
    const guard = new ProviderTargets([`localhost:${port}`], []);
    guard.setListeners([{ host: '127.0.0.1', port, what: "Sluice's admin listener" }]);
    const pool = new Pool(origin, { connect: guardedConnector(guard, origin) });
    try {
      const answer = await pool.request({ path: '/', method: 'GET' });
      assert.equal(await answer.body.text(), 'reached');
    } finally {
      await pool.close();
    }
  });
});

describe('webhook deliveries under the target policy', () => {
  test('a webhook whose name resolves to a refused address is not connected to, and fails without retries', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    // The server stands in for Sluice's admin listener; `localhost` is checked on the address it resolves to.
    const targets = new ProviderTargets([], []);
    targets.setListeners([{ host: '127.0.0.1', port, what: "Sluice's admin listener" }]);
    const outcomes: DeliveryOutcome[] = [];
    const notifier = new WebhookNotifier([{ url: `http://localhost:${port}/hook`, secret: 'whsec-test-secret-0123456789' }], {
      logger: pino({ level: 'silent' }),
      attempts: 3,
      backoffMs: 1,
      targets,
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    try {
      notifier.send({
        id: 'evt-1',
        type: 'budget.threshold_crossed',
        at: '2025-03-14T09:26:53.000Z',
        budget: 'per-team/payments',
        template: 'per-team',
        consumers: 'team payments',
        resources: 'model gpt-4o',
        measure: 'cost_usd',
        mode: 'enforce',
        thresholdPercent: 80,
        limit: 500,
        used: 401.25,
        window: { kind: 'month', start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
      });
      assert.equal(await notifier.drain(10_000), true);
      assert.deepEqual(outcomes, ['failed']);
      assert.equal(requests, 0, 'nothing reached the listener');
    } finally {
      await notifier.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
