// Metric labels come from bounded sets: what a client names cannot grow /metrics, and a reload drops what it removed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import type { LedgerStatus } from '../../src/ledger/status.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import type { Transaction } from '../../src/ledger/transaction.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice } from '../support/sluice.js';

/** A ledger that holds nothing and has done nothing: these tests look at the per-call metrics only. */
function idleLedger(): LedgerStatus {
  return {
    bufferedRecords: 0,
    spooledRecords: 0,
    spooledBytes: 0,
    writtenRecords: 0,
    writeFailures: { unavailable: 0, refused: 0 },
    droppedRecords: { refused: 0, spoolFull: 0, spoolFailed: 0 },
    repairedValues: 0,
    failing: false,
    behind: false,
    oldestUnwrittenMs: 0,
  };
}

/** Each exposition line's metric name and labels, without its value: one entry per series. */
function seriesOf(exposition: string): Set<string> {
  const series = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    series.add(line.slice(0, line.lastIndexOf(' ')));
  }
  return series;
}

function gatewaySeries(exposition: string): string[] {
  return [...seriesOf(exposition)].filter((line) => line.startsWith('gen_ai_') || line.startsWith('sluice_cost_'));
}

function transaction(overrides: Partial<Transaction>): Transaction {
  return {
    requestId: 'r',
    startedAt: 0,
    operation: 'chat',
    api: 'openai',
    consumer: 'checkout-service',
    team: 'payments',
    requestedModel: 'gpt-4o-mini',
    provider: 'openai',
    providerModel: 'gpt-4o-mini',
    stream: false,
    inputTokens: 3,
    outputTokens: 2,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: 1,
    latencyMs: 12,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
    ...overrides,
  };
}

describe('metric labels', () => {
  test('10,000 unknown model names over HTTP, and 1 MB ones, leave the series and the size of /metrics unchanged', async () => {
    const upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('ok')));
    const sluice = await startTestSluice({
      gateway: { host: '127.0.0.1', port: 0, maxBodyBytes: 4 * 1024 * 1024 },
      providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-upstream-metrics-0001' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    const pool = new Pool(sluice.baseURL, { connections: 8 });
    const call = async (model: string) => {
      const response = await pool.request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await response.body.dump();
      return response.statusCode;
    };
    const scrape = async () => {
      const response = await fetch(`${sluice.adminURL}/metrics`);
      return { status: response.status, text: await response.text() };
    };
    try {
      assert.equal(await call('gpt-4o-mini'), 200);
      assert.equal(await call('not-configured-0'), 404);
      await sluice.sluice.settled();
      const before = await scrape();
      assert.equal(before.status, 200);
      assert.match(
        before.text,
        /gen_ai_server_request_duration_count\{consumer="checkout-service",model="unknown",provider="",status="404"/,
      );

      let next = 0;
      const statuses = new Map<number, number>();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < 10_000) {
            const name = `unknown-${next++}-`.padEnd(200, 'x');
            const status = await call(name);
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      assert.deepEqual([...statuses], [[404, 10_000]]);
      for (let i = 0; i < 3; i++) assert.equal(await call(`huge-${i}-`.padEnd(1024 * 1024, 'y')), 404);
      await sluice.sluice.settled();

      const after = await scrape();
      assert.equal(after.status, 200);
      assert.deepEqual(gatewaySeries(after.text), gatewaySeries(before.text), 'no new series');
      // Only the counts and sums grew (a few digits per line).
      assert.ok(after.text.length < before.text.length + 2_000, `/metrics grew from ${before.text.length} to ${after.text.length} bytes`);
      assert.match(
        after.text,
        /gen_ai_server_request_duration_count\{consumer="checkout-service",model="unknown",provider="",status="404",gen_ai_operation_name="chat"\} 10004\n/,
      );
    } finally {
      await pool.close();
      await sluice.stop();
      await upstream.close();
    }
  });

  test('labels only configured names: an unknown model or consumer is "unknown", an anonymous call ""', async () => {
    const metrics = new GatewayMetrics(idleLedger);
    metrics.configure({ models: ['gpt-4o-mini'], consumers: ['checkout-service'], providers: ['openai'] });
    metrics.observe(transaction({}));
    metrics.observe(transaction({ requestedModel: 'made-up', provider: null, status: 404 }));
    metrics.observe(transaction({ consumer: 'gone-service', requestedModel: 'gpt-4o-mini' }));
    metrics.observe(transaction({ consumer: null, requestedModel: null, provider: null, status: 401 }));
    metrics.observe(transaction({ provider: 'made-up-provider' }));
    const text = await metrics.registry.metrics();
    const counts = [...text.matchAll(/gen_ai_server_request_duration_count\{([^}]*)\} (\d+)/g)].map((m) => `${m[1]} ${m[2]}`).sort();
    assert.deepEqual(counts, [
      'consumer="",model="",provider="",status="401",gen_ai_operation_name="chat" 1',
      'consumer="checkout-service",model="gpt-4o-mini",provider="openai",status="200",gen_ai_operation_name="chat" 1',
      'consumer="checkout-service",model="gpt-4o-mini",provider="unknown",status="200",gen_ai_operation_name="chat" 1',
      'consumer="checkout-service",model="unknown",provider="",status="404",gen_ai_operation_name="chat" 1',
      'consumer="unknown",model="gpt-4o-mini",provider="openai",status="200",gen_ai_operation_name="chat" 1',
    ]);
  });

  test('label sets past the bound go to one overflow series per status class and operation', async () => {
    const metrics = new GatewayMetrics(idleLedger, { maxLabelSets: 10 });
    const consumers = Array.from({ length: 50 }, (_, i) => `consumer-${i}`);
    metrics.configure({ models: ['gpt-4o-mini'], consumers, providers: ['openai'] });
    for (const consumer of consumers) {
      metrics.observe(transaction({ consumer }));
      metrics.observe(transaction({ consumer, status: 502, provider: null }));
    }
    const text = await metrics.registry.metrics();
    const durationSeries = [...text.matchAll(/gen_ai_server_request_duration_count\{([^}]*)\} (\d+)/g)];
    assert.equal(durationSeries.length, 12, 'ten label sets and two overflow series');
    assert.match(
      text,
      /gen_ai_server_request_duration_count\{consumer="overflow",model="overflow",provider="overflow",status="2xx",gen_ai_operation_name="chat"\} 45\n/,
    );
    assert.match(
      text,
      /gen_ai_server_request_duration_count\{consumer="overflow",model="overflow",provider="overflow",status="5xx",gen_ai_operation_name="chat"\} 45\n/,
    );
  });

  test('a reload drops the series of models, consumers and providers it removed, and frees their room', async () => {
    const metrics = new GatewayMetrics(idleLedger, { maxLabelSets: 2 });
    metrics.configure({ models: ['a', 'b'], consumers: ['checkout-service'], providers: ['openai'] });
    metrics.observe(transaction({ requestedModel: 'a' }));
    metrics.observe(transaction({ requestedModel: 'b' }));
    metrics.configure({ models: ['a', 'c'], consumers: ['checkout-service'], providers: ['openai'] });
    metrics.observe(transaction({ requestedModel: 'c' }));
    const text = await metrics.registry.metrics();
    assert.doesNotMatch(text, /model="b"/);
    assert.doesNotMatch(text, /overflow/);
    assert.match(text, /gen_ai_server_request_duration_count\{[^}]*model="a"[^}]*\} 1\n/);
    assert.match(text, /gen_ai_server_request_duration_count\{[^}]*model="c"[^}]*\} 1\n/);
  });
});
