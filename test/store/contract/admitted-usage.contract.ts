// Contract: admittedUsage, the ledger's figure budget counters are seeded with: whole hours and days from the rollups,
// partial hours at either end from the ledger's rows, only calls a target answered, never observed traffic. Each test owns
// its own months (2033: no other part of the contract writes there).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../../src/ledger/transaction.js';
import type { AdmittedUsageRow } from '../../../src/store/director-store.js';
import { StoreInvalid } from '../../../src/store/errors.js';
import { rejectsWith, type ContractContext } from './context.js';

const at = (time: string) => Date.parse(time);

let sequence = 0;
function call(startedAt: string, overrides: Partial<Transaction> = {}): Transaction {
  return {
    requestId: `admitted-${sequence++}`,
    startedAt: at(startedAt),
    operation: 'chat',
    api: 'openai',
    consumer: 'seed-checkout',
    team: 'seed-payments',
    requestedModel: 'gpt-4o',
    provider: 'openai',
    providerModel: 'gpt-4o-2024-08-06',
    stream: false,
    inputTokens: 100,
    outputTokens: 10,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: 1_000,
    latencyMs: 5,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
    ...overrides,
  };
}

/** Calls, input tokens and cost of the one row a test expects, or of none. */
const totals = (rows: AdmittedUsageRow[]) =>
  rows.map((row) => [row.consumer, row.provider, row.calls, row.inputTokens, row.costNanoUsd / 1000]);

