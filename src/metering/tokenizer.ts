// Token counts for calls whose provider reported no usage, with a real BPE tokenizer (gpt-tokenizer, o200k_base).
// Loaded on first use so neither start-up nor the request path pays for its tables.
import { Worker } from 'node:worker_threads';
import { LRUCache } from 'lru-cache';
import type { ChatRequest, ContentPart } from '../ir/chat.js';
import type { EmbeddingsRequest } from '../ir/embeddings.js';
import { RankTable, type RankTableData } from './rank-table.js';

type CountTokens = (text: string) => number;

/**
 * `load`, run once and its promise shared by every caller; a failed load is forgotten, so the next call tries again
 * rather than every later call failing on one bad start.
 */
export function loadedOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | null = null;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = null;
      throw error;
    }));
}

/** The tokenizer once loaded, for what may not wait for its load (promptTokensNow). */
let loaded: CountTokens | null = null;
const tokenizer = loadedOnce(async () => (loaded = await loadTokenizer()));

/** Releases the counts waiting for the load with the rough count, when countWithoutWaiting() comes first. */
let giveUpWaiting: ((count: CountTokens) => void) | null = null;
let gaveUp: Promise<CountTokens> | null = null;
/** countWithoutWaiting()s not yet ended: while one lasts, a count asked for before the load is rough at once. */
let hurries = 0;

/** The tokenizer; the rough count before its load while countWithoutWaiting() lasts, or came while a count waited. */
function counter(): Promise<CountTokens> {
  if (loaded !== null) return tokenizer();
  if (hurries > 0) {
    // The load goes on, for the counts after.
    tokenizer().catch(() => undefined);
    return Promise.resolve(roughCount);
  }
  gaveUp ??= new Promise((resolve) => (giveUpWaiting = resolve));
  return Promise.race([tokenizer(), gaveUp]);
}

/**
 * Until the returned function is called, counts that would wait for the tokenizer's load (now, or asked for meanwhile)
 * are rough instead; their usage is an estimate either way. For a stop: calls finishing then must be recorded before
 * the ledger closes, and the load can take seconds on a busy machine.
 */
export function countWithoutWaiting(): () => void {
  hurries++;
  giveUpWaiting?.(roughCount);
  giveUpWaiting = null;
  gaveUp = null;
  let ended = false;
  return () => {
    if (!ended) hurries--;
    ended = true;
  };
}

/**
 * gpt-tokenizer's o200k_base encoder, given the ranks' table the worker built (o200k-ranks-worker.ts says why a worker)
 * in place of the Map the library builds itself (rank-table.ts says why): it is built from the ranks that are bytes, and
 * its Map, which holds only text tokens, is swapped for the table before its first count. That Map is a private field;
 * a version of the library without it fails the load here, loudly, and the tests that compare counts with the library's.
 */
async function loadTokenizer(): Promise<CountTokens> {
  const [ranks, { BytePairEncodingCore }, { O200K_TOKEN_SPLIT_REGEX }, { createO200KSpecialTokenMap }] = await Promise.all([
    o200kRanks(),
    import('gpt-tokenizer/BytePairEncodingCore'),
    import('gpt-tokenizer/encodingParams/constants'),
    import('gpt-tokenizer/encodingParams/o200k_base'),
  ]);
  const byteRanks: Array<readonly number[]> = [];
  for (const [rank, bytes] of ranks.byteRanks) byteRanks[rank] = bytes;
  const encoder = new BytePairEncodingCore({
    bytePairRankDecoder: byteRanks,
    tokenSplitRegex: O200K_TOKEN_SPLIT_REGEX,
    specialTokensEncoder: createO200KSpecialTokenMap(),
    mergeCacheSize: MERGE_CACHE_ENTRIES,
  });
  const fields = encoder as unknown as { bytePairStringRankEncoder: unknown };
  if (!(fields.bytePairStringRankEncoder instanceof Map))
    throw new Error('the tokenizer cannot load: gpt-tokenizer no longer keeps its text ranks where Sluice puts its table');
  fields.bytePairStringRankEncoder = new RankTable(ranks.table);
  // No special tokens allowed: text that spells one (`<|endoftext|>`) is counted as the text it is, as OpenAI counts a
  // caller's text (the library's higher-level countTokens throws on such text by default, which once failed a call).
  return bounded((text) => encoder.countNative(text));
}

