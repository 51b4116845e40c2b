// The `sluice` admin commands run as a user runs them, against a real director: tables and --json, keys shown once,
// rotation and revocation, resource statuses, the audit log, and the exit codes and messages of every kind of failure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cliFor, emptyDir, row, runCli } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-cli-test-token-000001';

describe('sluice admin commands', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;

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

  test('a bad subcommand, flag or missing argument is a usage error: exit 2 with the usage', async () => {
    const unknown = await cli(['consumers', 'frob']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown subcommand "frob" \(expected list, get, create, update, delete\)/);
    assert.match(unknown.stderr, /Usage: sluice consumers/);
    assert.equal((await cli(['consumers', 'list', '--colour'])).code, 2);
    const noName = await cli(['keys', 'create', 'checkout-service']);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /--name/);
    assert.equal((await cli(['resources', 'set', 'openai/gpt-4o', 'blessed'])).code, 2);
    assert.equal((await cli(['consumers', 'create', 'x', '--label', 'no-equals'])).code, 2);
    const help = await cli(['keys', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /rotate CONSUMER KEY_ID \[--grace SECONDS\]/);
    const top = await runCli(['--help']);
    assert.match(top.stdout, /apply -f FILE/);
  });

  test('says how to give a token when there is none, and which token a 401 refused without printing it', async () => {
    const none = await runCli(['consumers', 'list'], { env: { SLUICE_ADMIN_URL: sluice.adminURL } });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no admin token: pass --token, set SLUICE_ADMIN_TOKEN, or run where \.\/data\/admin\.token/);
    const wrong = await runCli(['teams', 'list', '--url', sluice.adminURL, '--token', 'sa-wrong-token-0000000000000']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Unknown or revoked admin token\. \(the token came from --token\)/);
    assert.ok(!wrong.stderr.includes('sa-wrong-token') && !wrong.stdout.includes('sa-wrong-token'));
  });

  test('reads the token from ./data/admin.token, where `sluice start` writes it', async () => {
    const dir = emptyDir();
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'admin.token'), `${TOKEN}\n`, { mode: 0o600 });
    const listed = await runCli(['teams', 'list', '--url', sluice.adminURL], { cwd: dir });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+OWNER\s+CREATED$/m);
  });

  test('a connection failure names the URL that failed', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const failed = await runCli(['consumers', 'list', '--url', `http://127.0.0.1:${port}/`, '--token', TOKEN]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, new RegExp(`cannot reach the director at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  });

  test('creates a team and a consumer and lists them as an aligned table and as JSON', async () => {
    const team = await cli(['teams', 'create', 'finance', '--owner', 'alice@example.com']);
    assert.equal(team.code, 0, team.stderr);
    assert.equal(team.stdout, 'created team finance (owner alice@example.com)\n');
    const created = await cli([
      'consumers',
      'create',
      'checkout',
      '--team',
      'finance',
      '--owner',
      'alice@example.com',
      '--label',
      'tier=online',
      '--label',
      'env=prod',
      '--models',
      'gpt-4o-mini,gpt-4o',
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^created consumer checkout\n/);
    assert.match(created.stdout, /^labels\s+tier=online,env=prod$/m);
    assert.equal((await cli(['consumers', 'create', 'reports', '--team', 'finance'])).code, 0);

    const table = (await cli(['consumers', 'list'])).stdout;
    const lines = table.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+TEAM\s+OWNER\s+LABELS\s+MODELS$/);
    assert.deepEqual(row(table, 'checkout'), ['checkout', 'finance', 'alice@example.com', 'tier=online,env=prod', 'gpt-4o-mini,gpt-4o']);
    assert.deepEqual(row(table, 'reports'), ['reports', 'finance', '-', '-', '(all)']);
    assert.ok(row(table, 'checkout-service') !== undefined, 'the consumers sluice.yaml declares are listed too');
    const checkoutLine = lines.find((line) => line.startsWith('checkout '))!;
    assert.equal(checkoutLine.indexOf('finance'), lines[0]!.indexOf('TEAM'), 'columns line up under their headers');

    const asJson = await cli(['consumers', 'list', '--json', '--team', 'finance', '--label', 'tier=online']);
    assert.equal(asJson.code, 0);
    const parsed = JSON.parse(asJson.stdout) as { items: Array<{ name: string; labels: Record<string, string>; models: string[] }> };
    assert.deepEqual(
      parsed.items.map((c) => c.name),
      ['checkout'],
    );
    assert.deepEqual(parsed.items[0]!.labels, { tier: 'online', env: 'prod' });

    const updated = await cli(['consumers', 'update', 'checkout', '--owner', 'carol@example.com', '--models', '']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /^owner\s+carol@example\.com$/m);
    assert.match(updated.stdout, /^models\s+\(all\)$/m);
    const got = JSON.parse((await cli(['consumers', 'get', 'checkout', '--json'])).stdout) as { owner: string; models: null };
    assert.equal(got.owner, 'carol@example.com');
    assert.equal(got.models, null);
    assert.deepEqual(row((await cli(['teams', 'list'])).stdout, 'finance')?.slice(0, 2), ['finance', 'alice@example.com']);
    assert.equal((await cli(['consumers', 'delete', 'reports'])).stdout, 'deleted consumer reports and its keys\n');
  });

  test('an API validation error exits 1 with the message and each field path', async () => {
    const bad = await cli(['consumers', 'create', 'bad name!', '--models', 'gpt-9']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^sluice: Invalid request:\n {2}name: /);
    assert.match(bad.stderr, /^ {2}name: letters, digits, "\.", "_" and "-"$/m);
    const expiry = await cli(['keys', 'create', 'checkout', '--name', 'ci', '--expires', 'tomorrow']);
    assert.equal(expiry.code, 1);
    assert.match(expiry.stderr, /^ {2}expiresAt: /m);
    const missing = await cli(['consumers', 'get', 'nobody']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'sluice: consumer "nobody" does not exist\n');
    const taken = await cli(['teams', 'delete', 'finance']);
    assert.equal(taken.code, 1, 'a team with consumers stays');
  });

  test('a key is shown once, listed without its secret, works at the gateway, and is rotated and revoked', async () => {
    const created = await cli(['keys', 'create', 'checkout', '--name', 'prod']);
    assert.equal(created.code, 0, created.stderr);
    const plaintext = /^ {2}(sk-sluice-\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(plaintext !== undefined, created.stdout);
    assert.match(created.stdout, /This key will not be shown again/);
    const keyId = /created key (\S+) "prod" for consumer checkout \(no expiry\)/.exec(created.stdout)?.[1];
    assert.ok(keyId !== undefined, created.stdout);
    const call = (key: string) =>
      fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
    assert.equal((await call(plaintext)).status, 200, 'the printed key is the real key');

    const listed = await cli(['keys', 'list', 'checkout']);
    assert.match(listed.stdout, /^ID\s+NAME\s+PREFIX\s+STATUS\s+CREATED\s+EXPIRES\s+REVOKED\s+LAST USED$/m);
    assert.deepEqual(row(listed.stdout, keyId)?.slice(1, 4), ['prod', plaintext.slice(0, 12), 'active']);
    const listedJson = await cli(['keys', 'list', 'checkout', '--json']);
    for (const output of [listed.stdout, listedJson.stdout]) assert.ok(!output.includes(plaintext), 'never the secret again');

    const rotated = await cli(['keys', 'rotate', 'checkout', keyId, '--grace', '0']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = /^ {2}(sk-sluice-\S+)$/m.exec(rotated.stdout)?.[1];
    const freshId = /the new key is (\S+) \(no expiry\):/.exec(rotated.stdout)?.[1];
    assert.ok(fresh !== undefined && freshId !== undefined && fresh !== plaintext, rotated.stdout);
    assert.match(rotated.stdout, new RegExp(`The old key ${keyId} stopped working at `));
    assert.equal((await call(plaintext)).status, 401);
    assert.equal((await call(fresh)).status, 200);

    const asJson = await cli(['keys', 'create', 'checkout', '--name', 'ci', '--json']);
    const createdJson = JSON.parse(asJson.stdout) as { key: { id: string }; plaintext: string };
    assert.match(createdJson.plaintext, /^sk-sluice-/, '--json gives the answer, secret included, on stdout');
    assert.match(asJson.stderr, /will not be shown again/);

    const revoked = await cli(['keys', 'revoke', 'checkout', freshId]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`^revoked key ${freshId} "prod" of consumer checkout at `));
    assert.equal((await call(fresh)).status, 401);
    const after = (await cli(['keys', 'list', 'checkout'])).stdout;
    assert.equal(row(after, keyId)?.[3], 'expired');
    assert.equal(row(after, freshId)?.[3], 'revoked');
    assert.equal((await cli(['keys', 'revoke', 'checkout', freshId])).code, 1, 'revoking twice is refused by the API');
  });

  test('lists providers with which credentials are set but never their values, and models with their routes', async () => {
    const providers = await cli(['providers', 'list']);
    assert.equal(providers.code, 0, providers.stderr);
    assert.deepEqual(row(providers.stdout, 'openai'), ['openai', 'openai', `${mock.url}/v1`, 'apiKey']);
    const one = await cli(['providers', 'get', 'openai', '--json']);
    assert.deepEqual(JSON.parse(one.stdout).credentials, ['apiKey']);
    for (const output of [providers.stdout, one.stdout]) assert.ok(!output.includes('sk-upstream-not-real'), 'no credential in the output');
    const models = await cli(['models', 'list']);
    assert.equal(row(models.stdout, 'gpt-4o-mini')?.[1], 'openai/gpt-4o-mini');
    const inUse = await cli(['providers', 'delete', 'openai']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /models route to it/);
  });

  test("shows usage by team, the chargeback as a table and as the API's CSV, and the forecast", async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(answer.status, 200);
    }
    const refused = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(refused.status, 404);
    await sluice.sluice.settled();
    const usage = await cli(['usage', '--group-by', 'team', '--team', 'payments']);
    assert.equal(usage.code, 0, usage.stderr);
    const today = new Date().toISOString().slice(0, 10);
    assert.match(usage.stdout, /UNPRICED +REFUSED +FAILED/);
    const usageRow = row(usage.stdout, today);
    assert.deepEqual(
      [usageRow?.slice(1, 3), usageRow?.slice(6, 9)],
      [
        ['team=payments', '4'],
        ['0', '1', '0'],
      ],
      usage.stdout,
    );
    const json = JSON.parse((await cli(['usage', '--group-by', 'team,model', '--json'])).stdout) as {
      items: Array<{ group: Record<string, string>; calls: number }>;
    };
    assert.ok(json.items.some((item) => item.group.team === 'payments' && item.group.model === 'gpt-4o-mini' && item.calls >= 3));
    const drivers = await cli(['usage', 'drivers', '--group-by', 'team']);
    assert.equal(drivers.code, 0, drivers.stderr);
    assert.equal(row(drivers.stdout, 'team=payments')?.[0], 'team=payments');

    const chargeback = await cli(['report', 'chargeback', '--team', 'payments']);
    assert.equal(chargeback.code, 0, chargeback.stderr);
    const payments = row(chargeback.stdout, 'payments');
    assert.deepEqual([payments?.[1], ...(payments?.slice(6, 9) ?? [])], ['4', '0', '1', '0'], 'calls, then unpriced, refused and failed');
    const csv = await cli(['report', 'chargeback', '--csv']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.match(csv.stdout.split('\r\n')[0]!, /^period,team,calls,/);
    assert.match(
      csv.stdout.split('\r\n')[0]!,
      /,unpriced_calls,refused_calls,failed_calls,cache_write_tokens,cache_write_1h_tokens,saved_usd,cost_nano_usd,saved_nano_usd$/,
    );
    assert.ok(
      csv.stdout.split('\r\n').some((line) => /^\d{4}-\d{2},payments,4,.*,0,1,0,0,0,0\.000000,\d+,0$/.test(line)),
      csv.stdout,
    );
    const forecast = await cli(['report', 'forecast']);
    assert.equal(forecast.code, 0, forecast.stderr);
    assert.ok(row(forecast.stdout, 'OVERALL') !== undefined, forecast.stdout);
    // Asked for one team, the API's `overall` is that team's: it is not everyone's, so it is not labelled OVERALL.
    const teamForecast = await cli(['report', 'forecast', '--team', 'payments']);
    assert.equal(teamForecast.code, 0, teamForecast.stderr);
    assert.equal(row(teamForecast.stdout, 'OVERALL'), undefined, teamForecast.stdout);
    assert.equal(row(teamForecast.stdout, 'payments')?.[0], 'payments', teamForecast.stdout);
    assert.match(teamForecast.stdout, /^method: /m);
    assert.equal((await cli(['report', 'chargeback', '--period', 'last-month'])).code, 1, "the API's refusal of a bad period");
  });

  test('an API validation error prints each issue once: a headline, then one field a line', async () => {
    const bad = await cli(['consumers', 'create', 'bad name!']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'sluice: Invalid request:\n  name: letters, digits, ".", "_" and "-"\n');
    const period = await cli(['report', 'chargeback', '--period', 'last-month']);
    assert.equal(period.code, 1);
    assert.equal(period.stderr.split('\n').filter((line) => line.includes('period')).length, 1, period.stderr);
    const impossible = await cli(['usage', '--from', '2026-02-30']);
    assert.equal(impossible.code, 1);
    assert.match(impossible.stderr, /^sluice: Invalid request:\n {2}from: /);
    assert.equal(impossible.stderr.match(/from: /g)?.length, 1, impossible.stderr);
  });

  test('sets a resource status and lists it', async () => {
    const set = await cli(['resources', 'set', 'openai/gpt-4o', 'unsanctioned', '--note', 'not reviewed by legal']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'openai/gpt-4o is unsanctioned (not reviewed by legal)\n');
    const listed = await cli(['resources', 'list']);
    assert.deepEqual(row(listed.stdout, 'openai/gpt-4o'), ['openai/gpt-4o', 'unsanctioned', 'not reviewed by legal']);
    const unknown = await cli(['resources', 'set', 'nope/gpt-4o', 'sanctioned']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'sluice: Invalid resource:\n  id: no provider named "nope"\n');
  });

  test('the audit log shows who changed what', async () => {
    const audit = await cli(['audit', '--entity-type', 'consumer', '--entity-id', 'checkout']);
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /^AT\s+ACTOR\s+ACTION\s+TYPE\s+ENTITY\s+CHANGED$/m);
    const rows = audit.stdout
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/ {2,}/));
    assert.deepEqual(
      rows.map((cells) => cells.slice(1)),
      [
        ['bootstrap-token', 'update', 'consumer', 'checkout', 'owner,models'],
        ['bootstrap-token', 'create', 'consumer', 'checkout', '-'],
      ],
    );
    // Oldest first, and one kind of change: the API's order and filter, not the page's.
    const oldestFirst = await cli(['audit', '--entity-type', 'consumer', '--entity-id', 'checkout', '--order', 'asc']);
    assert.equal(oldestFirst.code, 0, oldestFirst.stderr);
    assert.match(oldestFirst.stdout, /\n\S+\s+bootstrap-token\s+create\s+consumer\s+checkout\s+-\n\S+\s+bootstrap-token\s+update\s/);
    const updates = await cli(['audit', '--action', 'update', '--sort', 'actor', '--json', '--limit', '500']);
    assert.equal(updates.code, 0, updates.stderr);
    const updated = (JSON.parse(updates.stdout) as { items: Array<{ action: string; actor: string }> }).items;
    assert.ok(updated.length > 0 && updated.every((record) => record.action === 'update'), JSON.stringify(updated));
    const actors = updated.map((record) => record.actor);
    assert.deepEqual(actors, [...actors].sort().reverse(), 'by actor, Z to A');
    const badOrder = await cli(['audit', '--order', 'sideways']);
    assert.equal(badOrder.code, 1);
    assert.match(badOrder.stderr, /order: /);
    const everything = (await cli(['audit', '--limit', '200'])).stdout;
    for (const [action, type, entity] of [
      ['create', 'team', 'finance'],
      ['revoke', 'consumer-key'],
      ['rotate', 'consumer-key'],
      ['create', 'resource', 'openai/gpt-4o'],
      ['delete', 'consumer', 'reports'],
    ]) {
      assert.ok(
        everything
          .split('\n')
          .some(
            (line) => line.includes(`  ${action}  `) && line.includes(`  ${type}  `) && (entity === undefined || line.includes(entity)),
          ),
        `${action} ${type}`,
      );
    }
    const page = JSON.parse((await cli(['audit', '--json', '--limit', '2'])).stdout) as { items: unknown[]; nextCursor: string | null };
    assert.equal(page.items.length, 2);
    assert.ok(page.nextCursor !== null);
    const badType = await cli(['audit', '--entity-type', 'planet']);
    assert.equal(badType.code, 1);
    assert.match(badType.stderr, /entityType: /);
  });

  test('a date where the help says ISO (--from, --to, --since, --expires) is that day at midnight UTC', async () => {
    const usage = await cli(['usage', '--from', '2026-11-01', '--to', '2026-12-01', '--json']);
    assert.equal(usage.code, 0, usage.stderr);
    const period = JSON.parse(usage.stdout) as { from: string; to: string };
    assert.deepEqual([period.from, period.to], ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    const drivers = await cli(['usage', 'drivers', '--from', '2026-11-01', '--to', '2026-12-01', '--previous-from', '2026-10-01']);
    assert.equal(drivers.code, 0, drivers.stderr);
    const since = await cli(['audit', '--since', '2000-01-01', '--limit', '1']);
    assert.equal(since.code, 0, since.stderr);
    const key = await cli(['keys', 'create', 'checkout-service', '--name', 'dated', '--expires', '2099-01-31']);
    assert.equal(key.code, 0, key.stderr);
    assert.match(key.stdout, /\(expires 2099-01-31T00:00:00Z\)/);
    // A day that does not exist is still refused, naming the field.
    const impossible = await cli(['usage', '--from', '2026-02-30']);
    assert.equal(impossible.code, 1);
    assert.match(impossible.stderr, /^ {2}from: /m);
  });
});
