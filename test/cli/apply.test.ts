// `sluice apply -f FILE` against a real director: a dry run changes nothing, the first apply creates, the second changes
// nothing, an edit updates only what changed, nothing is ever deleted, a bad file or a refusal names the path, and an
// apply that fails changes nothing at all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliFor, emptyDir, row } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-cli-test-token-000001';

/** The declarative file an admin keeps in git; the team's owner comes from the environment, as in sluice.yaml. */
function governance(limit: number, tier: string): string {
  return `
teams:
  - { name: finance, owner: "\${FINANCE_OWNER}" }
  - { name: data, owner: dan@example.com }
models:
  - { name: gpt-4o-batch, targets: [{ provider: openai, model: gpt-4o }], pricing: { input: 1.25, output: 5 } }
consumers:
  - { name: billing, team: finance, owner: alice@example.com, labels: { tier: ${tier} }, models: [gpt-4o-mini] }
  - { name: etl, team: data, models: [gpt-4o-batch] }
budgets:
  - name: finance-monthly
    consumers: { team: finance }
    resources: { model: gpt-4o }
    measure: cost_usd
    limit: ${limit}
    window: month
    alerts: [50, 80, 100]
    onExhausted: { downgrade: gpt-4o-mini }
  - { name: billing-daily, consumers: { consumer: billing }, measure: requests, limit: 1000, window: { rolling: 24h } }
budgetTemplates:
  - { name: per-batch-service, selector: { labels: { tier: batch } }, measure: total_tokens, limit: 2000000, window: day }
rateLimits:
  - { name: default-rpm, requestsPerMinute: 600 }
resources:
  openai/gpt-4o-mini: sanctioned
  openai/gpt-4o: unsanctioned
  openai/o1: unreviewed
`;
}

const ENTITIES = [
  'team finance',
  'team data',
  'model gpt-4o-batch',
  'consumer billing',
  'consumer etl',
  'budget finance-monthly',
  'budget billing-daily',
  'budget template per-batch-service',
  'rate limit default-rpm',
  'resource openai/gpt-4o-mini',
  'resource openai/gpt-4o',
];

/** apply's lines by entity: `team finance` -> `created`. */
function lines(stdout: string): Map<string, string> {
  // Every line but the summary is "<kind> <name>: <action>[ (fields)]".
  return new Map(
    stdout
      .trimEnd()
      .split('\n')
      .slice(0, -1)
      .map((line) => {
        const at = line.indexOf(': ');
        return [line.slice(0, at), line.slice(at + 2)];
      }),
  );
}

