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

test('a key replacing others opens what they sealed, seals with itself alone, and names them when a value needs another', () => {
  const [oldest, old, current, stranger] = [MasterKey.generate(), MasterKey.generate(), MasterKey.generate(), MasterKey.generate()];
  const fromOldest = oldest.key.seal('{"apiKey":"sk-1"}', 'openai');
  const fromOld = old.key.seal('{"apiKey":"sk-2"}', 'openai');
  const rotating = current.key.replacing(MasterKey.parseList(`${old.text}, ${oldest.text}\n`));
  assert.equal(rotating.id, current.key.id);
  assert.deepEqual(rotating.replaces.sort(), [old.key.id, oldest.key.id].sort());
  assert.equal(rotating.open(fromOldest, 'openai'), '{"apiKey":"sk-1"}');
  assert.equal(rotating.open(fromOld, 'openai'), '{"apiKey":"sk-2"}');
  assert.throws(() => rotating.open(fromOld, 'anthropic'), /do not open/, 'still bound to its provider');
  const resealed = rotating.seal('{"apiKey":"sk-2"}', 'openai');
  assert.equal(MasterKey.sealedWith(resealed), current.key.id);
  assert.equal(current.key.open(resealed, 'openai'), '{"apiKey":"sk-2"}', 'the current key alone opens what it seals');
  assert.equal(MasterKey.sealedWith('sk-plain'), null);
  assert.throws(
    () => rotating.open(stranger.key.seal('x', 'openai'), 'openai'),
    (error: Error) =>
      error instanceof MasterKeyError &&
      error.message.includes(stranger.key.id) &&
      error.message.includes(old.key.id) &&
      error.message.includes('SLUICE_MASTER_KEY_PREVIOUS'),
  );
  assert.equal(current.key.replacing(MasterKey.parseList(current.text)).replaces.length, 0, 'the current key is not its own predecessor');
  assert.deepEqual(MasterKey.parseList(undefined), []);
  assert.deepEqual(MasterKey.parseList(' '), []);
  assert.throws(() => MasterKey.parseList(`${old.text},short`), /SLUICE_MASTER_KEY_PREVIOUS \(key 2\): expected 32 random bytes/);
});
