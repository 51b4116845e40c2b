// The README's promises, checked against the real thing so they cannot rot: the quick start runs as written on the
// embedded defaults (its model names exist there, its curl body and its SDK snippet work), a newcomer without a
// provider key sees what it says, its YAML validates, its Node version is package.json's, the model lists in
// docs/configuration.md are the defaults' own, and every relative link in the README and docs/ leads somewhere.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultConfig } from '../../src/config/defaults.js';
import { runCli } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { freePort, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { scratchDir } from '../support/scratch.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => join('docs', name));

/** The text under a heading, up to the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line === heading);
  assert.ok(start >= 0, `no heading "${heading}"`);
  const level = heading.indexOf(' ');
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && line.indexOf(' ') <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The fenced code blocks of one language. */
function codeBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!);
}

/** The model names a text calls: `"model":"x"` in JSON and `model: 'x'` in code. */
function calledModels(text: string): string[] {
  return [...text.matchAll(/"model":\s*"([^"]+)"|model: '([^']+)'/g)].map((match) => match[1] ?? match[2]!);
}

/** GitHub's anchor for a heading: lower-case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.+)$/.exec(line);
    if (heading === null) continue;
    const base = slug(heading[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

describe('the README quick start, on the embedded defaults', () => {
  let mock: MockProvider;
  let dir: string;
  let sluice: SluiceProcess;
  let gatewayURL: string;
  const upstreamModels: string[] = [];

  before(async () => {
    mock = await MockProvider.start((request, res) => {
      upstreamModels.push(String(request.body.model));
      json(res, 200, openaiCompletion('Hello from the mock upstream.'));
    });
    dir = scratchDir('sluice-quick-start-');
    const [port, adminPort] = [await freePort(), await freePort()];
    gatewayURL = `http://127.0.0.1:${port}`;
    // Only what the quick start sets (OPENAI_API_KEY), plus the upstream and the ports a test must choose.
    sluice = await startSluiceProcess(['start'], {
      cwd: dir,
      adminURL: `http://127.0.0.1:${adminPort}`,
      env: {
        OPENAI_API_KEY: 'sk-upstream-not-real',
        OPENAI_BASE_URL: `${mock.url}/v1`,
        SLUICE_PORT: String(port),
        SLUICE_ADMIN_PORT: String(adminPort),
      },
    });
  });

  after(async () => {
    await sluice?.stop();
    await mock.close();
  });

  test('every model the quick start names exists on the defaults, and the ones it calls are served', async () => {
    // Up to its "No provider key?" part, which is about another set-up.
    const quickStart = section(README, '## Quick start').split('### No provider key?')[0]!;
    const key = readFileSync(join(dir, 'data', 'default-consumer.key'), 'utf8').trim();
    const listed = (await (await fetch(`${gatewayURL}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
      data: Array<{ id: string }>;
    };
    const served = new Set(listed.data.map((model) => model.id));
    const called = calledModels(quickStart);
    assert.ok(called.length >= 2, 'the curl call and the SDK call');
    for (const model of called) assert.ok(served.has(model), `${model} is served with only OPENAI_API_KEY set`);

    // Every model name it mentions exists on the defaults of the variable that exposes it.
    const everyProvider = defaultConfig({
      OPENAI_API_KEY: 'x',
      ANTHROPIC_API_KEY: 'x',
      GEMINI_API_KEY: 'x',
      SLUICE_API_KEY: 'sk-sluice-x',
    });
    const names = new Set(everyProvider.config.models.map((model) => model.name));
    const mentioned = [...quickStart.matchAll(/`((?:gpt|claude|gemini|text-embedding|o\d)[\w.-]*)`/g)].map((m) => m[1]!);
    assert.ok(mentioned.length >= 4);
    for (const model of mentioned) assert.ok(names.has(model), `${model} exists on the embedded defaults`);
  });

  test('its curl call works as written, with the key from ./data/default-consumer.key', async () => {
    const quickStart = section(README, '## Quick start');
    const curl = codeBlocks(quickStart, 'sh').find((block) => block.includes('curl'))!;
    assert.match(curl, /SLUICE_KEY=\$\(cat data\/default-consumer\.key\)/);
    assert.match(curl, /-H "Authorization: Bearer \$SLUICE_KEY"/);
    const body = /-d '([^']+)'/.exec(curl)![1]!;
    const key = readFileSync(join(dir, 'data', 'default-consumer.key'), 'utf8').trim();
    const answer = await fetch(`${gatewayURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(answer.status, 200);
    const completion = (await answer.json()) as { choices: Array<{ message: { content: string } }> };
    assert.equal(completion.choices[0]!.message.content, 'Hello from the mock upstream.');
  });

  test("its OpenAI SDK snippet runs as written (with the test's port), from the folder npm start ran in", async () => {
    const snippet = codeBlocks(section(README, '## Quick start'), 'js')[0]!;
    assert.match(snippet, /http:\/\/127\.0\.0\.1:4000\/v1/);
    writeFileSync(join(dir, 'hello.mjs'), snippet.replace('http://127.0.0.1:4000/v1', `${gatewayURL}/v1`));
    // As in the checkout: `npm install` put the openai package in node_modules beside the script.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const before = upstreamModels.length;
    const { stdout } = await promisify(execFile)(process.execPath, ['hello.mjs'], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
    assert.equal(stdout, 'Hello from the mock upstream.\n');
    assert.deepEqual(upstreamModels.slice(before), ['gpt-4o-mini']);
  });
});

describe('the README, for a newcomer with no provider key', () => {
  test('Sluice starts, says it has no provider, lists no model and answers 404 model_not_found, as the README says', async () => {
    const noKey = section(README, '### No provider key?');
    assert.match(noKey, /`providers from the environment: none`/);
    assert.match(noKey, /`404 model_not_found`/);
    const dir = scratchDir('sluice-no-key-');
    const [port, adminPort] = [await freePort(), await freePort()];
    const sluice = await startSluiceProcess(['start'], {
      cwd: dir,
      adminURL: `http://127.0.0.1:${adminPort}`,
      env: { SLUICE_PORT: String(port), SLUICE_ADMIN_PORT: String(adminPort) },
    });
    try {
      assert.ok(sluice.output().includes('providers from the environment: none'), sluice.output());
      const key = readFileSync(join(dir, 'data', 'default-consumer.key'), 'utf8').trim();
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`, { headers })).json()) as { data: unknown[] };
      assert.deepEqual(models.data, []);
      const answer = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
      });
      assert.equal(answer.status, 404);
      assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'model_not_found');
    } finally {
      await sluice.stop();
    }
  });
});

describe('the README and docs/ stay true', () => {
  test('the Node.js version the README names is the one package.json requires', () => {
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const required = /^>=(\d+\.\d+\.\d+)$/.exec(engines)?.[1];
    assert.ok(required !== undefined, engines);
    const named = [...README.matchAll(/Node\.js (\d+(?:\.\d+)*)/g)].map((match) => match[1]);
    assert.ok(named.length >= 2, 'the quick start and the set-up name it');
    for (const version of named) assert.equal(version, required);
    assert.match(
      section(README, '## Set-up'),
      /npm install && npm start {5}# starts Sluice on its embedded defaults \(gateway :4000, admin :4001\)\nnpm test {21}# builds and runs the whole test suite/,
    );
  });

  test("the README's config and governance examples are one valid sluice.yaml", async () => {
    const yaml = [section(README, '## A config file'), section(README, '## Governance in one example')].flatMap((text) =>
      codeBlocks(text, 'yaml'),
    );
    assert.equal(yaml.length, 2);
    const dir = scratchDir('sluice-readme-yaml-');
    writeFileSync(join(dir, 'sluice.yaml'), yaml.join('\n'));
    const checked = await runCli(['check', '--config', join(dir, 'sluice.yaml')], {
      env: { OPENAI_API_KEY: 'sk-x', ANTHROPIC_API_KEY: 'sk-ant-x', CHECKOUT_SLUICE_KEY: 'sk-sluice-checkout-0001' },
    });
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /valid; 2 providers, 1 models, 1 consumers/);
  });

  test('docs/configuration.md lists exactly the models each provider variable exposes on the defaults', () => {
    const page = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const cases: Array<[string, Record<string, string>]> = [
      ['`OPENAI_API_KEY`', { OPENAI_API_KEY: 'x' }],
      ['`ANTHROPIC_API_KEY`', { ANTHROPIC_API_KEY: 'x' }],
      ['`GEMINI_API_KEY` or `GOOGLE_API_KEY`', { GEMINI_API_KEY: 'x' }],
    ];
    for (const [variable, env] of cases) {
      const row = page.split('\n').find((line) => line.startsWith(`| ${variable} |`));
      assert.ok(row !== undefined, `a row for ${variable}`);
      const listed = [...row.split('|')[2]!.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
      const exposed = defaultConfig({ ...env, SLUICE_API_KEY: 'sk-sluice-x' }).config.models.map((model) => model.name);
      assert.deepEqual(listed, exposed, variable);
    }
  });

  test("every SLUICE_ variable the source reads has a row in docs/configuration.md's table of environment variables", () => {
    const table = section(readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8'), '## Environment variables');
    const documented = new Set([...table.matchAll(/`(SLUICE_[A-Z0-9_]+)`/g)].map((match) => match[1]!));
    // What the primary hands its workers, and an error code that looks like a variable: not for a user to set.
    const internal = new Set([
      'SLUICE_WORKER_SLOT',
      'SLUICE_WORKER_GATEWAY_PORT',
      'SLUICE_WORKER_ADMIN_PORT',
      'SLUICE_PROVIDER_TARGET_REFUSED',
    ]);
    const read = new Set<string>();
    const visit = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) visit(path);
        else if (entry.name.endsWith('.ts'))
          // `env.SLUICE_X`, or the name as a string (a table of variables); not constants that happen to start so.
          for (const match of readFileSync(path, 'utf8').matchAll(/(?:env\.|['"`])(SLUICE_[A-Z0-9_]+)\b/g)) read.add(match[1]!);
      }
    };
    visit(join(ROOT, 'src'));
    assert.ok(read.size >= 10, `${read.size} variables found`);
    const missing = [...read].filter((variable) => !internal.has(variable) && !documented.has(variable));
    assert.deepEqual(missing, [], 'variables read by src/ that docs/configuration.md does not list');
  });

  test('every relative link in the README and docs/ points to a file that exists, and to a heading that exists', () => {
    let links = 0;
    for (const file of ['README.md', ...DOCS]) {
      const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        links += 1;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), path);
        assert.ok(existsSync(resolved), `${file}: ${target} does not exist`);
        if (anchor !== undefined) assert.ok(anchors(readFileSync(resolved, 'utf8')).has(anchor), `${file}: ${target} names no heading`);
      }
    }
    assert.ok(links > 50, `${links} links checked`);
  });

  test('the README links every page of docs/', () => {
    for (const page of DOCS) assert.ok(README.includes(`](${page})`), `the README links ${page}`);
  });
});
