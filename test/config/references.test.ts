// Names in sluice.yaml that refer to something else (a guardrail's consumers and models, the cache's models, an MCP
// grant's consumer or team, a budget's team) must match something: a typo would silently switch a control off. A name
// only the file can declare is refused by `sluice check`, at start and on reload (the running config stays); a team,
// which may exist only in the director's store, is checked against it and warned about.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliFor, emptyDir, runCli } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { chatStatus, freePort, oneModelYaml, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { until } from '../support/until.js';

const KEY = 'sk-sluice-references-key-01';
const ADMIN_TOKEN = 'sa-bootstrap-references-token-0001';

/** `sluice check` on a file of `yaml`: its exit code and what it wrote. */
async function check(yaml: string) {
  const config = join(emptyDir(), 'sluice.yaml');
  writeFileSync(config, yaml);
  return { config, ...(await runCli(['check', '--config', config])) };
}

describe('names that refer to nothing', () => {
  let upstream: MockProvider;

  before(async () => {
    upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('ok')));
  });

  after(async () => {
    await upstream.close();
  });

  test('a guardrail naming a consumer or a model that does not exist: sluice check refuses it, naming the path', async () => {
    const yaml = `${oneModelYaml(upstream.url, KEY)}
guardrails:
  - { name: no-codenames, mode: block, patterns: ['falcon'], consumers: [checkout-service, chekout-service] }
  - { name: mask-mail, mode: mask, pii: [emailAddress], models: [gpt-4o-mnii] }
`;
    const { config, code, stderr } = await check(yaml);
    assert.equal(code, 2, stderr);
    assert.ok(stderr.includes(`${config}: guardrails[0].consumers[1]: no consumer named "chekout-service"\n`), stderr);
    assert.ok(stderr.includes(`${config}: guardrails[1].models[0]: no model named "gpt-4o-mnii"\n`), stderr);
  });

  test('the cache opting in a model that does not exist: sluice check refuses it, naming the path', async () => {
    const { config, code, stderr } = await check(`${oneModelYaml(upstream.url, KEY)}
cache:
  models:
    gpt-4o-mini: {}
    gpt-4o-mnii: { ttlSeconds: 60 }
`);
    assert.equal(code, 2, stderr);
    assert.ok(stderr.includes(`${config}: cache.models.gpt-4o-mnii: no model named "gpt-4o-mnii"\n`), stderr);
  });

  test('an MCP grant naming a consumer that does not exist: sluice check refuses it, naming the path', async () => {
    const { config, code, stderr } = await check(`${oneModelYaml(upstream.url, KEY)}
mcp:
  servers:
    docs: { url: "http://127.0.0.1:9/mcp" }
  access:
    - { consumer: checkout-service, server: docs, tools: "*" }
    - { consumer: chekout-service, server: docs, tools: [search] }
`);
    assert.equal(code, 2, stderr);
    assert.ok(stderr.includes(`${config}: mcp.access[1].consumer: no consumer named "chekout-service"\n`), stderr);
  });

  test('a budget, template, rate limit or MCP grant naming a team none of the consumers has: sluice check warns, naming the path', async () => {
    const { config, code, stdout, stderr } = await check(`${oneModelYaml(upstream.url, KEY)}
budgets:
  - { name: payments-daily, consumers: { team: payments }, measure: requests, limit: 5, window: day }
  - { name: platform-daily, consumers: { team: platfrom }, measure: requests, limit: 5, window: day }
budgetTemplates:
  - { name: per-team, selector: { team: platfrom }, measure: requests, limit: 5, window: day }
rateLimits:
  - { name: platform-rpm, consumers: { team: platfrom }, requestsPerMinute: 60 }
mcp:
  servers:
    docs: { url: "http://127.0.0.1:9/mcp" }
  access:
    - { team: platfrom, server: docs, tools: "*" }
`);
    // Valid: the team may exist in the director's store, which check does not open.
    assert.equal(code, 0, stderr);
    assert.match(stdout, /valid/);
    const warning = (path: string) =>
      `warning: ${config}: ${path}: no consumer in this file is of team "platfrom"; it binds no consumer unless the director's store has that team\n`;
    for (const path of [
      'budgets[1].consumers.team',
      'budgetTemplates[0].selector.team',
      'rateLimits[0].consumers.team',
      'mcp.access[0].team',
    ])
      assert.ok(stderr.includes(warning(path)), stderr);
    assert.ok(!stderr.includes('budgets[0]'), "a team of the file's consumers is not warned of");
  });

  test('a budget naming a team neither the file nor the store has: start and reload log a warning; once the team exists, none', async () => {
    const dir = emptyDir();
    const config = join(dir, 'sluice.yaml');
    writeFileSync(
      config,
      `${oneModelYaml(upstream.url, KEY)}
admin: { token: ${ADMIN_TOKEN} }
budgets:
  - { name: platform-daily, consumers: { team: platfrom }, measure: requests, limit: 5, window: day }
`,
    );
    const [port, adminPort] = [await freePort(), await freePort()];
    const adminURL = `http://127.0.0.1:${adminPort}`;
    let sluice: SluiceProcess | undefined;
    try {
      sluice = await startSluiceProcess(['start', '--config', config, '--port', String(port), '--admin-port', String(adminPort)], {
        cwd: dir,
        env: {},
        adminURL,
      });
      const output = sluice.output;
      const warnings = () =>
        output()
          .split('\n')
          .filter((line) => line.includes('budgets[0].consumers.team: no team named \\"platfrom\\"'));
      await until('the start warns of the team', () => warnings().length === 1);
      assert.match(warnings()[0]!, /"level":40/);
      assert.match(warnings()[0]!, /neither among the file's consumers nor in the director's store/);

      sluice.child.kill('SIGHUP');
      await until('the reload warns again', () => warnings().length === 2);

      // Made through the API (its consumers would be too): the next reload finds it in the store and says nothing.
      const created = await cliFor(adminURL, ADMIN_TOKEN)(['teams', 'create', 'platfrom', '--owner', 'pat@example.com']);
      assert.equal(created.code, 0, created.stderr);
      const reloads = () =>
        output()
          .split('\n')
          .filter((line) => line.includes('config reloaded')).length;
      const before = reloads();
      sluice.child.kill('SIGHUP');
      await until('the second reload', () => reloads() > before);
      assert.equal(warnings().length, 2, output());
    } finally {
      await sluice?.stop();
    }
  });

  test('a guardrail edited to name a consumer that does not exist: the reload is refused and the guardrail keeps blocking', async () => {
    const dir = emptyDir();
    const config = join(dir, 'sluice.yaml');
    const guarded = (consumer: string) => `${oneModelYaml(upstream.url, KEY)}
guardrails:
  - { name: no-hi, mode: block, patterns: ['^hi$'], consumers: [${consumer}] }
`;
    writeFileSync(config, guarded('checkout-service'));
    const [port, adminPort] = [await freePort(), await freePort()];
    let sluice: SluiceProcess | undefined;
    try {
      sluice = await startSluiceProcess(['start', '--config', config, '--port', String(port), '--admin-port', String(adminPort)], {
        cwd: dir,
        env: {},
        adminURL: `http://127.0.0.1:${adminPort}`,
      });
      assert.equal(await chatStatus(port, KEY), 400);
      writeFileSync(config, guarded('chekout-service'));
      sluice.child.kill('SIGHUP');
      const output = sluice.output;
      await until('the reload is refused', () => output().includes('config reload refused'));
      assert.match(output(), /guardrails\[0\]\.consumers\[0\]: no consumer named \\"chekout-service\\"/);
      assert.equal(await chatStatus(port, KEY), 400);
    } finally {
      await sluice?.stop();
    }
  });
});
