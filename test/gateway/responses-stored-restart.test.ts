// The record of stored responses of a lone gateway on memory (`responses.store` memory, the default with memory counters)
// outlives a restart on the same data folder, driven by the openai SDK: OpenAI keeps a response 30 days, and a deploy or a
// change that needs a restart must not make its owner's responses unreachable through Sluice, nor let another consumer
// continue from them (an id not recorded is sent on unchecked).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { MockProvider } from '../support/mock-provider.js';
import { storingResponsesApi } from '../support/mock-stored-responses.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { scratchDir } from '../support/scratch.js';

const OPENAI_KEY = 'upstream-openai-key-not-real';

describe('stored responses of a lone gateway on memory, across its restart', () => {
  const api = storingResponsesApi('/v1', (request) => request.headers.authorization === `Bearer ${OPENAI_KEY}`);
  let mock: MockProvider;
  const spoolDir = `${scratchDir('sluice-stored-restart-')}/spool`;
  const running: TestSluice[] = [];

  const start = async () => {
    const sluice = await startTestSluice({
      ledger: { spoolDir },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: OPENAI_KEY } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    running.push(sluice);
    const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    return { sluice, checkout: client(KEYS.checkout), search: client(KEYS.search) };
  };

  before(async () => {
    mock = await MockProvider.start(api.responder);
  });

  after(async () => {
    for (const sluice of running) await sluice.stop();
    await mock.close();
  });

  test('its owner retrieves a response made before the restart; another consumer can neither read nor continue it', async () => {
    const first = await start();
    const kept = await first.checkout.responses.create({ model: 'gpt-4o-mini', input: 'Remember 42' });
    const deleted = await first.checkout.responses.create({ model: 'gpt-4o-mini', input: 'Forget me' });
    await first.sluice.sluice.settled();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await first.checkout.responses.delete(deleted.id);
    await first.sluice.stop();
    // Its journal, in the spool folder; its last line cut short, as a process killed mid-write leaves it.
    const journal = join(spoolDir, 'stored-responses', 'records.jsonl');
    appendFileSync(journal, '{"id":"resp_cut_sh');

    const next = await start();
    assert.equal((await next.checkout.responses.retrieve(kept.id)).id, kept.id);
    const sent = mock.received.length;
    await assert.rejects(next.search.responses.retrieve(kept.id), (error: unknown) => error instanceof OpenAI.NotFoundError);
    await assert.rejects(
      next.search.responses.create({ model: 'gpt-4o-mini', input: 'What number?', previous_response_id: kept.id }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.code === 'previous_response_not_found',
    );
    // Deleted before the restart: forgotten, as it was.
    await assert.rejects(next.checkout.responses.retrieve(deleted.id), (error: unknown) => error instanceof OpenAI.NotFoundError);
    assert.equal(mock.received.length, sent, 'nothing reached the provider');
    // Written anew at the start: the one response still recorded, nothing of the deleted one or of the cut line.
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { id: string }).id),
      [kept.id],
    );
  });
});
