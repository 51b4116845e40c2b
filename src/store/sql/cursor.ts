// Keyset pagination: page sizes and opaque cursors (the last key a page ended on, bound to its listing and filters),
// checked when they come back; and listings in a chosen order (a key, then the row id), whose cursors also say which
// order they were handed out in.
import { createHash } from 'node:crypto';
import type { SortOrder } from '../../schemas/listing-order.js';
import { StoreInvalid } from '../errors.js';
import type { SqlValue } from './session.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export function pageLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE)
    throw new StoreInvalid(`limit must be an integer from 1 to ${MAX_PAGE}, got ${value}`, { field: 'limit' });
  return value;
}

/**
 * A cursor names the listing that handed it out and a digest of the filters it was handed out for, besides the last
 * key: given to another listing, or with other filters, it would page through rows it never saw (wrong data, not an
 * error), so both are checked when it comes back. Opaque to callers, so what a cursor holds can change without
 * breaking an API client.
 */
export interface Listing {
  /** One of LISTINGS; a sorted listing's with its order after it (`transactions:cost:desc`). */
  name: string;
  /** The listing's filters in a fixed order (not the page size: a client may change that between pages). */
  filters: readonly unknown[];
}

/** Every keyset listing, each its own name; a cursor naming something else is forged, and its name is not echoed. */
const LISTINGS: ReadonlySet<unknown> = new Set(['audit', 'assessments', 'consumers', 'discovered consumers', 'transactions']);

function filterDigest(listing: Listing): string {
  return createHash('sha256').update(JSON.stringify(listing.filters)).digest('base64url').slice(0, 16);
}

export function encodeCursor(listing: Listing, position: string | number): string {
  return Buffer.from(JSON.stringify([listing.name, filterDigest(listing), position])).toString('base64url');
}

export function decodeCursor<T extends 'string' | 'number'>(
  cursor: string | null | undefined,
  listing: Listing,
  type: T,
): (T extends 'string' ? string : number) | null {
  if (cursor === undefined || cursor === null) return null;
  const decoded = parsedCursor(cursor);
  handedOutBy(decoded, listing.name);
  if (!Array.isArray(decoded) || decoded.length !== 3 || decoded[0] !== listing.name) throw notHandedOut();
  if (decoded[1] !== filterDigest(listing)) throw otherFilters();
  if (!handedOut(decoded[2], type)) throw notHandedOut();
  return decoded[2] as T extends 'string' ? string : number;
}

/**
 * A cursor another listing handed out is named as such (a sorted listing's name carries its order after a colon:
 * `transactions:cost:desc`), whatever its shape; one naming no listing is left to the caller's checks.
 */
function handedOutBy(decoded: unknown, listing: string): void {
  if (!Array.isArray(decoded) || typeof decoded[0] !== 'string') return;
  const by = decoded[0].split(':')[0]!;
  const expected = listing.split(':')[0]!;
  if (LISTINGS.has(by) && by !== expected)
    throw new StoreInvalid(`the cursor is one the ${by} listing returned, not the ${expected} listing`, { field: 'cursor' });
}

function parsedCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

const notHandedOut = () => new StoreInvalid('the cursor is not one this listing returned', { field: 'cursor' });
const otherFilters = () =>
  new StoreInvalid('the cursor was returned for other filters: ask again with those, or without a cursor for page one', {
    field: 'cursor',
  });

/**
 * Whether a listing could have handed out this position: a row id is a whole number (a BIGINT holds it), a name has no
 * NUL character. Anything else would reach PostgreSQL as an error (a 500) and SQLite as a silent mismatch.
 */
function handedOut(position: unknown, type: 'string' | 'number'): boolean {
  if (type === 'number') return typeof position === 'number' && Number.isSafeInteger(position);
  return typeof position === 'string' && !position.includes('\u0000');
}

/** Asked for one row more than the page: whether it came back says if there is a next page. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  listing: Listing,
  item: (row: Row) => Item,
  position: (item: Item) => string | number,
) {
  const items = rows.slice(0, limit).map(item);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(listing, position(last)) : null };
}

/**
 * What a listing is ordered by: an expression over its row, a number or a text, NULL for a row that has none (an
 * unpriced call's cost), which comes last in either order.
 */
