// Monitor mode serves calls that break a policy and says so; a key holder sending many such calls must not flood the
// log (one line per call did): every violation is counted and recorded in its ledger row, the log says so a bounded
// number of times, with how many it left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { capturedLogger, KEYS, ledgerRows, startTestSluice } from '../support/sluice.js';

test('monitor mode: 300 served violations, all counted and in the ledger, a bounded number of log lines', async () => {
  const upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('ok')));
  const log = capturedLogger();
  const sluice = await startTestSluice(
    {
      providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      resources: { 'openai/gpt-4o-mini': 'unsanctioned' },
      resourcePolicy: { unsanctioned: 'monitor' },
      budgets: [{ name: 'watched', consumers: 'everyone', mode: 'monitor', measure: 'requests', limit: 1, window: 'day' }],
    },
    { logger: log.logger },
  );
  const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  try {
    const calls = 300;
    for (let sent = 0; sent < calls; sent += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () =>
          client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        ),
      );
    }
    await sluice.sluice.settled();
    const violations = log.lines().filter((line) => line.includes('policy violation'));
    assert.ok(violations.length >= 2, 'each policy broken is in the log');
    assert.ok(violations.length <= 6, `${violations.length} violation lines for ${calls} calls`);
    const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(`sluice_policy_violations_total\\{policy="resource:openai/gpt-4o-mini",kind="resource"\\} ${calls}\\n`),
    );
    assert.match(metrics, new RegExp(`sluice_policy_violations_total\\{policy="watched",kind="budget"\\} ${calls - 1}\\n`));
    const rows = await ledgerRows(sluice);
    assert.equal(rows.filter((row) => row.status === 200).length, calls);
  } finally {
    await sluice.stop();
    await upstream.close();
  }
});
