// A budget template's instances over HTTP: one per consumer its selector matches, following consumers created later,
// each with its usage in the current window; a template that does not exist is a 404.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectorStore } from '../../src/store/director-store.js';
import { openDirectorStore } from '../../src/store/open.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-templates';

describe('budget template instances', () => {
  let sluice: TestSluice;
  let ledger: DirectorStore;
  const admin = async (method: string, path: string, payload?: unknown) => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    ledger = await openDirectorStore(`sqlite:${sluice.dbPath}`);
    assert.equal((await admin('POST', '/api/teams', { name: 'data', owner: 'dana@example.com' })).status, 201);
    for (const [name, labels] of [
      ['etl', { tier: 'batch' }],
      ['reports', { tier: 'online' }],
    ] as const) {
      assert.equal((await admin('POST', '/api/consumers', { name, team: 'data', labels })).status, 201);
    }
  });

  after(async () => {
    await ledger.close();
    await sluice.stop();
  });

  test('one instance per matching consumer, with its usage this window, and later consumers join', async () => {
    const made = await admin('POST', '/api/budget-templates', {
      name: 'batch-daily',
      selector: { labels: { tier: 'batch' } },
      measure: 'total_tokens',
      limit: 10_000,
      window: 'day',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const now = Date.now();
    await ledger.insertTransactions([
      {
        requestId: 'etl-1',
        startedAt: now,
        operation: 'chat',
        api: 'openai',
        consumer: 'etl',
        team: 'data',
        requestedModel: 'gpt-4o-mini',
        provider: 'openai',
        providerModel: 'gpt-4o-mini',
        stream: false,
        inputTokens: 2_000,
        outputTokens: 500,
        cachedInputTokens: 0,
        cacheWriteTokens: 0,
        tokensEstimated: false,
        costMicroUsd: 100,
        latencyMs: 10,
        timeToFirstTokenMs: null,
        status: 200,
        errorClass: null,
        attempts: 1,
        servedModel: null,
        violations: null,
      },
    ]);
    const first = await admin('GET', '/api/budget-templates/batch-daily/instances');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.items, [
      {
        name: 'batch-daily/etl',
        consumer: 'etl',
        team: 'data',
        unit: 'tokens',
        limit: 10_000,
        used: 2_500,
        usedPercent: 25,
        exhausted: false,
        // A token template's: cost templates give their figures exactly here (test/console/sub-micro-spend.test.ts).
        nanoUsd: null,
      },
    ]);
    assert.equal((await admin('POST', '/api/consumers', { name: 'backfill', team: 'data', labels: { tier: 'batch' } })).status, 201);
    const second = await admin('GET', '/api/budget-templates/batch-daily/instances');
    assert.deepEqual(
      second.body.items.map((item: any) => item.name),
      ['batch-daily/backfill', 'batch-daily/etl'],
    );
    assert.equal((await admin('GET', '/api/budget-templates/none/instances')).status, 404);
  });
});