/** What the worker hands over: the table of text ranks, and the ranks that are bytes (as [rank, bytes]). */
export interface O200kRanks {
  table: RankTableData;
  byteRanks: Array<[number, readonly number[]]>;
}

/**
 * gpt-tokenizer keeps the merges of each word that is not one token, up to 100,000 by default, about 250 bytes each: a
 * gateway counting varied text grew its heap by 28 MB that it never gave back (150,000 made-up words; the test in
 * tokenizer.test.ts). Here at most this many, some 2.5 MB. Prompts that repeat are answered from the counts kept
 * whole (TokenCountCache) before any merge.
 */
export const MERGE_CACHE_ENTRIES = 10_000;

function o200kRanks(): Promise<O200kRanks> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./o200k-ranks-worker.js', import.meta.url));
    worker.once('message', (ranks: O200kRanks) => {
      resolve(ranks);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the tokenizer's ranks were not loaded (their thread exited with ${code})`)));
  });
}

/**
 * BPE merges each pre-token in time quadratic in its length, and one run of letters, spaces or CJK without punctuation
 * is one pre-token: 80 KB of one letter took 2.4 s and a 10 MB prompt hours, on the event loop, from any key holder (or
 * any upstream, through the output sample). A run of text without whitespace longer than this is counted in pieces cut
 * where a letter or digit meets punctuation, which is where the tokenizer's own pre-tokens end anyway, so such text
 * (minified JSON, URLs) counts exactly as before; only a run with no such place within the length is cut blindly, and
 * counts within a token per cut.
 */
