// Rotating the master key as an operator does, on the real `sluice start`: the new key in SLUICE_MASTER_KEY and the
// one it replaces in SLUICE_MASTER_KEY_PREVIOUS. The director seals again under the new key every provider credential
// (declared in sluice.yaml or given to the API) and webhook secret, records it in the audit log, keeps serving with the
// same upstream keys, and afterwards starts on the new key alone. Without the old key the start says how to give it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { MasterKey } from '../../src/store/master-key.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { runSluice } from '../support/process.js';
import { scratchDir } from '../support/scratch.js';
import { freePort, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';

const ADMIN_TOKEN = 'sa-rotation-test-token-0123456789';
const CONSUMER_KEY = 'sk-sluice-rotation-consumer-0001';
const DECLARED_KEY = 'sk-declared-upstream-5d1e0c77';
const API_KEY = 'sk-api-upstream-9b3f21aa40';
const WEBHOOK_SECRET = 'whsec-rotation-test-0123456789abcdef';
const OLD = MasterKey.generate();
const NEW = MasterKey.generate();

describe('rotating the master key', () => {
  const running: SluiceProcess[] = [];
  let mock: MockProvider;
  after(async () => {
    for (const sluice of running) await sluice.stop();
    await mock?.close();
  });

  test('a director started with the new key and the old one as previous seals everything again under the new key', async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    const dir = scratchDir('sluice-rotation-');
    const [gatewayPort, adminPort] = [await freePort(), await freePort()];
    const config = join(dir, 'sluice.yaml');
    writeFileSync(
      config,
      `gateway: { host: 127.0.0.1, port: ${gatewayPort} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: ${ADMIN_TOKEN} }
storage: sqlite:${join(dir, 'sluice.db')}
providers:
  declared: { type: openai, baseUrl: "${mock.url}/v1", apiKey: ${DECLARED_KEY} }
models:
  - name: declared-model
    targets: [{ provider: declared, model: m-1 }]
consumers:
  - { name: rotation-app, keys: ["${CONSUMER_KEY}"] }
`,
    );
    const adminURL = `http://127.0.0.1:${adminPort}`;
    const start = async (env: Record<string, string>) => {
      const sluice = await startSluiceProcess(['start', '--config', config], { cwd: dir, env, adminURL });
      running.push(sluice);
      return sluice;
    };
    const admin = async (method: string, path: string, payload?: unknown) => {
      const response = await fetch(`${adminURL}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
        body: payload === undefined ? undefined : JSON.stringify(payload),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : JSON.parse(text), text };
    };
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${gatewayPort}/v1`, apiKey: CONSUMER_KEY, maxRetries: 0 });
    /** Each model answers, and the upstream saw the key it was given. */
    const callBoth = async () => {
      for (const [model, upstreamKey] of [
        ['declared-model', DECLARED_KEY],
        ['api-model', API_KEY],
      ] as const) {
        const answer = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });
        assert.equal(answer.choices[0]!.message.content, 'hi');
        assert.equal(mock.received.at(-1)!.headers.authorization, `Bearer ${upstreamKey}`);
      }
    };
    const stored = () => {
      const db = new Database(join(dir, 'sluice.db'), { readonly: true });
      try {
        return {
          providers: db.prepare('SELECT name, credentials AS sealed FROM providers ORDER BY name').all() as Array<{
            name: string;
            sealed: string;
          }>,
          webhooks: db.prepare('SELECT secret FROM webhooks').all() as Array<{ secret: string }>,
        };
      } finally {
        db.close();
      }
    };

    // Before: everything sealed under the old key.
    let sluice = await start({ SLUICE_MASTER_KEY: OLD.text });
    const provider = await admin('POST', '/api/providers', { name: 'added', type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: API_KEY });
    assert.equal(provider.status, 201, provider.text);
    assert.equal((await admin('POST', '/api/models', { name: 'api-model', targets: [{ provider: 'added', model: 'm-2' }] })).status, 201);
    assert.equal((await admin('POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', secret: WEBHOOK_SECRET })).status, 201);
    await callBoth();
    assert.deepEqual(
      (await admin('GET', '/api/providers')).body.items.map((p: { name: string; credentialsSealedWith: string }) => [
        p.name,
        p.credentialsSealedWith,
      ]),
      [
        ['added', OLD.key.id],
        ['declared', OLD.key.id],
      ],
    );
    await sluice.stop();

    // The new key alone cannot open them: the start stops and says which key they need and where to give it.
    const refused = runSluice(['start', '--config', config], { SLUICE_MASTER_KEY: NEW.text });
    assert.notEqual(await refused.exited, 0);
    assert.match(refused.output(), new RegExp(`sealed with master key ${OLD.key.id}`));
    assert.match(refused.output(), /SLUICE_MASTER_KEY_PREVIOUS/);
    assert.doesNotMatch(refused.output(), /\n\s+at /, 'no stack trace');
    assert.ok(!refused.output().includes(DECLARED_KEY) && !refused.output().includes(API_KEY));

    // The rotation: the new key, and the old one as previous.
    sluice = await start({ SLUICE_MASTER_KEY: NEW.text, SLUICE_MASTER_KEY_PREVIOUS: OLD.text });
    // (The refused start had already sealed the declared provider's key again, from sluice.yaml, under the new key.)
    assert.match(
      sluice.output(),
      new RegExp(
        `master key rotation: sealed again under master key ${NEW.key.id} the credentials of 1 provider\\(s\\) and 1 webhook secret`,
      ),
    );
    await callBoth();
    const after = stored();
    for (const row of after.providers) assert.equal(MasterKey.sealedWith(row.sealed), NEW.key.id, row.name);
    assert.equal(NEW.key.open(after.providers.find((row) => row.name === 'added')!.sealed, 'added'), JSON.stringify({ apiKey: API_KEY }));
    assert.equal(NEW.key.open(after.webhooks[0]!.secret, 'webhook-secret'), WEBHOOK_SECRET);
    const listed = (await admin('GET', '/api/providers')).body.items as Array<{ credentialsSealedWith: string }>;
    assert.deepEqual(
      listed.map((p) => p.credentialsSealedWith),
      [NEW.key.id, NEW.key.id],
    );
    const audit = (await admin('GET', '/api/audit?limit=50')).body;
    const resealings = (audit.items ?? audit).filter((record: { actor: string }) => record.actor === 'sluice:reseal-master-key');
    assert.deepEqual(
      resealings
        .map(
          (record: { entityType: string; entityId: string }) =>
            record.entityType + (record.entityType === 'provider' ? `:${record.entityId}` : ''),
        )
        .sort(),
      ['provider:added', 'webhook'],
    );
    assert.ok(!JSON.stringify(audit).includes(API_KEY) && !JSON.stringify(audit).includes(WEBHOOK_SECRET), 'no secret in the audit log');
    await sluice.stop();

    // Afterwards the old key is no longer needed.
    sluice = await start({ SLUICE_MASTER_KEY: NEW.text });
    assert.doesNotMatch(sluice.output(), /master key rotation/);
    await callBoth();
    await sluice.stop();
  });
});
