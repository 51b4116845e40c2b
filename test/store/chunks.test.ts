// Multi-row statements in a few sizes: every row goes out once, in order, in chunks of the sizes statements exist for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statementChunks, statementSizes } from '../../src/store/sql/chunks.js';

test('sized statements exist for the largest size and the powers of two under it', () => {
  assert.deepEqual(statementSizes(50), [50, 32, 16, 8, 4, 2, 1]);
  assert.deepEqual(statementSizes(32), [32, 16, 8, 4, 2, 1]);
  assert.deepEqual(statementSizes(1), [1]);
});

for (const count of [0, 1, 2, 37, 49, 50, 51, 99, 100, 1_000, 1_063]) {
  test(`${count} rows are cut into chunks of those sizes, each row once and in order`, () => {
    const rows = Array.from({ length: count }, (_, index) => index);
    const chunks = statementChunks(rows, 50);
    assert.deepEqual(chunks.flat(), rows);
    for (const chunk of chunks) assert.ok(statementSizes(50).includes(chunk.length), `a chunk of ${chunk.length}`);
    // Full chunks first, then at most one of each smaller size.
    const rest = chunks.filter((chunk) => chunk.length < 50).map((chunk) => chunk.length);
    assert.equal(new Set(rest).size, rest.length);
  });
}

test('one row per statement stays one row per statement', () => {
  assert.deepEqual(
    statementChunks(['a', 'b', 'c'], 1).map((chunk) => chunk.length),
    [1, 1, 1],
  );
});
