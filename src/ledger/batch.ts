// A batch of ledger records packed into a few flat arrays while it fills: numbers in one Float64Array, request ids as
// UTF-8 in one byte buffer, the other strings (consumer, model, provider...: a handful of distinct values) interned
// once per batch. Buffering Transaction objects kept a thousand small objects per batch alive past several young-
// generation collections (copied, promoted, then collected by full GCs), and each one was structured-cloned field by
// field to the writer thread; a packed batch is a few arrays, cloned by copying their bytes.
import { storableText } from './storable.js';
import type { ServiceTier } from '../ir/usage.js';
import { nanoCostOf, nanoSavedOf } from '../ir/transaction.js';
import type { Transaction } from './transaction.js';

/** What crosses to the sink (and, for SQLite, to its writer thread): plain data, structured-clone friendly. */
export interface PackedBatch {
  count: number;
  /** NUMBER_FIELDS per record. */
  numbers: Float64Array;
  /** STRING_FIELDS per record: an index into `strings`, or -1 for null. */
  refs: Int32Array;
  strings: string[];
  /** Every record's request id, UTF-8, at the offset and length its numbers give. */
  ids: Uint8Array;
}

// Offsets in a record's slice of `numbers`.
const STARTED_AT = 0;
const INPUT_TOKENS = 1;
const OUTPUT_TOKENS = 2;
const CACHED_INPUT_TOKENS = 3;
const CACHE_WRITE_TOKENS = 4;
const COST_MICRO_USD = 5;
const LATENCY_MS = 6;
const TIME_TO_FIRST_TOKEN_MS = 7;
const STATUS = 8;
const ATTEMPTS = 9;
/** Bits: stream, tokensEstimated, costMicroUsd null, timeToFirstTokenMs null. */
const FLAGS = 10;
const ID_OFFSET = 11;
const ID_LENGTH = 12;
const SAVED_MICRO_USD = 13;
const CACHE_WRITE_1H_TOKENS = 14;
const WEB_SEARCHES = 15;
/** 0 for the standard tier, else the tier's place in SERVICE_TIERS plus one. */
const SERVICE_TIER = 16;
const FILE_SEARCHES = 17;
/** The cost to the nano-USD (COST_MICRO_USD is it rounded to whole micro-USD). */
const COST_NANO_USD = 18;
/** The response-cache saving to the nano-USD (SAVED_MICRO_USD is it rounded). */
const SAVED_NANO_USD = 19;
/** Of the output tokens, those spent reasoning; NO_REASONING_TOKENS where the provider stated no split. */
const REASONING_TOKENS = 20;
const NUMBER_FIELDS = 21;

/** A token count is never negative: this one stands for null. */
const NO_REASONING_TOKENS = -1;

// Appended to, never reordered: a tier travels to the writer thread as its place here.
const SERVICE_TIERS: readonly ServiceTier[] = ['priority', 'flex', 'fast'];

const STREAM = 1;
const TOKENS_ESTIMATED = 2;
const NO_COST = 4;
const NO_TIME_TO_FIRST_TOKEN = 8;

/** Transaction's nullable or repeating string fields, in their order in `refs`. */
const STRING_KEYS = [
  'operation',
  'api',
  'consumer',
  'team',
  'requestedModel',
  'provider',
  'providerModel',
  'errorClass',
  'servedModel',
  'violations',
  'identity',
] as const satisfies readonly (keyof Transaction)[];
const STRING_FIELDS = STRING_KEYS.length;

/** Request ids are a UUID or a client's id of at most 128 characters: room for a typical one, grown when exceeded. */
const ID_BYTES_PER_RECORD = 40;

