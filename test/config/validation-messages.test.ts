// Validation messages say what is allowed, the same in the three places a definition is checked: sluice.yaml
// (`sluice check`), a `sluice apply` file, and the admin API's 400s. An enum lists its values, a union its shapes, a wrong
// type names the type expected and the one given, an unknown key the keys the object takes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyDir, runCli } from '../support/cli.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-messages-test-token-01';
const WINDOW = 'expected one of minute, hour, day, month, or {rolling: <a duration such as 24h>}; got "weekly"';

/** A budget with one field made wrong, and what each place must say of it (the path as sluice.yaml and apply files name it). */
const CASES: Array<{ name: string; budget: Record<string, unknown>; path: string; apiPath: string; message: string }> = [
  { name: 'a union (the window)', budget: { window: 'weekly' }, path: 'budgets[0].window', apiPath: 'window', message: WINDOW },
  {
    name: 'an enum (the measure)',
    budget: { measure: 'calls' },
    path: 'budgets[0].measure',
    apiPath: 'measure',
    message: 'expected one of input_tokens, output_tokens, total_tokens, cost_usd or requests; got "calls"',
  },
  {
    name: 'a wrong type (the limit)',
    budget: { limit: 'five' },
    path: 'budgets[0].limit',
    apiPath: 'limit',
    message: 'expected a number; got a string',
  },
  {
    // Costs are counted in whole nano-USD: a smaller limit would be 0, and an enforced budget of 0 refuses every call.
    name: 'a cost limit under one nano-USD',
    budget: { measure: 'cost_usd', limit: 0.0000000001 },
    path: 'budgets[0].limit',
    apiPath: 'limit',
    message: 'a cost_usd limit is at least 0.000000001 (USD; costs are counted in whole nano-USD)',
  },
  {
    name: 'an unknown key',
    budget: { colour: 'red' },
    path: 'budgets[0]',
    apiPath: '(body)',
    message: 'unknown key "colour"; the keys here are name, consumers, resources, measure, limit, window, mode, alerts and onExhausted',
  },
];

const budget = (overrides: Record<string, unknown>) => ({ name: 'b', measure: 'requests', limit: 5, window: 'day', ...overrides });

