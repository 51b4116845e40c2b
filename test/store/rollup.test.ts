// How a ledger row's call ended, as the rollups count it: what budgets and the chargeback read served, refused and failed
// calls from. Each case is a call the gateway can record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callOutcome, moveInRollups, rollUp, type CallOutcome, type RollupSource } from '../../src/store/sql/rollup.js';
import type { SqlSession } from '../../src/store/sql/session.js';

const CASES: Array<{ name: string; status: number; errorClass: string | null; provider: string | null; outcome: CallOutcome }> = [
  { name: 'answered', status: 200, errorClass: null, provider: 'openai', outcome: 'served' },
  { name: 'observed by a traffic observer', status: 200, errorClass: null, provider: null, outcome: 'served' },
  { name: 'the client left mid-answer', status: 499, errorClass: 'client_disconnected', provider: 'openai', outcome: 'served' },
  {
    name: 'the client left before any provider answered',
    status: 499,
    errorClass: 'client_disconnected',
    provider: null,
    outcome: 'failed',
  },
  { name: 'an unknown key (401)', status: 401, errorClass: 'invalid_api_key', provider: null, outcome: 'refused' },
  { name: 'an unknown model (404)', status: 404, errorClass: 'model_not_found', provider: null, outcome: 'refused' },
  { name: 'an unsanctioned model (403)', status: 403, errorClass: 'model_not_sanctioned', provider: null, outcome: 'refused' },
  { name: 'a budget exhausted (429)', status: 429, errorClass: 'budget_exhausted', provider: null, outcome: 'refused' },
  { name: 'a rate limit (429)', status: 429, errorClass: 'rate_limited', provider: null, outcome: 'refused' },
  { name: 'a malformed request (400)', status: 400, errorClass: 'invalid_request', provider: null, outcome: 'refused' },
  { name: 'counters unreachable, fail closed (503)', status: 503, errorClass: 'counters_unavailable', provider: null, outcome: 'refused' },
  { name: 'every target failed (502)', status: 502, errorClass: 'upstream_unavailable', provider: null, outcome: 'failed' },
  { name: 'the upstream timed out (504)', status: 504, errorClass: 'upstream_timeout', provider: null, outcome: 'failed' },
  { name: 'the provider refused the request itself', status: 400, errorClass: 'upstream_rejected', provider: null, outcome: 'failed' },
  { name: 'no target can express the request', status: 400, errorClass: 'unsupported_by_provider', provider: null, outcome: 'failed' },
  { name: 'a stream that broke after it began', status: 200, errorClass: 'stream_error', provider: 'openai', outcome: 'served' },
];

for (const { name, status, errorClass, provider, outcome } of CASES) {
  test(`${name}: ${outcome}`, () => {
    assert.equal(callOutcome({ status, errorClass, provider }), outcome);
  });
}

test('a rollup line counts refused and failed calls apart, and only served calls without a price as unpriced', () => {
  const row = (status: number, errorClass: string | null, costMicroUsd: number | null, calls?: number): RollupSource => ({
    startedAt: 0,
    consumer: 'c',
    team: 't',
    requestedModel: 'm',
    provider: status < 400 ? 'openai' : null,
    providerModel: status < 400 ? 'x' : null,
    status,
    errorClass,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    costMicroUsd,
    ...(calls === undefined ? {} : { calls }),
  });
  const lines = rollUp([
    row(200, null, 10),
    row(200, null, null),
    row(200, null, null, 4),
    row(404, 'model_not_found', null),
    row(429, 'budget_exhausted', null),
    row(502, 'upstream_unavailable', null),
  ]);
  assert.deepEqual(
    lines.map((line) => [line.key[6], line.calls, line.costMicroUsd, line.unpricedCalls, line.refusedCalls, line.failedCalls]),
    [
      ['error', 3, 0, 0, 2, 1],
      ['ok', 6, 10, 5, 0, 0],
    ],
  );
});

