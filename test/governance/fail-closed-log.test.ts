// Fail-closed with the counters unreachable: every refused call is counted, but the log holds a bounded alarm, not a
// line per call (a busy gateway wrote 50,779 warnings in 8 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { capturedLogger, KEYS, startTestSluice } from '../support/sluice.js';

/** A local port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('fail-closed with Redis refusing connections: 300 refused calls, all counted, a bounded number of warnings', async () => {
  const upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('ok')));
  const log = capturedLogger();
  const sluice = await startTestSluice(
    {
      providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      counters: {
        url: `redis://127.0.0.1:${await closedPort()}`,
        failMode: 'closed',
        timeoutMs: 200,
        keyPrefix: 'sluice-test-never-written:',
      },
      budgets: [{ name: 'roomy', consumers: 'everyone', mode: 'enforce', measure: 'requests', limit: 1_000_000, window: 'day' }],
    },
    { logger: log.logger },
  );
  const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  try {
    const calls = 300;
    const statuses = await Promise.all(
      Array.from({ length: calls }, async () => {
        try {
          await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
          return 200;
        } catch (error) {
          assert.ok(error instanceof OpenAI.APIError);
          assert.equal(error.code, 'counters_unavailable');
          return error.status;
        }
      }),
    );
    assert.deepEqual(new Set(statuses), new Set([503]));
    await sluice.sluice.settled();
    const warnings = log.lines().filter((line) => (JSON.parse(line) as { level: number }).level >= 40);
    assert.ok(warnings.length >= 1, 'the outage is in the log');
    assert.ok(warnings.length <= 3, `${warnings.length} warning lines for ${calls} refused calls:\n${warnings.slice(0, 5).join('')}`);
    assert.ok(warnings.some((line) => line.includes('ALARM: counters unreachable, calls refused (fail-closed)')));
    const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
    assert.match(metrics, new RegExp(`sluice_counter_store_failures_total\\{operation="reserve",outcome="refused"\\} ${calls}\\n`));
    assert.equal(upstream.received.length, 0, 'no refused call reached the upstream');
  } finally {
    await sluice.stop();
    await upstream.close();
  }
});
