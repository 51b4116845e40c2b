// Reading usage out of a pass-through answer without parsing the whole answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usageObjectText } from '../../src/wire/usage-scan.js';

test('finds the top-level usage object after the choices', () => {
  const body = JSON.stringify({
    id: 'x',
    choices: [{ message: { content: 'she said "usage": {"a":1} twice' } }],
    usage: { prompt_tokens: 3, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 1 } },
  });
  assert.deepEqual(JSON.parse(usageObjectText(body)!), {
    prompt_tokens: 3,
    completion_tokens: 4,
    prompt_tokens_details: { cached_tokens: 1 },
  });
});

test('finds it in pretty-printed JSON', () => {
  assert.equal(usageObjectText('{\n  "usage": {\n    "input_tokens": 5\n  }\n}'), '{\n    "input_tokens": 5\n  }');
});

test('gives null when there is no usage object', () => {
  assert.equal(usageObjectText(JSON.stringify({ choices: [{ message: { content: 'the "usage" of words' } }] })), null);
  assert.equal(usageObjectText('{"usage": null}'), null);
  assert.equal(usageObjectText('{"usage": {"a": 1'), null);
});