/** Fills one batch of up to `capacity` records; take() hands it over and starts the next. */
export class BatchBuilder {
  private readonly capacity: number;
  private count: number;
  // Set by clear(), from the constructor and from take().
  private numbers!: Float64Array;
  private refs!: Int32Array;
  private strings!: string[];
  private interned!: Map<string, number>;
  private ids!: Buffer;
  private idBytes!: number;
  /** Strings that had to be made storable (storable.ts), since the builder was made. */
  repaired: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.count = 0;
    this.repaired = 0;
    this.clear();
  }

  get length(): number {
    return this.count;
  }

  append(tx: Transaction): void {
    // Arrays are made at a batch's first record, so an idle gateway holds none.
    if (this.count === 0 && this.numbers.length === 0) this.allocate();
    if ((this.count + 1) * NUMBER_FIELDS > this.numbers.length) this.grow();
    const at = this.count * NUMBER_FIELDS;
    const numbers = this.numbers;
    numbers[at + STARTED_AT] = tx.startedAt;
    numbers[at + INPUT_TOKENS] = tx.inputTokens;
    numbers[at + OUTPUT_TOKENS] = tx.outputTokens;
    numbers[at + CACHED_INPUT_TOKENS] = tx.cachedInputTokens;
    numbers[at + CACHE_WRITE_TOKENS] = tx.cacheWriteTokens;
    numbers[at + COST_MICRO_USD] = tx.costMicroUsd ?? 0;
    numbers[at + LATENCY_MS] = tx.latencyMs;
    numbers[at + TIME_TO_FIRST_TOKEN_MS] = tx.timeToFirstTokenMs ?? 0;
    numbers[at + STATUS] = tx.status;
    numbers[at + ATTEMPTS] = tx.attempts;
    numbers[at + SAVED_MICRO_USD] = tx.savedMicroUsd ?? 0;
    numbers[at + CACHE_WRITE_1H_TOKENS] = tx.cacheWrite1hTokens ?? 0;
    numbers[at + WEB_SEARCHES] = tx.webSearches ?? 0;
    numbers[at + FILE_SEARCHES] = tx.fileSearches ?? 0;
    numbers[at + COST_NANO_USD] = nanoCostOf(tx) ?? 0;
    numbers[at + SAVED_NANO_USD] = nanoSavedOf(tx);
    numbers[at + REASONING_TOKENS] = tx.reasoningTokens ?? NO_REASONING_TOKENS;
    numbers[at + SERVICE_TIER] = tx.serviceTier === undefined || tx.serviceTier === null ? 0 : SERVICE_TIERS.indexOf(tx.serviceTier) + 1;
    numbers[at + FLAGS] =
      (tx.stream ? STREAM : 0) |
      (tx.tokensEstimated ? TOKENS_ESTIMATED : 0) |
      (tx.costMicroUsd === null ? NO_COST : 0) |
      (tx.timeToFirstTokenMs === null ? NO_TIME_TO_FIRST_TOKEN : 0);
    const idLength = Buffer.byteLength(tx.requestId);
    if (this.idBytes + idLength > this.ids.length) this.growIds(idLength);
    this.ids.write(tx.requestId, this.idBytes, 'utf8');
    numbers[at + ID_OFFSET] = this.idBytes;
    numbers[at + ID_LENGTH] = idLength;
    this.idBytes += idLength;
    // In STRING_KEYS' order, each field named: a loop over the keys read them as tx[key], a megamorphic keyed load
    // each (11 per call, on the serving thread).
    const refs = this.refs;
    const base = this.count * STRING_FIELDS;
    refs[base] = this.intern(tx.operation);
    refs[base + 1] = this.intern(tx.api);
    refs[base + 2] = this.intern(tx.consumer);
    refs[base + 3] = this.intern(tx.team);
    refs[base + 4] = this.intern(tx.requestedModel);
    refs[base + 5] = this.intern(tx.provider);
    refs[base + 6] = this.intern(tx.providerModel);
    refs[base + 7] = this.intern(tx.errorClass);
    refs[base + 8] = this.intern(tx.servedModel);
    refs[base + 9] = this.intern(tx.violations);
    refs[base + 10] = this.intern(tx.identity ?? null);
    this.count++;
  }

  /** The batch so far (null when empty); the builder starts a new one. */
  take(): PackedBatch | null {
    if (this.count === 0) return null;
    const batch: PackedBatch = {
      count: this.count,
      numbers: this.numbers.subarray(0, this.count * NUMBER_FIELDS),
      refs: this.refs.subarray(0, this.count * STRING_FIELDS),
      strings: this.strings,
      ids: this.ids.subarray(0, this.idBytes),
    };
    this.count = 0;
    this.clear();
    return batch;
  }

  /** An empty batch: no arrays until its first record (allocate()), so an idle gateway holds none. */
  private clear(): void {
    this.numbers = new Float64Array(0);
    this.refs = new Int32Array(0);
    this.strings = [];
    this.interned = new Map();
    this.ids = Buffer.alloc(0);
    this.idBytes = 0;
  }

  /** A string is checked for storability once per batch, when first seen, not once per record. */
  private intern(value: string | null): number {
    if (value === null) return -1;
    let index = this.interned.get(value);
    if (index === undefined) {
      const text = storableText(value);
      if (text !== value) this.repaired++;
      index = this.strings.push(text) - 1;
      this.interned.set(value, index);
    }
    return index;
  }

  private allocate(): void {
    this.numbers = new Float64Array(this.capacity * NUMBER_FIELDS);
    this.refs = new Int32Array(this.capacity * STRING_FIELDS);
    this.ids = Buffer.alloc(this.capacity * ID_BYTES_PER_RECORD);
  }

  /** Only when appends outrun the flush that a full batch triggers (the writer flushes at capacity). */
  private grow(): void {
    const numbers = new Float64Array(this.numbers.length * 2);
    numbers.set(this.numbers);
    this.numbers = numbers;
    const refs = new Int32Array(this.refs.length * 2);
    refs.set(this.refs);
    this.refs = refs;
  }

  private growIds(needed: number): void {
    const ids = Buffer.alloc(Math.max(this.ids.length * 2, this.idBytes + needed));
    this.ids.copy(ids, 0, 0, this.idBytes);
    this.ids = ids;
  }
}

