// `sluice admin-tokens` run as a user runs it, against a real director: a token's secret shown once and never listed,
// the printed token is the real one and carries its role, revocation, --json, and the exit codes of refusals.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliFor, row, runCli } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-cli-test-token-000002';

describe('sluice admin-tokens', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    cli = cliFor(sluice.adminURL, TOKEN);
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('an admin token is shown once, works with its role, is listed without its secret, and stops working when revoked', async () => {
    const created = await cli(['admin-tokens', 'create', '--name', 'dashboards', '--role', 'viewer']);
    assert.equal(created.code, 0, created.stderr);
    const plaintext = /^ {2}(\S+)$/m.exec(created.stdout)?.[1];
    const id = /^created admin token (\S+) "dashboards" \(viewer\):$/m.exec(created.stdout)?.[1];
    assert.ok(plaintext !== undefined && id !== undefined, created.stdout);
    assert.match(created.stdout, /This token will not be shown again/);

    const asViewer = (args: string[]) => runCli(args, { env: { SLUICE_ADMIN_URL: sluice.adminURL, SLUICE_ADMIN_TOKEN: plaintext } });
    assert.equal((await asViewer(['teams', 'list'])).code, 0, 'the printed token is the real token');
    const refused = await asViewer(['teams', 'create', 'ops', '--owner', 'o@example.com']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Role viewer may not POST \/api\/teams/);
    const notAdmin = await asViewer(['admin-tokens', 'list']);
    assert.equal(notAdmin.code, 1, 'only the admin role sees admin tokens');

    const listed = await cli(['admin-tokens', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+NAME\s+ROLE\s+TEAM\s+PREFIX\s+STATUS\s+CREATED\s+REVOKED$/m);
    const line = row(listed.stdout, id);
    assert.deepEqual(line?.slice(1, 6), ['dashboards', 'viewer', '-', plaintext.slice(0, line![4]!.length), 'active']);
    const listedJson = await cli(['admin-tokens', 'list', '--json']);
    assert.deepEqual(
      (JSON.parse(listedJson.stdout) as { items: Array<{ id: string }> }).items.map((t) => t.id),
      [id],
    );
    for (const output of [listed.stdout, listedJson.stdout]) assert.ok(!output.includes(plaintext), 'never the secret again');

    const owner = await cli(['admin-tokens', 'create', '--name', 'payments-lead', '--role', 'team-owner', '--team', 'payments', '--json']);
    assert.equal(owner.code, 0, owner.stderr);
    const ownerJson = JSON.parse(owner.stdout) as { token: { role: string; team: string }; plaintext: string };
    assert.deepEqual([ownerJson.token.role, ownerJson.token.team], ['team-owner', 'payments']);
    assert.match(ownerJson.plaintext, /^sa-/, '--json gives the answer, secret included, on stdout');
    assert.match(owner.stderr, /will not be shown again/);

    const revoked = await cli(['admin-tokens', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`^revoked admin token ${id} "dashboards" at \\d{4}-`));
    const after = await asViewer(['teams', 'list']);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /Unknown or revoked admin token\. \(the token came from \$SLUICE_ADMIN_TOKEN\)/);
    assert.equal(row((await cli(['admin-tokens', 'list'])).stdout, id)?.[5], 'revoked');
  });

  test('admin-tokens refuses what the API refuses, and usage errors exit 2', async () => {
    const noTeam = await cli(['admin-tokens', 'create', '--name', 'x', '--role', 'team-owner']);
    assert.equal(noTeam.code, 1);
    assert.match(noTeam.stderr, /^ {2}team: a team-owner token names its team/m);
    const noRole = await cli(['admin-tokens', 'create', '--name', 'x']);
    assert.equal(noRole.code, 2);
    assert.match(noRole.stderr, /--role/);
    assert.match(noRole.stderr, /Usage: sluice admin-tokens/);
    const help = await cli(['admin-tokens', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /create --name N --role team-owner --team T/);
    // The roles as docs/director-api.md gives them: an operator reads providers and webhooks but may not change them.
    assert.match(help.stdout, /operator \(everything but admin tokens and changes to providers and webhooks\)/);
  });
});
