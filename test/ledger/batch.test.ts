// Packed ledger batches: what goes in comes out field for field, nulls, flags and long or non-ASCII request ids included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nanoCostOf, nanoSavedOf } from '../../src/ir/transaction.js';
import { BatchBuilder, unpack, type PackedBatch } from '../../src/ledger/batch.js';
import type { Transaction } from '../../src/ledger/transaction.js';

function transaction(i: number): Transaction {
  return {
    requestId: i % 3 === 0 ? `client-id-é-${'x'.repeat(100)}-${i}` : `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    startedAt: 1_764_547_200_000 + i,
    operation: i % 2 === 0 ? 'chat' : 'embeddings',
    api: i % 2 === 0 ? 'openai' : 'anthropic',
    consumer: i % 5 === 0 ? null : `consumer-${i % 4}`,
    team: i % 5 === 0 ? null : 'payments',
    requestedModel: `model-${i % 3}`,
    provider: i % 7 === 0 ? null : 'openai',
    providerModel: i % 7 === 0 ? null : 'gpt-4o-mini',
    stream: i % 2 === 1,
    inputTokens: i * 10,
    outputTokens: i,
    cachedInputTokens: i % 4,
    cacheWriteTokens: i % 6,
    tokensEstimated: i % 3 === 1,
    costMicroUsd: i % 4 === 0 ? null : i * 7,
    // Under half a micro-USD more than costMicroUsd, which is it rounded.
    costNanoUsd: i % 4 === 0 ? null : i * 7_000 + (i % 5) * 90,
    latencyMs: i + 0.25,
    timeToFirstTokenMs: i % 2 === 0 ? null : i / 4,
    status: i % 9 === 0 ? 502 : 200,
    errorClass: i % 9 === 0 ? 'upstream_unavailable' : null,
    attempts: 1 + (i % 3),
    servedModel: i % 8 === 0 ? 'cheaper' : null,
    violations: i % 10 === 0 ? 'budget-a,resource:openai/gpt-4o' : null,
    identity: i % 3 === 0 ? null : i % 3 === 1 ? `key:k-${i % 5}` : 'mtls:spiffe://acme.mil/ns/payments/sa/checkout',
    savedMicroUsd: i % 6 === 0 ? i * 11 : 0,
    // Under half a micro-USD more than savedMicroUsd, which is it rounded.
    savedNanoUsd: i % 6 === 0 ? i * 11_000 + (i % 4) * 100 : 0,
    cacheWrite1hTokens: i % 6 > 2 ? (i % 6) - 2 : 0,
    webSearches: i % 5 === 1 ? i % 4 : 0,
    serviceTier: i % 4 === 1 ? 'priority' : i % 4 === 2 ? 'flex' : null,
    fileSearches: i % 3,
    // Of the output (i tokens), those spent reasoning; null where the provider stated no split.
    reasoningTokens: i % 3 === 2 ? null : Math.floor(i / 2),
  };
}

/** The batch with only the first `fields` number fields of each record, as a version before the later ones spooled it. */
function withNumberFields(batch: PackedBatch, fields: number): PackedBatch {
  const stride = batch.numbers.length / batch.count;
  const older = new Float64Array(batch.count * fields);
  for (let i = 0; i < batch.count; i++) older.set(batch.numbers.subarray(i * stride, i * stride + fields), i * fields);
  return { ...batch, numbers: older };
}

test('a packed batch unpacks to the records appended, in order, past its capacity too', () => {
  const builder = new BatchBuilder(16);
  const rows = Array.from({ length: 40 }, (_, i) => transaction(i));
  for (const row of rows) builder.append(row);
  assert.equal(builder.length, 40);
  const batch = builder.take();
  assert.ok(batch !== null);
  assert.deepEqual(unpack(structuredClone(batch)), rows);
  assert.equal(builder.length, 0);
  assert.equal(builder.take(), null);
});

test('the builder starts afresh after take(): a second batch holds only its own records', () => {
  const builder = new BatchBuilder(4);
  builder.append(transaction(1));
  builder.take();
  builder.append(transaction(2));
  assert.deepEqual(unpack(builder.take()!), [transaction(2)]);
});

test('a batch spooled before the identity field (ten string fields a record) still unpacks, its identities null', () => {
  const builder = new BatchBuilder(4);
  const rows = [transaction(1), transaction(2), transaction(4)];
  for (const row of rows) builder.append(row);
  const batch = builder.take()!;
  const stride = batch.refs.length / batch.count;
  const older = new Int32Array(batch.count * (stride - 1));
  for (let i = 0; i < batch.count; i++) older.set(batch.refs.subarray(i * stride, i * stride + stride - 1), i * (stride - 1));
  assert.deepEqual(
    unpack({ ...batch, refs: older }),
    rows.map((row) => ({ ...row, identity: null })),
  );
});

test('a batch spooled before the saving field (thirteen number fields a record) still unpacks, its savings 0', () => {
  const builder = new BatchBuilder(4);
  const rows = [transaction(6), transaction(12), transaction(5)];
  for (const row of rows) builder.append(row);
  assert.deepEqual(
    unpack(withNumberFields(builder.take()!, 13)),
    rows.map(({ costNanoUsd: _nano, savedNanoUsd: _saved, ...row }) => ({
      ...row,
      savedMicroUsd: 0,
      cacheWrite1hTokens: 0,
      webSearches: 0,
      serviceTier: null,
      fileSearches: 0,
      reasoningTokens: null,
    })),
  );
});

test('a batch spooled before the 1-hour cache-write field (fourteen number fields a record) still unpacks, its 1-hour writes 0', () => {
  const builder = new BatchBuilder(4);
  const rows = [transaction(5), transaction(6), transaction(4)];
  for (const row of rows) builder.append(row);
  const batch = builder.take()!;
  assert.deepEqual(
    unpack(withNumberFields(batch, 14)),
    rows.map(({ costNanoUsd: _nano, savedNanoUsd: _saved, ...row }) => ({
      ...row,
      cacheWrite1hTokens: 0,
      webSearches: 0,
      serviceTier: null,
      fileSearches: 0,
      reasoningTokens: null,
    })),
  );
});

test('a batch spooled before the web-search, service-tier and file-search fields (fifteen number fields a record) still unpacks, with none', () => {
  const builder = new BatchBuilder(4);
  const rows = [transaction(5), transaction(6), transaction(1), transaction(2)];
  assert.deepEqual(
    rows.map((row) => [row.webSearches, row.serviceTier]),
    [
      [0, 'priority'],
      [2, 'flex'],
      [1, 'priority'],
      [0, 'flex'],
    ],
  );
  for (const row of rows) builder.append(row);
  const batch = builder.take()!;
  assert.equal(batch.numbers.length / batch.count, 21);
  assert.deepEqual(
    unpack(withNumberFields(batch, 15)),
    rows.map(({ costNanoUsd: _nano, savedNanoUsd: _saved, ...row }) => ({
      ...row,
      webSearches: 0,
      serviceTier: null,
      fileSearches: 0,
      reasoningTokens: null,
    })),
  );
});

test('a batch spooled before the cost in nano-USD (eighteen number fields a record) unpacks with whole micro-USD, read x 1,000', () => {
  const builder = new BatchBuilder(4);
  const rows = [transaction(1), transaction(3), transaction(4)];
  for (const row of rows) builder.append(row);
  const unpacked = unpack(withNumberFields(builder.take()!, 18));
  assert.deepEqual(
    unpacked,
    rows.map(({ costNanoUsd: _nano, savedNanoUsd: _saved, ...row }) => ({ ...row, reasoningTokens: null })),
  );
  assert.deepEqual(unpacked.map(nanoCostOf), [7_000, 21_000, null]);
});

test('a batch spooled before the saving in nano-USD (nineteen number fields a record) unpacks with whole micro-USD, read x 1,000', () => {
  const builder = new BatchBuilder(4);
  const rows = [transaction(6), transaction(12), transaction(5)];
  for (const row of rows) builder.append(row);
  const unpacked = unpack(withNumberFields(builder.take()!, 19));
  assert.deepEqual(
    unpacked,
    rows.map(({ savedNanoUsd: _saved, ...row }) => ({ ...row, reasoningTokens: null })),
  );
  assert.deepEqual(unpacked.map(nanoSavedOf), [66_000, 132_000, 0]);
});

test('a batch spooled before the reasoning tokens (twenty number fields a record) unpacks with none stated', () => {
  const builder = new BatchBuilder(4);
  const rows = [transaction(6), transaction(5), transaction(9)];
  assert.deepEqual(
    rows.map((row) => row.reasoningTokens),
    [3, null, 4],
  );
  for (const row of rows) builder.append(row);
  assert.deepEqual(
    unpack(withNumberFields(builder.take()!, 20)),
    rows.map((row) => ({ ...row, reasoningTokens: null })),
  );
});