/** Records [from, to) of a batch, sharing its arrays: what the ledger writes when the store refused the whole batch. */
export function sliceBatch(batch: PackedBatch, from: number, to: number): PackedBatch {
  // Request ids stay where they are: each record's numbers hold the offset of its id in the whole `ids`.
  return {
    count: to - from,
    numbers: batch.numbers.subarray(from * numberStride(batch), to * numberStride(batch)),
    refs: batch.refs.subarray(from * stringStride(batch), to * stringStride(batch)),
    strings: batch.strings,
    ids: batch.ids,
  };
}

/**
 * Number fields per record: NUMBER_FIELDS, or fewer in a batch spooled by an earlier version (13 before the saving field,
 * 14 before the 1-hour cache writes, 15 before web searches, file searches and the service tier, 18 before the cost in
 * nano-USD, 19 before the saving in nano-USD, 20 before the reasoning tokens): fields are only ever added at the end,
 * so a record's earlier offsets never move.
 */
function numberStride(batch: PackedBatch): number {
  return batch.count === 0 ? NUMBER_FIELDS : batch.numbers.length / batch.count;
}

/** String fields per record: STRING_FIELDS, or one fewer in a batch spooled before the identity field. */
function stringStride(batch: PackedBatch): number {
  return batch.count === 0 ? STRING_FIELDS : batch.refs.length / batch.count;
}

/** Record `index`'s request id, for the log line of a record the store refused. */
export function requestIdAt(batch: PackedBatch, index: number): string {
  const at = index * numberStride(batch);
  const offset = batch.numbers[at + ID_OFFSET]!;
  return Buffer.from(batch.ids.buffer, batch.ids.byteOffset, batch.ids.byteLength).toString(
    'utf8',
    offset,
    offset + batch.numbers[at + ID_LENGTH]!,
  );
}

