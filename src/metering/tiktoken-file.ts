// A tiktoken rank file ("<token bytes, base64> <rank>" per line), read into the ranks as gpt-tokenizer's generated
// modules hold them: a token whose bytes are UTF-8 as its text, any other as its bytes. The library ships the files its
// modules are generated from; reading one takes a few arrays where importing the module (2.2 MB of literals for
// o200k_base) had V8 parse and compile it, and the loading thread's memory for that stayed in the process after it ended.
// Written by hand: the library reads these files only in its code generator, which it does not export.
import { createRequire } from 'node:module';
import { TextDecoder } from 'node:util';
import type { RawBytePairRanks } from 'gpt-tokenizer/BytePairEncodingCore';

/** Where o200k_base's rank file is, inside the installed gpt-tokenizer (the package exports its `data/`). */
export function o200kRankFile(): string {
  return createRequire(import.meta.url).resolve('gpt-tokenizer/data/o200k_base.tiktoken');
}

/**
 * The ranks in rank order. The decoding is the library generator's own: strict UTF-8 whose text encodes back to as many
 * bytes (a leading byte-order mark, which decoding drops, leaves the token as bytes); a rank the file skips is ''.
 */
export function readTiktokenRanks(file: string): RawBytePairRanks {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const ranks: Array<string | number[]> = [];
  for (let start = 0; start < file.length;) {
    let end = file.indexOf('\n', start);
    if (end === -1) end = file.length;
    if (end > start) {
      const space = file.indexOf(' ', start);
      const rank = space === -1 || space > end ? NaN : Number(file.slice(space + 1, end));
      if (!Number.isInteger(rank) || rank < ranks.length)
        throw new Error(
          `the tiktoken rank file has a line that is not "<base64> <next rank>": ${file.slice(start, Math.min(end, start + 80))}`,
        );
      const bytes = Buffer.from(file.slice(start, space), 'base64');
      while (ranks.length < rank) ranks.push('');
      ranks.push(textOf(decoder, bytes) ?? [...bytes]);
    }
    start = end + 1;
  }
  return ranks;
}

function textOf(decoder: TextDecoder, bytes: Buffer): string | null {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return null;
  }
  return Buffer.byteLength(text) === bytes.length ? text : null;
}
