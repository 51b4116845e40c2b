// The director API over HTTP, against both stores: authentication, every role's allowed and refused actions, validation
// with field paths, audit records for every change, and secrets (keys, tokens, webhook secrets) shown once or never.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, mockCatalog, type AdminAnswer, type AdminClient } from '../support/admin-client.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { validateConfig } from '../../src/config/load.js';
import type { TestSluice } from '../support/sluice.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `director API on ${storeKind}`, (db) => {
    let mock: MockProvider;
    let sluice: TestSluice;
    let admin: AdminClient;
    const secrets: string[] = [];

    before(async () => {
      mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
      sluice = await db.startSluice(BOOTSTRAP, mockCatalog(mock.url));
      admin = adminClient(sluice, BOOTSTRAP);
    });

    after(async () => {
      await sluice.stop();
      await mock.close();
    });

    test('refuses calls without a valid admin token, and serves its OpenAPI 3.1 document to anyone', async () => {
      assert.equal((await adminClient(sluice, 'sa-wrong-token-000000000000')('GET', '/api/consumers')).status, 401);
      const none = await fetch(`${sluice.adminURL}/api/consumers`);
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'unauthenticated');
      const doc = (await (await fetch(`${sluice.adminURL}/api/openapi.json`)).json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      assert.equal(doc.openapi, '3.1.0');
      for (const path of [
        '/api/consumers',
        '/api/consumers/{name}/keys',
        '/api/budgets',
        '/api/budget-templates',
        '/api/rate-limits',
        '/api/resources/{id}',
        '/api/audit',
        '/api/admin-tokens',
        '/api/teams',
        '/api/webhooks',
      ]) {
        assert.ok(path in doc.paths, `${path} is described`);
      }
    });

    test('creates teams and consumers, refuses duplicates and bad input naming the field, pages through listings', async () => {
      assert.equal((await admin('POST', '/api/teams', { name: 'finance', owner: 'alice@example.com' })).status, 201);
      assert.equal((await admin('POST', '/api/teams', { name: 'analytics', owner: 'dan@example.com' })).status, 201);
      const duplicate = await admin('POST', '/api/teams', { name: 'finance', owner: 'x' });
      assert.equal(duplicate.status, 409);
      const bad = await admin('POST', '/api/consumers', { name: 'bad name!', labels: { tier: 3 } });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.error.issues.map((i: { path: string }) => i.path).sort(), ['labels.tier', 'name']);
      assert.equal((await admin('POST', '/api/consumers', '{"name": ')).body.error.code, 'invalid_json');
      assert.equal((await admin('POST', '/api/consumers', { name: 'x', team: 'no-such-team' })).status, 400);
      assert.equal((await admin('POST', '/api/consumers', { name: 'x', models: ['no-such-model'] })).status, 400);
      for (const name of ['checkout', 'billing', 'ledger-sync']) {
        assert.equal(
          (
            await admin('POST', '/api/consumers', {
              name,
              team: 'finance',
              owner: 'alice@example.com',
              labels: { tier: name === 'billing' ? 'batch' : 'online' },
            })
          ).status,
          201,
        );
      }
      for (const name of ['etl', 'reports']) assert.equal((await admin('POST', '/api/consumers', { name, team: 'analytics' })).status, 201);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: AdminAnswer = await admin(
          'GET',
          `/api/consumers?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        assert.equal(page.status, 200);
        assert.ok(page.body.items.length <= 2);
        seen.push(...page.body.items.map((c: { name: string }) => c.name));
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      // The two consumers sluice.yaml declares are in the store too.
      assert.deepEqual(seen, ['billing', 'checkout', 'checkout-service', 'etl', 'ledger-sync', 'reports', 'search-service']);
      // A cursor no listing handed out is a 400 whose issues name it, as every other invalid query parameter's do.
      const crafted = Buffer.from(JSON.stringify([1.5])).toString('base64url');
      for (const path of ['/api/consumers?cursor=zzz', `/api/audit?cursor=${crafted}`, '/api/transactions?cursor=zzz']) {
        const refused = await admin('GET', path);
        assert.equal(refused.status, 400, `${path}: ${JSON.stringify(refused.body)}`);
        assert.deepEqual(refused.body.error.issues, [{ path: 'cursor', message: 'the cursor is not one this listing returned' }], path);
      }
      assert.deepEqual(
        (await admin('GET', '/api/consumers?team=finance&label=tier=online')).body.items.map((c: { name: string }) => c.name),
        ['checkout', 'ledger-sync'],
      );
      const patched = await admin('PATCH', '/api/consumers/checkout', { owner: 'carol@example.com', labels: { tier: 'critical' } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.owner, 'carol@example.com');
      assert.equal((await admin('GET', '/api/consumers/nobody')).status, 404);
      assert.equal((await admin('DELETE', '/api/teams/payments')).status, 409, 'a team with consumers stays');
    });

    test('a key is shown once, stored hashed, works at the gateway at once, and stops working when revoked', async () => {
      const created = await admin('POST', '/api/consumers/checkout/keys', { name: 'prod' });
      assert.equal(created.status, 201);
      const plaintext: string = created.body.plaintext;
      secrets.push(plaintext);
      assert.match(plaintext, /^sk-sluice-/);
      assert.equal(created.body.key.prefix, plaintext.slice(0, 12));
      const listed = await admin('GET', '/api/consumers/checkout/keys');
      assert.ok(!JSON.stringify(listed.body).includes(plaintext));
      assert.ok(!JSON.stringify(listed.body).includes('hash'));
      const call = () =>
        fetch(`${sluice.baseURL}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${plaintext}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        });
      assert.equal((await call()).status, 200);
      const rotated = await admin('POST', `/api/consumers/checkout/keys/${created.body.key.id}/rotate`, { graceSeconds: 0 });
      assert.equal(rotated.status, 201);
      secrets.push(rotated.body.plaintext);
      assert.equal((await call()).status, 401, 'a key rotated with no grace stops at once');
      const fresh = rotated.body.plaintext as string;
      const freshCall = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fresh}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(freshCall.status, 200);
      assert.equal((await admin('POST', `/api/consumers/checkout/keys/${rotated.body.key.id}/revoke`)).status, 200);
      const revoked = await fetch(`${sluice.baseURL}/v1/models`, { headers: { authorization: `Bearer ${fresh}` } });
      assert.equal(revoked.status, 401);
      const keys = (await admin('GET', '/api/consumers/checkout/keys')).body.items as Array<{
        revokedAt: string | null;
        lastUsedAt: string | null;
      }>;
      assert.ok(keys.some((k) => k.revokedAt !== null));
    });

    test('every role gets what it may do and a 403 for the rest', async () => {
      const token = async (name: string, role: string, team?: string) => {
        const made = await admin('POST', '/api/admin-tokens', { name, role, ...(team === undefined ? {} : { team }) });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        secrets.push(made.body.plaintext);
        return adminClient(sluice, made.body.plaintext as string);
      };
      assert.equal(
        (await admin('POST', '/api/admin-tokens', { name: 'x', role: 'team-owner' })).status,
        400,
        'a team-owner names its team',
      );
      const operator = await token('ops', 'operator');
      const viewer = await token('auditor', 'viewer');
      const owner = await token('payments-lead', 'team-owner', 'finance');
      const cases: Array<[string, AdminClient, string, string, unknown, number]> = [
        ['viewer reads consumers', viewer, 'GET', '/api/consumers', undefined, 200],
        ['viewer reads the audit log', viewer, 'GET', '/api/audit?limit=5', undefined, 200],
        ['viewer may not create', viewer, 'POST', '/api/consumers', { name: 'v1' }, 403],
        ['viewer may not see admin tokens', viewer, 'GET', '/api/admin-tokens', undefined, 403],
        ['operator creates consumers', operator, 'POST', '/api/consumers', { name: 'ops-made', team: 'analytics' }, 201],
        [
          'operator sets budgets',
          operator,
          'POST',
          '/api/budgets',
          { name: 'ops-budget', measure: 'requests', limit: 10, window: 'day' },
          201,
        ],
        ['operator may not make admin tokens', operator, 'POST', '/api/admin-tokens', { name: 'y', role: 'admin' }, 403],
        [
          'operator may not add webhooks (secrets)',
          operator,
          'POST',
          '/api/webhooks',
          { url: 'http://127.0.0.1:9/x', secret: 'whsec-0123456789abcdef' },
          403,
        ],
        ['team-owner creates in its team', owner, 'POST', '/api/consumers', { name: 'pay-new', team: 'finance' }, 201],
        ['team-owner may not create in another team', owner, 'POST', '/api/consumers', { name: 'data-new', team: 'analytics' }, 403],
        ['team-owner may not create a teamless consumer', owner, 'POST', '/api/consumers', { name: 'loose' }, 403],
        ['team-owner reads its consumer', owner, 'GET', '/api/consumers/billing', undefined, 200],
        ["team-owner may not read another team's", owner, 'GET', '/api/consumers/etl', undefined, 403],
        ['team-owner makes keys for its consumers', owner, 'POST', '/api/consumers/billing/keys', { name: 'ci' }, 201],
        ["team-owner may not key another team's", owner, 'POST', '/api/consumers/etl/keys', { name: 'ci' }, 403],
        ['team-owner may not move a consumer out', owner, 'PATCH', '/api/consumers/billing', { team: 'analytics' }, 403],
        ['team-owner may not read budgets', owner, 'GET', '/api/budgets', undefined, 403],
        ['team-owner may not see admin tokens', owner, 'GET', '/api/admin-tokens', undefined, 403],
        ['admin adds webhooks', admin, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', secret: 'whsec-0123456789abcdef' }, 201],
      ];
      for (const [name, as, method, path, payload, status] of cases) {
        const answer = await as(method, path, payload);
        if (answer.body?.plaintext !== undefined) secrets.push(answer.body.plaintext);
        assert.equal(answer.status, status, `${name}: ${JSON.stringify(answer.body)}`);
      }
      const listedByOwner = await owner('GET', '/api/consumers');
      assert.ok(
        listedByOwner.body.items.every((c: { team: string }) => c.team === 'finance'),
        'a team-owner lists only its team',
      );
      assert.equal((await owner('GET', '/api/consumers?team=analytics')).status, 403);
      assert.equal(
        (await admin('GET', '/api/webhooks')).body.items.some((w: Record<string, unknown>) => 'secret' in w),
        false,
        'webhook secrets are write-only',
      );
    });

    test('budgets, templates, rate limits and resource statuses are validated like sluice.yaml and checked for references', async () => {
      const badWindow = await admin('POST', '/api/budgets', { name: 'b', measure: 'requests', limit: 1, window: 'fortnight' });
      assert.equal(badWindow.status, 400);
      assert.ok(badWindow.body.error.issues.some((i: { path: string }) => i.path === 'window'));
      const unknownModel = await admin('POST', '/api/budgets', {
        name: 'b',
        resources: { model: 'gpt-9' },
        measure: 'requests',
        limit: 1,
        window: 'day',
      });
      assert.deepEqual(unknownModel.body.error.issues, [{ path: 'resources.model', message: 'no model named "gpt-9"' }]);
      assert.equal(
        (
          await admin('POST', '/api/budget-templates', {
            name: 't',
            selector: { team: 'analytics' },
            measure: 'total_tokens',
            limit: 1000,
            window: 'day',
          })
        ).status,
        201,
      );
      assert.equal((await admin('POST', '/api/rate-limits', { name: 'r', requestsPerMinute: 60 })).status, 201);
      assert.equal((await admin('POST', '/api/rate-limits', { name: 'r2' })).status, 400, 'a rate limit needs a limit');
      const replaced = await admin('PUT', '/api/budgets/ops-budget', { name: 'ops-budget', measure: 'requests', limit: 20, window: 'day' });
      assert.equal(replaced.status, 200);
      assert.equal(replaced.body.limit, 20);
      assert.equal(
        (await admin('PUT', '/api/budgets/ops-budget', { name: 'other', measure: 'requests', limit: 20, window: 'day' })).status,
        400,
      );
      const status = await admin('PUT', `/api/resources/${encodeURIComponent('openai/gpt-4o-mini')}`, {
        status: 'sanctioned',
        note: 'reviewed 2026-11',
      });
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'sanctioned');
      assert.equal((await admin('PUT', `/api/resources/${encodeURIComponent('nope/gpt-4o-mini')}`, { status: 'sanctioned' })).status, 400);
      assert.equal((await admin('DELETE', '/api/budgets/ops-budget')).status, 204);
      assert.equal((await admin('GET', '/api/budgets/ops-budget')).status, 404);
    });

    test('every change is in the audit log with who, what, before and after, and no secret appears in it', async () => {
      const all: Array<{ actor: string; action: string; entityType: string; entityId: string; before: unknown; after: unknown }> = [];
      let cursor: string | null = null;
      do {
        const page: AdminAnswer = await admin(
          'GET',
          `/api/audit?limit=50${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        all.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      const find = (entityType: string, entityId: string, action: string) =>
        all.find((r) => r.entityType === entityType && r.entityId === entityId && r.action === action);
      const patch = find('consumer', 'checkout', 'update');
      assert.ok(patch !== undefined);
      assert.equal(patch.actor, 'bootstrap-token');
      assert.equal((patch.before as { owner: string }).owner, 'alice@example.com');
      assert.equal((patch.after as { owner: string }).owner, 'carol@example.com');
      assert.ok(find('budget', 'ops-budget', 'delete') !== undefined);
      assert.ok(find('resource', 'openai/gpt-4o-mini', 'create') !== undefined);
      assert.ok(
        all.some((r) => r.entityType === 'consumer' && r.entityId === 'pay-new' && r.actor.startsWith('admin-token:payments-lead')),
      );
      assert.ok(all.some((r) => r.entityType === 'consumer-key' && r.action === 'revoke'));
      const text = JSON.stringify(all);
      for (const secret of secrets) assert.ok(!text.includes(secret), 'no key or token plaintext in the audit log');
      assert.ok(!text.includes('whsec-0123456789abcdef'), 'no webhook secret in the audit log');
    });

    test('a sluice.yaml reload the store refuses changes nothing: it is applied whole or not at all', async () => {
      const declared = sluice.config;
      const withModel = validateConfig(
        { ...declared, models: [...declared.models, { name: 'house-model', targets: [{ provider: 'openai', model: 'house-7b' }] }] },
        'sluice.yaml',
      );
      await sluice.sluice.reload(withModel);
      const made = await admin('POST', '/api/consumers', { name: 'house-user', team: 'payments', models: ['house-model'] });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const lastAudit = async () => (await admin('GET', '/api/audit?limit=1')).body.items[0].id as number;
      const version = async () =>
        (await fetch(`${sluice.adminURL}/api/gateway/snapshot`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } })).headers.get('etag');
      const [auditBefore, versionBefore] = [await lastAudit(), await version()];
      // The reload changes a declared consumer's owner, then drops a model an API-made consumer still names: the store
      // refuses the drop, and the reload with it, so the owner must stay as it was.
      const dropped = validateConfig(
        {
          ...declared,
          consumers: declared.consumers.map((consumer) =>
            consumer.name === 'checkout-service' ? { ...consumer, owner: 'mallory@example.com' } : consumer,
          ),
        },
        'sluice.yaml',
      );
      await assert.rejects(sluice.sluice.reload(dropped), /still named by consumer "house-user"/);
      assert.equal((await admin('GET', '/api/consumers/checkout-service')).body.owner, 'alice@example.com');
      assert.equal((await admin('GET', '/api/models/house-model')).status, 200);
      assert.equal(await lastAudit(), auditBefore, 'no audit record of a change that did not happen');
      assert.equal(await version(), versionBefore, 'no config version for gateways to reload on');
    });
  });
}