/** The records of a batch, as the store inserts them (string fields read from `refs` in STRING_KEYS order). */
export function unpack(batch: PackedBatch): Transaction[] {
  const rows: Transaction[] = new Array(batch.count);
  const { numbers, refs, strings } = batch;
  const ids = Buffer.from(batch.ids.buffer, batch.ids.byteOffset, batch.ids.byteLength);
  const text = (ref: number) => (ref === -1 ? null : strings[ref]!);
  // A batch spooled before the identity field was added has one string field fewer per record.
  const stride = stringStride(batch);
  // And fewer number fields before the saving field, the 1-hour cache writes, web searches and the service tier.
  const numberFields = numberStride(batch);
  for (let i = 0; i < batch.count; i++) {
    const at = i * numberFields;
    const base = i * stride;
    const flags = numbers[at + FLAGS]!;
    const idOffset = numbers[at + ID_OFFSET]!;
    rows[i] = {
      requestId: ids.toString('utf8', idOffset, idOffset + numbers[at + ID_LENGTH]!),
      startedAt: numbers[at + STARTED_AT]!,
      operation: text(refs[base]!) as Transaction['operation'],
      api: text(refs[base + 1]!)!,
      consumer: text(refs[base + 2]!),
      team: text(refs[base + 3]!),
      requestedModel: text(refs[base + 4]!),
      provider: text(refs[base + 5]!),
      providerModel: text(refs[base + 6]!),
      stream: (flags & STREAM) !== 0,
      inputTokens: numbers[at + INPUT_TOKENS]!,
      outputTokens: numbers[at + OUTPUT_TOKENS]!,
      cachedInputTokens: numbers[at + CACHED_INPUT_TOKENS]!,
      cacheWriteTokens: numbers[at + CACHE_WRITE_TOKENS]!,
      tokensEstimated: (flags & TOKENS_ESTIMATED) !== 0,
      costMicroUsd: (flags & NO_COST) !== 0 ? null : numbers[at + COST_MICRO_USD]!,
      latencyMs: numbers[at + LATENCY_MS]!,
      timeToFirstTokenMs: (flags & NO_TIME_TO_FIRST_TOKEN) !== 0 ? null : numbers[at + TIME_TO_FIRST_TOKEN_MS]!,
      status: numbers[at + STATUS]!,
      errorClass: text(refs[base + 7]!),
      attempts: numbers[at + ATTEMPTS]!,
      servedModel: text(refs[base + 8]!),
      violations: text(refs[base + 9]!),
      identity: stride > 10 ? text(refs[base + 10]!) : null,
      savedMicroUsd: numberFields > SAVED_MICRO_USD ? numbers[at + SAVED_MICRO_USD]! : 0,
      cacheWrite1hTokens: numberFields > CACHE_WRITE_1H_TOKENS ? numbers[at + CACHE_WRITE_1H_TOKENS]! : 0,
      webSearches: numberFields > WEB_SEARCHES ? numbers[at + WEB_SEARCHES]! : 0,
      serviceTier: numberFields > SERVICE_TIER ? (SERVICE_TIERS[numbers[at + SERVICE_TIER]! - 1] ?? null) : null,
      fileSearches: numberFields > FILE_SEARCHES ? numbers[at + FILE_SEARCHES]! : 0,
      // A batch spooled before the nano-USD field has whole micro-USD only: nanoCostOf reads them as x 1,000.
      ...(numberFields > COST_NANO_USD && { costNanoUsd: (flags & NO_COST) !== 0 ? null : numbers[at + COST_NANO_USD]! }),
      // Likewise the saving: nanoSavedOf reads a batch's before this field as its micro-USD x 1,000.
      ...(numberFields > SAVED_NANO_USD && { savedNanoUsd: numbers[at + SAVED_NANO_USD]! }),
      reasoningTokens: numberFields > REASONING_TOKENS ? reasoningTokensAt(numbers[at + REASONING_TOKENS]!) : null,
    };
  }
  return rows;
}

function reasoningTokensAt(field: number): number | null {
  return field === NO_REASONING_TOKENS ? null : field;
}
