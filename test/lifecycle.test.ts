// Sluice as an operator runs it: the real entry point as a child process, config errors, SIGTERM flushing the ledger, metrics.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { MIGRATIONS } from '../src/store/migrations/index.js';
import { json, MockProvider, openaiCompletion } from './support/mock-provider.js';
import { scratchDir } from './support/scratch.js';

const SLUICE = fileURLToPath(new URL('../src/cli/sluice.js', import.meta.url));
const KEY = 'sk-sluice-lifecycle-key-01';

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [SLUICE, ...args], {
    env: { PATH: process.env.PATH, SLUICE_WORKERS: '1', ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(output: () => string, pattern: RegExp, ms = 10_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const match = pattern.exec(output());
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * An upstream that answers a call whose prompt is `slow` after `delayMs`, and every other at once; `slowInFlight`
 * resolves when it has the slow call: a call in flight waited for, not guessed by a sleep a busy machine outlasts.
 */
async function slowUpstream(delayMs: number): Promise<{ upstream: MockProvider; slowInFlight: Promise<void> }> {
  let arrived!: () => void;
  const slowInFlight = new Promise<void>((resolve) => (arrived = resolve));
  const upstream = await MockProvider.start(async (request, res) => {
    if (String((request.body.messages as Array<{ content: string }>)[0]?.content) === 'slow') {
      arrived();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    json(res, 200, openaiCompletion('ok', { prompt_tokens: 10, completion_tokens: 2 }));
  });
  return { upstream, slowInFlight };
}

function writeConfig(dir: string, upstream: string, extra = ''): string {
  const path = join(dir, 'sluice.yaml');
  writeFileSync(
    path,
    `
gateway: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
storage: sqlite:${join(dir, 'ledger.db')}
ledger: { flushIntervalMs: 60000 }   # nothing is written before the stop: the stop must write it
providers:
  openai: { type: openai, baseUrl: ${upstream}/v1, apiKey: "\${UPSTREAM_KEY}" }
models:
  - name: gpt-4o-mini
    targets: [{ provider: openai, model: gpt-4o-mini }]
consumers:
  - name: checkout-service
    team: payments
    owner: alice@example.com
    keys: ["\${CHECKOUT_KEY}"]
${extra}`,
  );
  return path;
}

describe('running sluice', () => {
  test('refuses an invalid config, naming the file, the path and what was expected', async () => {
    const dir = scratchDir('sluice-life-');
    const path = writeConfig(dir, 'http://127.0.0.1:1', '  - name: other\n    keys: ["short"]\n');
    const bad = readFileSync(path, 'utf8').replace('provider: openai, model', 'provider: opnai, model');
    writeFileSync(path, bad);
    const { output, exited } = run(['--config', path], { UPSTREAM_KEY: 'x', CHECKOUT_KEY: KEY });
    assert.equal(await exited, 2);
    assert.match(output(), /sluice\.yaml: consumers\[1\]\.keys\[0\]: a key of at least 8 characters/);
    const missing = run(['--config', path], { CHECKOUT_KEY: KEY });
    assert.equal(await missing.exited, 2);
    assert.match(missing.output(), /providers\.openai\.apiKey: environment variable UPSTREAM_KEY is not set/);
    writeFileSync(path, bad.replace('provider: opnai, model', 'provider: openai, model'));
    const check = run(['check', '--config', path], { UPSTREAM_KEY: 'x', CHECKOUT_KEY: KEY });
    assert.equal(await check.exited, 2, 'the short key is still wrong');
    writeFileSync(path, readFileSync(path, 'utf8').replace('keys: ["short"]', 'keys: ["long-enough-key"]'));
    const valid = run(['check', '--config', path], { UPSTREAM_KEY: 'x', CHECKOUT_KEY: KEY });
    assert.equal(await valid.exited, 0);
    assert.match(valid.output(), /valid; 1 providers, 1 models, 2 consumers/);
  });

  test('on SIGTERM finishes the call in flight and writes every ledger record; serves metrics before that', async () => {
    const { upstream, slowInFlight } = await slowUpstream(500);
    const dir = scratchDir('sluice-life-');
    const config = writeConfig(dir, upstream.url);
    const sluice = run(['start', '--config', config], { UPSTREAM_KEY: 'upstream-key-not-real', CHECKOUT_KEY: KEY });
    try {
      const listening = await waitFor(sluice.output, /"gateway":\{"port":(\d+),"host":"127\.0\.0\.1"\},"admin":\{"port":(\d+)/);
      const client = new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${listening[1]}/v1`, maxRetries: 0 });
      for (let i = 0; i < 5; i++)
        await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `call ${i}` }] });

      const metrics = await (await fetch(`http://127.0.0.1:${listening[2]}/metrics`)).text();
      assert.match(metrics, /gen_ai_client_token_usage_sum\{[^}]*consumer="checkout-service"[^}]*gen_ai_token_type="input"\} 50/);
      assert.match(metrics, /gen_ai_server_request_duration_count\{[^}]*model="gpt-4o-mini",provider="openai",status="200"[^}]*\} 5/);
      assert.ok(!metrics.includes(KEY) && !metrics.includes('upstream-key-not-real'));
      const health = await fetch(`http://127.0.0.1:${listening[2]}/healthz`);
      assert.equal(health.status, 200);

      const inFlight = client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'slow' }] });
      // Raced with the call itself, so a call that fails before reaching the upstream fails the test, not hangs it.
      await Promise.race([slowInFlight, inFlight]);
      sluice.child.kill('SIGTERM');
      const answer = await inFlight;
      assert.equal(answer.choices[0]?.message.content, 'ok', 'the call in flight completes');
      assert.equal(await sluice.exited, 0);
    } finally {
      sluice.child.kill('SIGKILL');
      await upstream.close();
    }
    const db = new Database(join(dir, 'ledger.db'), { readonly: true });
    const rows = db.prepare('SELECT consumer, team, input_tokens, output_tokens, status FROM transactions').all() as Array<
      Record<string, unknown>
    >;
    const migrations = db.prepare('SELECT version, name FROM schema_migrations').all();
    db.close();
    assert.equal(rows.length, 6, 'five calls and the one in flight at SIGTERM');
    assert.ok(
      rows.every((row) => row.consumer === 'checkout-service' && row.team === 'payments' && row.input_tokens === 10 && row.status === 200),
    );
    assert.deepEqual(
      migrations,
      MIGRATIONS.map(({ version, name }) => ({ version, name })),
      'every migration, once',
    );
    assert.deepEqual(migrations.slice(0, 2), [
      { version: 1, name: 'ledger' },
      { version: 2, name: 'ledger governance columns' },
    ]);
    assert.ok(!sluice.output().includes(KEY) && !sluice.output().includes('upstream-key-not-real'), 'no secret in the logs');
  });

  test('reloads sluice.yaml when it changes or on SIGHUP, keeps calls in flight, and refuses a broken edit', async () => {
    const { upstream, slowInFlight } = await slowUpstream(800);
    const dir = scratchDir('sluice-life-');
    const config = writeConfig(dir, upstream.url);
    const original = readFileSync(config, 'utf8');
    const sluice = run(['start', '--config', config], { UPSTREAM_KEY: 'upstream-key-not-real', CHECKOUT_KEY: KEY });
    const statusOf = async (client: OpenAI) => {
      try {
        await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
        return 200;
      } catch (error) {
        return (error as { status: number }).status;
      }
    };
    // A minute at most: the reload follows a file watch, which a busy machine may deliver late.
    const until = async (client: OpenAI, status: number) => {
      for (let i = 0; i < 1_200; i++) {
        if ((await statusOf(client)) === status) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`never answered ${status}; output:\n${sluice.output()}`);
    };
    try {
      const listening = await waitFor(sluice.output, /"gateway":\{"port":(\d+)/);
      const client = new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${listening[1]}/v1`, maxRetries: 0 });
      assert.equal(await statusOf(client), 200);
      // A slow call is in flight while the file changes: it must finish on the config it started with.
      const inFlight = client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'slow' }] });
      // Raced with the call itself, so a call that fails before reaching the upstream fails the test, not hangs it.
      await Promise.race([slowInFlight, inFlight]);
      writeFileSync(config, `${original}resources:\n  openai/gpt-4o-mini: unsanctioned\n`);
      await until(client, 403);
      assert.equal((await inFlight).choices[0]?.message.content, 'ok');
      // A broken edit is logged and the running config stays.
      writeFileSync(config, `${original}resources:\n  openai/gpt-4o-mini: forbidden-ish\n`);
      await waitFor(sluice.output, /config reload refused; still serving the previous config/);
      assert.equal(await statusOf(client), 403);
      // SIGHUP reloads too: it re-reads the file. The budget it adds counts the calls served today (at least the two
      // above: its counter is seeded from the ledger), so it refuses at once.
      writeFileSync(config, `${original}budgets:\n  - { name: two-calls, measure: requests, limit: 2, window: day }\n`);
      sluice.child.kill('SIGHUP');
      await until(client, 429);
      sluice.child.kill('SIGTERM');
      assert.equal(await sluice.exited, 0);
    } finally {
      sluice.child.kill('SIGKILL');
      await upstream.close();
    }
  });

  test('with no config file starts on embedded defaults and says so, keeping the generated key out of the log', async () => {
    const dir = scratchDir('sluice-life-');
    const sluice = run([], { OPENAI_API_KEY: 'sk-test-not-a-real-key-000000', SLUICE_PORT: '0', SLUICE_ADMIN_PORT: '0' }, dir);
    try {
      await waitFor(sluice.output, /sluice is listening/);
      assert.match(sluice.output(), /embedded defaults; providers from the environment: openai/);
      const key = readFileSync(join(dir, 'data', 'default-consumer.key'), 'utf8').trim();
      assert.match(key, /^sk-sluice-/);
      assert.ok(!sluice.output().includes(key));
      assert.ok(!sluice.output().includes('sk-test-not-a-real-key-000000'));
      sluice.child.kill('SIGINT');
      assert.equal(await sluice.exited, 0);
    } finally {
      sluice.child.kill('SIGKILL');
    }
  });
});
