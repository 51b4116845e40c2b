// `sluice admin-tokens`, `sluice webhooks` and `sluice budgets burn-down` run as a user runs them, against a real
// director: secrets shown once and never listed, the printed token and webhook secret are the real ones (the token is
// accepted, the alert a budget raises is signed with the secret), tables and --json, and the exit codes of refusals.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyWebhookSignature } from '../../src/alerts/webhooks.js';
import { cliFor, emptyDir, row, runCli } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-cli-test-token-000002';

/** A webhook receiver on loopback that keeps every delivery. */
class Receiver {
  readonly deliveries: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  private waiting: Array<() => void> = [];
  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        receiver!.deliveries.push({ headers: req.headers, body });
        res.writeHead(204).end();
        for (const wake of receiver!.waiting.splice(0)) wake();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/sluice`);
    return receiver;
  }

  /** Resolves once `count` deliveries have arrived (the test's timeout bounds the wait). */
  async received(count: number): Promise<void> {
    while (this.deliveries.length < count) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('sluice admin-tokens, webhooks and budgets burn-down', () => {
  let mock: MockProvider;
  let receiver: Receiver;
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;

  const call = async () => {
    const answer = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      // max_tokens keeps the reservation within the rolling budget's 1000 tokens.
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(answer.status, 200);
  };

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    receiver = await Receiver.start();
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      budgets: [
        { name: 'checkout-daily', consumers: { consumer: 'checkout-service' }, resources: { model: 'gpt-4o-mini' }, measure: 'requests', limit: 4, window: 'day', alerts: [50] },
        { name: 'payments-monthly', consumers: { team: 'payments' }, measure: 'cost_usd', limit: 100, window: 'month' },
        { name: 'checkout-rolling', consumers: { consumer: 'checkout-service' }, measure: 'total_tokens', limit: 1000, window: { rolling: '24h' } },
      ],
    });
    cli = cliFor(sluice.adminURL, TOKEN);
  });

  after(async () => {
    await sluice.stop();
    await receiver.close();
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
    assert.match(refused.stderr, /Role viewer may not do this/);
    const notAdmin = await asViewer(['admin-tokens', 'list']);
    assert.equal(notAdmin.code, 1, 'only the admin role sees admin tokens');

    const listed = await cli(['admin-tokens', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+NAME\s+ROLE\s+TEAM\s+PREFIX\s+STATUS\s+CREATED\s+REVOKED$/m);
    const line = row(listed.stdout, id);
    assert.deepEqual(line?.slice(1, 6), ['dashboards', 'viewer', '-', plaintext.slice(0, line![4]!.length), 'active']);
    const listedJson = await cli(['admin-tokens', 'list', '--json']);
    assert.deepEqual((JSON.parse(listedJson.stdout) as { items: Array<{ id: string }> }).items.map((t) => t.id), [id]);
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
    const badRole = await cli(['admin-tokens', 'create', '--name', 'x', '--role', 'root']);
    assert.equal(badRole.code, 1);
    assert.match(badRole.stderr, /^ {2}role: /m);
    const noRole = await cli(['admin-tokens', 'create', '--name', 'x']);
    assert.equal(noRole.code, 2);
    assert.match(noRole.stderr, /--role/);
    assert.match(noRole.stderr, /Usage: sluice admin-tokens/);
    assert.equal((await cli(['admin-tokens', 'delete', 'x'])).code, 2, 'tokens are revoked, not deleted');
    assert.equal((await cli(['admin-tokens', 'revoke', 'no-such-token'])).code, 1);
    const help = await cli(['admin-tokens', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /create --name N --role team-owner --team T/);
  });

  test('a webhook\'s generated secret is shown once and signs the alerts a budget raises; it is never listed', async () => {
    const created = await cli(['webhooks', 'create', receiver.url]);
    assert.equal(created.code, 0, created.stderr);
    const id = /^created webhook (\S+) for /m.exec(created.stdout)?.[1];
    const secret = /^ {2}(\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(id !== undefined && secret !== undefined, created.stdout);
    assert.match(created.stdout, /This secret will not be shown again/);

    const listed = await cli(['webhooks', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+URL\s+CREATED$/m);
    assert.equal(row(listed.stdout, id)?.[1], receiver.url);
    const listedJson = await cli(['webhooks', 'list', '--json']);
    for (const output of [listed.stdout, listedJson.stdout]) assert.ok(!output.includes(secret), 'never the secret again');

    // checkout-daily allows 4 requests a day and alerts at 50%: the second call crosses it.
    await call();
    await call();
    await receiver.received(1);
    const delivery = receiver.deliveries[0]!;
    assert.equal((JSON.parse(delivery.body) as { budget: string }).budget, 'checkout-daily');
    assert.ok(verifyWebhookSignature(secret, delivery.headers['x-sluice-timestamp'], delivery.body, delivery.headers['x-sluice-signature']),
      'the printed secret is the one deliveries are signed with');

    const rotated = await cli(['webhooks', 'update', id, '--new-secret', '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const rotatedJson = JSON.parse(rotated.stdout) as { id: string; url: string; secret: string };
    assert.equal(rotatedJson.id, id);
    assert.ok(rotatedJson.secret.length >= 16 && rotatedJson.secret !== secret);
    assert.match(rotated.stderr, /will not be shown again/);

    const moved = await cli(['webhooks', 'update', id, `${receiver.url}/v2`]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(moved.stdout, `updated webhook ${id} (${receiver.url}/v2)\n`);

    const deleted = await cli(['webhooks', 'delete', id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted webhook ${id}\n`);
    assert.equal((await cli(['webhooks', 'list'])).stdout, 'no webhooks\n');
  });

  test('a webhook secret comes from a file, never from a flag\'s value; the API\'s checks exit 1, usage errors 2', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'secret'), 'a-receiver-chosen-secret-0123456789\n', { mode: 0o600 });
    const fromFile = await cli(['webhooks', 'create', 'https://hooks.example.com/sluice', '--secret-file', join(dir, 'secret')]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /^created webhook \S+ for https:\/\/hooks\.example\.com\/sluice\n$/, 'a secret the user gave is not printed');
    assert.ok(!fromFile.stdout.includes('a-receiver-chosen-secret'));

    writeFileSync(join(dir, 'short'), 'too-short', { mode: 0o600 });
    const short = await cli(['webhooks', 'create', 'https://hooks.example.com/x', '--secret-file', join(dir, 'short')]);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /^ {2}secret: a secret of at least 16 characters$/m);
    assert.ok(!short.stderr.includes('too-short'), 'a refused secret is not echoed');
    const badUrl = await cli(['webhooks', 'create', 'ftp://hooks.example.com/x']);
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /^ {2}url: /m);

    const missing = await cli(['webhooks', 'create', 'https://hooks.example.com/x', '--secret-file', join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read --secret-file .*nope \(ENOENT\)/);
    assert.equal((await cli(['webhooks', 'create', 'https://hooks.example.com/x', '--secret', 'sneaky-secret-value-123'])).code, 2);
    const nothing = await cli(['webhooks', 'update', 'some-id']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /give a new URL, --secret-file or --new-secret/);
    assert.equal((await cli(['webhooks', 'update', 'some-id', '--new-secret', '--secret-file', join(dir, 'secret')])).code, 2);
    assert.equal((await cli(['webhooks', 'delete', 'no-such-webhook'])).code, 1);
  });

  test('budgets burn-down shows the usage so far in the window and the projection, in the budget\'s unit', async () => {
    await sluice.sluice.settled();
    const requests = await cli(['budgets', 'burn-down', 'checkout-daily']);
    assert.equal(requests.code, 0, requests.stderr);
    const field = (output: string, name: string) => new RegExp(`^${name}\\s{2,}(.+)$`, 'm').exec(output)?.[1];
    assert.equal(field(requests.stdout, 'budget'), 'checkout-daily');
    assert.match(field(requests.stdout, 'window')!, /^day, \d{4}-\d{2}-\d{2}T00:00:00Z to \d{4}-\d{2}-\d{2}T00:00:00Z$/);
    assert.equal(field(requests.stdout, 'limit'), '4 requests');
    assert.equal(field(requests.stdout, 'used'), '2 requests (50%)');
    assert.equal(field(requests.stdout, 'remaining'), '2 requests');
    assert.equal(field(requests.stdout, 'method'), 'linear-since-window-start');
    const asJson = JSON.parse((await cli(['budgets', 'burn-down', 'checkout-daily', '--json'])).stdout) as { used: number; limit: number; unit: string };
    assert.deepEqual([asJson.used, asJson.limit, asJson.unit], [2, 4, 'requests']);

    const money = await cli(['budgets', 'burn-down', 'payments-monthly']);
    assert.equal(money.code, 0, money.stderr);
    assert.equal(field(money.stdout, 'limit'), '$100.000000');
    assert.match(field(money.stdout, 'used')!, /^\$0\.\d{6} \(\d+(\.\d+)?%\)$/);
    assert.match(field(money.stdout, 'window')!, /^month, /);

    const rolling = await cli(['budgets', 'burn-down', 'checkout-rolling']);
    assert.equal(rolling.code, 0, rolling.stderr);
    assert.equal(field(rolling.stdout, 'used'), '34 tokens (3.4%)', '2 calls of 12 + 5 tokens');
    assert.match(field(rolling.stdout, 'window')!, /^rolling 24h, \d{4}-.+ to now$/);
    assert.equal(field(rolling.stdout, 'method'), 'rolling-recent-rate');

    const unknown = await cli(['budgets', 'burn-down', 'nope']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'sluice: budget "nope" does not exist\n');
    assert.equal((await cli(['budgets', 'burn-down'])).code, 2);
    assert.match((await cli(['budgets', '--help'])).stdout, /burn-down NAME/);
  });
});
