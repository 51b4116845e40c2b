// Projections for a new deployment over HTTP, against both stores: the ledger began when the gateway's first call came
// in, mid-day three days ago. Its first day is not a full day of spend to average, and the time before it is unknown, not
// idle: neither the month-end forecast nor a budget's burn-down may spread the spend over it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../src/ledger/transaction.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { adminClient, type AdminClient, clientWithRole, OFFLINE_CATALOG } from '../support/admin-client.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import type { TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-forecast-api';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const USD = 1_000_000;

/** A call of 1 USD; discovery's go to a model, provider and resource of their own. */
function call(startedAt: number, team = 'payments'): Transaction {
  const own = team === 'discovery';
  return {
    requestId: `forecast-${team}-${startedAt}`,
    startedAt,
    operation: 'chat',
    api: 'openai',
    consumer: team === 'payments' ? 'checkout-service' : 'search-service',
    team,
    requestedModel: own ? 'claude-haiku' : 'gpt-4o-mini',
    provider: own ? 'anthropic' : 'openai',
    providerModel: own ? 'claude-3-5-haiku' : 'gpt-4o-mini',
    stream: false,
    inputTokens: 1_000,
    outputTokens: 100,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: USD,
    latencyMs: 10,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
  };
}

/**
 * When a 7-day rolling budget whose usage began `since` (1 USD every hour from then until midnight today), `extra` USD
 * under its limit, is projected to run out, asked at `now`: its total grows at the rate of the window's latest quarter
 * (since its usage began, if later), and none of it rolls off before a week has passed since it began.
 */
function rollingExhaustion(since: number, today: number, extra: number, now: number): number {
  const recentFrom = Math.max(since, Math.floor((now - 42 * HOUR) / HOUR) * HOUR);
  const recentUsed = (Math.max(0, today - recentFrom) / HOUR) * USD;
  return now + (extra * USD) / (recentUsed / (now - recentFrom));
}

