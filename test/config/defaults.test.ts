// The embedded defaults: providers found from the environment, and the default consumer's key, which a restart keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig, NO_PROVIDER_HINT } from '../../src/config/defaults.js';
import { scratchDir } from '../support/scratch.js';

function storageIn(dir: string) {
  return { SLUICE_STORAGE: `sqlite:${join(dir, 'sluice.db')}` };
}

test('the no-provider hint names each variable the defaults read, and each one it names finds a provider', () => {
  const dir = scratchDir('sluice-defaults-');
  const named = [...NO_PROVIDER_HINT.matchAll(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g)].map((match) => match[0]);
  assert.deepEqual(named, [
    'OPENAI_API_KEY',
    'ANTHROPIC_API_KEY',
    'GEMINI_API_KEY',
    'GOOGLE_API_KEY',
    'OPENAI_BASE_URL',
    'ANTHROPIC_BASE_URL',
  ]);
  for (const [variable, provider] of [
    ['OPENAI_API_KEY', 'openai'],
    ['ANTHROPIC_API_KEY', 'anthropic'],
    ['GEMINI_API_KEY', 'gemini'],
    ['GOOGLE_API_KEY', 'gemini'],
  ] as const) {
    assert.deepEqual(defaultConfig({ ...storageIn(dir), [variable]: 'a-provider-key' }).providers, [provider], variable);
  }
  const based = defaultConfig({
    ...storageIn(dir),
    OPENAI_API_KEY: 'k',
    OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
    ANTHROPIC_API_KEY: 'k',
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/',
  });
  assert.equal(based.config.providers.openai?.baseUrl, 'http://127.0.0.1:11434/v1');
  assert.equal(based.config.providers.anthropic?.baseUrl, 'http://127.0.0.1:9/');
  assert.match(NO_PROVIDER_HINT, /Azure OpenAI, Bedrock and Vertex AI need a sluice\.yaml/);
  assert.deepEqual(defaultConfig(storageIn(dir)).providers, []);
});

test("the default consumer's key: SLUICE_API_KEY, else the key file in the data folder, else a new one for that file", () => {
  const dir = scratchDir('sluice-defaults-');
  const file = join(dir, 'default-consumer.key');
  const generated = defaultConfig(storageIn(dir)).consumerKey;
  assert.equal(generated.origin, 'generated');
  assert.equal(generated.file, file);
  assert.match(generated.value, /^sk-sluice-/);
  assert.notEqual(
    defaultConfig(storageIn(dir)).consumerKey.value,
    generated.value,
    'nothing was written: the caller writes it once listening',
  );

  writeFileSync(file, 'sk-sluice-kept-from-the-first-start\n');
  const kept = defaultConfig(storageIn(dir));
  assert.deepEqual(kept.consumerKey, { value: 'sk-sluice-kept-from-the-first-start', origin: 'file', file });
  assert.deepEqual(kept.config.consumers[0]?.keys, ['sk-sluice-kept-from-the-first-start']);

  const chosen = defaultConfig({ ...storageIn(dir), SLUICE_API_KEY: 'sk-chosen-by-the-operator' });
  assert.equal(chosen.consumerKey.origin, 'SLUICE_API_KEY');
  assert.deepEqual(chosen.config.consumers[0]?.keys, ['sk-chosen-by-the-operator']);

  writeFileSync(file, '\n');
  assert.throws(() => defaultConfig(storageIn(dir)), /default-consumer\.key is empty: delete it to have a new one made/);
  writeFileSync(file, 'short\n');
  assert.throws(() => defaultConfig(storageIn(dir)), /default-consumer\.key: a key of at least 8 characters/);
  assert.throws(() => defaultConfig({ ...storageIn(dir), SLUICE_API_KEY: 'short' }), /SLUICE_API_KEY: a key of at least 8 characters/);
});
