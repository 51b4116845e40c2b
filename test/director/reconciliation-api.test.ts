// The reconciliation API over HTTP, against both stores: intake of observations (validation naming each field, all or
// nothing), the queue of discovered consumers, resolutions whose past usage shows in /api/usage, rules, discovered
// resources from gateway traffic and observations, every role's allowed and refused actions, and the audit records.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mockCatalog } from '../support/admin-client.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { KEYS, type TestSluice } from '../support/sluice.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';

const BOOTSTRAP = 'sa-bootstrap-recon-test-token-01234';
const HOUR = 3_600_000;

type Answer = { status: number; body: any; text: string };

function client(sluice: TestSluice, token: string) {
  return async (method: string, path: string, payload?: unknown): Promise<Answer> => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text), text };
  };
}

/** Whole hours around the observations of one test, for /api/usage. */
const hour = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
const period = `from=${new Date(hour).toISOString()}&to=${new Date(hour + 4 * HOUR).toISOString()}`;

function observation(source: Record<string, string>, overrides: Record<string, unknown> = {}) {
  return {
    observer: 'discovery-proxy-1',
    at: hour + 10 * 60_000,
    source,
    provider: 'openai',
    model: 'gpt-4o',
    inputTokens: 50,
    outputTokens: 5,
    costMicroUsd: 2_000,
    ...overrides,
  };
}

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `reconciliation API on ${storeKind}`, (db) => {
    let mock: MockProvider;
    let sluice: TestSluice;
    let admin: ReturnType<typeof client>;
    const plaintexts: string[] = [];

    const token = async (name: string, role: string, team?: string) => {
      const made = await admin('POST', '/api/admin-tokens', { name, role, ...(team === undefined ? {} : { team }) });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      plaintexts.push(made.body.plaintext);
      return client(sluice, made.body.plaintext as string);
    };

    before(async () => {
      mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
      sluice = await db.startSluice(BOOTSTRAP, mockCatalog(mock.url));
      admin = client(sluice, BOOTSTRAP);
      assert.equal((await admin('POST', '/api/teams', { name: 'recon-ml', owner: 'ml@example.com' })).status, 201);
      assert.equal((await admin('POST', '/api/consumers', { name: 'recon-trainer', team: 'recon-ml' })).status, 201);
    });

    after(async () => {
      await sluice.stop();
      await mock.close();
    });

    test('the OpenAPI document describes the reconciliation endpoints', async () => {
      const doc = (await (await fetch(`${sluice.adminURL}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
      for (const path of [
        '/api/reconciliation/observations',
        '/api/reconciliation/consumers',
        '/api/reconciliation/consumers/{id}',
        '/api/reconciliation/consumers/{id}/resolve',
        '/api/reconciliation/resources',
        '/api/reconciliation/resources/{id}/resolve',
        '/api/reconciliation/rules',
        '/api/reconciliation/rules/{id}',
      ]) {
        assert.ok(path in doc.paths, `${path} is described`);
      }
      // What a resolution naming a team that does not exist answers, as the consumers API does.
      const schemas = (doc as unknown as { components: { schemas: Record<string, any> } }).components.schemas;
      const team = schemas['DiscoveryResolution'].properties.create.properties.team;
      assert.match(team.description, /400/, JSON.stringify(team));
      assert.doesNotMatch(team.description, /409/);
    });

    test('intake refuses bad batches naming each field by its path, and writes nothing of them', async () => {
      const bad = await admin('POST', '/api/reconciliation/observations', {
        observations: [
          observation({ ip: '10.80.0.1' }),
          observation({ ip: '999.1.1.1', keyFingerprint: 'sk-proj-0123456789abcdefghijklmnop' }, { observer: '' }),
          observation({ host: 'api.openai.com' }, { calls: 0, at: 'yesterday' }),
          observation({ ip: '10.80.0.2' }, { at: Date.now() + 3 * HOUR, colour: 'red' }),
        ],
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'invalid_request');
      const paths = bad.body.error.issues.map((issue: { path: string }) => issue.path);
      for (const path of [
        'observations.1.observer',
        'observations.1.source.ip',
        'observations.1.source.keyFingerprint',
        'observations.2.source',
        'observations.2.calls',
        'observations.2.at',
        'observations.3',
      ]) {
        assert.ok(paths.includes(path), `${path} in ${JSON.stringify(paths)}`);
      }
      assert.ok(!bad.text.includes('sk-proj-0123456789'), 'a key sent by mistake is not echoed');
      assert.equal(
        (await admin('POST', '/api/reconciliation/observations', { observations: [] })).body.error.issues[0].path,
        'observations',
      );
      const tooMany = Array.from({ length: 1001 }, () => observation({ ip: '10.80.0.3' }));
      assert.equal((await admin('POST', '/api/reconciliation/observations', { observations: tooMany })).status, 400);
      assert.equal((await admin('POST', '/api/reconciliation/observations', '{"observations": [')).body.error.code, 'invalid_json');
      const queue = await admin('GET', '/api/reconciliation/consumers');
      assert.ok(!queue.body.items.some((item: any) => item.identity.value.startsWith('10.80.')), 'nothing of a refused batch is recorded');
    });

    test('observed callers queue up by their strongest hint; assigning one moves its past usage to the consumer in /api/usage', async () => {
      const recorded = await admin('POST', '/api/reconciliation/observations', {
        observations: [
          observation({ keyFingerprint: 'sha256:1111aaaa2222bbbb', ip: '10.81.0.1', userAgent: 'python-requests/2.31' }, { calls: 4 }),
          observation({ keyFingerprint: 'sha256:1111aaaa2222bbbb', ip: '10.81.0.2' }, { at: new Date(hour + HOUR + 60_000).toISOString() }),
          observation({ ip: '10.81.9.9', userAgent: 'curl/8' }),
        ],
      });
      assert.equal(recorded.status, 200, JSON.stringify(recorded.body));
      assert.equal(recorded.body.recorded, 3);
      const key = recorded.body.consumers.find((item: any) => item.identity.kind === 'keyFingerprint');
      assert.deepEqual(
        [key.identity.value, key.calls, key.status, key.hints.ips, key.hints.userAgents],
        ['sha256:1111aaaa2222bbbb', 5, 'pending', ['10.81.0.1', '10.81.0.2'], ['python-requests/2.31']],
      );
      assert.equal(key.firstSeenAt, new Date(hour + 10 * 60_000).toISOString());
      assert.equal(key.lastSeenAt, new Date(hour + HOUR + 60_000).toISOString());

      const pending = await admin('GET', '/api/reconciliation/consumers?status=pending');
      assert.equal(pending.status, 200);
      assert.ok(pending.body.items.some((item: any) => item.id === key.id));
      assert.equal((await admin('GET', `/api/reconciliation/consumers/${key.id}`)).body.identity.value, 'sha256:1111aaaa2222bbbb');
      assert.equal((await admin('GET', '/api/reconciliation/consumers/999999')).status, 404);
      assert.equal((await admin('GET', '/api/reconciliation/consumers/abc')).status, 400);
      assert.equal((await admin('GET', '/api/reconciliation/consumers?status=lost')).body.error.issues[0].path, 'status');

      const before = await admin('GET', `/api/usage?${period}&bucket=day&groupBy=consumer`);
      assert.equal(before.status, 200, JSON.stringify(before.body));
      assert.ok(!before.body.items.some((item: any) => item.group.consumer === 'recon-trainer'));

      const two = await admin('POST', `/api/reconciliation/consumers/${key.id}/resolve`, { consumer: 'recon-trainer', ignore: true });
      assert.equal(two.status, 400);
      assert.equal(two.body.error.issues[0].path, '(body)');
      assert.equal((await admin('POST', `/api/reconciliation/consumers/${key.id}/resolve`, {})).status, 400);
      // A consumer that does not exist: 400 naming the field, as a budget naming one (missing-consumer-references.test).
      assert.equal((await admin('POST', `/api/reconciliation/consumers/${key.id}/resolve`, { consumer: 'nobody' })).status, 400);
      assert.equal((await admin('POST', '/api/reconciliation/consumers/999999/resolve', { ignore: true })).status, 404);

      const resolved = await admin('POST', `/api/reconciliation/consumers/${key.id}/resolve`, { consumer: 'recon-trainer' });
      assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
      assert.deepEqual(
        [resolved.body.status, resolved.body.consumer, resolved.body.resolvedBy],
        ['resolved', 'recon-trainer', 'bootstrap-token'],
      );
      const usage = await admin('GET', `/api/usage?${period}&bucket=hour&groupBy=consumer,team`);
      const trainer = usage.body.items.filter((item: any) => item.group.consumer === 'recon-trainer');
      assert.deepEqual(
        trainer.map((item: any) => [item.bucketStart, item.group.team, item.calls, item.cost.microUsd]),
        [
          [new Date(hour).toISOString(), 'recon-ml', 4, 2_000],
          [new Date(hour + HOUR).toISOString(), 'recon-ml', 1, 2_000],
        ],
      );
      const audit = await admin('GET', `/api/audit?entityType=discovered-consumer&entityId=${key.id}`);
      assert.deepEqual(
        audit.body.items.map((r: any) => [r.action, r.actor, r.before.status, r.after.consumer]),
        [['update', 'bootstrap-token', 'pending', 'recon-trainer']],
      );

      // Create: the consumer and its team; a team that does not exist is a 400 naming the field, as POST /api/consumers
      // answers it (create the team first), and nothing is made.
      const agent = recorded.body.consumers.find((item: any) => item.identity.kind === 'ip');
      const noTeam = await admin('POST', `/api/reconciliation/consumers/${agent.id}/resolve`, {
        create: { name: 'recon-curl', team: 'recon-nowhere' },
      });
      assert.equal(noTeam.status, 400, JSON.stringify(noTeam.body));
      assert.equal(noTeam.body.error.code, 'invalid_request');
      assert.deepEqual(noTeam.body.error.issues, [{ path: 'create.team', message: 'no team named "recon-nowhere"' }]);
      const direct = await admin('POST', '/api/consumers', { name: 'recon-curl', team: 'recon-nowhere' });
      assert.deepEqual([direct.status, direct.body.error.issues[0].message], [400, noTeam.body.error.issues[0].message]);
      assert.equal((await admin('GET', '/api/consumers/recon-curl')).status, 404);
      assert.equal((await admin('GET', `/api/reconciliation/consumers/${agent.id}`)).body.status, 'pending');
      const badName = await admin('POST', `/api/reconciliation/consumers/${agent.id}/resolve`, { create: { name: 'bad name!' } });
      assert.equal(badName.body.error.issues[0].path, 'create.name');
      const created = await admin('POST', `/api/reconciliation/consumers/${agent.id}/resolve`, {
        create: { name: 'recon-curl', team: 'recon-ml', owner: 'ops@example.com' },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal((await admin('GET', '/api/consumers/recon-curl')).body.owner, 'ops@example.com');
      assert.equal((await admin('POST', `/api/reconciliation/consumers/${agent.id}/resolve`, { ignore: true })).body.status, 'ignored');
      assert.equal(
        (await admin('GET', '/api/reconciliation/consumers?status=ignored')).body.items.some((item: any) => item.id === agent.id),
        true,
      );
    });

    test('a batch sent again with its Idempotency-Key (its answer was lost) is recorded once: usage and the queue count it once', async () => {
      const send = async (key: string | null) => {
        const response = await fetch(`${sluice.adminURL}/api/reconciliation/observations`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${BOOTSTRAP}`,
            'content-type': 'application/json',
            ...(key === null ? {} : { 'idempotency-key': key }),
          },
          body: JSON.stringify({ observations: [observation({ ip: '10.90.0.1' }, { model: 'gpt-4o-retried', calls: 3 })] }),
        });
        return { status: response.status, body: (await response.json()) as any };
      };
      const first = await send('"batch-7f3c2a"');
      assert.deepEqual([first.status, first.body.recorded], [200, 1], JSON.stringify(first.body));
      // The observer's retry after a timeout or a restart: the director already holds the batch.
      const again = await send('"batch-7f3c2a"');
      assert.deepEqual([again.status, again.body.recorded, again.body.replayed], [200, 0, true], JSON.stringify(again.body));
      // Another batch with the same observations (another key, or none) is other calls, and counts.
      assert.equal((await send('"batch-91d0e4"')).body.recorded, 1);
      assert.equal((await send(null)).body.recorded, 1);
      const usage = await admin('GET', `/api/usage?${period}&bucket=month&model=gpt-4o-retried`);
      assert.deepEqual(
        usage.body.items.map((item: any) => [item.calls, item.cost.microUsd]),
        [[9, 6_000]],
      );
      const queued = await admin('GET', '/api/reconciliation/consumers?limit=500');
      assert.equal(queued.body.items.find((item: any) => item.identity.value === '10.90.0.1')?.calls, 9);
      const bad = await send('');
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal(bad.body.error.issues[0].path, 'idempotency-key');
    });

    test('rules: created with what they resolve, listed, deleted; intake applies them; each change audited', async () => {
      const seen = await admin('POST', '/api/reconciliation/observations', {
        observations: [observation({ ip: '10.82.3.4' }, { calls: 2 }), observation({ ip: 'fd00:82::5' }), observation({ ip: '10.83.0.1' })],
      });
      assert.equal(seen.status, 200);
      const invalid = await admin('POST', '/api/reconciliation/rules', { match: { cidr: '10.82.0.0/40' }, consumer: 'recon-trainer' });
      assert.deepEqual([invalid.status, invalid.body.error.issues[0].path], [400, 'match.cidr']);
      assert.deepEqual(
        (await admin('POST', '/api/reconciliation/rules', { match: {}, consumer: 'recon-trainer' })).body.error.issues[0].path,
        'match',
      );
      assert.equal((await admin('POST', '/api/reconciliation/rules', { match: { cidr: '10.82.0.0/16' }, consumer: 'nobody' })).status, 400);

      const v4 = await admin('POST', '/api/reconciliation/rules', {
        match: { cidr: '10.82.0.0/16' },
        consumer: 'recon-trainer',
        note: 'training subnet',
      });
      assert.equal(v4.status, 201, JSON.stringify(v4.body));
      assert.deepEqual(
        v4.body.resolved.map((item: any) => [item.identity.value, item.consumer, item.resolvedBy]),
        [['10.82.3.4', 'recon-trainer', `rule:${v4.body.rule.id}`]],
      );
      const v6 = await admin('POST', '/api/reconciliation/rules', { match: { cidr: 'fd00:82::/32' }, consumer: 'recon-trainer' });
      assert.deepEqual(
        v6.body.resolved.map((item: any) => item.identity.value),
        ['fd00:82::5'],
      );
      const listed = await admin('GET', '/api/reconciliation/rules');
      assert.deepEqual(
        listed.body.items.map((rule: any) => [rule.id, rule.match, rule.consumer]),
        [
          [v4.body.rule.id, { cidr: '10.82.0.0/16' }, 'recon-trainer'],
          [v6.body.rule.id, { cidr: 'fd00:82::/32' }, 'recon-trainer'],
        ],
      );
      assert.equal((await admin('GET', `/api/reconciliation/rules/${v4.body.rule.id}`)).body.note, 'training subnet');

      const later = await admin('POST', '/api/reconciliation/observations', { observations: [observation({ ip: '10.82.200.1' })] });
      assert.deepEqual([later.body.consumers[0].status, later.body.consumers[0].consumer], ['resolved', 'recon-trainer']);
      assert.equal(
        (await admin('GET', '/api/reconciliation/consumers?status=pending')).body.items.some(
          (item: any) => item.identity.value === '10.83.0.1',
        ),
        true,
      );

      assert.equal((await admin('DELETE', `/api/reconciliation/rules/${v6.body.rule.id}`)).status, 204);
      assert.equal((await admin('DELETE', `/api/reconciliation/rules/${v6.body.rule.id}`)).status, 404);
      const audit = await admin('GET', '/api/audit?entityType=reconciliation-rule');
      assert.deepEqual(
        audit.body.items.map((r: any) => [r.action, r.entityId]),
        [
          ['delete', String(v6.body.rule.id)],
          ['create', String(v6.body.rule.id)],
          ['create', String(v4.body.rule.id)],
        ],
      );
    });

    test("a deleted consumer takes its rules with it: a consumer made later under its name is not given the old one's traffic", async () => {
      assert.equal((await admin('POST', '/api/consumers', { name: 'recon-batch', team: 'payments' })).status, 201);
      const made = await admin('POST', '/api/reconciliation/rules', { match: { cidr: '10.91.0.0/16' }, consumer: 'recon-batch' });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.equal((await admin('DELETE', '/api/consumers/recon-batch')).status, 204);
      assert.equal((await admin('GET', `/api/reconciliation/rules/${made.body.rule.id}`)).status, 404);
      const audit = await admin('GET', `/api/audit?entityType=reconciliation-rule&entityId=${made.body.rule.id}&limit=1`);
      assert.deepEqual(
        audit.body.items.map((record: any) => [record.action, record.before?.consumer]),
        [['delete', 'recon-batch']],
      );
      // Another team's consumer, later, under the same name: the batch subnet's calls stay unattributed, for an admin to assign.
      assert.equal((await admin('POST', '/api/consumers', { name: 'recon-batch', team: 'discovery' })).status, 201);
      const seen = await admin('POST', '/api/reconciliation/observations', { observations: [observation({ ip: '10.91.4.2' })] });
      assert.equal(seen.status, 200, JSON.stringify(seen.body));
      assert.deepEqual([seen.body.consumers[0].status, seen.body.consumers[0].consumer], ['pending', null]);
    });

    test("a deleted rule's id answers 404 after a new rule is made, and names one rule in the audit log (both kinds of rule)", async () => {
      const kinds = [
        {
          path: '/api/reconciliation/rules',
          entityType: 'reconciliation-rule',
          body: (n: number) => ({ match: { userAgent: `recon-ids-${n}/` }, consumer: 'recon-trainer' }),
          id: (made: Answer) => made.body.rule.id,
        },
        {
          path: '/api/identity-rules',
          entityType: 'identity-rule',
          body: (n: number) => ({ field: 'sub', match: 'exact', value: `recon-ids-${n}`, consumer: 'recon-trainer' }),
          id: (made: Answer) => made.body.id,
        },
      ];
      for (const kind of kinds) {
        const make = async (n: number): Promise<number> => {
          const made = await admin('POST', kind.path, kind.body(n));
          assert.equal(made.status, 201, JSON.stringify(made.body));
          return kind.id(made) as number;
        };
        const older = await make(1);
        const newest = await make(2);
        assert.equal((await admin('DELETE', `${kind.path}/${newest}`)).status, 204);
        const later = await make(3);
        assert.notEqual(later, newest, `${kind.entityType} ${newest}'s id was handed out again`);
        const gone = await admin('GET', `${kind.path}/${newest}`);
        assert.equal(gone.status, 404, `GET of deleted ${kind.entityType} ${newest}: ${gone.text}`);
        const audit = await admin('GET', `/api/audit?entityType=${kind.entityType}&entityId=${later}`);
        assert.deepEqual(
          audit.body.items.map((record: any) => record.action),
          ['create'],
        );
        for (const id of [older, later]) assert.equal((await admin('DELETE', `${kind.path}/${id}`)).status, 204);
      }
    });

    test('gateway calls to an unreviewed model and observed models appear as discovered resources until marked', async () => {
      const call = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(call.status, 200);
      await call.text();
      await sluice.sluice.settled();
      await admin('POST', '/api/reconciliation/observations', {
        observations: [observation({ ip: '10.84.0.1' }, { provider: 'mistral', model: 'mistral-large', calls: 3 })],
      });
      const found = await admin('GET', '/api/reconciliation/resources');
      assert.equal(found.status, 200);
      const byId = new Map(found.body.items.map((item: any) => [item.id, item]));
      const gateway: any = byId.get('openai/gpt-4o-mini');
      assert.ok(gateway !== undefined, JSON.stringify(found.body));
      assert.deepEqual([gateway.status, gateway.calls >= 1], ['unreviewed', true]);
      assert.equal((byId.get('mistral/mistral-large') as any)?.calls, 3);

      assert.equal(
        (await admin('POST', `/api/reconciliation/resources/${encodeURIComponent('openai/gpt-4o-mini')}/resolve`, { status: 'unreviewed' }))
          .status,
        400,
      );
      assert.equal(
        (await admin('POST', `/api/reconciliation/resources/${encodeURIComponent('nope/never-seen')}/resolve`, { status: 'sanctioned' }))
          .status,
        404,
      );
      const sanctioned = await admin('POST', `/api/reconciliation/resources/${encodeURIComponent('openai/gpt-4o-mini')}/resolve`, {
        status: 'sanctioned',
      });
      assert.deepEqual(sanctioned.body, { id: 'openai/gpt-4o-mini', status: 'sanctioned', note: null });
      // A provider that is only observed, not configured here, can be marked too.
      const shadow = await admin('POST', `/api/reconciliation/resources/${encodeURIComponent('mistral/mistral-large')}/resolve`, {
        status: 'unsanctioned',
        note: 'no DPA',
      });
      assert.equal(shadow.status, 200, JSON.stringify(shadow.body));
      const after = (await admin('GET', '/api/reconciliation/resources')).body.items.map((item: any) => item.id);
      assert.ok(!after.includes('openai/gpt-4o-mini') && !after.includes('mistral/mistral-large'));
      assert.equal(
        (await admin('GET', '/api/resources')).body.items.find((r: any) => r.id === 'mistral/mistral-large').status,
        'unsanctioned',
      );
      const audit = await admin('GET', `/api/audit?entityType=resource&entityId=${encodeURIComponent('mistral/mistral-large')}`);
      assert.equal(audit.body.items[0].after.status, 'unsanctioned');
    });

    test('viewers read, operators and admins act, team-owners get nothing; no token reaches a listing or the audit log', async () => {
      const operator = await token('recon-ops', 'operator');
      const viewer = await token('recon-auditor', 'viewer');
      const owner = await token('recon-lead', 'team-owner', 'recon-ml');
      const seen = await operator('POST', '/api/reconciliation/observations', {
        observations: [observation({ ip: '10.85.0.1' }), observation({ ip: '10.85.0.2' })],
      });
      assert.equal(seen.status, 200, "an operator (a discovery proxy's token) reports traffic");
      const [first, second] = seen.body.consumers.map((item: any) => item.id);
      const cases: Array<[string, ReturnType<typeof client>, string, string, unknown, number]> = [
        ['viewer lists the queue', viewer, 'GET', '/api/reconciliation/consumers', undefined, 200],
        ['viewer reads one', viewer, 'GET', `/api/reconciliation/consumers/${first}`, undefined, 200],
        ['viewer lists resources', viewer, 'GET', '/api/reconciliation/resources', undefined, 200],
        ['viewer lists rules', viewer, 'GET', '/api/reconciliation/rules', undefined, 200],
        [
          'viewer may not report traffic',
          viewer,
          'POST',
          '/api/reconciliation/observations',
          { observations: [observation({ ip: '10.85.0.3' })] },
          403,
        ],
        ['viewer may not resolve', viewer, 'POST', `/api/reconciliation/consumers/${first}/resolve`, { ignore: true }, 403],
        [
          'viewer may not make rules',
          viewer,
          'POST',
          '/api/reconciliation/rules',
          { match: { cidr: '10.85.0.0/24' }, consumer: 'recon-trainer' },
          403,
        ],
        [
          'viewer may not mark resources',
          viewer,
          'POST',
          `/api/reconciliation/resources/${encodeURIComponent('openai/gpt-4o')}/resolve`,
          { status: 'sanctioned' },
          403,
        ],
        ['team-owner may not list the queue', owner, 'GET', '/api/reconciliation/consumers', undefined, 403],
        ['team-owner may not read resources', owner, 'GET', '/api/reconciliation/resources', undefined, 403],
        ['team-owner may not read rules', owner, 'GET', '/api/reconciliation/rules', undefined, 403],
        [
          'team-owner may not report traffic',
          owner,
          'POST',
          '/api/reconciliation/observations',
          { observations: [observation({ ip: '10.85.0.3' })] },
          403,
        ],
        [
          'team-owner may not resolve, even to its team',
          owner,
          'POST',
          `/api/reconciliation/consumers/${first}/resolve`,
          { consumer: 'recon-trainer' },
          403,
        ],
        ['operator resolves', operator, 'POST', `/api/reconciliation/consumers/${first}/resolve`, { consumer: 'recon-trainer' }, 200],
        ['admin ignores', admin, 'POST', `/api/reconciliation/consumers/${second}/resolve`, { ignore: true }, 200],
        [
          'operator makes a rule',
          operator,
          'POST',
          '/api/reconciliation/rules',
          { match: { cidr: '10.85.0.0/24' }, consumer: 'recon-trainer' },
          201,
        ],
        [
          'operator marks a resource',
          operator,
          'POST',
          `/api/reconciliation/resources/${encodeURIComponent('openai/gpt-4o')}/resolve`,
          { status: 'sanctioned' },
          200,
        ],
      ];
      for (const [name, caller, method, path, payload, status] of cases) {
        const answer = await caller(method, path, payload);
        assert.equal(answer.status, status, `${name}: ${JSON.stringify(answer.body)}`);
        if (status === 403) assert.equal(answer.body.error.code, 'forbidden');
      }
      const rules = (await viewer('GET', '/api/reconciliation/rules')).body.items;
      const rule = rules[rules.length - 1];
      assert.equal((await viewer('DELETE', `/api/reconciliation/rules/${rule.id}`)).status, 403);
      assert.equal((await owner('DELETE', `/api/reconciliation/rules/${rule.id}`)).status, 403);
      assert.equal((await operator('DELETE', `/api/reconciliation/rules/${rule.id}`)).status, 204);
      const records = await admin('GET', '/api/audit?limit=1000');
      const operatorRecord = records.body.items.find((r: any) => r.entityType === 'discovered-consumer' && r.entityId === String(first));
      assert.match(operatorRecord.actor, /^admin-token:recon-ops#/);
      const everything =
        JSON.stringify(records.body) + JSON.stringify((await admin('GET', '/api/reconciliation/consumers?limit=1000')).body);
      for (const secret of [...plaintexts, BOOTSTRAP, 'sk-upstream-not-real'])
        assert.ok(!everything.includes(secret), 'a secret in a listing or the audit log');
    });
  });
}
