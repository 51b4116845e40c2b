// The consumer directory finds consumers by key while holding keys only as their SHA-256 hashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ConsumerDirectory, hashKey } from '../../src/policy/consumers.js';

const KEY = 'sk-sluice-consumers-test-0123456789';

function directory(expiresAt: number | null = null): ConsumerDirectory {
  return new ConsumerDirectory([
    { name: 'checkout', team: 'payments', owner: 'ana', labels: {}, models: null, keys: [{ id: 'key-1', hash: hashKey(KEY), expiresAt }] },
  ]);
}

test('a key is found by its hash, an unknown key is not, and neither is held as plaintext afterwards', () => {
  const consumers = directory();
  const unknown = 'sk-sluice-unknown-key-9876543210';
  for (let i = 0; i < 3; i++) assert.equal(consumers.find(KEY)?.name, 'checkout');
  assert.equal(consumers.find(unknown), undefined);
  const held = inspect(consumers, { depth: 10, showHidden: true, maxArrayLength: null, maxStringLength: null });
  assert.ok(held.includes(hashKey(KEY)), 'the hash is what the directory holds');
  assert.ok(!held.includes(KEY), 'a key presented is not kept');
  assert.ok(!held.includes(unknown), 'an unknown key presented is not kept');
});

test('hashKey is the hex SHA-256 of the key', () => {
  assert.equal(hashKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('an expired key finds no consumer, and its presentations are counted by key id', () => {
  const consumers = directory(1_000);
  assert.equal(consumers.find(KEY, 999)?.name, 'checkout');
  assert.equal(consumers.find(KEY, 1_000), undefined);
  assert.equal(consumers.find(KEY, 2_000), undefined);
  assert.deepEqual([...consumers.takeExpiredPresentations()], [['key-1', { count: 2, lastAt: 2_000 }]]);
});