const LONGEST_RUN = 512;
const LONG_RUN = new RegExp(`\\S{${LONGEST_RUN + 1},}|\\s{${LONGEST_RUN + 1},}`, 'g');
/** A letter or digit followed by punctuation other than an apostrophe (which may begin a contraction: 's, 're). */
const PRE_TOKEN_END = /[\p{L}\p{N}\p{M}](?=[^\p{L}\p{N}\p{M}'\s])/gu;

function bounded(count: CountTokens): CountTokens {
  return (text) => {
    if (text.length <= LONGEST_RUN) return count(text);
    LONG_RUN.lastIndex = 0;
    let total = 0;
    let from = 0;
    for (let run = LONG_RUN.exec(text); run !== null; run = LONG_RUN.exec(text)) {
      if (run.index > from) total += count(text.slice(from, run.index));
      const end = run.index + run[0].length;
      let at = run.index;
      while (end - at > LONGEST_RUN) {
        const cut = pieceEnd(text, at);
        total += count(text.slice(at, cut));
        at = cut;
      }
      total += count(text.slice(at, end));
      from = end;
    }
    if (from === 0) return count(text);
    if (from < text.length) total += count(text.slice(from));
    return total;
  };
}

/** Where the piece starting at `at` ends: the last pre-token end in its second half, else a blind cut at the length. */
function pieceEnd(text: string, at: number): number {
  const window = text.slice(at + LONGEST_RUN / 2, at + LONGEST_RUN);
  let last = -1;
  PRE_TOKEN_END.lastIndex = 0;
  for (let end = PRE_TOKEN_END.exec(window); end !== null; end = PRE_TOKEN_END.exec(window)) last = end.index + end[0].length;
  return last === -1 ? at + LONGEST_RUN : at + LONGEST_RUN / 2 + last;
}

/** OpenAI's documented accounting: 3 tokens per message for its framing, 3 to prime the reply. */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;
/** A low-detail image costs 85 tokens at OpenAI; without the image's size nothing better can be said. */
const PER_IMAGE = 85;
/**
 * A PDF is read as each page's text and image: Anthropic puts a page at 1,500 to 3,000 tokens. Without opening the PDF
 * its page count is unknown, so one page at the lower figure is estimated, as an image is at its least; counting its
 * base64 as text would reserve a budget's worth for a few pages. The provider's count replaces the estimate.
 */
const PER_PDF = 1_500;

export async function countTextTokens(texts: readonly string[]): Promise<number> {
  const count = await counter();
  let total = 0;
  for (const text of texts) if (text !== '') total += count(text);
  return total;
}

/**
 * Prompts repeat: an application sends the same system prompt and tools with every call, and a conversation resends
 * all its earlier turns with each new one. Their counts are kept, the least recently used first out of mind, up to
 * CACHE_CHARS characters of text in all (a few MB at most), each text up to CACHE_TEXT_CHARS.
 */
const CACHE_CHARS = 1 << 20;
const CACHE_TEXT_CHARS = 1 << 16;

export class TokenCountCache {
  // lru-cache rather than a Map reordered by delete and set: a hit, the common case, then costs no table work (a
  // Map emptied and refilled at every hit kept rebuilding its table; measured at about 2 µs of a governed call).
  private readonly counts: LRUCache<string, number>;

  constructor(limitChars: number = CACHE_CHARS) {
    this.counts = new LRUCache({
      maxSize: limitChars,
      maxEntrySize: Math.min(CACHE_TEXT_CHARS, limitChars),
      sizeCalculation: (_count, text) => Math.max(1, text.length),
    });
  }

  count(text: string, count: CountTokens): number {
    const kept = this.counts.get(text);
    if (kept !== undefined) return kept;
    const counted = count(text);
    this.counts.set(text, counted);
    return counted;
  }

  get size(): number {
    return this.counts.size;
  }
}

const promptTexts = new TokenCountCache();

export async function estimatePromptTokens(request: ChatRequest): Promise<number> {
  const count = await counter();
  return promptTokens(request, count, count === roughCount ? null : promptTexts);
}

/**
 * estimatePromptTokens without a promise once the tokenizer's tables are loaded, so that admission, which counts every
 * governed call's prompt, can admit without one (admit.ts).
 */
export function countPromptTokens(request: ChatRequest): number | Promise<number> {
  return loaded === null ? estimatePromptTokens(request) : promptTokens(request, loaded, promptTexts);
}

/**
 * The prompt's tokens where a wait would show: a translated stream's first event, which states them. Loading
 * the tokenizer's tables takes most of a second (longer on a busy machine), so until they are loaded the count is rough,
 * a token per four characters, and the load starts for the calls after. Only the first calls after a start see it;
 * a provider's own count, once reported, replaces it in the stream's last event.
 */
export function promptTokensNow(request: ChatRequest): number {
  if (loaded !== null) return promptTokens(request, loaded, promptTexts);
  // A failed load is tried again by the next call that needs the tokenizer (loadedOnce).
  tokenizer().catch(() => undefined);
  return promptTokens(request, roughCount, null);
}

/** OpenAI's rule of thumb for English text. */
const roughCount: CountTokens = (text) => Math.ceil(text.length / 4);

/** `kept`: the cache of counts, for exact counts only (a rough one must not outlive the load). */
function promptTokens(request: ChatRequest, count: CountTokens, kept: TokenCountCache | null): number {
  let total = REPLY_PRIMING;
  for (const message of request.messages) {
    total += PER_MESSAGE;
    for (const part of message.content) total += partTokens(part, count, kept);
    if (message.role === 'assistant') for (const call of message.toolCalls) total += count(call.name) + count(call.arguments);
  }
  if (request.tools !== undefined) for (const tool of request.tools) total += countKept(JSON.stringify(tool), count, kept);
  return total;
}

function partTokens(part: ContentPart, count: CountTokens, kept: TokenCountCache | null): number {
  switch (part.type) {
    case 'text':
      return countKept(part.text, count, kept);
    case 'image':
      return PER_IMAGE;
    case 'document':
      return part.source.kind === 'pdf' ? PER_PDF : countKept(part.source.text, count, kept);
  }
}

/** A function rather than a closure per call: this runs in every governed call's admission. */
function countKept(text: string, count: CountTokens, kept: TokenCountCache | null): number {
  return kept === null ? count(text) : kept.count(text, count);
}

export async function estimateEmbeddingTokens(request: EmbeddingsRequest): Promise<number> {
  return embeddingTokens(request, await counter());
}

/** estimateEmbeddingTokens, synchronous once the tokenizer's tables are loaded (countPromptTokens says why). */
export function countEmbeddingTokens(request: EmbeddingsRequest): number | Promise<number> {
  return loaded === null ? estimateEmbeddingTokens(request) : embeddingTokens(request, loaded);
}

function embeddingTokens(request: EmbeddingsRequest, count: CountTokens): number {
  let total = 0;
  for (const input of request.input) total += typeof input === 'string' ? count(input) : input.length;
  return total;
}
