// The sample configs in examples/ cannot rot: each is validated by the real loader (`sluice check` as a child
// process) with the environment variables it references set, and the one the README gives a newcomer without a
// provider key, examples/local.yaml, serves the README's call through Sluice to an OpenAI-compatible server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { parse, stringify } from 'yaml';
import { runCli } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { freePort, startSluiceProcess } from '../support/sluice-process.js';
import { scratchDir } from '../support/scratch.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((name) => name.endsWith('.yaml'));

/** The `${NAME}` variables a file needs (those without a `:-default`), each given a value of its own. */
function requiredEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/\$\{([A-Z0-9_]+)\}/g)) env[match[1]!] = `${match[1]!.toLowerCase()}-example-value-0123456789`;
  return env;
}

describe('examples/', () => {
  test('holds the sample sluice.yaml and the local one the README links', () => {
    assert.ok(EXAMPLES.includes('sluice.yaml'));
    assert.ok(EXAMPLES.includes('local.yaml'));
  });

  for (const name of EXAMPLES) {
    test(`${name} is valid for \`sluice check\` with the variables it references set, and names the first one missing`, async () => {
      const path = join(ROOT, 'examples', name);
      const env = requiredEnv(readFileSync(path, 'utf8'));
      assert.ok(Object.keys(env).length > 0, 'its secrets come from the environment');
      const checked = await runCli(['check', '--config', path], { env });
      assert.equal(checked.code, 0, checked.stderr);
      assert.match(checked.stdout, /: valid; \d+ providers, \d+ models, \d+ consumers\n$/);

      const missing = await runCli(['check', '--config', path]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /environment variable [A-Z0-9_]+ is not set/);
    });
  }

  test('examples/sluice.yaml declares what the sample promises: fallback, teams, budgets, a template, a rate limit, reviews', () => {
    const config = parse(readFileSync(join(ROOT, 'examples', 'sluice.yaml'), 'utf8')) as Record<
      string,
      unknown[] & Record<string, unknown>
    >;
    const models = config.models as Array<{ targets: unknown[] }>;
    assert.ok(
      models.some((model) => model.targets.length > 1),
      'a model with a fallback',
    );
    assert.ok((config.budgets as unknown[]).length >= 2);
    assert.ok((config.budgetTemplates as unknown[]).length >= 1);
    assert.ok((config.rateLimits as unknown[]).length >= 1);
    assert.ok(Object.keys(config.resources as object).length >= 1);
  });

  test("examples/local.yaml serves the README's no-provider-key call through an OpenAI-compatible server", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const noKey = readme.slice(readme.indexOf('### No provider key?'), readme.indexOf('## Set-up'));
    const key = /SLUICE_API_KEY=(\S+) npm start -- --config examples\/local\.yaml/.exec(noKey)?.[1];
    const body = /-d '([^']+)'/.exec(noKey)?.[1];
    assert.ok(key !== undefined && body !== undefined, 'the README shows the start command and the call');
    assert.match(noKey, new RegExp(`-H "Authorization: Bearer ${key}"`));

    const server = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('Hello from a local model.', undefined, 'llama3.2')),
    );
    const dir = scratchDir('sluice-local-example-');
    // The example as written, on ports a test can use.
    const [port, adminPort] = [await freePort(), await freePort()];
    const config = parse(readFileSync(join(ROOT, 'examples', 'local.yaml'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'local.yaml'), stringify({ ...config, gateway: { port }, admin: { port: adminPort } }));
    const sluice = await startSluiceProcess(['start', '--config', 'local.yaml'], {
      cwd: dir,
      adminURL: `http://127.0.0.1:${adminPort}`,
      env: { SLUICE_API_KEY: key, LOCAL_OPENAI_BASE_URL: `${server.url}/v1` },
    });
    try {
      const answer = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      assert.equal(answer.status, 200);
      assert.equal(
        ((await answer.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content,
        'Hello from a local model.',
      );
      assert.equal(server.received.at(-1)?.body.model, 'llama3.2', 'the server is asked for the model by its own name');
      assert.equal(server.received.at(-1)?.headers.authorization, undefined, 'no provider key is sent: the example declares none');

      const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: key, maxRetries: 0 });
      assert.deepEqual(
        (await client.models.list()).data.map((model) => model.id),
        ['llama3.2'],
      );
    } finally {
      await sluice.stop();
      await server.close();
    }
  });
});