async function rollingBudgetExhaustsAt(admin: AdminClient, body: object, since: number, today: number, extra: number): Promise<void> {
  const made = await admin('POST', '/api/budgets', { ...body, measure: 'cost_usd', window: { rolling: '7d' } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const before = Date.now();
  const answer = await admin('GET', `/api/budgets/${(body as { name: string }).name}/burn-down`);
  const after = Date.now();
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.limit - answer.body.used, extra * USD, JSON.stringify(answer.body));
  const exhaustsAt = Date.parse(answer.body.exhaustsAt);
  assert.ok(
    exhaustsAt >= rollingExhaustion(since, today, extra, before) - 1 && exhaustsAt <= rollingExhaustion(since, today, extra, after) + 1,
    `${answer.body.exhaustsAt} against ${new Date(rollingExhaustion(since, today, extra, before)).toISOString()}`,
  );
}

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `forecast API on ${storeKind}`, (db) => {
    let sluice: TestSluice;
    let ledger: DirectorStore;
    let admin: AdminClient;
    // Deployed three days ago at 18:00 UTC, one 1 USD call every hour since: 6 USD on the first day, 24 on each after.
    const today = Math.floor(Date.now() / DAY) * DAY;
    const firstCall = today - 3 * DAY + 18 * HOUR;

    before(async () => {
      sluice = await db.startSluice(BOOTSTRAP, OFFLINE_CATALOG);
      admin = adminClient(sluice, BOOTSTRAP);
      ledger = await db.openBesides(sluice);
      const calls: Transaction[] = [];
      for (let at = firstCall; at < today; at += HOUR) calls.push(call(at));
      await ledger.insertTransactions(calls);
    });

    after(async () => {
      await sluice?.stop();
    });

    test("a new deployment's first, partial day is not averaged as a full day: the run rate is the full days'", async () => {
      const answer = await admin('GET', '/api/forecast');
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const asOf = Date.parse(answer.body.asOf);
      const monthEnd = Date.parse(answer.body.to);
      const { overall } = answer.body;
      assert.deepEqual([overall.method, overall.historyDays], ['flat-mean', 2], JSON.stringify(overall));
      // The rest of the month at 24 USD a day, not at (6 + 24 + 24) / 3 = 18.
      const expected = overall.actualToDate.microUsd + (24 * USD * (monthEnd - asOf)) / DAY;
      assert.ok(Math.abs(overall.forecast.microUsd - expected) <= 1, `${overall.forecast.microUsd} against ${expected}`);
    });

    test("a month budget's burn-down runs at the rate since the ledger began, not since the window's start", async () => {
      const made = await admin('POST', '/api/budgets', {
        name: 'payments-monthly',
        consumers: { team: 'payments' },
        measure: 'cost_usd',
        limit: 100_000,
        window: 'month',
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const before = Date.now();
      const answer = await admin('GET', '/api/budgets/payments-monthly/burn-down');
      const after = Date.now();
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const { used } = answer.body;
      const start = Date.parse(answer.body.window.start);
      const end = Date.parse(answer.body.window.end);
      // What was used goes on at its rate since the first call (or the window's start, if later) to the window's end.
      const since = Math.max(start, Math.floor(firstCall / HOUR) * HOUR);
      const projected = (now: number) => used + (used / (now - since)) * (end - now);
      assert.ok(
        answer.body.projectedAtEnd <= Math.round(projected(before)) + 1 && answer.body.projectedAtEnd >= Math.round(projected(after)) - 1,
        `${answer.body.projectedAtEnd} against ${projected(before)}`,
      );
    });

    test('a rolling budget of a ledger begun within its window: none of the usage rolls off before a window has passed', async () => {
      // 54 USD since 18:00 three days ago, all of it in the last 7 days; 20 USD left.
      await rollingBudgetExhaustsAt(admin, { name: 'everyone-weekly', limit: 74 }, Math.floor(firstCall / HOUR) * HOUR, today, 20);
    });
  });
}

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `forecast API on ${storeKind}: a team new to an established deployment`, (db) => {
    let sluice: TestSluice;
    let ledger: DirectorStore;
    let admin: AdminClient;
    const today = Math.floor(Date.now() / DAY) * DAY;

    before(async () => {
      sluice = await db.startSluice(BOOTSTRAP, {
        providers: {
          openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-upstream-not-real' },
          anthropic: { type: 'anthropic', baseUrl: 'http://127.0.0.1:9', apiKey: 'sk-ant-upstream-not-real' },
        },
        models: [
          { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
          { name: 'claude-haiku', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku' }] },
        ],
      });
      admin = adminClient(sluice, BOOTSTRAP);
      ledger = await db.openBesides(sluice);
      // Payments has called since 20 days ago; discovery made its first call two days ago, 1 USD an hour since.
      const calls = [call(today - 20 * DAY, 'payments')];
      for (let at = today - 2 * DAY; at < today; at += HOUR) calls.push(call(at, 'discovery'));
      await ledger.insertTransactions(calls);
    });

    after(async () => {
      await sluice?.stop();
    });

    test("the days before a team's first call are not days it spent nothing: its forecast runs at its own rate", async () => {
      const answer = await admin('GET', '/api/forecast');
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const asOf = Date.parse(answer.body.asOf);
      const monthEnd = Date.parse(answer.body.to);
      const discovery = answer.body.teams.find((line: any) => line.team === 'discovery');
      assert.deepEqual([discovery.method, discovery.historyDays], ['flat-mean', 2], JSON.stringify(discovery));
      // 24 USD a day, not 48 USD spread over the 20 days since payments' first call.
      const expected = discovery.actualToDate.microUsd + (24 * USD * (monthEnd - asOf)) / DAY;
      assert.ok(Math.abs(discovery.forecast.microUsd - expected) <= 1, `${discovery.forecast.microUsd} against ${expected}`);
      // The deployment's own history is still 20 days: the overall forecast counts every day since its first call.
      assert.equal(answer.body.overall.historyDays, 20);
      // A team-owner's forecast of its own team is the same.
      const team = await admin('POST', '/api/teams', { name: 'discovery', owner: 'owner@example.com' });
      assert.ok([201, 409].includes(team.status), JSON.stringify(team.body));
      const owner = await clientWithRole(sluice, admin, 'discovery-owner', 'team-owner', 'discovery');
      const own = await owner('GET', '/api/forecast');
      assert.equal(own.status, 200, JSON.stringify(own.body));
      assert.equal(own.body.teams[0].historyDays, 2);
    });

    // A model, provider or resource new to the deployment is as new as a team: its usage began with its first call.
    for (const scope of [
      { consumers: { team: 'discovery' } },
      { consumers: { consumer: 'search-service' } },
      { resources: { model: 'claude-haiku' } },
      { resources: { provider: 'anthropic' } },
      { resources: { resource: 'anthropic/claude-3-5-haiku' } },
      { consumers: { team: 'discovery' }, resources: { model: 'claude-haiku' } },
    ]) {
      test(`a budget of a scope that began this month (${JSON.stringify(scope)}) burns at the rate since its own first call`, async () => {
        const name = `discovery-monthly-${Object.values(scope)
          .flatMap((part) => Object.keys(part))
          .join('-')}`;
        const made = await admin('POST', '/api/budgets', { name, ...scope, measure: 'cost_usd', limit: 100_000, window: 'month' });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        const before = Date.now();
        const answer = await admin('GET', `/api/budgets/${name}/burn-down`);
        const after = Date.now();
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const { used } = answer.body;
        const start = Date.parse(answer.body.window.start);
        const end = Date.parse(answer.body.window.end);
        // 24 USD a day since discovery's first call two days ago, not 48 USD spread from payments' first, 20 days ago.
        const since = Math.max(start, today - 2 * DAY);
        const projected = (now: number) => used + (used / (now - since)) * (end - now);
        assert.ok(
          answer.body.projectedAtEnd <= Math.round(projected(before)) + 1 && answer.body.projectedAtEnd >= Math.round(projected(after)) - 1,
          `${answer.body.projectedAtEnd} against ${projected(before)}`,
        );
      });
    }

    test('a rolling budget of a team begun within its window: its usage does not roll off before a window has passed', async () => {
      // Discovery's 48 USD since two days ago, 20 USD left: no earlier usage of the team's rolls off in the next 5 days.
      await rollingBudgetExhaustsAt(
        admin,
        { name: 'discovery-weekly', consumers: { team: 'discovery' }, limit: 68 },
        today - 2 * DAY,
        today,
        20,
      );
    });
  });
}
