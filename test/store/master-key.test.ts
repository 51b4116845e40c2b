// The master key seals provider credentials: what one key seals for one provider opens with that key for that provider only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MasterKey, MasterKeyError } from '../../src/store/master-key.js';

test('seals with a fresh IV every time and opens only with the same key and provider name', () => {
  const { key, text } = MasterKey.generate();
  const again = MasterKey.parse(text);
  const one = key.seal('{"apiKey":"sk-secret"}', 'openai');
  const two = key.seal('{"apiKey":"sk-secret"}', 'openai');
  assert.notEqual(one, two, 'no two sealings alike');
  assert.ok(!one.includes('sk-secret'));
  assert.equal(again.open(one, 'openai'), '{"apiKey":"sk-secret"}');
  assert.throws(() => key.open(one, 'anthropic'), MasterKeyError, 'bound to its provider');
  const other = MasterKey.generate().key;
  assert.throws(
    () => other.open(one, 'openai'),
    (error: Error) => error instanceof MasterKeyError && error.message.includes(key.id) && error.message.includes('SLUICE_MASTER_KEY'),
  );
  const [format, id, payload] = one.split('.') as [string, string, string];
  const flipped = Buffer.from(payload, 'base64url');
  flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 1;
  assert.throws(() => key.open(`${format}.${id}.${flipped.toString('base64url')}`, 'openai'), /do not open/);
});

test('takes 32 bytes as hex or base64 and refuses anything else, naming where it came from', () => {
  assert.equal(MasterKey.parse('00'.repeat(32)).id, MasterKey.parse(Buffer.alloc(32).toString('base64')).id);
  for (const bad of ['', 'short', '00'.repeat(31), Buffer.alloc(16).toString('base64'), 'x'.repeat(44)]) {
    assert.throws(() => MasterKey.parse(bad, 'SLUICE_MASTER_KEY'), /SLUICE_MASTER_KEY: expected 32 random bytes/);
  }
});
