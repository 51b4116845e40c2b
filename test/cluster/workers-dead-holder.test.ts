// `sluice start --workers 2` with leases between the workers: a worker killed with SIGKILL while it holds leased room
// unused must not leave that room counted in the primary's budget until the window ends; the primary gives it back
// when the worker exits, so the other workers admit every call that fits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { chatStatus, oneModelYaml } from '../support/sluice-process.js';
import { childrenOf, connectionsHeld } from '../support/processes.js';
import { startWorkers } from '../support/workers.js';

const KEY = 'sk-sluice-workers-dead-holder-01';
const LIMIT = 40;

describe('sluice start --workers 2, a worker killed while holding leased room', () => {
  let mock: MockProvider;
  let sluice: SluiceProcess;
  let gatewayPort: number;

  before(async () => {
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hello', { prompt_tokens: 3, completion_tokens: 2 })),
    );
    ({ sluice, gatewayPort } = await startWorkers(
      'dead-holder',
      `
counters: { url: memory, leaseShare: 0.5 }
${oneModelYaml(mock.url, KEY)}
budgets:
  - { name: forty-calls, consumers: everyone, measure: requests, limit: ${LIMIT}, window: day, mode: enforce }
`,
    ));
  });

  after(async () => {
    if (sluice.child.exitCode === null) await stopSluice(sluice);
    await mock.close();
  });

  test(
    'its unused room is back in the budget once it exits: every call that fits is admitted, and no more',
    { timeout: 120_000 },
    async () => {
      // One call on one keep-alive connection: its worker leases 1 + floor(39 / 8) = 5 and holds the 4 it did not use.
      const pool = new Pool(`http://127.0.0.1:${gatewayPort}`, { connections: 1, pipelining: 1 });
      let answeredAt: number;
      try {
        const response = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
        });
        await response.body.text();
        answeredAt = Date.now();
        assert.equal(response.statusCode, 200);
        const holder = childrenOf(sluice.child.pid!).find((pid) => connectionsHeld(pid, gatewayPort) > 0);
        assert.ok(holder !== undefined, 'a worker holds the connection');
        process.kill(holder, 'SIGKILL');
      } finally {
        await pool.close();
      }
      // Killed before its lease went idle (1 s), when it would have given the room back itself.
      assert.ok(Date.now() - answeredAt < 800, `the worker was killed ${Date.now() - answeredAt} ms after its call`);
      await waitFor(sluice.output, /a worker died; starting another in its place/, 30_000);
      // One call at a time; a refusal is asked again once the live workers' idle slices are back (1 s), and only a
      // second refusal in a row means the budget is spent.
      let admitted = 0;
      for (let refusals = 0; refusals < 2;) {
        const status = await chatStatus(gatewayPort, KEY);
        if (status === 200) {
          admitted++;
          refusals = 0;
        } else {
          assert.equal(status, 429);
          refusals++;
          await new Promise((resolve) => setTimeout(resolve, 1_500));
        }
      }
      assert.equal(admitted, LIMIT - 1, 'every call that fits the budget with the first one');
    },
  );
});
