// The key expiry policy (sluice.yaml `keys.defaultExpiry`, `keys.maxExpiry`): a key made through the director without
// an end gets the default one, none may end past the maximum or have no end while a maximum is set (400 naming
// expiresAt), rotation keeps the old end within the maximum, the audit log records the end applied, and keys ending
// soon are listed per consumer and across consumers. Through the admin API on SQLite and PostgreSQL, and `sluice keys`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/load.js';
import { adminClient, type AdminClient, clientWithRole } from '../support/admin-client.js';
import { cliFor, row } from '../support/cli.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import type { TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-key-expiry-policy-token-0123';
const DAY = 86_400_000;

interface KeyView {
  id: string;
  consumer: string;
  expiresAt: string | null;
}

const wholeSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();
const issuePaths = (body: { error: { issues?: Array<{ path: string }> } }) => body.error.issues?.map((issue) => issue.path);

/** Whether an ISO end is `days` after some moment within [before, after]. */
function endsDaysAfter(end: string | null, days: number, before: number, after: number): boolean {
  const at = end === null ? Number.NaN : Date.parse(end);
  return at >= before + days * DAY && at <= after + days * DAY;
}

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `the key expiry policy on ${storeKind}`, (db) => {
    let sluice: TestSluice;
    let admin: AdminClient;

    before(async () => {
      // A default and no maximum at first; the tests below reload with a maximum.
      sluice = await db.startSluice(TOKEN, {
        keys: { defaultExpiry: '90d' },
        consumers: [],
      });
      admin = adminClient(sluice, TOKEN);
      for (const team of ['vault', 'ledgers'])
        assert.equal((await admin('POST', '/api/teams', { name: team, owner: 'sec@example.com' })).status, 201);
      for (const [name, team] of [
        ['payroll', 'vault'],
        ['reports', 'ledgers'],
      ])
        assert.equal((await admin('POST', '/api/consumers', { name, team })).status, 201);
    });

    after(async () => {
      await sluice.stop();
    });

    const makeKey = async (consumer: string, body: Record<string, unknown>) => {
      const made = await admin('POST', `/api/consumers/${consumer}/keys`, body);
      assert.equal(made.status, 201, JSON.stringify(made.body));
      return made.body as { key: KeyView; plaintext: string };
    };
    const keysOf = async (consumer: string) => (await admin('GET', `/api/consumers/${consumer}/keys`)).body.items as KeyView[];

    test('without a maximum: a key given no end gets the default, the audit log records it, and "no end" may be asked for', async () => {
      const before = Date.now();
      const made = await makeKey('payroll', { name: 'defaulted' });
      assert.ok(endsDaysAfter(made.key.expiresAt, 90, before, Date.now()), `90 days from now, got ${made.key.expiresAt}`);
      const audit = await admin('GET', `/api/audit?entityType=consumer-key&entityId=${made.key.id}`);
      assert.equal(audit.body.items[0].action, 'create');
      assert.equal(audit.body.items[0].after.expiresAt, Date.parse(made.key.expiresAt!), 'the audit entry has the end applied');

      const open = await makeKey('payroll', { name: 'open-ended', expiresAt: null });
      assert.equal(open.key.expiresAt, null);
      const far = wholeSeconds(Date.now() + 500 * DAY);
      assert.equal((await makeKey('payroll', { name: 'far', expiresAt: far })).key.expiresAt, far);
    });

    test('with a maximum: no end and an end past it are 400s naming expiresAt that make no key; an end within it is kept', async () => {
      await sluice.sluice.reload({ ...sluice.config, keys: { defaultExpiry: '90d', maxExpiry: '365d' } });
      const count = (await keysOf('payroll')).length;
      const tooLate = await admin('POST', '/api/consumers/payroll/keys', { name: 'late', expiresAt: wholeSeconds(Date.now() + 400 * DAY) });
      assert.equal(tooLate.status, 400, JSON.stringify(tooLate.body));
      assert.equal(tooLate.body.error.code, 'invalid_request');
      assert.deepEqual(issuePaths(tooLate.body), ['expiresAt']);
      assert.match(tooLate.body.error.message, /expiresAt: .* is later than keys\.maxExpiry \(365d\) allows/);
      const none = await admin('POST', '/api/consumers/payroll/keys', { name: 'none', expiresAt: null });
      assert.equal(none.status, 400, JSON.stringify(none.body));
      assert.deepEqual(issuePaths(none.body), ['expiresAt']);
      assert.match(none.body.error.message, /without an end is not allowed: keys\.maxExpiry is 365d/);
      assert.equal((await keysOf('payroll')).length, count, 'no key made');

      const within = wholeSeconds(Date.now() + 200 * DAY);
      assert.equal((await makeKey('payroll', { name: 'within', expiresAt: within })).key.expiresAt, within);
    });

    test('rotation keeps an end within the maximum, brings one past it back, and gives a key without one the default', async () => {
      const keys = await keysOf('payroll');
      const rotate = (id: string, body: Record<string, unknown> = {}) =>
        admin('POST', `/api/consumers/payroll/keys/${id}/rotate`, { graceSeconds: 0, ...body });

      const end = wholeSeconds(Date.now() + 30 * DAY);
      const kept = await rotate((await makeKey('payroll', { name: 'contract', expiresAt: end })).key.id);
      assert.equal(kept.status, 201, JSON.stringify(kept.body));
      assert.equal(kept.body.key.expiresAt, end);

      // Made before the maximum: the one with no end and the one ending in 500 days.
      let before = Date.now();
      const open = await rotate(keys.find((k) => k.expiresAt === null && k.consumer === 'payroll')!.id);
      assert.equal(open.status, 201, JSON.stringify(open.body));
      assert.ok(endsDaysAfter(open.body.key.expiresAt, 90, before, Date.now()), `the default, got ${open.body.key.expiresAt}`);
      const audit = await admin('GET', `/api/audit?entityType=consumer-key&entityId=${open.body.key.id}`);
      assert.equal(audit.body.items[0].after.expiresAt, Date.parse(open.body.key.expiresAt), 'the audit entry has the end applied');
      before = Date.now();
      const farId = keys.find((k) => k.expiresAt !== null && Date.parse(k.expiresAt) > Date.now() + 400 * DAY)!.id;
      const capped = await rotate(farId);
      assert.equal(capped.status, 201, JSON.stringify(capped.body));
      assert.ok(endsDaysAfter(capped.body.key.expiresAt, 365, before, Date.now()), `the maximum, got ${capped.body.key.expiresAt}`);

      const refusedNone = await rotate(kept.body.key.id, { expiresAt: null });
      assert.equal(refusedNone.status, 400, JSON.stringify(refusedNone.body));
      assert.deepEqual(issuePaths(refusedNone.body), ['expiresAt']);
      const refusedLate = await rotate(kept.body.key.id, { expiresAt: wholeSeconds(Date.now() + 366 * DAY) });
      assert.equal(refusedLate.status, 400, JSON.stringify(refusedLate.body));
      assert.deepEqual(issuePaths(refusedLate.body), ['expiresAt']);
      assert.equal((await keysOf('payroll')).find((k) => k.id === kept.body.key.id)?.expiresAt, end, 'a refused rotation changes nothing');
    });

    test('keys ending within a time are listed per consumer and across consumers, soonest first; a team-owner sees its team', async () => {
      const soon = await makeKey('reports', { name: 'soon', expiresAt: wholeSeconds(Date.now() + 3 * DAY) });
      const sooner = await makeKey('payroll', { name: 'sooner', expiresAt: wholeSeconds(Date.now() + 2 * DAY) });
      const revoked = await makeKey('payroll', { name: 'revoked', expiresAt: wholeSeconds(Date.now() + DAY) });
      assert.equal((await admin('POST', `/api/consumers/payroll/keys/${revoked.key.id}/revoke`)).status, 200);

      const across = await admin('GET', '/api/keys/expiring?within=7d');
      assert.equal(across.status, 200, JSON.stringify(across.body));
      assert.deepEqual(
        across.body.items.map((k: KeyView) => [k.consumer, k.id]),
        [
          ['payroll', sooner.key.id],
          ['reports', soon.key.id],
        ],
      );
      assert.equal(across.body.truncated, false);
      assert.ok(!JSON.stringify(across.body).includes(soon.plaintext), 'never the secret');
      const limited = await admin('GET', '/api/keys/expiring?within=7d&limit=1');
      assert.deepEqual([limited.body.items.length, limited.body.truncated], [1, true]);
      const ofTeam = await admin('GET', '/api/keys/expiring?within=7d&team=ledgers');
      assert.deepEqual(
        ofTeam.body.items.map((k: KeyView) => k.id),
        [soon.key.id],
      );

      const perConsumer = await admin('GET', '/api/consumers/payroll/keys?expiringWithin=7d');
      assert.deepEqual(
        perConsumer.body.items.map((k: KeyView) => k.id),
        [sooner.key.id],
      );
      const bad = await admin('GET', '/api/keys/expiring?within=soon');
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.deepEqual(issuePaths(bad.body), ['within']);

      const owner = await clientWithRole(sluice, admin, `ledgers-owner-${storeKind}`, 'team-owner', 'ledgers');
      const own = await owner('GET', '/api/keys/expiring?within=7d');
      assert.equal(own.status, 200, JSON.stringify(own.body));
      assert.deepEqual(
        own.body.items.map((k: KeyView) => k.id),
        [soon.key.id],
      );
      assert.equal((await owner('GET', '/api/keys/expiring?within=7d&team=vault')).status, 403);

      // The gateway's gauge counts them from its snapshot: the revoked one is not in it.
      const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
      const expiring = (within: string) =>
        Number(new RegExp(`^sluice_consumer_keys_expiring\\{within="${within}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
      assert.deepEqual([expiring('1d'), expiring('7d')], [0, 2], metrics);
      assert.ok(expiring('30d') >= 2, metrics);
    });

    if (storeKind === 'sqlite') {
      test('the CLI: `sluice keys create` shows the default end, is refused past the maximum, and `keys list --expiring` finds keys ending soon', async () => {
        const cli = cliFor(sluice.adminURL, TOKEN);
        const made = await cli(['keys', 'create', 'reports', '--name', 'cli-default']);
        assert.equal(made.code, 0, made.stderr);
        assert.match(made.stdout, /for consumer reports \(expires \d{4}-\d\d-\d\dT/);
        const none = await cli(['keys', 'create', 'reports', '--name', 'cli-none', '--no-expiry']);
        assert.equal(none.code, 1, none.stdout);
        assert.match(none.stderr, /expiresAt: a key without an end is not allowed: keys\.maxExpiry is 365d/);

        const soonId = (await makeKey('reports', { name: 'cli-soon', expiresAt: wholeSeconds(Date.now() + 5 * DAY) })).key.id;
        const listed = await cli(['keys', 'list', '--expiring', '7d']);
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, /^ID\s+CONSUMER\s+NAME\s+PREFIX\s+EXPIRES\s+ENDS IN\s+LAST USED$/m);
        const line = row(listed.stdout, soonId);
        assert.deepEqual([line?.[1], line?.[2], line?.[5]], ['reports', 'cli-soon', '4d'], listed.stdout);
        const ofTeam = await cli(['keys', 'list', '--expiring', '7d', '--team', 'vault', '--json']);
        assert.ok(!(JSON.parse(ofTeam.stdout) as { items: KeyView[] }).items.some((k) => k.consumer === 'reports'), ofTeam.stdout);
        const perConsumer = await cli(['keys', 'list', 'reports', '--expiring', '7d', '--json']);
        assert.ok(
          (JSON.parse(perConsumer.stdout) as { items: KeyView[] }).items.some((k) => k.id === soonId),
          perConsumer.stdout,
        );
        const wrong = await cli(['keys', 'list', '--expiring', 'soon']);
        assert.equal(wrong.code, 2);
        assert.match(wrong.stderr, /--expiring takes a duration such as 7d/);
      });
    }
  });
}

test('sluice.yaml: a defaultExpiry longer than the maxExpiry, or a lifetime that is no duration, is refused naming the key', () => {
  assert.throws(() => validateConfig({ keys: { defaultExpiry: '400d', maxExpiry: '365d' } }, 'sluice.yaml'), /keys\.defaultExpiry/);
  assert.throws(() => validateConfig({ keys: { maxExpiry: 'a year' } }, 'sluice.yaml'), /keys\.maxExpiry.*a duration such as 90d/);
});
