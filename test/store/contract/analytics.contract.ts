// Contract: the hourly usage rollups kept by insertTransactions, the usage and top-driver reads over them, resource
// statuses, and migration 6's backfill of a ledger that existed before the rollups did. Each test owns its own months.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../../src/ledger/transaction.js';
import type { UsageRow } from '../../../src/store/director-store.js';
import { StoreInvalid } from '../../../src/store/errors.js';
import { OUTCOME_SQL } from '../../../src/store/sql/rollup.js';
import { rejectsWith, type ContractContext } from './context.js';

const HOUR = 3_600_000;
const at = (time: string) => Date.parse(time);
const iso = (epochMs: number) => new Date(epochMs).toISOString();

let sequence = 0;
function call(startedAt: string | number, overrides: Partial<Transaction> = {}): Transaction {
  return {
    requestId: `usage-${sequence++}`,
    startedAt: typeof startedAt === 'string' ? at(startedAt) : startedAt,
    operation: 'chat',
    api: 'openai',
    consumer: 'checkout',
    team: 'payments',
    requestedModel: 'gpt-4o-mini',
    provider: 'openai',
    providerModel: 'gpt-4o-mini-2024-07-18',
    stream: false,
    inputTokens: 100,
    outputTokens: 10,
    cachedInputTokens: 20,
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

/** How calls end, as the ledger records them: served, refused by the gateway, failed after admission. */
const OUTCOMES: ReadonlyArray<Pick<Transaction, 'status' | 'errorClass'> & { provider?: null }> = [
  { status: 200, errorClass: null },
  { status: 429, errorClass: 'budget_exhausted', provider: null },
  { status: 404, errorClass: 'model_not_found', provider: null },
  { status: 403, errorClass: 'model_not_sanctioned', provider: null },
  { status: 502, errorClass: 'upstream_unavailable' },
  { status: 504, errorClass: 'upstream_timeout', provider: null },
  // The client left: served in part when a provider was answering, failed when none was yet.
  { status: 499, errorClass: 'client_disconnected' },
  { status: 499, errorClass: 'client_disconnected', provider: null },
];

/** What a reader checks of a row: when, which group, how many calls, what cost. */
const brief = (rows: UsageRow[]) => rows.map((row) => [iso(row.bucketStart), row.group, row.calls, row.costNanoUsd / 1000]);

export function analyticsContract(context: ContractContext): void {
  describe('usage analytics', () => {
    test("each batch adds to its hours' rollup rows in the same transaction, names the ledger lacks stored as ''", async () => {
      const { store } = context;
      await store.insertTransactions([
        call('2026-09-01T10:05:00Z'),
        call('2026-09-01T10:55:00Z', { costMicroUsd: null }),
        call('2026-09-01T11:00:00Z', {
          consumer: null,
          team: null,
          requestedModel: null,
          provider: null,
          providerModel: null,
          status: 401,
          errorClass: 'invalid_api_key',
          costMicroUsd: null,
        }),
      ]);
      await store.insertTransactions([
        call('2026-09-01T10:30:00Z', { inputTokens: 1, outputTokens: 2, cachedInputTokens: 3, costMicroUsd: 7 }),
      ]);
      const rows = await context.query(`SELECT * FROM usage_hourly WHERE hour_start >= ${at('2026-09-01T00:00:00Z')}
        AND hour_start < ${at('2026-09-02T00:00:00Z')} ORDER BY hour_start`);
      // pg hands BIGINT back as text to a plain client.
      const numbers = (row: Record<string, unknown>) =>
        Object.fromEntries(
          Object.entries(row).map(([key, value]) => [key, typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value]),
        );
      assert.deepEqual(rows.map(numbers), [
        {
          hour_start: at('2026-09-01T10:00:00Z'),
          consumer: 'checkout',
          team: 'payments',
          requested_model: 'gpt-4o-mini',
          provider: 'openai',
          provider_model: 'gpt-4o-mini-2024-07-18',
          status_class: 'ok',
          calls: 3,
          input_tokens: 201,
          output_tokens: 22,
          cached_input_tokens: 43,
          cost_micro_usd: 1_007,
          unpriced_calls: 1,
          refused_calls: 0,
          failed_calls: 0,
          cache_write_tokens: 0,
          cache_write_1h_tokens: 0,
          saved_micro_usd: 0,
          cache_hit_calls: 0,
          cache_hit_input_tokens: 0,
          cache_hit_output_tokens: 0,
          cost_nano_usd: 1_007_000,
          saved_nano_usd: 0,
        },
        {
          hour_start: at('2026-09-01T11:00:00Z'),
          consumer: '',
          team: '',
          requested_model: '',
          provider: '',
          provider_model: '',
          status_class: 'error',
          calls: 1,
          input_tokens: 100,
          output_tokens: 10,
          cached_input_tokens: 20,
          cost_micro_usd: 0,
          unpriced_calls: 0,
          refused_calls: 1,
          failed_calls: 0,
          cache_write_tokens: 0,
          cache_write_1h_tokens: 0,
          saved_micro_usd: 0,
          cache_hit_calls: 0,
          cache_hit_input_tokens: 0,
          cache_hit_output_tokens: 0,
          cost_nano_usd: 0,
          saved_nano_usd: 0,
        },
      ]);

      // A batch that fails leaves the rollups as they were.
      const before = await store.usage({ from: at('2026-09-01T00:00:00Z'), to: at('2026-09-02T00:00:00Z'), bucket: 'day', groupBy: [] });
      await assert.rejects(
        store.insertTransactions([call('2026-09-01T12:00:00Z'), call('2026-09-01T12:00:00Z', { requestId: null as unknown as string })]),
      );
      assert.deepEqual(
        await store.usage({ from: at('2026-09-01T00:00:00Z'), to: at('2026-09-02T00:00:00Z'), bucket: 'day', groupBy: [] }),
        before,
      );
      assert.deepEqual(brief(before), [['2026-09-01T00:00:00.000Z', {}, 4, 1_007]]);
    });

    test('buckets by UTC hour, day and calendar month, holding only the hours of [from, to)', async () => {
      const { store } = context;
      await store.insertTransactions([
        call('2026-10-31T23:30:00Z'),
        call('2026-11-01T00:10:00Z'),
        call('2026-11-01T00:50:00Z', { costMicroUsd: 2_000 }),
        call('2026-11-01T05:00:00Z'),
        call('2026-11-02T10:00:00Z'),
        call('2026-11-30T23:59:59Z'),
        call('2026-12-01T00:00:00Z', { costMicroUsd: 5_000 }),
        // A leap-year February and a month of 31 days either side of it are months by the calendar, not by 30 days.
        call('2028-02-29T12:00:00Z'),
        call('2028-03-01T00:00:00Z'),
      ]);
      assert.deepEqual(
        brief(await store.usage({ from: at('2026-11-01T00:00:00Z'), to: at('2026-11-01T06:00:00Z'), bucket: 'hour', groupBy: [] })),
        [
          ['2026-11-01T00:00:00.000Z', {}, 2, 3_000],
          ['2026-11-01T05:00:00.000Z', {}, 1, 1_000],
        ],
      );
      assert.deepEqual(
        brief(await store.usage({ from: at('2026-10-31T00:00:00Z'), to: at('2026-12-02T00:00:00Z'), bucket: 'day', groupBy: [] })),
        [
          ['2026-10-31T00:00:00.000Z', {}, 1, 1_000],
          ['2026-11-01T00:00:00.000Z', {}, 3, 4_000],
          ['2026-11-02T00:00:00.000Z', {}, 1, 1_000],
          ['2026-11-30T00:00:00.000Z', {}, 1, 1_000],
          ['2026-12-01T00:00:00.000Z', {}, 1, 5_000],
        ],
      );
      assert.deepEqual(
        brief(await store.usage({ from: at('2026-10-01T00:00:00Z'), to: at('2026-12-01T00:00:00Z'), bucket: 'month', groupBy: [] })),
        [
          ['2026-10-01T00:00:00.000Z', {}, 1, 1_000],
          ['2026-11-01T00:00:00.000Z', {}, 5, 6_000],
        ],
        "to is exclusive: December's first hour is not counted",
      );
      // A bucket starting before `from` holds only the hours from `from` on.
      assert.deepEqual(
        brief(await store.usage({ from: at('2026-11-01T01:00:00Z'), to: at('2027-01-01T00:00:00Z'), bucket: 'month', groupBy: [] })),
        [
          ['2026-11-01T00:00:00.000Z', {}, 3, 3_000],
          ['2026-12-01T00:00:00.000Z', {}, 1, 5_000],
        ],
      );
      assert.deepEqual(
        brief(await store.usage({ from: at('2028-02-01T00:00:00Z'), to: at('2028-04-01T00:00:00Z'), bucket: 'month', groupBy: [] })),
        [
          ['2028-02-01T00:00:00.000Z', {}, 1, 1_000],
          ['2028-03-01T00:00:00.000Z', {}, 1, 1_000],
        ],
      );
      assert.deepEqual(
        await store.usage({ from: at('2026-01-01T00:00:00Z'), to: at('2026-02-01T00:00:00Z'), bucket: 'day', groupBy: [] }),
        [],
        'no usage, no rows',
      );
    });

    test('groups by consumer, team, model, provider, resource and status, and filters by each', async () => {
      const { store } = context;
      const day = '2027-01-05T';
      await store.insertTransactions([
        call(`${day}01:00:00Z`, { consumer: 'checkout', team: 'payments', costMicroUsd: 1_000 }),
        call(`${day}02:00:00Z`, {
          consumer: 'refunds',
          team: 'payments',
          requestedModel: 'claude-haiku',
          provider: 'anthropic',
          providerModel: 'claude-3-5-haiku',
          costMicroUsd: 4_000,
        }),
        call(`${day}03:00:00Z`, { consumer: 'search', team: 'discovery', costMicroUsd: 2_000 }),
        call(`${day}04:00:00Z`, { consumer: 'search', team: 'discovery', costMicroUsd: null }),
        call(`${day}05:00:00Z`, { consumer: 'loose', team: null, costMicroUsd: 8_000 }),
      ]);
      const usage = (groupBy: Parameters<typeof store.usage>[0]['groupBy'], filter = {}) =>
        store.usage({ from: at(`${day}00:00:00Z`), to: at('2027-01-06T00:00:00Z'), bucket: 'day', groupBy, filter });
      const groups = (rows: UsageRow[]) => rows.map((row) => [row.group, row.calls, row.costNanoUsd / 1000, row.unpricedCalls]);
      assert.deepEqual(groups(await usage(['team'])), [
        [{ team: '' }, 1, 8_000, 0],
        [{ team: 'discovery' }, 2, 2_000, 1],
        [{ team: 'payments' }, 2, 5_000, 0],
      ]);
      assert.deepEqual(
        groups(await usage(['model', 'team'])),
        [
          [{ team: '', model: 'gpt-4o-mini' }, 1, 8_000, 0],
          [{ team: 'discovery', model: 'gpt-4o-mini' }, 2, 2_000, 1],
          [{ team: 'payments', model: 'claude-haiku' }, 1, 4_000, 0],
          [{ team: 'payments', model: 'gpt-4o-mini' }, 1, 1_000, 0],
        ],
        "groups come in the dimensions' fixed order (consumer, team, model, ...), whatever order they were asked in",
      );
      assert.deepEqual(groups(await usage(['provider'])), [
        [{ provider: 'anthropic' }, 1, 4_000, 0],
        [{ provider: 'openai' }, 4, 11_000, 1],
      ]);
      assert.deepEqual(groups(await usage(['resource'])), [
        [{ resource: 'anthropic/claude-3-5-haiku' }, 1, 4_000, 0],
        [{ resource: 'openai/gpt-4o-mini-2024-07-18' }, 4, 11_000, 1],
      ]);
      assert.deepEqual(groups(await usage(['status'])), [[{ status: 'ok' }, 5, 15_000, 1]]);
      assert.deepEqual(groups(await usage(['consumer'], { team: 'payments' })), [
        [{ consumer: 'checkout' }, 1, 1_000, 0],
        [{ consumer: 'refunds' }, 1, 4_000, 0],
      ]);
      assert.deepEqual(groups(await usage([], { team: '' })), [[{}, 1, 8_000, 0]], "team '' is the calls without a team");
      assert.deepEqual(groups(await usage([], { consumer: 'search' })), [[{}, 2, 2_000, 1]]);
      assert.deepEqual(groups(await usage([], { model: 'claude-haiku' })), [[{}, 1, 4_000, 0]]);
      assert.deepEqual(groups(await usage([], { provider: 'openai', team: 'discovery' })), [[{}, 2, 2_000, 1]]);
      assert.deepEqual(groups(await usage([], { resource: 'anthropic/claude-3-5-haiku' })), [[{}, 1, 4_000, 0]]);
      const [tokens] = await usage([], { consumer: 'checkout' });
      assert.deepEqual(
        { ...tokens, group: undefined, bucketStart: undefined },
        {
          group: undefined,
          bucketStart: undefined,
          calls: 1,
          inputTokens: 100,
          outputTokens: 10,
          cachedInputTokens: 20,
          costNanoUsd: 1_000_000,
          unpricedCalls: 0,
          refusedCalls: 0,
          failedCalls: 0,
          cacheWriteTokens: 0,
          cacheWrite1hTokens: 0,
          savedNanoUsd: 0,
          cacheHitCalls: 0,
          cacheHitInputTokens: 0,
          cacheHitOutputTokens: 0,
        },
      );
    });

    test('top drivers: the groups whose cost changed most between two periods, either way, with both values', async () => {
      const { store } = context;
      const previous = { from: at('2027-02-01T00:00:00Z'), to: at('2027-02-08T00:00:00Z') };
      const current = { from: at('2027-02-08T00:00:00Z'), to: at('2027-02-15T00:00:00Z') };
      await store.insertTransactions([
        call('2027-02-02T00:00:00Z', { team: 'payments', costMicroUsd: 10_000 }),
        call('2027-02-09T00:00:00Z', { team: 'payments', costMicroUsd: 15_000 }),
        call('2027-02-03T00:00:00Z', { team: 'discovery', costMicroUsd: 30_000 }),
        call('2027-02-10T00:00:00Z', { team: 'discovery', costMicroUsd: 20_000 }),
        call('2027-02-11T00:00:00Z', { team: 'discovery', costMicroUsd: 1_000 }),
        call('2027-02-04T00:00:00Z', { team: 'ml', costMicroUsd: 500 }),
        call('2027-02-12T00:00:00Z', { team: 'ml', costMicroUsd: 500 }),
        call('2027-02-13T00:00:00Z', { team: 'new', costMicroUsd: 7_000 }),
        // Served by a model with no price: in the calls, not in the cost, and counted apart.
        call('2027-02-13T01:00:00Z', { team: 'new', costMicroUsd: null }),
        // Outside both periods: not counted.
        call('2027-02-20T00:00:00Z', { team: 'payments', costMicroUsd: 1_000_000 }),
      ]);
      const drivers = await store.topDrivers({ current, previous, groupBy: ['team'], limit: 3 });
      assert.deepEqual(drivers, [
        {
          group: { team: 'discovery' },
          currentCostNanoUsd: 21_000_000,
          previousCostNanoUsd: 30_000_000,
          deltaNanoUsd: -9_000_000,
          currentCalls: 2,
          previousCalls: 1,
          currentUnpricedCalls: 0,
          previousUnpricedCalls: 0,
        },
        {
          group: { team: 'new' },
          currentCostNanoUsd: 7_000_000,
          previousCostNanoUsd: 0,
          deltaNanoUsd: 7_000_000,
          currentCalls: 2,
          previousCalls: 0,
          currentUnpricedCalls: 1,
          previousUnpricedCalls: 0,
        },
        {
          group: { team: 'payments' },
          currentCostNanoUsd: 15_000_000,
          previousCostNanoUsd: 10_000_000,
          deltaNanoUsd: 5_000_000,
          currentCalls: 1,
          previousCalls: 1,
          currentUnpricedCalls: 0,
          previousUnpricedCalls: 0,
        },
      ]);
      const byModel = await store.topDrivers({ current, previous, groupBy: ['model'], filter: { team: 'ml' }, limit: 10 });
      assert.deepEqual(
        byModel.map((d) => [d.group, d.deltaNanoUsd / 1000]),
        [[{ model: 'gpt-4o-mini' }, 0]],
      );
      const whole = await store.topDrivers({ current, previous, groupBy: [], limit: 10 });
      assert.deepEqual(
        whole.map((d) => [d.group, d.currentCostNanoUsd / 1000, d.previousCostNanoUsd / 1000]),
        [[{}, 43_500, 40_500]],
        'ungrouped: the whole, once',
      );
      const quiet = { from: at('2027-08-01T00:00:00Z'), to: at('2027-08-02T00:00:00Z') };
      assert.deepEqual(await store.topDrivers({ current: quiet, previous: quiet, groupBy: [], limit: 10 }), [], 'no usage, no row');
    });

    test('groups by resource status: sanctioned and unsanctioned from the resources, unreviewed when not listed', async () => {
      const { store } = context;
      await store.createResource('finops', { id: 'openai/gpt-4o-mini-2024-07-18', status: 'sanctioned' });
      await store.createResource('finops', { id: 'shadow/llama-3', status: 'unsanctioned' });
      await store.insertTransactions([
        call('2027-03-01T01:00:00Z', { costMicroUsd: 1_000 }),
        call('2027-03-01T02:00:00Z', { provider: 'shadow', providerModel: 'llama-3', costMicroUsd: 2_000 }),
        call('2027-03-01T03:00:00Z', { provider: 'anthropic', providerModel: 'claude-3-5-haiku', costMicroUsd: 4_000 }),
        call('2027-03-01T04:00:00Z', { provider: null, providerModel: null, status: 403, costMicroUsd: null }),
      ]);
      const usage = (groupBy: Parameters<typeof store.usage>[0]['groupBy']) =>
        store.usage({
          from: at('2027-03-01T00:00:00Z'),
          to: at('2027-03-02T00:00:00Z'),
          bucket: 'month',
          groupBy,
          filter: { team: 'payments' },
        });
      assert.deepEqual(
        (await usage(['resourceStatus'])).map((row) => [row.group, row.calls, row.costNanoUsd / 1000]),
        [
          [{ resourceStatus: '' }, 1, 0],
          [{ resourceStatus: 'sanctioned' }, 1, 1_000],
          [{ resourceStatus: 'unreviewed' }, 1, 4_000],
          [{ resourceStatus: 'unsanctioned' }, 1, 2_000],
        ],
        'a call that reached no provider is no resource',
      );
      assert.deepEqual(
        (await usage(['resource', 'resourceStatus'])).map((row) => row.group),
        [
          { resource: '', resourceStatus: '' },
          { resource: 'anthropic/claude-3-5-haiku', resourceStatus: 'unreviewed' },
          { resource: 'openai/gpt-4o-mini-2024-07-18', resourceStatus: 'sanctioned' },
          { resource: 'shadow/llama-3', resourceStatus: 'unsanctioned' },
        ],
      );
      // Statuses are today's: a change applies to the past too.
      await store.updateResource('finops', 'shadow/llama-3', { status: 'sanctioned' });
      assert.deepEqual(
        (await usage(['resourceStatus'])).map((row) => [row.group.resourceStatus, row.calls]),
        [
          ['', 1],
          ['sanctioned', 2],
          ['unreviewed', 1],
        ],
      );
      const drivers = await store.topDrivers({
        current: { from: at('2027-03-01T00:00:00Z'), to: at('2027-03-02T00:00:00Z') },
        previous: { from: at('2027-02-28T00:00:00Z'), to: at('2027-03-01T00:00:00Z') },
        groupBy: ['resourceStatus'],
        filter: { team: 'payments' },
        limit: 1,
      });
      assert.deepEqual(
        drivers.map((d) => [d.group, d.deltaNanoUsd / 1000]),
        [[{ resourceStatus: 'unreviewed' }, 4_000]],
      );
    });

    test("groups a Bedrock inference profile or ARN under its foundation model's status, unless listed itself, as the gateway judges it", async () => {
      const { store } = context;
      const haiku = 'anthropic.claude-3-5-haiku-20241022-v1:0';
      const sonnet = 'anthropic.claude-sonnet-4-20250514-v1:0';
      await store.createResource('finops', { id: `bedrock/${haiku}`, status: 'unsanctioned' });
      await store.createResource('finops', { id: `bedrock/${sonnet}`, status: 'sanctioned' });
      await store.createResource('finops', { id: `bedrock/eu.${haiku}`, status: 'sanctioned' });
      const served = (hour: string, providerModel: string, costMicroUsd: number) =>
        call(`2027-09-01T${hour}:00:00Z`, { team: 'bedrock-users', provider: 'bedrock', providerModel, costMicroUsd });
      await store.insertTransactions([
        served('01', `us.${haiku}`, 1_000),
        served('02', `arn:aws:bedrock:us-east-1:123456789012:inference-profile/apac.${haiku}`, 2_000),
        served('03', `global.${sonnet}`, 4_000),
        served('04', `eu.${haiku}`, 8_000),
        served('05', 'meta.llama3-70b-instruct-v1:0', 16_000),
      ]);
      const day = { from: at('2027-09-01T00:00:00Z'), to: at('2027-09-02T00:00:00Z') };
      const usage = await store.usage({ ...day, bucket: 'day', groupBy: ['resourceStatus'], filter: { team: 'bedrock-users' } });
      assert.deepEqual(
        usage.map((row) => [row.group, row.calls, row.costNanoUsd / 1000]),
        [
          [{ resourceStatus: 'sanctioned' }, 2, 12_000],
          [{ resourceStatus: 'unreviewed' }, 1, 16_000],
          [{ resourceStatus: 'unsanctioned' }, 2, 3_000],
        ],
      );
      const byResource = await store.usage({
        ...day,
        bucket: 'day',
        groupBy: ['resource', 'resourceStatus'],
        filter: { team: 'bedrock-users' },
      });
      assert.deepEqual(
        byResource.map((row) => [row.group.resource, row.group.resourceStatus]),
        [
          [`bedrock/arn:aws:bedrock:us-east-1:123456789012:inference-profile/apac.${haiku}`, 'unsanctioned'],
          [`bedrock/eu.${haiku}`, 'sanctioned'],
          [`bedrock/global.${sonnet}`, 'sanctioned'],
          ['bedrock/meta.llama3-70b-instruct-v1:0', 'unreviewed'],
          [`bedrock/us.${haiku}`, 'unsanctioned'],
        ],
      );
      const drivers = await store.topDrivers({
        current: day,
        previous: { from: at('2027-08-31T00:00:00Z'), to: day.from },
        groupBy: ['resourceStatus'],
        filter: { team: 'bedrock-users' },
        limit: 2,
      });
      assert.deepEqual(
        drivers.map((d) => [d.group, d.deltaNanoUsd / 1000, d.currentCalls]),
        [
          [{ resourceStatus: 'unreviewed' }, 16_000, 1],
          [{ resourceStatus: 'sanctioned' }, 12_000, 2],
        ],
        'the largest changes once added up by status, not by resource',
      );
    });

    test("the rollups agree with the ledger's own rows, over many keys and batches", async () => {
      const { store } = context;
      const start = at('2027-05-01T00:00:00Z');
      const rows = Array.from({ length: 600 }, (_, i) =>
        call(start + ((i * 7_919_000) % (72 * HOUR)), {
          consumer: i % 11 === 0 ? null : `consumer-${i % 6}`,
          team: i % 6 < 3 ? 'payments' : i % 6 === 3 ? null : 'discovery',
          requestedModel: ['gpt-4o-mini', 'claude-haiku', 'embed'][i % 3]!,
          provider: i % 13 === 0 ? null : ['openai', 'anthropic'][i % 2]!,
          providerModel: `model-${i % 4}`,
          ...OUTCOMES[i % 19 < OUTCOMES.length ? i % 19 : 0]!,
          inputTokens: i,
          outputTokens: 2 * i,
          cachedInputTokens: i % 5,
          costMicroUsd: i % 9 === 0 ? null : 1_000 + i,
        }),
      );
      // Three batches, the same keys in more than one: each adds to the rows the others made.
      for (const batch of [rows.slice(0, 250), rows.slice(250, 251), rows.slice(251)]) await store.insertTransactions(batch);
      const end = start + 72 * HOUR;
      const fromRollups = (
        await store.usage({ from: start, to: end, bucket: 'hour', groupBy: ['consumer', 'team', 'model', 'resource', 'status'] })
      ).map((row) =>
        JSON.stringify([
          row.bucketStart,
          row.group.consumer,
          row.group.team,
          row.group.model,
          row.group.resource,
          row.group.status,
          row.calls,
          row.inputTokens,
          row.outputTokens,
          row.cachedInputTokens,
          row.costNanoUsd / 1000,
          row.unpricedCalls,
          row.refusedCalls,
          row.failedCalls,
        ]),
      );
      // The outcome as the migration and reconciliation compute it in SQL: it agrees with rollup.ts' own.
      const fromLedger = (
        await context.query(`SELECT (started_at / 3600000) * 3600000 AS hour, COALESCE(consumer, '') AS consumer,
          COALESCE(team, '') AS team, COALESCE(requested_model, '') AS model,
          CASE WHEN provider IS NULL THEN '' ELSE provider || '/' || provider_model END AS resource,
          CASE WHEN status >= 400 THEN 'error' ELSE 'ok' END AS status, COUNT(*) AS calls, SUM(input_tokens) AS input,
          SUM(output_tokens) AS output, SUM(cached_input_tokens) AS cached, COALESCE(SUM(cost_micro_usd), 0) AS cost,
          SUM(CASE WHEN cost_micro_usd IS NULL AND ${OUTCOME_SQL} = 'served' THEN 1 ELSE 0 END) AS unpriced,
          SUM(CASE WHEN ${OUTCOME_SQL} = 'refused' THEN 1 ELSE 0 END) AS refused, SUM(CASE WHEN ${OUTCOME_SQL} = 'failed' THEN 1 ELSE 0 END) AS failed
        FROM transactions WHERE started_at >= ${start} AND started_at < ${end} GROUP BY 1, 2, 3, 4, 5, 6`)
      ).map((row) =>
        JSON.stringify([
          Number(row.hour),
          row.consumer,
          row.team,
          row.model,
          row.resource,
          row.status,
          ...['calls', 'input', 'output', 'cached', 'cost', 'unpriced', 'refused', 'failed'].map((column) => Number(row[column])),
        ]),
      );
      assert.ok(fromLedger.length > 100, `${fromLedger.length} rollup keys, more than two upsert statements' worth`);
      assert.deepEqual([...fromRollups].sort(), [...fromLedger].sort());
      // Days from the daily rollups, and the partial days at both ends from the hourly ones, agree with the ledger too.
      const from = start + 5 * HOUR;
      const to = end - 3 * HOUR;
      const daily = (await store.usage({ from, to, bucket: 'day', groupBy: ['team', 'status'] })).map((row) =>
        JSON.stringify([
          row.bucketStart,
          row.group.team,
          row.group.status,
          row.calls,
          row.inputTokens,
          row.costNanoUsd / 1000,
          row.unpricedCalls,
        ]),
      );
      const ledgerDaily = (
        await context.query(`SELECT (started_at / 86400000) * 86400000 AS day, COALESCE(team, '') AS team,
          CASE WHEN status >= 400 THEN 'error' ELSE 'ok' END AS status, COUNT(*) AS calls, SUM(input_tokens) AS input,
          COALESCE(SUM(cost_micro_usd), 0) AS cost, SUM(CASE WHEN cost_micro_usd IS NULL AND ${OUTCOME_SQL} = 'served' THEN 1 ELSE 0 END) AS unpriced
        FROM transactions WHERE started_at >= ${from} AND started_at < ${to} GROUP BY 1, 2, 3`)
      ).map((row) =>
        JSON.stringify([
          Number(row.day),
          row.team,
          row.status,
          ...['calls', 'input', 'cost', 'unpriced'].map((column) => Number(row[column])),
        ]),
      );
      assert.ok(new Set(ledgerDaily.map((line) => JSON.parse(line)[0])).size === 3, 'three days: a partial, a whole and a partial one');
      assert.deepEqual([...daily].sort(), [...ledgerDaily].sort());
      const [dailyRows] = await context.query(
        `SELECT COUNT(*) AS count FROM usage_daily WHERE day_start >= ${start} AND day_start < ${end}`,
      );
      assert.ok(Number(dailyRows?.count) > 0 && Number(dailyRows?.count) < fromLedger.length, 'fewer daily rows than hourly ones');
      const extent = await store.usageExtent();
      assert.ok(extent !== null && extent.firstHour <= start && extent.lastHour >= end - HOUR, JSON.stringify(extent));
      // A team's own first hour, as the forecast reads it: whole hours, null for a team with no calls.
      const first = await store.firstHour({ team: JSON.parse(ledgerDaily[0]!)[1] as string });
      assert.ok(first !== null && first >= extent.firstHour && first % HOUR === 0, String(first));
      assert.equal(await store.firstHour({ team: 'a-team-that-never-called' }), null);
      // A consumer's, as a consumer budget's burn-down reads it: the hour of its first call in the ledger.
      const [earliest] = await context.query(
        `SELECT consumer, started_at FROM transactions WHERE consumer IS NOT NULL ORDER BY started_at LIMIT 1`,
      );
      const consumerFirst = await store.firstHour({ consumer: String(earliest?.consumer) });
      assert.equal(consumerFirst, Math.floor(Number(earliest?.started_at) / HOUR) * HOUR);
      assert.equal(await store.firstHour({ consumer: 'a-consumer-that-never-called' }), null);
      // A model's, a provider's, a resource's and a team's on one model, as their budgets' burn-downs read them: the hour
      // of the scope's first call in the ledger.
      const [late] = await context.query(
        `SELECT team, requested_model, provider, provider_model FROM transactions
          WHERE started_at >= ${start} AND started_at < ${end} AND provider IS NOT NULL AND team IS NOT NULL
          ORDER BY started_at DESC LIMIT 1`,
      );
      const scopes = [
        { model: String(late?.requested_model) },
        { provider: String(late?.provider) },
        { resource: `${String(late?.provider)}/${String(late?.provider_model)}` },
        { team: String(late?.team), model: String(late?.requested_model) },
      ];
      for (const scope of scopes) {
        const where = Object.entries(scope)
          .map(([part, value]) =>
            part === 'resource'
              ? `provider || '/' || provider_model = '${value}'`
              : `${part === 'model' ? 'requested_model' : part} = '${value}'`,
          )
          .join(' AND ');
        const [firstCall] = await context.query(`SELECT MIN(started_at) AS first_at FROM transactions WHERE ${where}`);
        assert.equal(await store.firstHour(scope), Math.floor(Number(firstCall?.first_at) / HOUR) * HOUR, JSON.stringify(scope));
      }
      assert.equal(await store.firstHour({ model: 'a-model-never-called' }), null);
      assert.equal(await store.firstHour({}), extent.firstHour);
    });

    test('refuses periods that are not whole hours, empty periods, unknown groupings and limits out of range', async () => {
      const { store } = context;
      const hour = at('2027-01-01T00:00:00Z');
      await rejectsWith(store.usage({ from: hour + 1, to: hour + HOUR, bucket: 'day', groupBy: [] }), StoreInvalid);
      await rejectsWith(store.usage({ from: hour, to: hour + 90_000, bucket: 'day', groupBy: [] }), StoreInvalid);
      await rejectsWith(store.usage({ from: hour, to: hour, bucket: 'day', groupBy: [] }), StoreInvalid);
      await rejectsWith(store.usage({ from: hour, to: hour + HOUR, bucket: 'week' as 'day', groupBy: [] }), StoreInvalid);
      await rejectsWith(store.usage({ from: hour, to: hour + HOUR, bucket: 'day', groupBy: ['colour' as 'team'] }), StoreInvalid);
      await rejectsWith(
        store.usage({ from: hour, to: hour + HOUR, bucket: 'day', groupBy: [], filter: { resource: 'no-slash' } }),
        StoreInvalid,
      );
      const period = { from: hour, to: hour + HOUR };
      await rejectsWith(store.topDrivers({ current: period, previous: period, groupBy: ['team'], limit: 0 }), StoreInvalid);
    });

    // Last in this part, with the next: they rebuild the rollups from the whole ledger, as migrations 6 and 10 do on an existing database.
    test('migrations 6, 9 and 10 roll up the rows a ledger held before the hourly and daily rollups existed', async () => {
      const { store } = context;
      const period = {
        from: at('2026-09-01T00:00:00Z'),
        to: at('2027-06-01T00:00:00Z'),
        bucket: 'day' as const,
        groupBy: ['team', 'model', 'status'] as const,
      };
      const before = await store.usage({ ...period, groupBy: [...period.groupBy] });
      // Rows written past the store, as a release without rollups wrote them, then the database taken back to before both.
      await context.query(`INSERT INTO transactions (request_id, started_at, operation, api, consumer, team, requested_model, provider,
          provider_model, stream, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, tokens_estimated, cost_micro_usd,
          latency_ms, status, error_class, attempts)
        VALUES ('old-1', ${at('2027-04-02T10:15:00Z')}, 'chat', 'openai', 'legacy', 'archive', 'gpt-4o-mini', 'openai', 'gpt-4o-mini', 0, 7, 3, 0, 0, 0, 900, 1, 200, NULL, 1),
               ('old-2', ${at('2027-04-02T10:45:00Z')}, 'chat', 'openai', 'legacy', 'archive', 'gpt-4o-mini', 'openai', 'gpt-4o-mini', 0, 7, 3, 0, 0, 0, NULL, 1, 200, NULL, 1),
               ('old-3', ${at('2027-04-03T00:00:00Z')}, 'chat', 'openai', NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, 1, 401, 'invalid_api_key', 1)`);
      await context.query('DROP TABLE usage_daily');
      await context.query('DROP TABLE usage_hourly');
      // Versions 17, 21, 23 and 24 added columns to both tables: taken back with them. Version 24 also added the ledger's
      // saved_nano_usd, taken back too (no row here saved less than a micro-USD: read again as saved_micro_usd x 1,000).
      await context.query('ALTER TABLE transactions DROP COLUMN saved_nano_usd');
      await context.query('DELETE FROM schema_migrations WHERE version IN (6, 9, 10, 17, 21, 23, 24)');
      const reopened = await context.open();
      try {
        const after = await reopened.usage({ ...period, groupBy: [...period.groupBy] });
        const old = after.filter((row) => row.bucketStart >= at('2027-04-02T00:00:00Z') && row.bucketStart < at('2027-04-04T00:00:00Z'));
        assert.deepEqual(
          old.map((row) => [
            iso(row.bucketStart),
            row.group,
            row.calls,
            row.inputTokens,
            row.costNanoUsd / 1000,
            row.unpricedCalls,
            row.refusedCalls,
          ]),
          [
            ['2027-04-02T00:00:00.000Z', { team: 'archive', model: 'gpt-4o-mini', status: 'ok' }, 2, 14, 900, 1, 0],
            ['2027-04-03T00:00:00.000Z', { team: '', model: '', status: 'error' }, 1, 0, 0, 0, 1],
          ],
        );
        assert.deepEqual(
          after.filter((row) => !old.includes(row)),
          before,
          'everything rolled up before is rolled up the same again',
        );
        // The store that was open all along reads and writes the rebuilt table.
        await store.insertTransactions([call('2027-04-02T10:20:00Z', { team: 'archive', consumer: 'legacy', costMicroUsd: 100 })]);
        const [day] = await store.usage({
          from: at('2027-04-02T00:00:00Z'),
          to: at('2027-04-03T00:00:00Z'),
          bucket: 'day',
          groupBy: ['team'],
        });
        assert.deepEqual([day?.calls, day === undefined ? undefined : day.costNanoUsd / 1000], [3, 1_000]);
      } finally {
        await reopened.close();
      }
    });

    test("prompt-cache writes and response-cache savings sum into the rollups with the ledger's rows, hourly and daily", async () => {
      const { store } = context;
      const hour = at('2029-05-01T09:00:00Z');
      await store.insertTransactions([
        call(hour, { api: 'anthropic', cacheWriteTokens: 1_000, cacheWrite1hTokens: 400 }),
        call(hour + 60_000, { api: 'anthropic', cacheWriteTokens: 50 }),
        call(hour + HOUR, { costMicroUsd: 0, savedMicroUsd: 2_500 }),
        // A record spooled before the fields existed: none of them.
        call(hour + HOUR + 60_000, {}),
      ]);
      await store.insertTransactions([call(hour + 120_000, { cacheWriteTokens: 7, cacheWrite1hTokens: 7, savedMicroUsd: 3 })]);
      const figures = (rows: UsageRow[]) =>
        rows.map((row) => [iso(row.bucketStart), row.calls, row.cacheWriteTokens, row.cacheWrite1hTokens, row.savedNanoUsd]);
      const period = { from: hour, to: hour + 2 * HOUR, groupBy: [] };
      assert.deepEqual(figures(await store.usage({ ...period, bucket: 'hour' })), [
        ['2029-05-01T09:00:00.000Z', 3, 1_057, 407, 3_000],
        ['2029-05-01T10:00:00.000Z', 2, 0, 0, 2_500_000],
      ]);
      const wholeDay = { from: at('2029-05-01T00:00:00Z'), to: at('2029-05-02T00:00:00Z'), groupBy: [] };
      assert.deepEqual(figures(await store.usage({ ...wholeDay, bucket: 'day' })), [
        ['2029-05-01T00:00:00.000Z', 5, 1_057, 407, 2_503_000],
      ]);
      assert.deepEqual(figures(await store.usage({ ...wholeDay, bucket: 'month' })), [
        ['2029-05-01T00:00:00.000Z', 5, 1_057, 407, 2_503_000],
      ]);
    });

    test('migration 17 gives the rollups of an earlier ledger its prompt-cache writes and savings, and no other sum changes', async () => {
      const { store } = context;
      const hour = at('2029-06-01T09:00:00Z');
      await store.insertTransactions([
        call(hour, { cacheWriteTokens: 1_000, cacheWrite1hTokens: 400 }),
        call(hour + 60_000, { team: 'search', cacheWriteTokens: 30 }),
        call(hour + HOUR, { costMicroUsd: 0, savedMicroUsd: 2_500 }),
        call(hour + 2 * HOUR, { status: 502, errorClass: 'upstream_unavailable', costMicroUsd: null }),
      ]);
      const wholeDay = {
        from: at('2029-06-01T00:00:00Z'),
        to: at('2029-06-02T00:00:00Z'),
        bucket: 'day' as const,
        groupBy: ['team' as const],
      };
      const hours = { ...wholeDay, bucket: 'hour' as const, groupBy: [] };
      const before = { days: await store.usage(wholeDay), hours: await store.usage(hours) };
      assert.deepEqual(
        before.days.map((row) => [row.group, row.cacheWriteTokens, row.cacheWrite1hTokens, row.savedNanoUsd]),
        [
          [{ team: 'payments' }, 1_000, 400, 2_500_000],
          [{ team: 'search' }, 30, 0, 0],
        ],
      );
      // The rollups as version 16 left them: no such columns.
      for (const table of ['usage_hourly', 'usage_daily']) {
        for (const column of ['cache_write_tokens', 'cache_write_1h_tokens', 'saved_micro_usd']) {
          await context.query(`ALTER TABLE ${table} DROP COLUMN ${column}`);
        }
      }
      await context.query('DELETE FROM schema_migrations WHERE version = 17');
      const reopened = await context.open();
      try {
        assert.deepEqual(await reopened.usage(wholeDay), before.days);
        assert.deepEqual(await reopened.usage(hours), before.hours);
      } finally {
        await reopened.close();
      }
    });

    test('migration 21 gives the rollups of an earlier ledger its response-cache hits, and no other sum changes', async () => {
      const { store } = context;
      const hour = at('2029-07-01T09:00:00Z');
      const hit = { costMicroUsd: 0, attempts: 0, savedMicroUsd: 2_500, inputTokens: 40, outputTokens: 4 };
      await store.insertTransactions([
        call(hour),
        call(hour + 60_000, hit),
        call(hour + HOUR, { ...hit, team: 'search' }),
        call(hour + 2 * HOUR, { status: 502, errorClass: 'upstream_unavailable', costMicroUsd: null, attempts: 0 }),
      ]);
      const wholeDay = {
        from: at('2029-07-01T00:00:00Z'),
        to: at('2029-07-02T00:00:00Z'),
        bucket: 'day' as const,
        groupBy: ['team' as const],
      };
      const hours = { ...wholeDay, bucket: 'hour' as const, groupBy: [] };
      const before = { days: await store.usage(wholeDay), hours: await store.usage(hours) };
      assert.deepEqual(
        before.days.map((row) => [row.group, row.calls, row.cacheHitCalls, row.cacheHitInputTokens, row.cacheHitOutputTokens]),
        [
          [{ team: 'payments' }, 3, 1, 40, 4],
          [{ team: 'search' }, 1, 1, 40, 4],
        ],
      );
      // The rollups as version 20 left them: no such columns.
      for (const table of ['usage_hourly', 'usage_daily']) {
        for (const column of ['cache_hit_calls', 'cache_hit_input_tokens', 'cache_hit_output_tokens']) {
          await context.query(`ALTER TABLE ${table} DROP COLUMN ${column}`);
        }
      }
      await context.query('DELETE FROM schema_migrations WHERE version = 21');
      const reopened = await context.open();
      try {
        assert.deepEqual(await reopened.usage(wholeDay), before.days);
        assert.deepEqual(await reopened.usage(hours), before.hours);
      } finally {
        await reopened.close();
      }
    });

    test('migration 10 takes refusals and failures out of the unpriced calls a ledger rolled up before it, each in its own count', async () => {
      const { store } = context;
      const hour = at('2027-07-01T10:00:00Z');
      await store.insertTransactions([
        call(hour, { costMicroUsd: null }),
        call(hour + 60_000, { status: 404, errorClass: 'model_not_found', provider: null, providerModel: null, costMicroUsd: null }),
        call(hour + 120_000, { status: 429, errorClass: 'budget_exhausted', provider: null, providerModel: null, costMicroUsd: null }),
        call(hour + 180_000, { status: 502, errorClass: 'upstream_unavailable', costMicroUsd: null }),
      ]);
      const period = { from: hour, to: hour + HOUR, bucket: 'day' as const, groupBy: [] };
      const figures = (rows: UsageRow[]) => rows.map((row) => [row.calls, row.unpricedCalls, row.refusedCalls, row.failedCalls]);
      assert.deepEqual(figures(await store.usage(period)), [[4, 1, 2, 1]]);
      // The rollups as version 9 kept them: every call without a cost was unpriced, and there were no other counts.
      for (const table of ['usage_hourly', 'usage_daily']) {
        await context.query(`UPDATE ${table} SET unpriced_calls = calls WHERE status_class = 'error'`);
        await context.query(`ALTER TABLE ${table} DROP COLUMN refused_calls`);
        await context.query(`ALTER TABLE ${table} DROP COLUMN failed_calls`);
      }
      await context.query('DELETE FROM schema_migrations WHERE version = 10');
      const reopened = await context.open();
      try {
        assert.deepEqual(figures(await reopened.usage(period)), [[4, 1, 2, 1]]);
        const wholeDay = { from: at('2027-07-01T00:00:00Z'), to: at('2027-07-02T00:00:00Z'), bucket: 'day' as const, groupBy: [] };
        assert.deepEqual(figures(await reopened.usage(wholeDay)), [[4, 1, 2, 1]], 'the daily rows too');
      } finally {
        await reopened.close();
      }
    });
  });
}
