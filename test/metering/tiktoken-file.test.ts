// o200k_base's ranks read from gpt-tokenizer's rank file (tiktoken-file.ts), as the tokenizer's loading thread reads
// them: the same, rank by rank, as the module the library generates from that file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import generated from 'gpt-tokenizer/bpeRanks/o200k_base';
import { o200kRankFile, readTiktokenRanks } from '../../src/metering/tiktoken-file.js';

test("o200k_base's rank file reads into the ranks of the library's generated module, text and bytes alike", () => {
  const ranks = readTiktokenRanks(readFileSync(o200kRankFile(), 'latin1'));
  assert.equal(ranks.length, generated.length);
  let bytes = 0;
  for (let rank = 0; rank < ranks.length; rank++) {
    const read = ranks[rank]!;
    const expected = generated[rank]!;
    if (typeof expected === 'string') {
      if (read !== expected) assert.fail(`rank ${rank}: ${JSON.stringify(read)}, not ${JSON.stringify(expected)}`);
    } else {
      bytes++;
      assert.deepEqual(read, [...expected], `rank ${rank}`);
    }
  }
  assert.ok(bytes > 1_000, `${bytes} ranks are bytes`);
});

test('a rank file out of order, or with a line that is not a token and its rank, is refused', () => {
  assert.deepEqual(readTiktokenRanks('IQ== 0\nIg== 1\n\nIw== 3\n'), ['!', '"', '', '#']);
  assert.deepEqual(readTiktokenRanks('/w== 0\n77u/ 1\n'), [[255], [0xef, 0xbb, 0xbf]]);
  assert.throws(() => readTiktokenRanks('IQ== 1\nIg== 0\n'), /not "<base64> <next rank>"/);
  assert.throws(() => readTiktokenRanks('IQ==\n'), /not "<base64> <next rank>"/);
  assert.throws(() => readTiktokenRanks('IQ== x\n'), /not "<base64> <next rank>"/);
});