export interface SortKey {
  sql: string;
  type: 'number' | 'string';
  nullable: boolean;
}

/** Where a page of a sorted listing ended: its last row's key and id. */
export interface SortedPosition {
  key: number | string | null;
  id: number;
}

/** `ORDER BY` a key, then the row id the same way (so rows of one key keep one order across pages), rows of no key last. */
export function orderBy(key: SortKey, order: SortOrder): string {
  const direction = order === 'desc' ? 'DESC' : 'ASC';
  return `${key.sql} ${direction}${key.nullable ? ' NULLS LAST' : ''}, id ${direction}`;
}

/**
 * The rows after a position in that order: for a position with a key, its 3 parameters (key, key, id; the first a bound
 * an index can seek to), and rows of no key, which come after every key; for a position of no key, the 1 (id).
 */
export function rowsAfter(key: SortKey, order: SortOrder, ofNoKey: boolean): string {
  const beyond = order === 'desc' ? '<' : '>';
  if (ofNoKey) return `(${key.sql} IS NULL AND id ${beyond} ?)`;
  const keyed = `${key.sql} ${beyond}= ? AND (${key.sql} ${beyond} ? OR id ${beyond} ?)`;
  return key.nullable ? `(${key.sql} IS NULL OR (${keyed}))` : `(${keyed})`;
}

export function rowsAfterParameters(position: SortedPosition): SqlValue[] {
  return position.key === null ? [position.id] : [position.key, position.key, position.id];
}

/**
 * A sorted listing's cursor: the listing with its order (`transactions:cost:desc`), a digest of its filters, and the last
 * row's key and id.
 */
export function encodeSortedCursor(listing: Listing, position: SortedPosition): string {
  return Buffer.from(JSON.stringify([listing.name, filterDigest(listing), position.key, position.id])).toString('base64url');
}

/**
 * A sorted listing's cursor back, checked: handed out by this listing (not tampered with), for these filters and in the
 * order asked for now, as a position in another order, or of other filters, would skip and repeat rows.
 */
export function decodeSortedCursor(cursor: string | null | undefined, listing: Listing, key: SortKey): SortedPosition | null {
  if (cursor === undefined || cursor === null) return null;
  const value = parsedCursor(cursor);
  handedOutBy(value, listing.name);
  if (!Array.isArray(value) || value.length !== 4 || typeof value[0] !== 'string') throw notHandedOut();
  const [handedOutIn, digest, position, id] = value as [string, unknown, unknown, unknown];
  const [name, sort, order] = handedOutIn.split(':');
  if (!LISTINGS.has(name) || sort === undefined || order === undefined) throw notHandedOut();
  if (handedOutIn !== listing.name)
    throw new StoreInvalid(
      `the cursor is from the listing in another order (sort=${sort}&order=${order}): start this one again without it`,
      {
        field: 'cursor',
      },
    );
  if (digest !== filterDigest(listing)) throw otherFilters();
  // A key is what a row held: a number a BIGINT or a double holds (a latency may have a fraction), or a text without NUL.
  const keyed =
    position === null
      ? key.nullable
      : key.type === 'number'
        ? typeof position === 'number' && Number.isFinite(position) && Math.abs(position) <= Number.MAX_SAFE_INTEGER
        : handedOut(position, 'string');
  if (!keyed || !handedOut(id, 'number')) throw notHandedOut();
  return { key: position as number | string | null, id: id as number };
}

/** A page of a sorted listing, asked for one row more than the page; each row carries its key as `sort_key`. */
export function toSortedPage<Row extends { id: number | string; sort_key: number | string | null }, Item>(
  rows: Row[],
  limit: number,
  item: (row: Row) => Item,
  listing: Listing,
  key: SortKey,
) {
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  const position =
    last === undefined
      ? null
      : { key: last.sort_key === null || key.type === 'string' ? last.sort_key : Number(last.sort_key), id: Number(last.id) };
  return { items: rows.slice(0, limit).map(item), nextCursor: position === null ? null : encodeSortedCursor(listing, position) };
}
