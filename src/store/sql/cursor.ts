// Keyset pagination: page sizes and opaque cursors (the last key a page ended on, bound to its listing and filters),
// checked when they come back.
import { createHash } from 'node:crypto';
import { StoreInvalid } from '../errors.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export function pageLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE)
    throw new StoreInvalid(`limit must be an integer from 1 to ${MAX_PAGE}, got ${value}`);
  return value;
}

/**
 * A cursor names the listing that handed it out and a digest of the filters it was handed out for, besides the last
 * key: given to another listing, or with other filters, it would page through rows it never saw (wrong data, not an
 * error), so both are checked when it comes back. Opaque to callers, so what a cursor holds can change without
 * breaking an API client.
 */
export interface Listing {
  /** One of LISTINGS. */
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
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = null;
  }
  const forged = new StoreInvalid('the cursor is not one this listing returned', { field: 'cursor' });
  if (!Array.isArray(decoded) || decoded.length !== 3 || typeof decoded[0] !== 'string' || !LISTINGS.has(decoded[0])) throw forged;
  if (decoded[0] !== listing.name)
    throw new StoreInvalid(`the cursor is one the ${decoded[0]} listing returned, not the ${listing.name} listing`, { field: 'cursor' });
  if (decoded[1] !== filterDigest(listing))
    throw new StoreInvalid('the cursor was returned for other filters: ask again with those, or without a cursor for page one', {
      field: 'cursor',
    });
  if (!handedOut(decoded[2], type)) throw forged;
  return decoded[2] as T extends 'string' ? string : number;
}

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
