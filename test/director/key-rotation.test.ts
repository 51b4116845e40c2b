// Rotating a consumer's key replaces its secret, not its grant: the new key keeps the expiry the rotated key had (a key
// made to end with a contract does not outlive it because it leaked), unless the rotation gives one (`expiresAt`, null for
// none); a key already expired is not renewed unasked. Through the admin API and `sluice keys rotate`, as an admin would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, type AdminClient } from '../support/admin-client.js';
import { cliFor } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-key-rotation-token-0123';
const DAY = 86_400_000;

describe('key rotation keeps the expiry', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let admin: AdminClient;

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    admin = adminClient(sluice, TOKEN);
    assert.equal((await admin('POST', '/api/teams', { name: 'rotation', owner: 'ops@example.com' })).status, 201);
    assert.equal((await admin('POST', '/api/consumers', { name: 'contractor', team: 'rotation' })).status, 201);
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  const makeKey = async (name: string, expiresAt: string | null) => {
    const made = await admin('POST', '/api/consumers/contractor/keys', { name, expiresAt });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    return made.body as { key: { id: string; expiresAt: string | null }; plaintext: string };
  };
  const keys = async () =>
    (await admin('GET', '/api/consumers/contractor/keys')).body.items as Array<{ id: string; expiresAt: string | null }>;
  const chat = (key: string) =>
    fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
  const wholeSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

  test('the API: the new key ends when the old one was to end; the old one works for the grace only', async () => {
    const end = wholeSeconds(Date.now() + 30 * DAY);
    const old = await makeKey('contract', end);
    const rotated = await admin('POST', `/api/consumers/contractor/keys/${old.key.id}/rotate`, { graceSeconds: 60 });
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    assert.equal(rotated.body.key.expiresAt, end, 'the rotated key kept its end');
    const listed = await keys();
    assert.equal(listed.find((k) => k.id === rotated.body.key.id)?.expiresAt, end);
    const oldEnd = Date.parse(listed.find((k) => k.id === old.key.id)!.expiresAt!);
    assert.ok(oldEnd <= Date.now() + 60_000 && oldEnd > Date.now(), 'the old key works for the grace');
    assert.equal((await chat(rotated.body.plaintext)).status, 200);
    // The audit log records the new key with its expiry.
    const audit = await admin('GET', `/api/audit?entityType=consumer-key&entityId=${rotated.body.key.id}`);
    assert.equal(audit.body.items[0].after.expiresAt, Date.parse(end), JSON.stringify(audit.body.items[0]));
  });

  test('the API: a rotation may give the new key its own expiry, or none; one in the past is a 400 that changes nothing', async () => {
    const old = await makeKey('renewable', wholeSeconds(Date.now() + 2 * DAY));
    const past = await admin('POST', `/api/consumers/contractor/keys/${old.key.id}/rotate`, {
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    assert.equal(past.status, 400, JSON.stringify(past.body));
    assert.deepEqual(
      past.body.error.issues.map((i: { path: string }) => i.path),
      ['expiresAt'],
    );
    assert.equal((await keys()).find((k) => k.id === old.key.id)?.expiresAt, old.key.expiresAt, 'the old key untouched');

    const later = wholeSeconds(Date.now() + 90 * DAY);
    const renewed = await admin('POST', `/api/consumers/contractor/keys/${old.key.id}/rotate`, { graceSeconds: 0, expiresAt: later });
    assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
    assert.equal(renewed.body.key.expiresAt, later);
    const open = await admin('POST', `/api/consumers/contractor/keys/${renewed.body.key.id}/rotate`, { graceSeconds: 0, expiresAt: null });
    assert.equal(open.status, 201, JSON.stringify(open.body));
    assert.equal(open.body.key.expiresAt, null);
    // A key without an expiry rotates to one without an expiry.
    const again = await admin('POST', `/api/consumers/contractor/keys/${open.body.key.id}/rotate`, { graceSeconds: 0 });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.key.expiresAt, null);
  });

  test('the API: a key already expired is not renewed by rotation unless the rotation gives the new key an expiry', async () => {
    const old = await makeKey('lapsing', new Date(Date.now() + 1_500).toISOString());
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const count = (await keys()).length;
    assert.equal((await chat(old.plaintext)).status, 401, 'the key has expired');
    const refused = await admin('POST', `/api/consumers/contractor/keys/${old.key.id}/rotate`, {});
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(refused.body.error.message, /expired at .*expiresAt/);
    assert.equal((await keys()).length, count, 'no key made');
    const renewed = await admin('POST', `/api/consumers/contractor/keys/${old.key.id}/rotate`, {
      expiresAt: wholeSeconds(Date.now() + DAY),
    });
    assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
    assert.equal((await chat(renewed.body.plaintext)).status, 200);
  });

  test('the CLI: `sluice keys rotate` says when the new key expires, and takes --expires or --no-expiry', async () => {
    const cli = cliFor(sluice.adminURL, TOKEN);
    const end = wholeSeconds(Date.now() + 10 * DAY);
    const old = await makeKey('cli', end);
    const rotated = await cli(['keys', 'rotate', 'contractor', old.key.id, '--grace', '0', '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const answer = JSON.parse(rotated.stdout) as { key: { id: string; expiresAt: string | null }; plaintext: string };
    assert.equal(answer.key.expiresAt, end);

    const later = wholeSeconds(Date.now() + 20 * DAY);
    const renewed = await cli(['keys', 'rotate', 'contractor', answer.key.id, '--grace', '0', '--expires', later]);
    assert.equal(renewed.code, 0, renewed.stderr);
    const renewedId = /the new key is (\S+) \(expires [^)]+\):/.exec(renewed.stdout)?.[1];
    assert.ok(renewedId !== undefined, renewed.stdout);
    assert.equal((await keys()).find((k) => k.id === renewedId)?.expiresAt, later);

    const open = await cli(['keys', 'rotate', 'contractor', renewedId, '--grace', '0', '--no-expiry']);
    assert.equal(open.code, 0, open.stderr);
    assert.match(open.stdout, /the new key is \S+ \(no expiry\):/);
    const both = await cli(['keys', 'rotate', 'contractor', renewedId, '--expires', later, '--no-expiry']);
    assert.equal(both.code, 2, both.stdout);
    assert.match(both.stderr, /--expires.*--no-expiry|--no-expiry.*--expires/);
    const help = await cli(['keys', '--help']);
    assert.match(help.stdout, /rotate CONSUMER KEY_ID \[--grace SECONDS\] \[--expires ISO \| --no-expiry\]/);
  });
});
