// Content codings (content-encoding): the ones a body is read through, undone within a bound, shared by the gateway's
// request bodies and the discovery gateway's requests, answers and OTLP intake. A small body can stand for gigabytes
// (a few KiB of gzip for a run of zeros), so every undoing stops at the caller's bound. Node 20's zlib has no zstd.
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { asString } from './json.js';

type Undo = (bytes: InputType, options: ZlibOptions) => Promise<Buffer>;

/** By HTTP's names; HTTP's deflate is the zlib wrapper, which zlib's inflate takes. */
const UNDO: ReadonlyMap<string, Undo> = new Map<string, Undo>([
  ['gzip', promisify(gunzip)],
  ['x-gzip', promisify(gunzip)],
  ['deflate', promisify(inflate)],
  ['br', promisify(brotliDecompress)],
]);

/** Why a body's codings could not be undone. */
export type Undecodable = 'unsupported_encoding' | 'too_large_decompressed' | 'undecodable';

/** The content codings of a body, as its content-encoding lists them (lowercased, identity left out); empty when none. */
export function contentCodings(header: string | string[] | undefined): string[] {
  const text = asString(header);
  if (text === '') return [];
  const codings: string[] = [];
  for (const coding of text.split(',')) {
    const name = coding.trim().toLowerCase();
    if (name !== '' && name !== 'identity') codings.push(name);
  }
  return codings;
}

/** Whether every coding listed is one that can be undone here. */
export function decodable(codings: readonly string[]): boolean {
  return codings.every((coding) => UNDO.has(coding));
}

/**
 * The body with its codings undone, last first (they were applied in the order listed), each bounded to `maxBytes` of
 * output; or why it cannot be: a coding not undone here, a body past the bound once inflated, a corrupt one.
 */
export async function decodeContent(codings: readonly string[], body: Buffer, maxBytes: number): Promise<Buffer | Undecodable> {
  if (!decodable(codings)) return 'unsupported_encoding';
  let bytes = body;
  for (let i = codings.length - 1; i >= 0; i--) {
    try {
      bytes = await UNDO.get(codings[i]!)!(bytes, { maxOutputLength: maxBytes });
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too_large_decompressed' : 'undecodable';
    }
  }
  return bytes;
}