export function admittedUsageContract(context: ContractContext): void {
  describe('admitted usage (the seed of budget counters)', () => {
    test('a span with partial hours at both ends: the rows there, the rollups in between, whole days included', async () => {
      const { store } = context;
      await store.insertTransactions([
        call('2033-03-01T09:59:59.999Z', { inputTokens: 1 }), // before the span
        call('2033-03-01T10:20:00Z', { inputTokens: 2 }), // the head's partial hour
        call('2033-03-01T10:59:00Z', { inputTokens: 4 }),
        call('2033-03-01T11:30:00Z', { inputTokens: 8 }), // whole hours on the first day
        call('2033-03-02T12:00:00Z', { inputTokens: 16 }), // a whole day
        call('2033-03-03T01:00:00Z', { inputTokens: 32 }), // whole hours on the last day
        call('2033-03-03T14:00:00Z', { inputTokens: 64 }), // the tail's partial hour
        call('2033-03-03T14:09:59.999Z', { inputTokens: 128 }),
        call('2033-03-03T14:10:00Z', { inputTokens: 256 }), // at the span's end: after it
      ]);
      const rows = await store.admittedUsage({ from: at('2033-03-01T10:15:00Z'), to: at('2033-03-03T14:10:00Z') });
      assert.deepEqual(totals(rows), [['seed-checkout', 'openai', 7, 2 + 4 + 8 + 16 + 32 + 64 + 128, 7_000]]);
      assert.deepEqual(
        rows.map((row) => [row.team, row.model, row.providerModel, row.outputTokens]),
        [['seed-payments', 'gpt-4o', 'gpt-4o-2024-08-06', 70]],
      );
      // Within one hour, and across one hour's edge: the rows alone.
      assert.deepEqual(totals(await store.admittedUsage({ from: at('2033-03-01T10:30:00Z'), to: at('2033-03-01T10:59:30Z') })), [
        ['seed-checkout', 'openai', 1, 4, 1_000],
      ]);
      assert.deepEqual(totals(await store.admittedUsage({ from: at('2033-03-01T10:30:00Z'), to: at('2033-03-01T11:45:00Z') })), [
        ['seed-checkout', 'openai', 2, 12, 2_000],
      ]);
      // On whole hours: the rollups alone.
      assert.deepEqual(totals(await store.admittedUsage({ from: at('2033-03-01T00:00:00Z'), to: at('2033-04-01T00:00:00Z') })), [
        ['seed-checkout', 'openai', 9, 511, 9_000],
      ]);
      assert.deepEqual(await store.admittedUsage({ from: at('2033-03-05T00:00:00Z'), to: at('2033-03-05T00:00:00.001Z') }), []);
    });

    test('only calls with a consumer that a target answered count, at any status; each rollup key is its own row', async () => {
      const { store } = context;
      await store.insertTransactions([
        call('2033-04-01T10:10:00Z'),
        call('2033-04-01T12:10:00Z'),
        // A target answered, then the client left: a call, with its usage.
        call('2033-04-01T12:20:00Z', { status: 499, errorClass: 'client_disconnected', inputTokens: 50, costMicroUsd: 500 }),
        // An unpriced model: a call without cost.
        call('2033-04-01T12:30:00Z', { requestedModel: 'house', providerModel: 'house-7b', costMicroUsd: null }),
        // Refused before routing (budget, unknown model, unsanctioned): no target, not admitted.
        call('2033-04-01T10:20:00Z', {
          provider: null,
          providerModel: null,
          status: 429,
          errorClass: 'budget_exhausted',
          inputTokens: 0,
          outputTokens: 0,
          costMicroUsd: null,
        }),
        call('2033-04-01T12:40:00Z', {
          provider: null,
          providerModel: null,
          status: 404,
          errorClass: 'model_not_found',
          inputTokens: 0,
          outputTokens: 0,
          costMicroUsd: null,
        }),
        // Without a key: no consumer.
        call('2033-04-01T12:50:00Z', { consumer: null, team: null, provider: null, providerModel: null, status: 401, costMicroUsd: null }),
        call('2033-04-01T12:55:00Z', { consumer: 'seed-search', team: null }),
      ]);
      const rows = await store.admittedUsage({ from: at('2033-04-01T10:00:00Z'), to: at('2033-04-01T13:30:00Z') });
      assert.deepEqual(
        rows.map((row) => [row.consumer, row.team, row.model, row.providerModel, row.calls, row.inputTokens, row.costNanoUsd / 1000]),
        [
          ['seed-checkout', 'seed-payments', 'gpt-4o', 'gpt-4o-2024-08-06', 3, 250, 2_500],
          ['seed-checkout', 'seed-payments', 'house', 'house-7b', 1, 100, 0],
          ['seed-search', '', 'gpt-4o', 'gpt-4o-2024-08-06', 1, 100, 1_000],
        ],
      );
    });

    test('traffic observers reported is not gateway traffic: left out, in whole hours and at the edges alike', async () => {
      const { store } = context;
      await store.createTeam('test', { name: 'seed-observed-team', owner: 'owner@example.com' });
      await store.createConsumer('test', { name: 'seed-observed', team: 'seed-observed-team' });
      await store.insertTransactions([call('2033-05-01T11:00:00Z', { consumer: 'seed-observed', team: 'seed-observed-team' })]);
      const intake = await store.recordObservations([
        {
          observer: 'seed-proxy',
          at: at('2033-05-01T10:30:00Z'),
          source: { ip: '10.77.0.1' },
          provider: 'openai',
          model: 'gpt-4o',
          calls: 5,
          inputTokens: 500,
          costMicroUsd: 5_000,
        },
        {
          observer: 'seed-proxy',
          at: at('2033-05-01T11:30:00Z'),
          source: { ip: '10.77.0.1' },
          provider: 'openai',
          model: 'gpt-4o',
          calls: 3,
          inputTokens: 300,
          costMicroUsd: 3_000,
        },
      ]);
      await store.resolveDiscoveredConsumer('test', intake.consumers[0]!.id, { consumer: 'seed-observed' });
      for (const period of [
        { from: at('2033-05-01T00:00:00Z'), to: at('2033-05-02T00:00:00Z') },
        { from: at('2033-05-01T10:15:00Z'), to: at('2033-05-01T12:45:00Z') },
      ]) {
        assert.deepEqual(totals(await store.admittedUsage(period)), [['seed-observed', 'openai', 1, 100, 1_000]]);
      }
    });

    test('calls answered from the response cache are never admitted: left out, in whole hours, whole days and at the edges', async () => {
      const { store } = context;
      // A hit as the gateway records it (docs/agents.md#response-cache): cost 0, no attempt, the replayed answer's target and tokens.
      const hit = (startedAt: string) => call(startedAt, { costMicroUsd: 0, attempts: 0, cachedInputTokens: 100, savedMicroUsd: 1_000 });
      await store.insertTransactions([
        call('2033-06-01T10:20:00Z'), // the head's partial hour
        hit('2033-06-01T10:30:00Z'),
        hit('2033-06-01T11:30:00Z'), // a whole hour
        call('2033-06-02T12:00:00Z'), // a whole day
        hit('2033-06-02T12:05:00Z'),
        hit('2033-06-03T14:05:00Z'), // the tail's partial hour
      ]);
      const period = { from: at('2033-06-01T10:15:00Z'), to: at('2033-06-03T14:10:00Z') };
      const rows = await store.admittedUsage(period);
      assert.deepEqual(totals(rows), [['seed-checkout', 'openai', 2, 200, 2_000]]);
      assert.deepEqual(
        rows.map((row) => row.outputTokens),
        [20],
      );
      // Hits alone: nothing admitted.
      assert.deepEqual(await store.admittedUsage({ from: at('2033-06-03T00:00:00Z'), to: at('2033-06-03T14:10:00Z') }), []);
      // The usage figures still count every call, the hits among them.
      const [usage] = await store.usage({ from: at('2033-06-01T00:00:00Z'), to: at('2033-06-04T00:00:00Z'), bucket: 'month', groupBy: [] });
      assert.deepEqual(
        [usage?.calls, usage?.inputTokens, usage?.cacheHitCalls, usage?.cacheHitInputTokens, usage?.cacheHitOutputTokens],
        [6, 600, 4, 400, 40],
      );
    });

    test('a span that is empty, reversed or not in milliseconds is refused', async () => {
      const { store } = context;
      await rejectsWith(store.admittedUsage({ from: at('2033-06-01T00:00:00Z'), to: at('2033-06-01T00:00:00Z') }), StoreInvalid);
      await rejectsWith(store.admittedUsage({ from: at('2033-06-02T00:00:00Z'), to: at('2033-06-01T00:00:00Z') }), StoreInvalid);
      await rejectsWith(store.admittedUsage({ from: 1.5, to: 10 }), StoreInvalid);
    });
  });
}
