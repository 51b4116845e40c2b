// `sluice start --workers 2` with the record of stored responses in memory (the default with memory counters): the
// record is the primary's, so a response created through one worker is retrieved and deleted through the other, and a
// background stream still open through one is retrieved and cancelled through the other, by its consumer alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Agent } from 'undici';
import { CANCELLED_USAGE, streamingBackgroundApi } from '../support/mock-background-stream.js';
import { MockProvider, type Received } from '../support/mock-provider.js';
import { sqliteLedgerRows } from '../support/ledger.js';
import { storingResponsesApi } from '../support/mock-stored-responses.js';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { freePort, oneModelYaml } from '../support/sluice-process.js';
import { scratchDir } from '../support/scratch.js';
import { until } from '../support/until.js';

const KEY = 'sk-sluice-workers-key-0001';
const OTHER_KEY = 'sk-sluice-workers-key-0002';

describe('sluice start --workers 2: stored responses', () => {
  let mock: MockProvider;
  let sluice: SluiceProcess;
  let gatewayPort: number;
  const api = storingResponsesApi('/v1', (request) => request.headers.authorization === 'Bearer upstream-not-real');
  const streaming = streamingBackgroundApi('upstream-not-real', 'gpt-4o-mini-2024-07-18', 'resp_wbg');
  let dbPath: string;
  /** Streamed background calls and the calls on their responses to the streaming mock; the rest to the storing one. */
  const responder = (request: Received, res: import('node:http').ServerResponse) =>
    request.body.background === true || request.path.includes('/resp_wbg')
      ? streaming.responder(request, res)
      : api.responder(request, res);

  before(async () => {
    mock = await MockProvider.start(responder);
    const dir = scratchDir('sluice-workers-responses-');
    gatewayPort = await freePort();
    const adminPort = await freePort();
    const config = join(dir, 'sluice.yaml');
    writeFileSync(
      config,
      `
gateway: { host: 127.0.0.1, port: ${gatewayPort} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: admin-token-for-the-workers-test }
storage: sqlite:${(dbPath = join(dir, 'sluice.db'))}
ledger: { flushIntervalMs: 50 }
responses: { background: meter }
${oneModelYaml(mock.url, KEY)}
  - { name: search-service, team: discovery, owner: bob@example.com, keys: ["${OTHER_KEY}"] }
`,
    );
    sluice = runSluice(['start', '--workers', '2', '--config', config], { SLUICE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') });
    await waitFor(sluice.output, /sluice workers are listening/, 60_000);
  });

  after(async () => {
    if (sluice.child.exitCode === null) await stopSluice(sluice);
    await mock.close();
  });

  /** Clients each holding one keep-alive connection: the primary hands each next one to the worker with fewer open. */
  const clientsOn = (agents: Agent[], keys: string[]) =>
    agents.map(
      (agent, index) =>
        new OpenAI({
          apiKey: keys[index]!,
          baseURL: `http://127.0.0.1:${gatewayPort}/v1`,
          maxRetries: 0,
          fetchOptions: { dispatcher: agent } as never,
        }),
    );

  test('a response created through one worker is retrieved and deleted through the other', { timeout: 60_000 }, async () => {
    const agents = [new Agent({ connections: 1 }), new Agent({ connections: 1 })];
    const clients = clientsOn(agents, [KEY, KEY]);
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

  test(
    'a background stream still open through one worker is retrieved and cancelled through the other, by its consumer alone',
    { timeout: 90_000 },
    async () => {
      const agents = [new Agent({ connections: 1 }), new Agent({ connections: 1 }), new Agent({ connections: 1 })];
      const [first, second, other] = clientsOn(agents, [KEY, KEY, OTHER_KEY]) as [OpenAI, OpenAI, OpenAI];
      try {
        const stream = await first.responses.create({ model: 'gpt-4o-mini', input: 'Research otters', background: true, stream: true });
        const events = stream[Symbol.asyncIterator]();
        let id = '';
        for (let next = await events.next(); next.done !== true; next = await events.next()) {
          if (next.value.type === 'response.created') id = next.value.response.id;
          if (next.value.type === 'response.output_text.delta') break;
        }
        assert.equal(streaming.connected(id), true, 'the stream is still open');
        assert.equal((await second.responses.retrieve(id)).status, 'in_progress');
        await assert.rejects(other.responses.retrieve(id), (error: unknown) => error instanceof OpenAI.NotFoundError);
        assert.equal((await second.responses.cancel(id)).status, 'cancelled');
        try {
          for (let next = await events.next(); next.done !== true; next = await events.next());
        } catch {
          // The stream ends with the error event of a stream broken off: the provider closed it at the cancel.
        }
        await until(
          'the cancelled call recorded',
          () => sqliteLedgerRows(dbPath, 'gpt-4o-mini').some((row) => isCancelled(row)),
          60_000,
          100,
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
        const rows = sqliteLedgerRows<{ error_class: string | null; input_tokens: number; output_tokens: number }>(dbPath, 'gpt-4o-mini');
        assert.deepEqual(
          rows.filter(isCancelled).map((row) => [row.input_tokens, row.output_tokens]),
          [[CANCELLED_USAGE.input_tokens, CANCELLED_USAGE.output_tokens]],
          'one row, with what the response used before the cancel',
        );
      } finally {
        // Destroyed, not closed: a stream left open (the test failed before its cancel) would hold a close forever.
        await Promise.all(agents.map((agent) => agent.destroy()));
      }
    },
  );
});

function isCancelled(row: unknown): boolean {
  return (row as { error_class: string | null }).error_class === 'background_cancelled';
}
