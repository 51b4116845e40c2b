// A gateway's process must serve with no async hooks on. On Node 20 an AsyncLocalStorage that has run once keeps async
// hooks and V8's promise hooks on, and then every promise of every call pays for them: the director store's
// all-or-nothing transaction, which applies sluice.yaml at start and on each reload, used to leave them on for the
// process's life (about a tenth of plain Sluice's calls/s, measured by `npm run bench` against a build without them).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emptyDir } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { chatStatus, freePort, oneModelYaml, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { until } from '../support/until.js';

const KEY = 'sk-sluice-promise-hooks-key-01';
const PROBE = fileURLToPath(new URL('../support/promise-hooks-probe.js', import.meta.url));

/** What the probe in `sluice` answers now: 'on' or 'off'. */
async function promiseHooks(sluice: SluiceProcess): Promise<string> {
  const before = sluice.output().split('promise-hooks: ').length;
  sluice.child.kill('SIGUSR2');
  await until('the probe answers', () => sluice.output().split('promise-hooks: ').length > before);
  return /promise-hooks: (on|off)\n[^]*$/.exec(sluice.output())![1]!;
}

describe('async hooks in a serving gateway', () => {
  test('are off after start, after calls and after a reload of sluice.yaml', async () => {
    const upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello.')));
    const dir = emptyDir();
    const config = join(dir, 'sluice.yaml');
    writeFileSync(config, oneModelYaml(upstream.url, KEY));
    const [port, adminPort] = [await freePort(), await freePort()];
    let sluice: SluiceProcess | undefined;
    try {
      sluice = await startSluiceProcess(['start', '--config', config, '--port', String(port), '--admin-port', String(adminPort)], {
        cwd: dir,
        env: { NODE_OPTIONS: `--import=${PROBE}` },
        adminURL: `http://127.0.0.1:${adminPort}`,
      });
      assert.equal(await promiseHooks(sluice), 'off', 'after start');
      for (let i = 0; i < 3; i++) assert.equal(await chatStatus(port, KEY), 200);
      assert.equal(await promiseHooks(sluice), 'off', 'after calls');

      // A reload applies the file in the same all-or-nothing transaction as the start.
      writeFileSync(
        config,
        `${oneModelYaml(upstream.url, KEY)}\nbudgets:\n  - { name: daily, consumers: everyone, measure: requests, limit: 1000, window: day }\n`,
      );
      sluice.child.kill('SIGHUP');
      await until('the reload is applied', () => sluice!.output().includes('"budgets":1,"msg":"config reloaded"'));
      assert.equal(await chatStatus(port, KEY), 200);
      assert.equal(await promiseHooks(sluice), 'off', 'after a reload');
    } finally {
      await sluice?.stop();
      await upstream.close();
    }
  });
});
