// Continuous compliance on a real Sluice, on both stores: every OSCAL document validates against NIST's schemas, and
// states that satisfy and then violate each check flip its findings, opening a POA&M item that a later assessment closes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ManualClock } from '../../src/policy/clock.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { storeSql } from '../support/store-sql.js';
import { KEYS, type TestSluice } from '../support/sluice.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { oscalErrors } from './oscal-schemas.js';

const BOOTSTRAP = 'sa-bootstrap-compliance-test-0123456789';
const HOUR = 3_600_000;

type Answer = { status: number; body: any; text: string };

interface Finding {
  objectiveId: string;
  controlId: string;
  satisfied: boolean;
  description: string;
}
interface Assessment {
  uuid: string;
  findings: Finding[];
  poamItems: Array<{ uuid: string; objectiveId: string; status: string }>;
}

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `continuous compliance on ${storeKind}`, (db) => {
    let mock: MockProvider;
    let sluice: TestSluice;
    // Ahead of the real time the ledger stamps calls with, so the period [now - 24 h, now] holds every call made here.
    const clock = new ManualClock(Date.now() + HOUR);

    async function api(method: string, path: string, payload?: unknown, token = BOOTSTRAP): Promise<Answer> {
      const response = await fetch(`${sluice.adminURL}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
        body: payload === undefined ? undefined : JSON.stringify(payload),
      });
      const text = await response.text();
      let body: unknown = null;
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch {
        body = null;
      }
      return { status: response.status, body, text };
    }

    async function assess(): Promise<Assessment> {
      await sluice.sluice.settled();
      // Each assessment a second later: POA&M items are dated by the assessment that opens them.
      clock.advance(1_000);
      const answer = await api('POST', '/api/compliance/assessments');
      assert.equal(answer.status, 201, answer.text);
      return answer.body as Assessment;
    }

    function finding(assessment: Assessment, objectiveId: string): Finding {
      const found = assessment.findings.find((f) => f.objectiveId === objectiveId);
      assert.ok(found, `a finding for ${objectiveId}`);
      return found;
    }

    function unsatisfied(assessment: Assessment): string[] {
      return assessment.findings.filter((f) => !f.satisfied).map((f) => `${f.objectiveId}: ${f.description}`);
    }

    async function document(path: string, model: Parameters<typeof oscalErrors>[0]): Promise<any> {
      const answer = await api('GET', path);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(oscalErrors(model, answer.body), [], `${path} validates against the OSCAL ${model} schema`);
      return answer.body;
    }

    async function openItems(): Promise<Array<{ uuid: string; props: Array<{ name: string; value: string }> }>> {
      const poam = await document('/api/compliance/poam', 'plan-of-action-and-milestones');
      return poam['plan-of-action-and-milestones']['poam-items'];
    }

    function prop(item: { props: Array<{ name: string; value: string }> }, name: string): string | undefined {
      return item.props.find((p) => p.name === name)?.value;
    }

    /** Runs SQL on the database directly, as someone with access to it but not to Sluice would. */
    async function tamper(sql: string, params: unknown[] = []): Promise<void> {
      await storeSql(db.besides(sluice), sql, params);
    }

    async function chat(key: string, model: string, calls = 1): Promise<void> {
      const client = new OpenAI({ apiKey: key, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      for (let i = 0; i < calls; i++) await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    }

    before(async () => {
      mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
      sluice = await db.startSluice(
        BOOTSTRAP,
        {
          providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
          models: [
            { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], pricing: { input: 0.15, output: 0.6 } },
            { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }], pricing: { input: 2.5, output: 10 } },
            { name: 'gpt-4.1', targets: [{ provider: 'openai', model: 'gpt-4.1' }], pricing: { input: 2, output: 8 } },
          ],
          resources: { 'openai/gpt-4o-mini': 'sanctioned', 'openai/gpt-4o': 'unsanctioned' },
          resourcePolicy: { unsanctioned: 'monitor', unreviewed: 'allow' },
          budgets: [{ name: 'payments-daily', consumers: { team: 'payments' }, measure: 'requests', limit: 100_000, window: 'day' }],
          // The interval CA-7 checks against; no scheduled run gets in the way (complianceSchedule: false): an
          // assessment overdue at start would run 5 s in, at whatever time the hand-moved clock then shows.
          compliance: { intervalMinutes: 7 * 24 * 60, sealIntervalSeconds: 3600 },
        },
        { clock, complianceSchedule: false },
      );
    });

    after(async () => {
      await sluice.stop();
      await mock.close();
    });

    test('a governed deployment satisfies every objective, and each document validates against the OSCAL 1.2.1 schemas', async () => {
      await chat(KEYS.checkout, 'gpt-4o-mini', 3);
      const assessment = await assess();
      assert.deepEqual(unsatisfied(assessment), []);
      assert.equal(assessment.poamItems.length, 0);
      const results = await document('/api/compliance/assessment-results', 'assessment-results');
      const [result] = results['assessment-results'].results;
      assert.equal(result.uuid, assessment.uuid);
      const observation = result.observations.find((o: any) =>
        o.props.some((p: any) => p.name === 'check' && p.value === 'authenticated-calls'),
      );
      assert.ok(observation.collected.endsWith('Z') && observation.expires.endsWith('Z'));
      assert.deepEqual(observation.methods, ['TEST']);
      assert.equal(observation.props.find((p: any) => p.name === 'servedCalls').value, '3');
      const auFinding = result.findings.find((f: any) => f.target['target-id'] === 'au-9_obj.a');
      assert.equal(auFinding.target.status.state, 'satisfied');
      assert.ok(auFinding['related-observations'].length > 0);
      const component = await document('/api/compliance/component-definition', 'component-definition');
      const claimed = component['component-definition'].components[0]['control-implementations'][0]['implemented-requirements'].map(
        (r: any) => r['control-id'],
      );
      for (const control of ['ac-6', 'au-2', 'au-3', 'au-9', 'au-12', 'cm-8', 'sa-9', 'sc-8', 'ia-2', 'ia-5', 'sc-5', 'ca-7'])
        assert.ok(claimed.includes(control), `${control} is claimed`);
      // The resource policy only monitors unsanctioned models: AC-3 is not claimed.
      assert.ok(!claimed.includes('ac-3'));
      assert.equal((await api('GET', '/api/compliance/poam')).status, 404);
      const yaml = await api('GET', '/api/compliance/component-definition?format=yaml');
      assert.match(yaml.text, /^component-definition:\n/);
    });

    test('UUIDs are stable for the component and its control implementations, new for each assessment and observation', async () => {
      const first = (await document('/api/compliance/component-definition', 'component-definition'))['component-definition'];
      const second = (await document('/api/compliance/component-definition', 'component-definition'))['component-definition'];
      assert.equal(first.components[0].uuid, second.components[0].uuid);
      assert.equal(first.components[0]['control-implementations'][0].uuid, second.components[0]['control-implementations'][0].uuid);
      assert.deepEqual(
        first.components[0]['control-implementations'][0]['implemented-requirements'].map((r: any) => r.uuid),
        second.components[0]['control-implementations'][0]['implemented-requirements'].map((r: any) => r.uuid),
      );
      await assess();
      const results = (await document('/api/compliance/assessment-results?limit=2', 'assessment-results'))['assessment-results'].results;
      assert.equal(results.length, 2);
      assert.notEqual(results[0].uuid, results[1].uuid);
      const observations = results.flatMap((r: any) => r.observations.map((o: any) => o.uuid));
      assert.equal(new Set(observations).size, observations.length);
      for (const uuid of [first.components[0].uuid, results[0].uuid, ...observations])
        assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const history = await api('GET', '/api/compliance/assessments?limit=10');
      assert.equal(history.body.items.length, 2);
    });

    test('a viewer reads the documents but may not run an assessment', async () => {
      const created = await api('POST', '/api/admin-tokens', { name: 'auditor', role: 'viewer' });
      assert.equal(created.status, 201, created.text);
      const viewer = created.body.plaintext as string;
      assert.equal((await api('GET', '/api/compliance/assessment-results', undefined, viewer)).status, 200);
      assert.equal((await api('POST', '/api/compliance/assessments', undefined, viewer)).status, 403);
    });

    test('a consumer without an owner flips CM-8; its POA&M item keeps its UUID while open and closes when it has one', async () => {
      assert.equal((await api('POST', '/api/consumers', { name: 'orphan-batch-job' })).status, 201);
      const first = await assess();
      const cm8 = finding(first, 'cm-8_obj.a.1');
      assert.equal(cm8.satisfied, false);
      assert.match(cm8.description, /1 of \d+ consumers/);
      const second = await assess();
      const [a, b] = [first, second].map((assessment) => assessment.poamItems.find((item) => item.objectiveId === 'cm-8_obj.a.1')!.uuid);
      assert.equal(a, b, 'the open item keeps its UUID');
      const results = (await document('/api/compliance/assessment-results', 'assessment-results'))['assessment-results'].results[0];
      const observation = results.observations.find((o: any) =>
        o.props.some((p: any) => p.name === 'check' && p.value === 'consumer-ownership'),
      );
      assert.match(observation.remarks, /consumer "orphan-batch-job" has no owner and no team/);
      assert.equal((await api('PATCH', '/api/consumers/orphan-batch-job', { owner: 'carol@example.com', team: 'payments' })).status, 200);
      const fixed = await assess();
      assert.equal(finding(fixed, 'cm-8_obj.a.1').satisfied, true);
      assert.deepEqual(
        fixed.poamItems.filter((item) => item.objectiveId === 'cm-8_obj.a.1').map((item) => [item.uuid, item.status]),
        [[a, 'closed']],
      );
    });

    test('a plaintext upstream is named under SC-8, which the component definition then no longer claims', async () => {
      const created = await api('POST', '/api/providers', {
        name: 'internal-llm',
        type: 'openai',
        baseUrl: 'http://llm.internal.example:8080/v1',
      });
      assert.equal(created.status, 201, created.text);
      const flipped = await assess();
      assert.equal(finding(flipped, 'sc-8_obj').satisfied, false);
      assert.match(finding(flipped, 'sc-8_obj').description, /connections are plaintext/);
      const results = (await document('/api/compliance/assessment-results', 'assessment-results'))['assessment-results'].results[0];
      const observation = results.observations.find((o: any) =>
        o.props.some((p: any) => p.name === 'check' && p.value === 'transmission-protection'),
      );
      assert.match(observation.remarks, /upstream provider "internal-llm" is plaintext HTTP \(http:\/\/llm\.internal\.example:8080\)/);
      const component = await document('/api/compliance/component-definition', 'component-definition');
      const claimed = component['component-definition'].components[0]['control-implementations'][0]['implemented-requirements'].map(
        (r: any) => r['control-id'],
      );
      assert.ok(!claimed.includes('sc-8'));
      assert.equal((await api('DELETE', '/api/providers/internal-llm')).status, 204);
      assert.equal(finding(await assess(), 'sc-8_obj').satisfied, true);
    });

    test('a key older than the rotation period flips IA-5 until it is rotated; an expired key still presented flips it again', async () => {
      assert.equal((await api('POST', '/api/consumers', { name: 'legacy-app', owner: 'dave@example.com', team: 'payments' })).status, 201);
      const key = await api('POST', '/api/consumers/legacy-app/keys', { name: 'first' });
      assert.equal(key.status, 201, key.text);
      const id = key.body.key.id as string;
      assert.equal(finding(await assess(), 'ia-5_obj.f').satisfied, true);
      await tamper('UPDATE consumer_keys SET created_at = $1 WHERE id = $2', [clock.now() - 120 * 24 * HOUR, id]);
      const flipped = await assess();
      assert.equal(finding(flipped, 'ia-5_obj.f').satisfied, false);
      assert.match(
        finding(flipped, 'ia-5_obj.f').description,
        /^1 keys and 0 admin tokens are due for rotation; 0 keys were accepted after expiry; 0 expired keys are still presented\./,
      );
      // Rotated with no grace: the old key expires at once.
      const rotated = await api('POST', `/api/consumers/legacy-app/keys/${id}/rotate`, { graceSeconds: 0 });
      assert.equal(rotated.status, 201, rotated.text);
      assert.equal(finding(await assess(), 'ia-5_obj.f').satisfied, true);
      // A client that did not move to the new key is refused, and named.
      await assert.rejects(chat(key.body.plaintext as string, 'gpt-4o-mini'), (error: { status?: number }) => error.status === 401);
      const presented = await assess();
      assert.equal(finding(presented, 'ia-5_obj.f').satisfied, false);
      const results = (await document('/api/compliance/assessment-results', 'assessment-results'))['assessment-results'].results[0];
      const observation = results.observations.find((o: any) =>
        o.props.some((p: any) => p.name === 'check' && p.value === 'authenticator-rotation'),
      );
      assert.match(
        observation.remarks,
        new RegExp(
          `consumer "legacy-app" key "first" \\(${id}\\) expired at .+ and was still presented 1 times since this gateway started`,
        ),
      );
    });

    test('a consumer with traffic and no enforced budget flips SC-5 until a budget covers it', async () => {
      await chat(KEYS.search, 'gpt-4o-mini');
      const flipped = await assess();
      assert.equal(finding(flipped, 'sc-5_obj.b').satisfied, false);
      assert.match(finding(flipped, 'sc-5_obj.b').description, /1 of 2 consumers with traffic have no enforced budget/);
      const budget = await api('POST', '/api/budgets', {
        name: 'discovery-daily',
        consumers: { team: 'discovery' },
        measure: 'requests',
        limit: 100_000,
        window: 'day',
      });
      assert.equal(budget.status, 201, budget.text);
      assert.equal(finding(await assess(), 'sc-5_obj.b').satisfied, true);
    });

    test('more admin-role tokens than compliance.maxAdminTokens flips AC-6 until one is revoked', async () => {
      const ids: string[] = [];
      for (const name of ['ops-a', 'ops-b', 'ops-c', 'ops-d']) {
        const created = await api('POST', '/api/admin-tokens', { name, role: 'admin' });
        assert.equal(created.status, 201, created.text);
        ids.push(created.body.token.id as string);
      }
      const flipped = await assess();
      assert.equal(finding(flipped, 'ac-6_obj').satisfied, false);
      assert.match(
        finding(flipped, 'ac-6_obj').description,
        /^4 unrevoked admin-role tokens, more than compliance\.maxAdminTokens \(3\)\./,
      );
      assert.equal((await api('POST', `/api/admin-tokens/${ids[0]}/revoke`)).status, 200);
      assert.equal(finding(await assess(), 'ac-6_obj').satisfied, true);
    });

    test('traffic to an unreviewed model flips CM-8 until the model is reviewed', async () => {
      await chat(KEYS.checkout, 'gpt-4.1');
      const flipped = await assess();
      assert.equal(finding(flipped, 'cm-8_obj.a.2').satisfied, false);
      const results = (await document('/api/compliance/assessment-results', 'assessment-results'))['assessment-results'].results[0];
      const observation = results.observations.find((o: any) =>
        o.props.some((p: any) => p.name === 'check' && p.value === 'resource-review'),
      );
      assert.match(observation.remarks, /resource openai\/gpt-4\.1 \(1 calls, last .+\) is unreviewed/);
      assert.equal((await api('PUT', `/api/resources/${encodeURIComponent('openai/gpt-4.1')}`, { status: 'sanctioned' })).status, 200);
      assert.equal(finding(await assess(), 'cm-8_obj.a.2').satisfied, true);
    });

    test('traffic seen to an unregistered provider flips SA-9, and a discovery left pending too long flips CM-8', async () => {
      const observed = await api('POST', '/api/reconciliation/observations', {
        observations: [
          { observer: 'proxy-a', at: clock.now() - 8 * 24 * HOUR, source: { ip: '10.80.0.9' }, provider: 'openai', model: 'gpt-4o-mini' },
          { observer: 'proxy-a', at: Date.now(), source: { ip: '10.80.0.10' }, provider: 'mistral', model: 'mistral-large', calls: 4 },
        ],
      });
      assert.equal(observed.status, 200, observed.text);
      const stale = observed.body.consumers.find((c: any) => c.identity.value === '10.80.0.9');
      const fresh = observed.body.consumers.find((c: any) => c.identity.value === '10.80.0.10');
      const flipped = await assess();
      for (const objective of ['sa-9_obj.b-1', 'sa-9_obj.c', 'cm-8_obj.b'])
        assert.equal(finding(flipped, objective).satisfied, false, objective);
      assert.match(finding(flipped, 'sa-9_obj.c').description, /provider "mistral" had 4 calls but is not registered/);
      assert.match(finding(flipped, 'cm-8_obj.b').description, /^1 discovered consumers have been pending longer than 7 days\./);
      const registered = await api('POST', '/api/providers', { name: 'mistral', type: 'openai', baseUrl: 'https://api.mistral.ai/v1' });
      assert.equal(registered.status, 201, registered.text);
      assert.equal(
        (
          await api('POST', `/api/reconciliation/resources/${encodeURIComponent('mistral/mistral-large')}/resolve`, {
            status: 'sanctioned',
          })
        ).status,
        200,
      );
      for (const discovered of [stale, fresh]) {
        assert.equal((await api('POST', `/api/reconciliation/consumers/${discovered.id}/resolve`, { ignore: true })).status, 200);
      }
      const fixed = await assess();
      for (const objective of ['sa-9_obj.b-1', 'sa-9_obj.c', 'cm-8_obj.b', 'cm-8_obj.a.2'])
        assert.equal(finding(fixed, objective).satisfied, true, objective);
    });

    test('unsanctioned traffic served in monitor mode flips AC-3 and opens a POA&M item, closed once the period holds none', async () => {
      await chat(KEYS.checkout, 'gpt-4o', 2);
      const flipped = await assess();
      const ac3 = finding(flipped, 'ac-3_obj');
      assert.equal(ac3.satisfied, false);
      assert.match(ac3.description, /unsanctioned/);
      const opened = flipped.poamItems.find((item) => item.objectiveId === 'ac-3_obj');
      assert.equal(opened?.status, 'open');
      const items = await openItems();
      const item = items.find((i) => i.uuid === opened!.uuid)!;
      assert.equal(prop(item, 'status'), 'open');
      assert.equal(prop(item, 'objective-id'), 'ac-3_obj');
      const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
      assert.match(metrics, /sluice_compliance_control_satisfied\{control="ac-3"\} 0/);
      assert.match(metrics, /sluice_compliance_control_satisfied\{control="au-9"\} 1/);
      // A day later the period no longer holds those calls.
      clock.advance(25 * HOUR);
      const later = await assess();
      assert.equal(finding(later, 'ac-3_obj').satisfied, true);
      const closed = (await openItems()).find((i) => i.uuid === opened!.uuid)!;
      assert.equal(prop(closed, 'status'), 'closed');
      assert.ok(prop(closed, 'closed'));
      assert.match(await (await fetch(`${sluice.adminURL}/metrics`)).text(), /sluice_compliance_control_satisfied\{control="ac-3"\} 1/);
    });

    test('an assessment later than its interval allows flips CA-7, and the next on time closes its item', async () => {
      clock.advance(11 * 24 * HOUR);
      const late = await assess();
      assert.equal(finding(late, 'ca-7_obj.c').satisfied, false);
      assert.match(finding(late, 'ca-7_obj.c').description, /more than the 10080-minute interval allows/);
      const onTime = await assess();
      assert.equal(finding(onTime, 'ca-7_obj.c').satisfied, true);
      assert.equal(onTime.poamItems.find((item) => item.objectiveId === 'ca-7_obj.c')?.status, 'closed');
    });

    test('a ledger row edited in the database breaks the chain: AU-9 names the row, and stays not satisfied', async () => {
      await chat(KEYS.checkout, 'gpt-4o-mini', 2);
      const sealed = await assess();
      assert.equal(finding(sealed, 'au-9_obj.a').satisfied, true);
      const verified = await api('GET', '/api/compliance/chains');
      const ledgerChain = verified.body.items.find((chain: any) => chain.chain === 'transactions');
      assert.equal(ledgerChain.broken, null);
      assert.ok(ledgerChain.sealedRows >= 8);
      const anchors = await api('GET', '/api/compliance/anchors?chain=transactions');
      assert.equal(anchors.body.items[0].headHash, ledgerChain.headHash);
      const target = ledgerChain.lastSealedRowId - 1;
      // Someone lowers a call's cost behind Sluice's back.
      await tamper('UPDATE transactions SET cost_micro_usd = 1 WHERE id = $1', [target]);
      const flipped = await assess();
      const au9 = finding(flipped, 'au-9_obj.a');
      assert.equal(au9.satisfied, false);
      assert.match(au9.description, new RegExp(`transactions row ${target} was changed after it was sealed`));
      const broken = (await api('GET', '/api/compliance/chains')).body.items.find((chain: any) => chain.chain === 'transactions').broken;
      assert.deepEqual([broken.kind, broken.rowId], ['row-modified', target]);
      assert.equal(flipped.poamItems.find((item) => item.objectiveId === 'au-9_obj.a')?.status, 'open');
      await document('/api/compliance/poam', 'plan-of-action-and-milestones');
      await document('/api/compliance/assessment-results', 'assessment-results');
    });

    test('a served call whose row lost its consumer flips AC-3, IA-2 and AU-3, naming the row', async () => {
      // Back to the time of the calls made here, so the period holds them again.
      clock.set(Date.now() + HOUR);
      assert.equal(finding(await assess(), 'au-3_obj.f').satisfied, true);
      const ledgerChain = (await api('GET', '/api/compliance/chains')).body.items.find((chain: any) => chain.chain === 'transactions');
      const target = ledgerChain.lastSealedRowId;
      await tamper('UPDATE transactions SET consumer = NULL WHERE id = $1', [target]);
      const flipped = await assess();
      for (const objective of ['ac-3_obj', 'ia-2_obj-1', 'au-3_obj.f'])
        assert.equal(finding(flipped, objective).satisfied, false, objective);
      assert.match(finding(flipped, 'ia-2_obj-1').description, /^1 of \d+ served calls had no authenticated consumer\./);
      assert.match(
        finding(flipped, 'au-3_obj.f').description,
        new RegExp(`1 rows miss a required field \\(first: transactions row ${target}\\)`),
      );
    });

    test('a ledger row removed from the database flips AU-2 and AU-12: fewer rows than the gateway wrote', async () => {
      assert.equal(finding(await assess(), 'au-2_obj.c-2').satisfied, true);
      await tamper('DELETE FROM transactions WHERE id = (SELECT MAX(id) FROM transactions WHERE discovered_consumer IS NULL)');
      const flipped = await assess();
      for (const objective of ['au-2_obj.c-2', 'au-12_obj.c'])
        assert.equal(finding(flipped, objective).satisfied, false, `${objective}: ${finding(flipped, objective).description}`);
      assert.match(finding(flipped, 'au-2_obj.c-2').description, /were committed: 1 are gone/);
    });
  });
}
