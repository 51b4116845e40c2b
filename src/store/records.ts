// What every part of the store shares: epoch milliseconds, JSON values and pages of a listing.

/** Epoch milliseconds, as the ledger counts time. */
export type EpochMs = number;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One page of a keyset-paginated listing; pass `nextCursor` back for the next page, null when this is the last. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