describe('validation messages', () => {
  let sluice: TestSluice;
  const dir = emptyDir();

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      // Never called: the tests only validate.
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
  });

  after(async () => {
    await sluice.stop();
  });

  for (const { name, budget: overrides, path, apiPath, message } of CASES) {
    test(`${name}: sluice check, sluice apply and the admin API say what is allowed`, async () => {
      const yaml = `budgets:\n  - ${JSON.stringify(budget(overrides))}\n`;
      const config = join(dir, 'sluice.yaml');
      writeFileSync(config, yaml);
      const check = await runCli(['check', '--config', config]);
      assert.equal(check.code, 2, check.stderr);
      assert.ok(check.stderr.includes(`${config}: ${path}: ${message}\n`), check.stderr);

      const file = join(dir, 'governance.yaml');
      writeFileSync(file, yaml);
      const apply = await runCli(['apply', '-f', file], { env: { SLUICE_ADMIN_URL: sluice.adminURL, SLUICE_ADMIN_TOKEN: TOKEN } });
      assert.equal(apply.code, 2, apply.stderr);
      assert.ok(apply.stderr.includes(`${file}: ${path}: ${message}\n`), apply.stderr);

      const response = await fetch(`${sluice.adminURL}/api/budgets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(budget(overrides)),
      });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { error: { message: string; issues: Array<{ path: string; message: string }> } };
      assert.deepEqual(body.error.issues, [{ path: apiPath, message }]);
      assert.equal(body.error.message, `Invalid request: ${apiPath}: ${message}`);
    });
  }

  test('a field left out is required, naming what it takes; a union of shapes names each', async () => {
    writeFileSync(join(dir, 'missing.yaml'), 'budgets:\n  - { name: b, measure: requests, window: day, consumers: all }\n');
    const check = await runCli(['check', '--config', join(dir, 'missing.yaml')]);
    assert.match(check.stderr, /budgets\[0\]\.consumers: expected one of everyone, \{consumer: string\}, or \{team: string\}; got "all"\n/);
    assert.match(check.stderr, /budgets\[0\]\.limit: required: expected a number\n/);
  });

  test('a provider type the registry does not know: sluice check and the admin API name the types it has', async () => {
    const message = 'expected one of openai, azure-openai, anthropic, bedrock, gemini or vertex; got "openia"';
    writeFileSync(join(dir, 'unknown-type.yaml'), 'providers:\n  local: { type: openia, baseUrl: "http://127.0.0.1:1/v1" }\n');
    const check = await runCli(['check', '--config', join(dir, 'unknown-type.yaml')]);
    assert.equal(check.code, 2, check.stderr);
    assert.ok(check.stderr.includes(`providers.local.type: ${message}\n`), check.stderr);

    const response = await fetch(`${sluice.adminURL}/api/providers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'local', type: 'openia', baseUrl: 'http://127.0.0.1:1/v1' }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { issues: Array<{ path: string; message: string }> } };
    assert.deepEqual(body.error.issues, [{ path: 'type', message }]);
  });

  test('a key a map does not take (a resource without its provider, a provider name in capitals) names what the key must be', async () => {
    // zod's own words were "Invalid key in record": the path named the key, but nothing said what was wrong with it.
    const resource = 'not a valid key (provider/model); got "gpt-4o"';
    writeFileSync(
      join(dir, 'keys.yaml'),
      'providers:\n  OpenAI: { type: openai, baseUrl: "http://127.0.0.1:1/v1" }\nresources:\n  gpt-4o: unsanctioned\n',
    );
    const check = await runCli(['check', '--config', join(dir, 'keys.yaml')]);
    assert.equal(check.code, 2, check.stderr);
    assert.ok(
      check.stderr.includes('keys.yaml: providers.OpenAI: not a valid key (a lowercase name: a-z, 0-9, _ or -); got "OpenAI"\n'),
      check.stderr,
    );
    assert.ok(check.stderr.includes(`keys.yaml: resources.gpt-4o: ${resource}\n`), check.stderr);

    writeFileSync(join(dir, 'keys-apply.yaml'), 'resources:\n  gpt-4o: unsanctioned\n');
    const apply = await runCli(['apply', '-f', join(dir, 'keys-apply.yaml')], {
      env: { SLUICE_ADMIN_URL: sluice.adminURL, SLUICE_ADMIN_TOKEN: TOKEN },
    });
    assert.equal(apply.code, 2, apply.stderr);
    assert.ok(apply.stderr.includes(`keys-apply.yaml: resources.gpt-4o: ${resource}\n`), apply.stderr);

    const response = await fetch(`${sluice.adminURL}/api/apply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resources: { 'gpt-4o': 'unsanctioned' }, dryRun: true }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { issues: Array<{ path: string; message: string }> } };
    assert.deepEqual(body.error.issues, [{ path: 'resources.gpt-4o', message: resource }]);
  });

  test('a value that may be a secret is never quoted back: a wrong type says only its type', async () => {
    writeFileSync(
      join(dir, 'secret.yaml'),
      'providers:\n  openai: { type: openai, baseUrl: "http://127.0.0.1:1/v1", apiKey: 12345678901234 }\n',
    );
    const check = await runCli(['check', '--config', join(dir, 'secret.yaml')]);
    assert.equal(check.code, 2);
    assert.match(check.stderr, /providers\.openai\.apiKey: expected a string; got a number\n/);
    assert.ok(!check.stderr.includes('12345678901234'));
  });

  test('a NUL character, which PostgreSQL cannot store: sluice check and sluice apply refuse it by its path (exit 2)', async () => {
    // YAML writes it as "\0"; SQLite would keep it, and a director on PostgreSQL failed to start on it.
    writeFileSync(
      join(dir, 'nul.yaml'),
      'consumers:\n  - { name: checkout, team: payments, owner: "alice\\0@example.com", keys: [sk-checkout-0001] }\n',
    );
    const check = await runCli(['check', '--config', join(dir, 'nul.yaml')]);
    assert.equal(check.code, 2, check.stdout);
    assert.match(check.stderr, /nul\.yaml: consumers\[0\]\.owner: contains a NUL character \(U\+0000\)/);
    writeFileSync(join(dir, 'nul-apply.yaml'), 'teams:\n  - { name: payments, owner: "alice\\0@example.com" }\n');
    const apply = await runCli(['apply', '-f', join(dir, 'nul-apply.yaml')], {
      env: { SLUICE_ADMIN_URL: sluice.adminURL, SLUICE_ADMIN_TOKEN: TOKEN },
    });
    assert.equal(apply.code, 2, apply.stdout);
    assert.match(apply.stderr, /nul-apply\.yaml: teams\[0\]\.owner: contains a NUL character/);
  });
});
