// `sluice compliance` run as a user runs it, against a real director: an assessment printed as findings, the OSCAL
// documents exported as JSON and YAML (the JSON valid against NIST's schema), and usage errors with their exit codes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { cliFor } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { oscalErrors } from '../compliance/oscal-schemas.js';

const TOKEN = 'sa-bootstrap-cli-compliance-token-01';

describe('sluice compliance', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      compliance: { intervalMinutes: 7 * 24 * 60, sealIntervalSeconds: 3600 },
    });
    cli = cliFor(sluice.adminURL, TOKEN);
    // A consumer nobody owns: at least one finding is not satisfied, so the POA&M has an item.
    const response = await fetch(`${sluice.adminURL}/api/consumers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'orphan' }),
    });
    assert.equal(response.status, 201);
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('assess prints each finding and the POA&M items it opened', async () => {
    const result = await cli(['compliance', 'assess']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^CONTROL\s+OBJECTIVE\s+STATE\s+FINDING/);
    assert.match(result.stdout, /CM-8\s+cm-8_obj\.a\.1\s+NOT SATISFIED\s+1 of 3 consumers lack an owner or a team\./);
    assert.match(result.stdout, /AU-9\s+au-9_obj\.a\s+satisfied/);
    assert.match(result.stdout, /assessment [0-9a-f-]{36}: \d+ objectives satisfied, \d+ not; POA&M items open or still open: \d+/);
  });

  test('export prints the OSCAL documents as JSON, valid against the schemas, and as YAML', async () => {
    for (const [name, model] of [
      ['component-definition', 'component-definition'],
      ['assessment-results', 'assessment-results'],
      ['poam', 'plan-of-action-and-milestones'],
    ] as const) {
      const asJson = await cli(['compliance', 'export', name]);
      assert.equal(asJson.code, 0, asJson.stderr);
      assert.deepEqual(oscalErrors(model, JSON.parse(asJson.stdout)), [], `${name} as JSON`);
      const asYaml = await cli(['compliance', 'export', name, '--format', 'yaml']);
      assert.equal(asYaml.code, 0, asYaml.stderr);
      assert.deepEqual(oscalErrors(model, parse(asYaml.stdout)), [], `${name} as YAML`);
    }
    const assessed = await cli(['compliance', 'assess', '--format', 'yaml']);
    assert.equal(assessed.code, 0, assessed.stderr);
    assert.deepEqual(oscalErrors('assessment-results', parse(assessed.stdout)), []);
  });

  test('an unknown document or format is a usage error (exit 2)', async () => {
    const unknown = await cli(['compliance', 'export', 'ssp']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown document "ssp" \(expected component-definition, assessment-results, poam\)/);
    const badFormat = await cli(['compliance', 'export', 'poam', '--format', 'xml']);
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /--format must be json or yaml, got "xml"/);
  });
});
