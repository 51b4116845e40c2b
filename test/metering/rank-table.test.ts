// The table of o200k_base's text ranks that stands in for gpt-tokenizer's Map (rank-table.ts): the same answer for every
// token, and none for what is no token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ranks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { buildRankTable, RankTable } from '../../src/metering/rank-table.js';

test("every text token of o200k_base has the rank the library's Map gives it, and other text has none", () => {
  const table = new RankTable(buildRankTable(ranks));
  // The library's own construction: a Map set in rank order (a later rank with the same text would win).
  const map = new Map<string, number>();
  ranks.forEach((token, rank) => {
    if (typeof token === 'string') map.set(token, rank);
  });
  assert.ok(map.size > 190_000);
  for (const [token, rank] of map) if (table.get(token) !== rank) assert.fail(`${JSON.stringify(token)}: ${table.get(token)}, not ${rank}`);
  // Text that is no token: longer than any, prefixes and extensions of tokens, lone surrogates, the empty string.
  const others = ['', 'x'.repeat(200), ' the\u0000', '\ud83d', 'Quetzalcoatlus northropi', '我们的团队正在开发'];
  for (const token of [' the', 'ing', '我们', ' Привет']) others.push(`${token}\u0001`, token.slice(0, -1) + '\u0002');
  for (const text of others) assert.equal(table.get(text), map.get(text), JSON.stringify(text));
  // A slot's few hash bits pass most other tokens by: many look-ups of text that is no token (and some that is), each
  // answered as the Map answers, the Latin and the wider scripts alike.
  const alphabet = 'abcdefghijklmnopqrstuvwxyz .,é我们的开发Приветλόγος';
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % alphabet.length;
  let found = 0;
  for (let i = 0; i < 100_000; i++) {
    let text = '';
    for (let length = 1 + (i % 7); length > 0; length--) text += alphabet[next()];
    const rank = table.get(text);
    if (rank !== map.get(text)) assert.fail(`${JSON.stringify(text)}: ${rank}, not ${map.get(text)}`);
    if (rank !== undefined) found++;
  }
  assert.ok(found > 1_000 && found < 90_000, `${found} of the generated texts are tokens`);
});