describe('sluice apply', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;
  const dir = emptyDir();
  const file = join(dir, 'governance.yaml');
  const env = { FINANCE_OWNER: 'alice@example.com' };

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
      ],
    });
    cli = cliFor(sluice.adminURL, TOKEN);
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('a dry run says what it would create and changes nothing', async () => {
    writeFileSync(file, governance(2000, 'batch'));
    const auditBefore = (await cli(['audit', '--json', '--limit', '1000'])).stdout;
    const dry = await cli(['apply', '-f', file, '--dry-run'], { env });
    assert.equal(dry.code, 0, dry.stderr);
    const said = lines(dry.stdout);
    for (const entity of ENTITIES) assert.equal(said.get(entity), 'would create', entity);
    assert.equal(said.get('resource openai/o1'), 'unchanged', 'an unlisted resource is already unreviewed');
    assert.match(dry.stdout, /11 would be created, 0 would be updated, 1 unchanged; nothing was changed\n$/);
    assert.equal((await cli(['budgets', 'list'])).stdout, 'no budgets\n');
    assert.equal((await cli(['audit', '--json', '--limit', '1000'])).stdout, auditBefore, 'no change was made');
  });

  test('applies the file in order (teams, models, consumers, the rest), then a second apply changes nothing', async () => {
    const first = await cli(['apply', '-f', file], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual([...lines(first.stdout).keys()], [...ENTITIES.slice(0, 11), 'resource openai/o1']);
    for (const entity of ENTITIES) assert.equal(lines(first.stdout).get(entity), 'created', entity);
    assert.match(first.stdout, /11 created, 0 updated, 1 unchanged\n$/);

    const second = await cli(['apply', '-f', file], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.ok(
      [...lines(second.stdout).values()].every((action) => action === 'unchanged'),
      second.stdout,
    );
    assert.match(second.stdout, /nothing to change; all 12 already match\n$/);

    const budgets = (await cli(['budgets', 'list'])).stdout;
    assert.deepEqual(row(budgets, 'finance-monthly'), [
      'finance-monthly',
      'team finance',
      'model gpt-4o',
      'cost_usd',
      '$2000',
      'month',
      'enforce',
      'downgrade to gpt-4o-mini',
    ]);
    assert.deepEqual(row(budgets, 'billing-daily')?.slice(1, 6), ['consumer billing', 'any', 'requests', '1000', 'rolling 24h']);
    assert.match((await cli(['budgets', 'get', 'finance-monthly'])).stdout, /^alerts\s+50%,80%,100%$/m);
    assert.deepEqual(row((await cli(['templates', 'list'])).stdout, 'per-batch-service')?.slice(0, 2), [
      'per-batch-service',
      'labels tier=batch',
    ]);
    const limit = JSON.parse((await cli(['ratelimits', 'get', 'default-rpm', '--json'])).stdout) as {
      requestsPerMinute: number;
      per: string;
    };
    assert.equal(limit.requestsPerMinute, 600);
    assert.equal(limit.per, 'consumer');
    assert.deepEqual(row((await cli(['resources', 'list'])).stdout, 'openai/gpt-4o'), ['openai/gpt-4o', 'unsanctioned', '-']);
    assert.deepEqual(row((await cli(['consumers', 'list'])).stdout, 'billing'), [
      'billing',
      'finance',
      'alice@example.com',
      'tier=batch',
      'gpt-4o-mini',
    ]);
    // The model applied is the gateway's at once, routed to its target: openai/gpt-4o, which the same file marks
    // unsanctioned, so the gateway names that resource when asked for the model (it is not listed: no call may use it).
    const applied = await fetch(`${sluice.baseURL}/v1/models/gpt-4o-batch`, { headers: { authorization: `Bearer ${KEYS.checkout}` } });
    assert.equal(applied.status, 403);
    assert.match(((await applied.json()) as { error: { message: string } }).error.message, /openai\/gpt-4o is unsanctioned/);
  });

  test('an edit updates only what changed, naming the fields; a dry run of it names them too', async () => {
    writeFileSync(file, governance(3000, 'online'));
    const changedEnv = { FINANCE_OWNER: 'carol@example.com' };
    const dry = await cli(['apply', '-f', file, '--dry-run'], { env: changedEnv });
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(lines(dry.stdout).get('budget finance-monthly'), 'would update (limit)');
    assert.equal(row((await cli(['budgets', 'list'])).stdout, 'finance-monthly')?.[4], '$2000', 'the dry run sent nothing');
    const applied = await cli(['apply', '-f', file], { env: changedEnv });
    assert.equal(applied.code, 0, applied.stderr);
    const said = lines(applied.stdout);
    assert.equal(said.get('team finance'), 'updated (owner)');
    assert.equal(said.get('consumer billing'), 'updated (labels)');
    assert.equal(said.get('budget finance-monthly'), 'updated (limit)');
    assert.equal(said.get('team data'), 'unchanged');
    assert.match(applied.stdout, /0 created, 3 updated, 9 unchanged\n$/);
    const audit = (await cli(['audit', '--entity-type', 'budget', '--entity-id', 'finance-monthly'])).stdout;
    assert.deepEqual(
      audit
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((line) => line.split(/ {2,}/).slice(2)),
      [
        ['update', 'budget', 'finance-monthly', 'limit'],
        ['create', 'budget', 'finance-monthly', '-'],
      ],
    );
  });

  test('never deletes: an entity removed through the CLI comes back with the next apply', async () => {
    assert.equal((await cli(['ratelimits', 'delete', 'default-rpm'])).stdout, 'deleted rate limit default-rpm\n');
    assert.equal((await cli(['templates', 'delete', 'per-batch-service'])).code, 0);
    writeFileSync(join(dir, 'small.yaml'), 'teams:\n  - { name: data, owner: dan@example.com }\n');
    const small = await cli(['apply', '-f', join(dir, 'small.yaml')]);
    assert.equal(small.stdout.split('\n')[0], 'team data: unchanged');
    assert.ok(row((await cli(['budgets', 'list'])).stdout, 'finance-monthly') !== undefined, 'what the file does not name stays');
    const again = await cli(['apply', '-f', file], { env: { FINANCE_OWNER: 'carol@example.com' } });
    assert.equal(lines(again.stdout).get('rate limit default-rpm'), 'created');
    assert.equal(lines(again.stdout).get('budget template per-batch-service'), 'created');
  });

  test('a bad file is refused before anything is sent, naming the file and the path (exit 2)', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        'a window sluice.yaml would refuse',
        'budgets:\n  - { name: b, measure: requests, limit: 5, window: fortnight }\n',
        /bad\.yaml: budgets\[0\]\.window: expected one of minute, hour, day, month, or \{rolling: <a duration such as 24h>\}; got "fortnight"/,
      ],
      [
        'a rate limit with no limit',
        'rateLimits:\n  - { name: r }\n',
        /bad\.yaml: rateLimits\[0\]: set tokensPerMinute, requestsPerMinute or both/,
      ],
      [
        'keys, which apply does not make',
        'consumers:\n  - { name: x, keys: [sk-sluice-not-applied] }\n',
        /bad\.yaml: consumers\[0\]\.keys: apply does not take keys; make them with `sluice keys create x/,
      ],
      [
        'a name declared twice',
        'teams:\n  - { name: a, owner: o }\n  - { name: a, owner: p }\n',
        /bad\.yaml: teams\[1\]\.name: "a" is declared twice/,
      ],
      [
        'an unset variable',
        'teams:\n  - { name: a, owner: "${NOT_SET}" }\n',
        /bad\.yaml: teams\[0\]\.owner: environment variable NOT_SET is not set/,
      ],
      [
        'a key apply does not know',
        'webhooks: []\n',
        /bad\.yaml: \(top level\): unknown key "webhooks"; the keys here are teams, models, consumers, budgets, budgetTemplates, rateLimits and resources/,
      ],
      ['not YAML', 'teams: [\n', /bad\.yaml: not valid YAML/],
      ['an owner past its length limit', `teams:\n  - { name: a, owner: ${'o'.repeat(257)} }\n`, /bad\.yaml: teams\[0\]\.owner: /],
      [
        'a label past its length limit',
        `consumers:\n  - { name: c, labels: { tier: ${'v'.repeat(257)} } }\n`,
        /bad\.yaml: consumers\[0\]\.labels\.tier: /,
      ],
    ];
    const bad = join(dir, 'bad.yaml');
    for (const [name, text, expected] of cases) {
      writeFileSync(bad, text);
      const result = await cli(['apply', '-f', bad]);
      assert.equal(result.code, 2, name);
      assert.match(result.stderr, expected, name);
      assert.equal(result.stdout, '', `${name}: nothing applied`);
    }
    const missing = await cli(['apply', '-f', join(dir, 'absent.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /absent\.yaml: cannot read the file \(ENOENT\)/);
    assert.equal((await cli(['apply'])).code, 2, 'no -f is a usage error');
  });

  test('a refusal from the director applies nothing, exit 1, naming the field by its path in the file', async () => {
    const refused = join(dir, 'refused.yaml');
    writeFileSync(
      refused,
      'teams:\n  - { name: data, owner: dan@example.com }\nbudgets:\n  - { name: b9, resources: { model: gpt-9 }, measure: requests, limit: 5, window: day }\n',
    );
    const result = await cli(['apply', '-f', refused]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /refused\.yaml: nothing was applied; the director found a problem:\n/);
    assert.match(result.stderr, /^ {2}budgets\[0\]\.resources\.model: no model named "gpt-9"$/m);
  });

  test('a failing apply changes nothing, and its dry run finds every problem the apply would meet', async () => {
    const failing = join(dir, 'failing.yaml');
    writeFileSync(
      failing,
      `
teams:
  - { name: research, owner: rita@example.com }
consumers:
  - { name: notebook, team: research, models: [gpt-4o-mini, gpt-9] }
  - { name: crawler, team: nowhere }
budgets:
  - { name: research-daily, consumers: { consumer: notebook }, resources: { model: gpt-10 }, measure: requests, limit: 5, window: day }
resources:
  nobody/model-x: sanctioned
`,
    );
    // Read over HTTP rather than with more CLI runs: each is a process start, slow on a loaded machine.
    const api = (path: string) => fetch(`${sluice.adminURL}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const snapshot = async () => ({
      version: (await api('/api/gateway/snapshot')).headers.get('etag'),
      audit: await (await api('/api/audit?limit=1000')).text(),
      teams: await (await api('/api/teams')).text(),
    });
    const before = await snapshot();
    const problems = [
      '  consumers[0].models: no model named "gpt-9"',
      '  consumers[1].team: no team named "nowhere"',
      '  budgets[0].resources.model: no model named "gpt-10"',
      '  resources.nobody/model-x: no provider named "nobody"',
    ];
    for (const args of [['--dry-run'], []]) {
      const result = await cli(['apply', '-f', failing, ...args]);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}`);
      assert.equal(result.stdout, '', 'nothing to report as applied');
      assert.deepEqual(result.stderr.trimEnd().split('\n'), [
        `sluice: ${failing}: nothing was applied; the director found 4 problems:`,
        ...problems,
      ]);
    }
    assert.deepEqual(await snapshot(), before, 'no team (not even the one the file declares first), no audit record, no config version');
  });

  test('an apply that succeeds bumps the config version once, whatever it changes', async () => {
    const many = join(dir, 'many.yaml');
    writeFileSync(many, 'teams:\n' + Array.from({ length: 5 }, (_, i) => `  - { name: squad-${i}, owner: o${i}@example.com }\n`).join(''));
    const version = async () =>
      (await fetch(`${sluice.adminURL}/api/gateway/snapshot`, { headers: { authorization: `Bearer ${TOKEN}` } })).headers.get('etag');
    const before = Number((await version())!.slice(2, -1));
    const result = await cli(['apply', '-f', many]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /5 created, 0 updated, 0 unchanged\n$/);
    assert.equal(await version(), `"v${before + 1}"`);
  });
});
