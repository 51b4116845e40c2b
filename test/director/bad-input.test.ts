// Bad input the director once answered with a 500 (each found by the battery, test/support/bad-input-battery.ts), on SQLite and
// on PostgreSQL: now a 400 invalid_request naming the field, and nothing written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type AdminAnswer, adminClient, type AdminClient, OFFLINE_CATALOG } from '../support/admin-client.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import type { TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-bad-input-token-000002';

function assertRefused(answer: AdminAnswer, paths: string[], message: RegExp): void {
  const what = JSON.stringify(answer.body).slice(0, 500);
  assert.equal(answer.status, 400, what);
  assert.equal(answer.body.error.code, 'invalid_request', what);
  assert.deepEqual(
    answer.body.error.issues.map((issue: { path: string }) => issue.path),
    paths,
    what,
  );
  for (const issue of answer.body.error.issues) assert.match(issue.message, message, what);
}

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `bad input on ${storeKind}`, (db) => {
    let sluice: TestSluice;
    let admin: AdminClient;

    before(async () => {
      sluice = await db.startSluice(BOOTSTRAP, OFFLINE_CATALOG);
      admin = adminClient(sluice, BOOTSTRAP);
    });

    after(async () => {
      await sluice?.stop();
    });

    test('a body nested far deeper than any field (100,000 levels) is a 400 naming where, not a stack overflow', async () => {
      const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
      const inField = await admin('POST', '/api/teams', `{"name":"research","owner":${deep(100_000)}}`);
      assertRefused(inField, [['owner', ...Array(31).fill('a')].join('.')], /nested more than 32 levels/);
      const whole = await admin('PATCH', '/api/consumers/checkout-service', '['.repeat(200_000) + ']'.repeat(200_000));
      assertRefused(whole, [Array(32).fill('0').join('.')], /nested more than 32 levels/);
      // As deep as the API's deepest body is still read: an apply document's model pricing.
      const applied = await admin('POST', '/api/apply', {
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], pricing: { input: 1, output: 2 } }],
        dryRun: true,
      });
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.equal((await admin('GET', '/api/teams/research')).status, 404);
    });

    test('text with an unpaired UTF-16 surrogate (JSON "\\ud800") is a 400 naming the field on both stores, not a 500 or stored', async () => {
      const audited = (await admin('GET', '/api/audit?limit=1000')).body.items.length as number;
      const team = await admin('POST', '/api/teams', '{"name":"research\\ud800","owner":"r@example.com"}');
      assertRefused(team, ['name'], /unpaired UTF-16 surrogate/);
      const note = await admin('PUT', '/api/resources/openai%2Fgpt-4o', '{"status":"sanctioned","note":"fine \\udc00 print"}');
      assertRefused(note, ['note'], /unpaired UTF-16 surrogate/);
      const label = await admin('PATCH', '/api/consumers/checkout-service', '{"labels":{"tier\\ud83d":"batch"}}');
      assertRefused(label, ['labels.tier\ud83d'], /unpaired UTF-16 surrogate/);
      assert.equal((await admin('GET', '/api/audit?limit=1000')).body.items.length, audited, 'nothing refused was written');
      // A pair is a character like any other.
      const paired = await admin('POST', '/api/teams', { name: 'research-\u{1d11e}', owner: 'r@example.com' });
      assert.equal(paired.status, 201, JSON.stringify(paired.body));
    });

    test('a forged ledger cursor whose times or ids no row can have is a 400 naming the cursor, not a 500', async () => {
      for (const position of ['99999999999999999999:1', '1:99999999999999999999', '9007199254740993:1']) {
        const cursor = Buffer.from(JSON.stringify([position])).toString('base64url');
        assertRefused(await admin('GET', `/api/transactions?cursor=${cursor}`), ['cursor'], /cursor/);
      }
    });

    test('a cursor given to another listing, or with other filters, is a 400 naming the cursor, not another page', async () => {
      const consumers = await admin('GET', '/api/consumers?limit=1');
      const audit = await admin('GET', '/api/audit?limit=1');
      assert.ok(consumers.body.nextCursor !== null && audit.body.nextCursor !== null, 'both listings have a second page');
      for (const path of ['/api/transactions', '/api/reconciliation/consumers', '/api/compliance/assessments', '/api/consumers'])
        assertRefused(await admin('GET', `${path}?cursor=${audit.body.nextCursor}`), ['cursor'], /the audit listing returned/);
      assertRefused(await admin('GET', `/api/audit?cursor=${consumers.body.nextCursor}`), ['cursor'], /the consumers listing/);
      for (const path of [
        `/api/consumers?limit=1&team=payments&cursor=${consumers.body.nextCursor}`,
        `/api/consumers?limit=1&label=tier=batch&cursor=${consumers.body.nextCursor}`,
        `/api/audit?limit=1&actor=bootstrap-token&cursor=${audit.body.nextCursor}`,
      ])
        assertRefused(await admin('GET', path), ['cursor'], /other filters/);
      // The page size is not a filter: a client may change it between pages.
      const next = await admin('GET', `/api/consumers?limit=5&cursor=${consumers.body.nextCursor}`);
      assert.equal(next.status, 200, JSON.stringify(next.body));
      assert.notEqual(next.body.items[0].name, consumers.body.items[0].name);
    });

    test('an observation the intake refuses is a 400 whose issues name the field by its path', async () => {
      const observation = { observer: 'probe', at: Date.now(), source: { ip: '10.0.0.1' }, provider: 'openai', model: 'gpt-4o' };
      const blank = await admin('POST', '/api/reconciliation/observations', {
        observations: [observation, { ...observation, observer: ' ' }],
      });
      assertRefused(blank, ['observations.1.observer'], /1 to 200 characters/);
    });
  });
}
