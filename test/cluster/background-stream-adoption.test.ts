// Streamed background Responses API calls (`background: true, stream: true`, responses.background: meter) outlive a lone
// gateway killed with SIGKILL while their stream is still open, with real processes: the call is kept in its record (a
// file in the gateway's ledger spool, `background-responses/`) at the stream's first event, so the next start on the
// same folder follows the response and records it once the mock OpenAI reports it completed. A stream that runs to the
// response's end takes its record back as it is metered: recorded once, nothing left for a next start to record again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { streamingBackgroundApi } from '../support/mock-background-stream.js';
import { MockProvider } from '../support/mock-provider.js';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { sqliteLedgerRows } from '../support/ledger.js';
import { scratchDir } from '../support/scratch.js';
import { freePort } from '../support/sluice-process.js';
import { until } from '../support/until.js';

const KEY = 'sk-sluice-background-stream-kill-01';
const UPSTREAM_KEY = 'upstream-openai-key-not-real';
const MASTER_KEY = Buffer.alloc(32, 6).toString('base64');

interface Row {
  request_id: string;
  input_tokens: number;
  output_tokens: number;
  cost_micro_usd: number;
  error_class: string | null;
  tokens_estimated: number;
  stream: number;
  status: number;
}

function rows(dbPath: string): Row[] {
  return sqliteLedgerRows<Row>(dbPath, 'o3-deep-research');
}

/** A lone gateway (records and counters in memory) in `dir`: its sluice.yaml, its ledger, its records' folder. */
function lone(dir: string, mockUrl: string, port: number): { file: string; dbPath: string; records: string } {
  const dbPath = join(dir, 'lone.db');
  const file = join(dir, 'lone.yaml');
  writeFileSync(
    file,
    `
gateway: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: 0, token: admin-token-for-the-stream-kill-test }
storage: sqlite:${dbPath}
ledger: { flushIntervalMs: 50 }
counters: memory
responses: { background: meter }
providers:
  openai: { type: openai, baseUrl: ${mockUrl}/v1, apiKey: ${UPSTREAM_KEY} }
models:
  - name: o3-deep-research
    targets: [{ provider: openai, model: o3-deep-research }]
    pricing: { input: 10, output: 40 }
consumers:
  - { name: checkout-service, team: payments, owner: alice@example.com, keys: ["${KEY}"] }
`,
  );
  // docs/configuration.md: ledger.spoolDir defaults to `<SQLite file>-ledger-spool`.
  return { file, dbPath, records: join(`${dbPath}-ledger-spool`, 'background-responses') };
}

/** A streamed background call through the gateway, read up to its first text and held open there, as a client reading on. */
async function openStream(port: number, input: string) {
  const client = new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  const stream = await client.responses.create({ model: 'o3-deep-research', input, background: true, stream: true });
  const events = stream[Symbol.asyncIterator]();
  let id = '';
  for (;;) {
    const next = await events.next();
    if (next.done === true) throw new Error('the stream ended before its first text');
    if (next.value.type === 'response.created') id = next.value.response.id;
    if (next.value.type === 'response.output_text.delta') break;
  }
  return { id, events, close: () => stream.controller.abort() };
}

describe('a lone gateway killed (SIGKILL) while a streamed background call’s stream is open', () => {
  const api = streamingBackgroundApi(UPSTREAM_KEY, 'o3-deep-research-2025-06-26', 'resp_bgkill');
  let mock: MockProvider;
  const running: SluiceProcess[] = [];

  before(async () => {
    mock = await MockProvider.start(api.responder);
  });

  after(async () => {
    for (const sluice of running) if (sluice.child.exitCode === null && sluice.child.signalCode === null) await stopSluice(sluice);
    await mock.close();
  });

  async function start(file: string): Promise<SluiceProcess> {
    const sluice = runSluice(['start', '--config', file], { SLUICE_MASTER_KEY: MASTER_KEY });
    running.push(sluice);
    await waitFor(sluice.output, /sluice is listening/, 60_000);
    return sluice;
  }

  async function kill(sluice: SluiceProcess): Promise<void> {
    sluice.child.kill('SIGKILL');
    await sluice.exited;
  }

  test('its next start on the same folder follows the response to its end and records it once', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const { file, dbPath, records } = lone(scratchDir('sluice-background-stream-kill-'), mock.url, port);
    const killed = await start(file);
    const open = await openStream(port, 'Research otters at length');
    // Kept while the stream runs on: its record is in the folder (written off the relay's path, after the first event).
    await until('the call kept in its record while its stream is open', () => existsSync(join(records, `${open.id}.json`)), 20_000);
    assert.equal(api.connected(open.id), true, 'the stream is still open');
    await kill(killed);
    open.close();
    assert.equal(rows(dbPath).length, 0);

    const restarted = await start(file);
    await until('the restarted gateway retrieves the running response', () => api.retrievals(open.id) >= 1, 30_000);
    assert.equal(rows(dbPath).length, 0, 'no row while it runs');
    api.end(open.id, { input_tokens: 1_200, output_tokens: 15_000 });
    await until('the restarted gateway records it', () => rows(dbPath).length > 0, 90_000, 100);
    assert.equal(await stopSluice(restarted), 0);
    assert.deepEqual(
      rows(dbPath).map((row) => [row.status, row.input_tokens, row.output_tokens, row.error_class, row.tokens_estimated, row.stream]),
      [[200, 1_200, 15_000, null, 0, 1]],
    );
    // $10 and $40 per 1M tokens: 0.012 + 0.6 dollars.
    assert.equal(rows(dbPath)[0]!.cost_micro_usd, 612_000);
    assert.equal(existsSync(join(records, `${open.id}.json`)), false, 'its record taken');
  });

  test(
    'a stream that reaches the response’s end is recorded once: a kill and a restart record nothing more',
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      const { file, dbPath, records } = lone(scratchDir('sluice-background-stream-whole-'), mock.url, port);
      const killed = await start(file);
      const whole = await openStream(port, 'Research beavers');
      await until('the call kept in its record while its stream is open', () => existsSync(join(records, `${whole.id}.json`)), 20_000);
      api.end(whole.id, { input_tokens: 900, output_tokens: 11_000 });
      const types: string[] = [];
      for (let next = await whole.events.next(); next.done !== true; next = await whole.events.next()) types.push(next.value.type);
      assert.equal(types.at(-1), 'response.completed');
      await until('the streamed call recorded', () => rows(dbPath).length > 0, 20_000, 50);
      assert.equal(existsSync(join(records, `${whole.id}.json`)), false, 'its record taken as it was metered');

      // Another call left open when the gateway is killed: its row, written by the next start's adoption, says that
      // adoption has run (it would have found a record of the first call left behind in the same sweep).
      const open = await openStream(port, 'Research herons');
      await until('the second call kept in its record', () => existsSync(join(records, `${open.id}.json`)), 20_000);
      await kill(killed);
      open.close();
      const restarted = await start(file);
      await until('the restarted gateway retrieves the running response', () => api.retrievals(open.id) >= 1, 30_000);
      api.end(open.id, { input_tokens: 400, output_tokens: 2_000 });
      await until('the restarted gateway records the second call', () => rows(dbPath).length > 1, 90_000, 100);
      assert.equal(await stopSluice(restarted), 0);
      assert.deepEqual(
        rows(dbPath).map((row) => [row.input_tokens, row.output_tokens, row.error_class, row.stream]),
        [
          [900, 11_000, null, 1],
          [400, 2_000, null, 1],
        ],
      );
      assert.equal(api.retrievals(whole.id), 0, 'the first call never retrieved: its stream gave its usage');
    },
  );
});
