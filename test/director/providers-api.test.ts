// Providers and models through the director API, against both stores: a provider added with credentials serves calls
// at once (the official OpenAI SDK as the client), its credentials are write-only (never in an answer, the audit log or
// the database in clear), rotated in place, and guarded by roles; models route to providers that exist, and stay while
// something names them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import OpenAI from 'openai';
import pg from 'pg';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { KEYS, type TestSluice } from '../support/sluice.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';
const UPSTREAM_KEY = 'sk-upstream-secret-7f3a9c2e41d8';
const ROTATED_KEY = 'sk-upstream-rotated-b81c44de9a07';
const ORG_HEADER = 'org-secret-5521';

type Answer = { status: number; body: any; text: string };

function client(sluice: TestSluice, token: string) {
  return async (method: string, path: string, payload?: unknown): Promise<Answer> => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text), text };
  };
}

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `providers and models through the director API on ${storeKind}`, (db) => {
    let mock: MockProvider;
    let sluice: TestSluice;
    let admin: ReturnType<typeof client>;
    let openai: OpenAI;

    /** Every byte the database holds for the director, to look for secrets in clear. */
    const storedText = async (): Promise<string> => {
      if (db.postgres === null) {
        const dir = dirname(sluice.dbPath);
        return readdirSync(dir)
          .filter((file) => file.startsWith('sluice.db'))
          .map((file) => readFileSync(`${dir}/${file}`).toString('latin1'))
          .join('\n');
      }
      const client = new pg.Client({ connectionString: db.postgres.url });
      await client.connect();
      try {
        const rows = await Promise.all(
          ['providers', 'audit_log', 'models'].map(async (table) => JSON.stringify((await client.query(`SELECT * FROM ${table}`)).rows)),
        );
        return rows.join('\n');
      } finally {
        await client.end();
      }
    };

    before(async () => {
      mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
      sluice = await db.startSluice(BOOTSTRAP, {
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-declared' } },
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      });
      admin = client(sluice, BOOTSTRAP);
      openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    });

    after(async () => {
      await sluice.stop();
      await mock.close();
    });

    test("sluice.yaml's providers and models are in the store, credentials shown only as the fields set", async () => {
      const providers = await admin('GET', '/api/providers');
      assert.equal(providers.status, 200);
      assert.deepEqual(
        providers.body.items.map((p: { name: string; type: string; credentials: string[] }) => [p.name, p.type, p.credentials]),
        [['openai', 'openai', ['apiKey']]],
      );
      assert.ok(!providers.text.includes('sk-upstream-declared'));
      const models = await admin('GET', '/api/models');
      assert.deepEqual(
        models.body.items.map((m: { name: string }) => m.name),
        ['gpt-4o-mini'],
      );
      const audit = await admin('GET', '/api/audit?entityType=provider');
      assert.equal(audit.body.items[0].actor, 'sluice.yaml');
    });

    test('a provider and a model added through the API serve calls at once, with the credentials injected upstream', async () => {
      const created = await admin('POST', '/api/providers', {
        name: 'upstream',
        type: 'openai',
        baseUrl: `${mock.url}/v1`,
        apiKey: UPSTREAM_KEY,
        headers: { 'OpenAI-Organization': ORG_HEADER },
      });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.credentials, ['apiKey', 'headers']);
      assert.equal(created.body.baseUrl, `${mock.url}/v1`);
      assert.ok(!created.text.includes(UPSTREAM_KEY) && !created.text.includes(ORG_HEADER), 'credentials are write-only');
      const model = await admin('POST', '/api/models', {
        name: 'house-model',
        targets: [{ provider: 'upstream', model: 'm-2024' }],
        pricing: { input: 1, output: 2 },
      });
      assert.equal(model.status, 201, model.text);

      const answer = await openai.chat.completions.create({ model: 'house-model', messages: [{ role: 'user', content: 'hello' }] });
      assert.equal(answer.choices[0]!.message.content, 'hi');
      const received = mock.received.at(-1)!;
      assert.equal(received.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
      assert.equal(received.headers['openai-organization'], ORG_HEADER);
      assert.equal(received.body.model, 'm-2024');
      const listed = await openai.models.list();
      assert.ok(listed.data.some((m) => m.id === 'house-model'));
    });

    test('credentials are rotated in place; other changes keep them; none is ever readable', async () => {
      const rotated = await admin('PATCH', '/api/providers/upstream', { apiKey: ROTATED_KEY });
      assert.equal(rotated.status, 200, rotated.text);
      assert.deepEqual(rotated.body.credentials, ['apiKey', 'headers']);
      await openai.chat.completions.create({ model: 'house-model', messages: [{ role: 'user', content: 'hello' }] });
      assert.equal(mock.received.at(-1)!.headers.authorization, `Bearer ${ROTATED_KEY}`);

      const moved = await admin('PATCH', '/api/providers/upstream', { connections: 8 });
      assert.equal(moved.status, 200);
      assert.equal(moved.body.connections, 8);
      await openai.chat.completions.create({ model: 'house-model', messages: [{ role: 'user', content: 'hello' }] });
      assert.equal(mock.received.at(-1)!.headers.authorization, `Bearer ${ROTATED_KEY}`, 'a settings change keeps the credentials');

      const dropped = await admin('PATCH', '/api/providers/upstream', { headers: null });
      assert.deepEqual(dropped.body.credentials, ['apiKey']);
      await openai.chat.completions.create({ model: 'house-model', messages: [{ role: 'user', content: 'hello' }] });
      assert.equal(mock.received.at(-1)!.headers['openai-organization'], undefined);

      const audit = await admin('GET', '/api/audit?entityType=provider&entityId=upstream');
      assert.deepEqual(
        audit.body.items.map((r: { action: string }) => r.action),
        ['update', 'update', 'update', 'create'],
      );
      assert.deepEqual(audit.body.items[3].after.credentials.fields, ['apiKey', 'headers']);
      const everything = [
        audit.text,
        (await admin('GET', '/api/providers')).text,
        (await admin('GET', '/api/providers/upstream')).text,
        (await admin('GET', '/api/gateway/snapshot')).text,
        await storedText(),
      ].join('\n');
      for (const secret of [UPSTREAM_KEY, ROTATED_KEY, ORG_HEADER, 'sk-upstream-declared']) {
        assert.ok(!everything.includes(secret), `${secret} appears nowhere in clear: answers, snapshot, audit log, database`);
      }
    });

    test('validation names the field; references hold both ways', async () => {
      const azure = await admin('POST', '/api/providers', {
        name: 'azure',
        type: 'azure-openai',
        baseUrl: 'https://acme.openai.azure.com',
        apiKey: 'k',
      });
      assert.equal(azure.status, 400);
      assert.deepEqual(
        azure.body.error.issues.map((i: { path: string }) => i.path),
        ['apiVersion'],
      );
      const badName = await admin('POST', '/api/providers', { name: 'Bad Name', type: 'openai', baseUrl: 'http://x', extra: 1 });
      assert.equal(badName.status, 400);
      assert.ok(badName.body.error.issues.some((i: { path: string }) => i.path === 'name'));
      assert.equal((await admin('POST', '/api/providers', { name: 'upstream', type: 'openai', baseUrl: 'http://x' })).status, 409);
      const unknown = await admin('POST', '/api/models', {
        name: 'nowhere',
        targets: [
          { provider: 'upstream', model: 'a' },
          { provider: 'ghost', model: 'b' },
        ],
      });
      assert.equal(unknown.status, 400);
      assert.deepEqual(
        unknown.body.error.issues.map((i: { path: string }) => i.path),
        ['targets.1.provider'],
      );
      const renamed = await admin('PUT', '/api/models/house-model', { name: 'other', targets: [{ provider: 'upstream', model: 'a' }] });
      assert.equal(renamed.status, 400);

      const inUse = await admin('DELETE', '/api/providers/upstream');
      assert.equal(inUse.status, 409);
      assert.match(inUse.body.error.message, /house-model/);
      assert.equal(
        (
          await admin('POST', '/api/budgets', {
            name: 'house-cap',
            measure: 'requests',
            limit: 10,
            window: 'day',
            resources: { model: 'house-model' },
          })
        ).status,
        201,
      );
      const named = await admin('DELETE', '/api/models/house-model');
      assert.equal(named.status, 409);
      assert.match(named.body.error.message, /budget "house-cap"/);
      assert.equal((await admin('DELETE', '/api/budgets/house-cap')).status, 204);
      assert.equal((await admin('DELETE', '/api/models/house-model')).status, 204);
      const gone = await openai.chat.completions.create({ model: 'house-model', messages: [{ role: 'user', content: 'x' }] }).then(
        () => null,
        (e: { status: number }) => e,
      );
      assert.equal(gone?.status, 404, 'a deleted model is gone from the gateway');
      assert.equal((await admin('DELETE', '/api/providers/upstream')).status, 204);
      assert.equal((await admin('GET', '/api/providers/upstream')).status, 404);
    });

    test('roles: provider writes are for admins; operators manage models; viewers read without secrets; team-owners neither', async () => {
      const token = async (name: string, role: string, team?: string) =>
        (await admin('POST', '/api/admin-tokens', { name, role, ...(team === undefined ? {} : { team }) })).body.plaintext as string;
      await admin('POST', '/api/teams', { name: 'payments-team', owner: 'p@example.com' });
      const operator = client(sluice, await token('ops', 'operator'));
      const viewer = client(sluice, await token('view', 'viewer'));
      const owner = client(sluice, await token('own', 'team-owner', 'payments-team'));
      const provider = { name: 'ops-provider', type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-ops' };
      const cases: Array<[string, ReturnType<typeof client>, string, string, unknown, number]> = [
        ['operator adds a provider', operator, 'POST', '/api/providers', provider, 403],
        ['operator changes a provider', operator, 'PATCH', '/api/providers/openai', { baseUrl: 'http://attacker.example/v1' }, 403],
        ['operator deletes a provider', operator, 'DELETE', '/api/providers/openai', undefined, 403],
        ['viewer adds a provider', viewer, 'POST', '/api/providers', provider, 403],
        ['team-owner lists providers', owner, 'GET', '/api/providers', undefined, 403],
        ['team-owner adds a model', owner, 'POST', '/api/models', { name: 'x', targets: [{ provider: 'openai', model: 'x' }] }, 403],
        ['viewer adds a model', viewer, 'POST', '/api/models', { name: 'x', targets: [{ provider: 'openai', model: 'x' }] }, 403],
        ['operator lists providers', operator, 'GET', '/api/providers', undefined, 200],
        ['viewer reads a provider', viewer, 'GET', '/api/providers/openai', undefined, 200],
        [
          'operator adds a model',
          operator,
          'POST',
          '/api/models',
          { name: 'ops-model', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
          201,
        ],
        [
          'operator replaces a model',
          operator,
          'PUT',
          '/api/models/ops-model',
          { name: 'ops-model', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          200,
        ],
        ['viewer reads a model', viewer, 'GET', '/api/models/ops-model', undefined, 200],
        ['operator deletes a model', operator, 'DELETE', '/api/models/ops-model', undefined, 204],
        ['admin adds a provider', admin, 'POST', '/api/providers', provider, 201],
      ];
      for (const [name, as, method, path, payload, status] of cases) {
        const answer = await as(method, path, payload);
        assert.equal(answer.status, status, `${name}: ${answer.text}`);
        assert.ok(!answer.text.includes('sk-ops') && !answer.text.includes('sk-upstream-declared'), `${name}: no credential in the answer`);
      }
      const openapi = (await (await fetch(`${sluice.adminURL}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
      for (const path of ['/api/providers', '/api/providers/{name}', '/api/models', '/api/models/{name}'])
        assert.ok(path in openapi.paths, `${path} is described`);
    });
  });
}
