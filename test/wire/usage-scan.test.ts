// Reading usage out of a pass-through answer without parsing the whole answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceTierText, usageObjectText } from '../../src/wire/usage-scan.js';

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

test('finds the service tier an answer names, its last one', () => {
  assert.equal(serviceTierText('{"service_tier": "flex","usage":{},"service_tier":"priority"}'), 'priority');
  assert.equal(serviceTierText(JSON.stringify({ choices: [{ message: { content: 'a "service_tier":"flex" quoted' } }] })), null);
  assert.equal(serviceTierText('{"service_tier":null}'), null);
});

test('reads the service tier within the window it is given alone', () => {
  // A stream read: the usage event's window, between events that name other tiers.
  const before = 'data: {"service_tier":"flex","choices":[]}\n\n';
  const event = 'data: {"service_tier":"priority","choices":[],"usage":{"prompt_tokens":1}}\n\n';
  const text = `${before}${event}data: {"service_tier":"scale"}\n\n`;
  const from = before.length;
  const to = from + event.length;
  assert.equal(serviceTierText(text, from, to), 'priority');
  assert.equal(serviceTierText(text, from, from + event.indexOf('"usage"')), 'priority');
  // None in the window: the events around it are not read.
  const plain = 'data: {"choices":[],"usage":{"prompt_tokens":1}}\n\n';
  assert.equal(serviceTierText(`${before}${plain}${before}`, before.length, before.length + plain.length), null);
  // A name cut by the window's end is not in it, nor is a value running past it.
  assert.equal(serviceTierText(text, from, from + 10), null);
  assert.equal(serviceTierText(text, from, from + event.indexOf('priority') + 3), null);
});
