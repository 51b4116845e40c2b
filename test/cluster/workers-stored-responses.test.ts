// `sluice start --workers 2` with the record of stored responses in memory (the default with memory counters): the
// record is the primary's, so a response created through one worker is retrieved and deleted through the other.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Agent } from 'undici';
import { MockProvider } from '../support/mock-provider.js';
import { storingResponsesApi } from '../support/mock-stored-responses.js';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { freePort, oneModelYaml } from '../support/sluice-process.js';
import { scratchDir } from '../support/scratch.js';

const KEY = 'sk-sluice-workers-key-0001';

describe('sluice start --workers 2: stored responses', () => {
  let mock: MockProvider;
  let sluice: SluiceProcess;
  let gatewayPort: number;
  const api = storingResponsesApi('/v1', (request) => request.headers.authorization === 'Bearer upstream-not-real');

  before(async () => {
    mock = await MockProvider.start(api.responder);
    const dir = scratchDir('sluice-workers-responses-');
    gatewayPort = await freePort();
    const adminPort = await freePort();
    const config = join(dir, 'sluice.yaml');
    writeFileSync(
      config,
      `
gateway: { host: 127.0.0.1, port: ${gatewayPort} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: admin-token-for-the-workers-test }
storage: sqlite:${join(dir, 'sluice.db')}
${oneModelYaml(mock.url, KEY)}
`,
    );
    sluice = runSluice(['start', '--workers', '2', '--config', config], { SLUICE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') });
    await waitFor(sluice.output, /sluice workers are listening/, 60_000);
  });

  after(async () => {
    if (sluice.child.exitCode === null) await stopSluice(sluice);
    await mock.close();
  });

  test('a response created through one worker is retrieved and deleted through the other', { timeout: 60_000 }, async () => {
    // Two clients, each holding one keep-alive connection: the primary hands the second to the worker with fewer open.
    const agents = [new Agent({ connections: 1 }), new Agent({ connections: 1 })];
    const clients = agents.map(
      (agent) =>
        new OpenAI({
          apiKey: KEY,
          baseURL: `http://127.0.0.1:${gatewayPort}/v1`,
          maxRetries: 0,
          fetchOptions: { dispatcher: agent } as never,
        }),
    );
    try {
      const [first, second] = clients as [OpenAI, OpenAI];
      const created = await first.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
      const other = await second.responses.create({ model: 'gpt-4o-mini', input: 'Hello again' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal((await second.responses.retrieve(created.id)).id, created.id);
      assert.equal((await first.responses.retrieve(other.id)).id, other.id);
      await second.responses.delete(created.id);
      assert.equal(api.stored.has(created.id), false);
    } finally {
      await Promise.all(agents.map((agent) => agent.close()));
    }
  });
});
