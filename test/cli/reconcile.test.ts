// `sluice reconcile` run as a user runs it, against a real director: the queue as a table and as JSON, one discovered
// consumer's hints, assign / create / ignore, rules added, listed and deleted, discovered resources marked, and the
// usage errors and API refusals with their exit codes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliFor, row } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-cli-recon-token-000001';
const HOUR = 3_600_000;

describe('sluice reconcile', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;
  const ids = new Map<string, number>();

  async function observe(observations: unknown[]): Promise<void> {
    const response = await fetch(`${sluice.adminURL}/api/reconciliation/observations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ observations }),
    });
    const answer = (await response.json()) as { consumers: Array<{ id: number; identity: { value: string } }> };
    assert.equal(response.status, 200, JSON.stringify(answer));
    for (const item of answer.consumers) ids.set(item.identity.value, item.id);
  }

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    cli = cliFor(sluice.adminURL, TOKEN);
    const at = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const seen = (source: Record<string, string>, calls = 1) => ({
      observer: 'proxy-a',
      at,
      source,
      provider: 'openai',
      model: 'gpt-4o',
      calls,
      costMicroUsd: 500,
    });
    await observe([
      seen({ keyFingerprint: 'sha256:feedface00000001', ip: '10.90.0.1', userAgent: 'python-requests/2.31' }, 6),
      seen({ ip: '10.91.0.7', userAgent: 'curl/8.5' }, 2),
      seen({ userAgent: 'batch-runner/3', host: 'api.openai.com' }),
      seen({ ip: '10.92.0.1' }),
    ]);
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('list shows the queue as a table and as JSON; show gives every hint', async () => {
    const listed = await cli(['reconcile', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+IDENTITY\s+STATUS\s+CONSUMER\s+CALLS\s+LAST SEEN\s+HINTS$/m);
    const key = row(listed.stdout, String(ids.get('sha256:feedface00000001')));
    assert.deepEqual(key?.slice(1, 5), ['key sha256:feedface00000001', 'pending', '-', '6']);
    assert.equal(key?.[6], 'ip=10.90.0.1 agent=python-requests/2.31');
    assert.deepEqual(row(listed.stdout, String(ids.get('batch-runner/3')))?.slice(1, 3), [
      'agent batch-runner/3 @ api.openai.com',
      'pending',
    ]);

    const asJson = await cli(['reconcile', 'list', '--status', 'pending', '--json']);
    assert.equal(asJson.code, 0, asJson.stderr);
    const parsed = JSON.parse(asJson.stdout) as { items: Array<{ id: number; status: string }>; nextCursor: null };
    assert.equal(parsed.items.length, 4);
    assert.ok(parsed.items.every((item) => item.status === 'pending'));

    const shown = await cli(['reconcile', 'show', String(ids.get('10.91.0.7'))]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^identity\s+ip 10\.91\.0\.7$/m);
    assert.match(shown.stdout, /^user agents\s+curl\/8\.5$/m);
    assert.match(shown.stdout, /^observers\s+proxy-a$/m);
    assert.match(shown.stdout, /^calls\s+2$/m);
  });

  test('assign, create and ignore resolve discovered consumers; their usage follows', async () => {
    const assigned = await cli(['reconcile', 'assign', String(ids.get('sha256:feedface00000001')), 'checkout-service']);
    assert.equal(assigned.code, 0, assigned.stderr);
    assert.match(assigned.stdout, /assigned to checkout-service; 6 calls follow/);
    const created = await cli([
      'reconcile',
      'create',
      String(ids.get('10.91.0.7')),
      '--name',
      'curl-scripts',
      '--team',
      'payments',
      '--owner',
      'ops@example.com',
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created consumer curl-scripts \(team payments\)/);
    const consumer = await cli(['consumers', 'get', 'curl-scripts']);
    assert.match(consumer.stdout, /^owner\s+ops@example\.com$/m);
    const ignored = await cli(['reconcile', 'ignore', String(ids.get('10.92.0.1')), '--json']);
    assert.equal(ignored.code, 0, ignored.stderr);
    assert.equal(JSON.parse(ignored.stdout).status, 'ignored');

    const resolved = await cli(['reconcile', 'list', '--status', 'resolved']);
    assert.deepEqual(row(resolved.stdout, String(ids.get('sha256:feedface00000001')))?.slice(2, 4), ['resolved', 'checkout-service']);
    assert.deepEqual(row(resolved.stdout, String(ids.get('10.91.0.7')))?.slice(2, 4), ['resolved', 'curl-scripts']);
    assert.equal(row(resolved.stdout, String(ids.get('10.92.0.1'))), undefined);

    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    const usage = await fetch(
      `${sluice.adminURL}/api/usage?from=${new Date(hour - 3 * HOUR).toISOString()}&to=${new Date(hour + HOUR).toISOString()}&groupBy=consumer`,
      {
        headers: { authorization: `Bearer ${TOKEN}` },
      },
    );
    const items = ((await usage.json()) as { items: Array<{ group: { consumer: string }; calls: number }> }).items;
    assert.equal(items.find((item) => item.group.consumer === 'checkout-service')?.calls, 6);
    assert.equal(items.find((item) => item.group.consumer === 'curl-scripts')?.calls, 2);

    const refused = await cli(['reconcile', 'assign', String(ids.get('batch-runner/3')), 'no-such-consumer']);
    assert.equal(refused.code, 1);
    // The director names the field it refuses (400), as for every missing reference.
    assert.match(refused.stderr, /consumer: no consumer named "no-such-consumer"/);
    const missing = await cli(['reconcile', 'show', '999999']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /discovered consumer 999999 does not exist/);
  });

  test('rule add resolves the pending ones it matches; rules lists them; rule delete removes one', async () => {
    const added = await cli([
      'reconcile',
      'rule',
      'add',
      '--consumer',
      'search-service',
      '--user-agent',
      'batch-runner/',
      '--note',
      'nightly jobs',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^rule (\d+): agent\^=batch-runner\/ -> search-service; resolved 1 pending discovered consumers$/m);
    assert.ok(row(added.stdout, String(ids.get('batch-runner/3'))) !== undefined, 'the resolved one is shown');
    const id = /^rule (\d+)/m.exec(added.stdout)![1]!;
    const v6 = await cli(['reconcile', 'rule', 'add', '--consumer', 'search-service', '--cidr', '2001:db8:90::/48', '--json']);
    assert.equal(v6.code, 0, v6.stderr);
    assert.deepEqual(JSON.parse(v6.stdout).rule.match, { cidr: '2001:db8:90::/48' });

    const rules = await cli(['reconcile', 'rules']);
    assert.match(rules.stdout, /^ID\s+MATCH\s+CONSUMER\s+NOTE\s+CREATED$/m);
    assert.deepEqual(row(rules.stdout, id)?.slice(1, 4), ['agent^=batch-runner/', 'search-service', 'nightly jobs']);
    const bad = await cli(['reconcile', 'rule', 'add', '--consumer', 'search-service', '--cidr', '10.0.0.0/99']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /match\.cidr: an IPv4 or IPv6 network/);
    const deleted = await cli(['reconcile', 'rule', 'delete', id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted rule ${id}\n`);
    assert.equal(row((await cli(['reconcile', 'rules'])).stdout, id), undefined);
    const audit = await cli(['audit', '--entity-type', 'reconciliation-rule']);
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, new RegExp(`bootstrap-token\\s+delete\\s+reconciliation-rule\\s+${id}`));
  });

  test('resources lists what the ledger saw unreviewed; resource marks one', async () => {
    const listed = await cli(['reconcile', 'resources']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^RESOURCE\s+CALLS\s+FIRST SEEN\s+LAST SEEN$/m);
    assert.equal(row(listed.stdout, 'openai/gpt-4o')?.[1], '10');
    const marked = await cli(['reconcile', 'resource', 'openai/gpt-4o', 'unsanctioned', '--note', 'use gpt-4o-mini']);
    assert.equal(marked.code, 0, marked.stderr);
    assert.equal(marked.stdout, 'openai/gpt-4o is unsanctioned (use gpt-4o-mini)\n');
    assert.equal(row((await cli(['reconcile', 'resources'])).stdout, 'openai/gpt-4o'), undefined);
  });

  test('usage errors exit 2 with the usage', async () => {
    const noMatch = await cli(['reconcile', 'rule', 'add', '--consumer', 'x']);
    assert.equal(noMatch.code, 2);
    assert.match(noMatch.stderr, /give at least one of --cidr, --fingerprint, --user-agent/);
    assert.match(noMatch.stderr, /Usage: sluice reconcile/);
    assert.equal((await cli(['reconcile', 'assign', 'abc', 'checkout-service'])).code, 2);
    assert.equal((await cli(['reconcile', 'create', '1'])).code, 2);
    assert.equal((await cli(['reconcile', 'list', '--status', 'lost'])).code, 2);
    assert.equal((await cli(['reconcile', 'resource', 'openai/gpt-4o', 'unreviewed'])).code, 2);
    const unknown = await cli(['reconcile', 'frob']);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /unknown subcommand "frob" \(expected list, show, assign, create, ignore, resources, resource, rules, rule\)/,
    );
    const help = await cli(['reconcile', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /rule add --consumer C \[--cidr X\] \[--fingerprint F\] \[--user-agent PREFIX\]/);
  });
});
