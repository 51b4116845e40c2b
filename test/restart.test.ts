// A restart changes nothing a client or an operator holds: the default consumer's key and the admin token in ./data
// are read back, not made anew, and a start that fails (a port in use) leaves every file as it was.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion } from './support/mock-provider.js';
import { listeningPorts, runSluice, stopSluice } from './support/process.js';
import { scratchDir } from './support/scratch.js';

interface KeyView {
  name: string;
  revokedAt: string | null;
}

function chat(gatewayPort: number, key: string) {
  const client = new OpenAI({ apiKey: key, baseURL: `http://127.0.0.1:${gatewayPort}/v1`, maxRetries: 0 });
  return client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
}

async function defaultConsumerKeys(adminPort: number, token: string): Promise<KeyView[]> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/api/consumers/default/keys`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200, 'the token from ./data/admin.token is accepted');
  return ((await response.json()) as { items: KeyView[] }).items;
}

function dataFiles(dir: string) {
  const read = (name: string) => {
    const path = join(dir, 'data', name);
    return { text: readFileSync(path, 'utf8'), mtimeMs: statSync(path).mtimeMs };
  };
  return { key: read('default-consumer.key'), token: read('admin.token'), masterKey: read('master.key') };
}

describe('restarting sluice on the embedded defaults', () => {
  const upstreamEnv = (upstream: MockProvider) => ({
    OPENAI_API_KEY: 'sk-upstream-not-real-000000',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    SLUICE_PORT: '0',
    SLUICE_ADMIN_PORT: '0',
  });

  test("keeps the default consumer's key and the admin token: a client key works across the restart", async () => {
    const upstream = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('ok', { prompt_tokens: 3, completion_tokens: 1 })),
    );
    const dir = scratchDir('sluice-restart-');
    try {
      const first = runSluice([], upstreamEnv(upstream), dir);
      const before = await (async () => {
        try {
          const ports = await listeningPorts(first);
          const files = dataFiles(dir);
          assert.equal((await chat(ports.gateway, files.key.text.trim())).choices[0]?.message.content, 'ok');
          return files;
        } finally {
          assert.equal(await stopSluice(first), 0);
        }
      })();

      const second = runSluice([], upstreamEnv(upstream), dir);
      try {
        const ports = await listeningPorts(second);
        const after = dataFiles(dir);
        assert.equal(after.key.text, before.key.text, 'the same key file');
        assert.equal(after.token.text, before.token.text, 'the same admin token file');
        assert.equal((await chat(ports.gateway, before.key.text.trim())).choices[0]?.message.content, 'ok', 'the client key still works');
        const keys = await defaultConsumerKeys(ports.admin, before.token.text.trim());
        assert.equal(keys.length, 1, 'no key was made or revoked by the restart');
        assert.equal(keys[0]!.revokedAt, null);
        assert.doesNotMatch(keys[0]!.name, /sluice\.yaml/, 'there is no sluice.yaml to name');
      } finally {
        assert.equal(await stopSluice(second), 0);
      }
    } finally {
      await upstream.close();
    }
  });

  // A second `npm start` in the same folder: it stops at the ledger spool the first one holds (or, were that free, at the
  // port in use; test/startup.test.ts has the port alone). Either way it must change no file.
  test("a second start in the same folder (port and spool in use) changes no file and leaves the running one's key and token working", async () => {
    const upstream = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('ok', { prompt_tokens: 3, completion_tokens: 1 })),
    );
    const dir = scratchDir('sluice-restart-');
    const running = runSluice([], upstreamEnv(upstream), dir);
    try {
      const ports = await listeningPorts(running);
      const before = dataFiles(dir);

      const clash = runSluice([], { ...upstreamEnv(upstream), SLUICE_PORT: String(ports.gateway) }, dir);
      assert.equal(await clash.exited, 1);
      assert.match(clash.output(), /EADDRINUSE|address already in use|ledger spool folder .* is in use by process/);
      // Said as a start that cannot listen is: one line naming the way out, not a stack trace as if Sluice had crashed.
      assert.doesNotMatch(clash.output(), /^\s+at /m);
      assert.deepEqual(dataFiles(dir), before, 'key, token and master key files untouched (content and modification time)');

      const keys = await defaultConsumerKeys(ports.admin, before.token.text.trim());
      assert.deepEqual(
        keys.map((key) => key.revokedAt),
        [null],
        'the failed start neither added nor revoked a key',
      );
      assert.equal((await chat(ports.gateway, before.key.text.trim())).choices[0]?.message.content, 'ok');
    } finally {
      assert.equal(await stopSluice(running), 0);
      await upstream.close();
    }
  });
});
