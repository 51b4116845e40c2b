// Webhook signing secrets at rest: sealed with the master key in the store (never plaintext in the database or its
// backups), and rows written in plaintext before sealing are sealed when the director starts, still signing as before.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { MasterKey } from '../../src/store/master-key.js';
import { adminClient, OFFLINE_CATALOG } from '../support/admin-client.js';
import { startTestSluice, TEST_MASTER_KEY, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';
const SECRET = 'whsec-at-rest-test-0123456789abcdef';

function storedSecrets(dbPath: string): Array<{ id: string; secret: string }> {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare('SELECT id, secret FROM webhooks ORDER BY created_at').all() as Array<{ id: string; secret: string }>;
  } finally {
    db.close();
  }
}

describe('webhook secrets at rest', () => {
  const started: TestSluice[] = [];
  after(async () => {
    for (const sluice of started) await sluice.stop().catch(() => undefined);
  });

  test('a secret given to the API is stored sealed, and a new secret given in a patch too', async () => {
    const sluice = await startTestSluice({ ...OFFLINE_CATALOG, admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP } });
    started.push(sluice);
    const admin = adminClient(sluice, BOOTSTRAP);
    const created = await admin('POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', secret: SECRET });
    assert.equal(created.status, 201);
    let [row] = storedSecrets(sluice.dbPath);
    assert.ok(!row!.secret.includes(SECRET), 'not in plaintext');
    assert.ok(MasterKey.isSealed(row!.secret));
    assert.equal(TEST_MASTER_KEY.open(row!.secret, 'webhook-secret'), SECRET);
    const rotated = `${SECRET}-rotated`;
    assert.equal((await admin('PATCH', `/api/webhooks/${created.body.id}`, { secret: rotated })).status, 200);
    [row] = storedSecrets(sluice.dbPath);
    assert.ok(!row!.secret.includes(rotated));
    assert.equal(TEST_MASTER_KEY.open(row!.secret, 'webhook-secret'), rotated);
    assert.equal((await admin('PATCH', `/api/webhooks/${created.body.id}`, { url: 'http://127.0.0.1:9/moved' })).status, 200);
    assert.equal(TEST_MASTER_KEY.open(storedSecrets(sluice.dbPath)[0]!.secret, 'webhook-secret'), rotated, 'a URL change keeps the secret');
  });

  test("a plaintext secret stored before sealing is sealed at the director's next start", async () => {
    const first = await startTestSluice({ ...OFFLINE_CATALOG, admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP } });
    await first.stop();
    const db = new Database(first.dbPath);
    db.prepare('INSERT INTO webhooks (id, url, secret, created_at) VALUES (?, ?, ?, ?)').run(
      'legacy-hook',
      'http://127.0.0.1:9/legacy',
      SECRET,
      Date.now(),
    );
    db.close();
    const second = await startTestSluice({
      ...OFFLINE_CATALOG,
      storage: `sqlite:${first.dbPath}`,
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
    });
    started.push(second);
    const [row] = storedSecrets(first.dbPath);
    assert.ok(MasterKey.isSealed(row!.secret), 'sealed at start');
    assert.equal(TEST_MASTER_KEY.open(row!.secret, 'webhook-secret'), SECRET, 'the same secret');
    const audit = await adminClient(second, BOOTSTRAP)('GET', '/api/audit?entityType=webhook');
    assert.ok(
      audit.body.items.some(
        (item: { action: string; actor: string }) => item.action === 'update' && item.actor === 'sluice:seal-webhook-secrets',
      ),
    );
    assert.ok(!JSON.stringify(audit.body).includes(SECRET));
  });
});
