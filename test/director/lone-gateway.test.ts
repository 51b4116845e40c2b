// A gateway started alone (`--director URL`) takes consumers, keys and budgets from the director: changes made through
// the director's API reach it within its poll interval, and it keeps serving its last snapshot when the director stops.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { pino } from 'pino';
import { startSluice, type RunningSluice } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { startTestSluice, TEST_MASTER_KEY, TEST_MASTER_KEY_TEXT, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';
import { scratchDir } from '../support/scratch.js';

const BOOTSTRAP = 'sa-bootstrap-lone-gateway-0123456789';

describe('a gateway started alone', () => {
  let mock: MockProvider;
  let director: TestSluice;
  let gateway: RunningSluice;
  let gatewayURL: string;
  const providers = () => ({ openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } });
  const models = [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }];
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${director.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const call = async (key: string, model = 'gpt-4o-mini') =>
    (
      await fetch(`${gatewayURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
      })
    ).status;
  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi', { prompt_tokens: 3, completion_tokens: 2 })));
    director = await startTestSluice({ admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP }, providers: providers(), models });
  });

  after(async () => {
    await gateway?.stop(2_000);
    await director.stop().catch(() => undefined);
    await mock.close();
  });

  test('picks up keys and budgets changed through the director API within seconds, and keeps serving when the director stops', async () => {
    const operator = await api('POST', '/api/admin-tokens', { name: 'gateway-eu-1', role: 'operator' });
    assert.equal(operator.status, 201);
    const dir = scratchDir('sluice-lone-');
    const config = validateConfig(
      {
        gateway: { host: '127.0.0.1', port: 0 },
        admin: { host: '127.0.0.1', port: 0 },
        storage: `sqlite:${join(dir, 'ledger.db')}`,
        log: { level: 'silent' },
        providers: providers(),
        models,
      },
      'lone gateway',
    );
    gateway = await startSluice(config, pino({ level: 'silent' }), {
      director: { url: director.adminURL, token: operator.body.plaintext },
      directorPollMs: 100,
      keyUseFlushMs: 100,
      masterKey: TEST_MASTER_KEY,
    });
    gatewayURL = `http://127.0.0.1:${gateway.gateway.port}`;
    // The lone gateway's admin port has no director API of its own.
    assert.equal(
      (await fetch(`http://127.0.0.1:${gateway.admin.port}/api/consumers`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } })).status,
      404,
    );

    assert.equal((await api('POST', '/api/consumers', { name: 'edge-app', team: 'payments' })).status, 201);
    const key = (await api('POST', '/api/consumers/edge-app/keys', { name: 'prod' })).body.plaintext as string;
    await until('the new key works at the lone gateway', async () => (await call(key)) === 200);

    assert.equal(
      (
        await api('POST', '/api/budgets', {
          name: 'edge-two',
          consumers: { consumer: 'edge-app' },
          measure: 'requests',
          limit: 2,
          window: 'day',
        })
      ).status,
      201,
    );
    await until('the budget is enforced at the lone gateway', async () => (await call(key)) === 429);

    assert.equal(
      (
        await api('PUT', '/api/budgets/edge-two', {
          name: 'edge-two',
          consumers: { consumer: 'edge-app' },
          measure: 'requests',
          limit: 1000,
          window: 'day',
        })
      ).status,
      200,
    );
    await until('the raised limit reaches the lone gateway', async () => (await call(key)) === 200);

    // A provider (its credentials sealed in the snapshot) and a model added through the director's API serve here too.
    assert.equal(
      (
        await api('POST', '/api/providers', {
          name: 'edge-upstream',
          type: 'openai',
          baseUrl: `${mock.url}/v1`,
          apiKey: 'sk-edge-upstream-secret',
        })
      ).status,
      201,
    );
    assert.equal(
      (await api('POST', '/api/models', { name: 'edge-model', targets: [{ provider: 'edge-upstream', model: 'edge-1' }] })).status,
      201,
    );
    await until('the model added through the API serves at the lone gateway', async () => (await call(key, 'edge-model')) === 200);
    assert.equal(mock.received.at(-1)!.headers.authorization, 'Bearer sk-edge-upstream-secret');
    assert.equal(mock.received.at(-1)!.body.model, 'edge-1');

    // The lone gateway reports its keys' last use to the director.
    await until(
      "the key's last use reaches the director",
      async () => typeof (await api('GET', '/api/consumers/edge-app/keys')).body.items[0]?.lastUsedAt === 'string',
    );

    await director.stop();
    for (let i = 0; i < 5; i++) assert.equal(await call(key), 200, 'the last good snapshot keeps serving');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await call(key), 200, 'polls failing against a stopped director change nothing');
    assert.equal(await call('sk-sluice-not-a-key-000000000'), 401);
  });

  test('runs from the command line as `sluice gateway --director URL`, and refuses to start without a token', async () => {
    const fresh = await startTestSluice({ admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP }, providers: providers(), models });
    try {
      const adminCall = async (method: string, path: string, body?: unknown) =>
        (
          await fetch(`${fresh.adminURL}${path}`, {
            method,
            headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          })
        ).json() as Promise<any>;
      const token = (await adminCall('POST', '/api/admin-tokens', { name: 'cli-gateway', role: 'operator' })).plaintext as string;
      await adminCall('POST', '/api/consumers', { name: 'cli-app' });
      const key = (await adminCall('POST', '/api/consumers/cli-app/keys', { name: 'k' })).plaintext as string;
      const dir = scratchDir('sluice-lone-cli-');
      const file = join(dir, 'gateway.yaml');
      writeFileSync(
        file,
        `
gateway: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
storage: sqlite:${join(dir, 'ledger.db')}
providers:
  openai: { type: openai, baseUrl: ${mock.url}/v1, apiKey: sk-upstream-not-real }
models:
  - name: gpt-4o-mini
    targets: [{ provider: openai, model: gpt-4o-mini }]
`,
      );
      const cli = fileURLToPath(new URL('../../src/cli/sluice.js', import.meta.url));
      const refused = spawn(process.execPath, [cli, 'gateway', '--director', fresh.adminURL, '--config', file], {
        env: { PATH: process.env.PATH, SLUICE_WORKERS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let refusal = '';
      refused.stderr.on('data', (chunk: Buffer) => (refusal += chunk.toString()));
      assert.equal(await new Promise((resolve) => refused.once('exit', resolve)), 2);
      assert.match(refusal, /SLUICE_DIRECTOR_TOKEN/);
      // The director's providers come with their credentials sealed: a gateway without the master key cannot open them.
      const keyless = spawn(process.execPath, [cli, 'gateway', '--director', fresh.adminURL, '--config', file], {
        env: { PATH: process.env.PATH, SLUICE_WORKERS: '1', SLUICE_DIRECTOR_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let keylessOutput = '';
      keyless.stdout.on('data', (chunk: Buffer) => (keylessOutput += chunk.toString()));
      keyless.stderr.on('data', (chunk: Buffer) => (keylessOutput += chunk.toString()));
      assert.notEqual(await new Promise((resolve) => keyless.once('exit', resolve)), 0);
      assert.match(keylessOutput, /SLUICE_MASTER_KEY/);
      const child = spawn(process.execPath, [cli, 'gateway', '--director', fresh.adminURL, '--config', file], {
        env: { PATH: process.env.PATH, SLUICE_WORKERS: '1', SLUICE_DIRECTOR_TOKEN: token, SLUICE_MASTER_KEY: TEST_MASTER_KEY_TEXT },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        await until('the lone gateway listens', async () => /"gateway":\{"port":\d+/.test(output));
        const port = /"gateway":\{"port":(\d+)/.exec(output)![1];
        const status = (
          await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
          })
        ).status;
        assert.equal(status, 200);
        assert.ok(!output.includes(token) && !output.includes(key), 'no token or key in the logs');
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    } finally {
      await fresh.stop();
    }
  });
});
