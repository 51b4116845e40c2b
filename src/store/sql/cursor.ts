// Keyset pagination: page sizes and opaque cursors (the last key a page ended on), checked when they come back.
import { StoreInvalid } from '../errors.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export function pageLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE)
    throw new StoreInvalid(`limit must be an integer from 1 to ${MAX_PAGE}, got ${value}`);
  return value;
}

/** Opaque to callers, so what a cursor holds can change without breaking an API client. */
export function encodeCursor(position: string | number): string {
  return Buffer.from(JSON.stringify([position])).toString('base64url');
}

export function decodeCursor<T extends 'string' | 'number'>(
  cursor: string | null | undefined,
  type: T,
): (T extends 'string' ? string : number) | null {
  if (cursor === undefined || cursor === null) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = null;
  }
  if (!Array.isArray(decoded) || decoded.length !== 1 || !handedOut(decoded[0], type))
    throw new StoreInvalid('the cursor is not one this listing returned', { field: 'cursor' });
  return decoded[0] as T extends 'string' ? string : number;
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
export function toPage<Row, Item>(rows: Row[], limit: number, item: (row: Row) => Item, position: (item: Item) => string | number) {
  const items = rows.slice(0, limit).map(item);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(position(last)) : null };
}