test('rows in runs of one key and rows that change any part of it sum onto the lines their own keys name', () => {
  const HOUR = 3_600_000;
  const row = (startedAt: number, inputTokens: number, change: Partial<RollupSource> = {}): RollupSource => ({
    startedAt,
    consumer: 'a',
    team: 't',
    requestedModel: 'm',
    provider: 'openai',
    providerModel: 'x',
    status: 200,
    errorClass: null,
    inputTokens,
    outputTokens: 1,
    cachedInputTokens: 0,
    costMicroUsd: 5,
    ...change,
  });
  const rows = [
    row(10, 1),
    row(20, 2),
    row(HOUR - 1, 4), // the run goes on to the hour's last millisecond
    row(HOUR, 8), // and into the next hour: another line
    row(HOUR + 1, 16, { status: 502, errorClass: 'upstream_unavailable' }), // each next row changes one part
    row(HOUR + 2, 32, { consumer: 'b' }),
    row(HOUR + 3, 64, { consumer: 'b', team: 'u' }),
    row(HOUR + 4, 128, { consumer: 'b', team: 'u', requestedModel: 'n' }),
    row(HOUR + 5, 256, { consumer: 'b', team: 'u', requestedModel: 'n', provider: 'azure' }),
    row(HOUR + 6, 512, { consumer: 'b', team: 'u', requestedModel: 'n', provider: 'azure', providerModel: 'y' }),
    row(30, 1024), // back on the first line, not next to it
    row(40, 2048, { consumer: null }), // no consumer and an empty one: one line
    row(50, 4096, { consumer: '' }),
  ];
  // The key each row names, made row by row with nothing carried over.
  const expected = new Map<string, number>();
  for (const each of rows) {
    const key = JSON.stringify([
      Math.floor(each.startedAt / HOUR) * HOUR,
      each.consumer ?? '',
      each.team,
      each.requestedModel,
      each.provider,
      each.providerModel,
      each.status < 400 ? 'ok' : 'error',
    ]);
    expected.set(key, (expected.get(key) ?? 0) + each.inputTokens);
  }
  const got = new Map(rollUp(rows).map((line) => [JSON.stringify(line.key), line.inputTokens]));
  assert.deepEqual(got, expected);
  assert.equal(got.size, 9);
});

test('a ledger batch and a reconciliation moving usage upsert rollup keys in one order, also for names below `"` (space, "!")', async () => {
  // Two PostgreSQL transactions upserting the same keys in different orders can deadlock: the ledger's batch (rollUp) and
  // reconciliation resolving a discovered consumer (moveInRollups) must order them alike. "a", "a b" and "a!b" sort
  // differently as JSON ('"' is 0x22, above space and "!") than by the parts themselves.
  const names = ['a!b', 'a', 'a b', 'ab'];
  const row = (consumer: string): RollupSource => ({
    startedAt: 0,
    consumer,
    team: 't',
    requestedModel: 'm',
    provider: 'openai',
    providerModel: 'x',
    status: 200,
    errorClass: null,
    inputTokens: 1,
    outputTokens: 1,
    cachedInputTokens: 0,
    costMicroUsd: 5,
  });
  const batchOrder = rollUp([...names, 'z'].map(row)).map((line) => line.key[1]);
  const upserted: string[][] = [];
  const session = {
    all: () => Promise.resolve([]),
    table: () => Promise.reject(new Error('unused')),
    run: (statement: string, params: readonly unknown[]) => {
      if (statement.startsWith('rollupUpsert:')) {
        const width = params.length / Number(statement.split(':')[1]);
        upserted.push(Array.from({ length: params.length / width }, (_, i) => params[i * width + 1] as string));
      }
      return Promise.resolve(1);
    },
  } as unknown as SqlSession;
  await moveInRollups(session, rollUp(names.map(row)), { consumer: 'z', team: 't' });
  assert.deepEqual(upserted.flat(), batchOrder);
  assert.deepEqual(batchOrder, ['a', 'a b', 'a!b', 'ab', 'z']);
});
