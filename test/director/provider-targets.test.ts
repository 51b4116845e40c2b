// Where provider base URLs may point: private networks and loopback yes; link-local and cloud metadata addresses,
// Sluice's own listeners, PostgreSQL and Redis no (unless providerTargets.allow says so). Refused when written (API and
// sluice.yaml) and again when a connection opens, on the address a name resolves to.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
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
