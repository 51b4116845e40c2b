// The canonical form of a sealed row: JSON with every object's keys sorted, no whitespace. SQLite hands a JSON column
// back as written and PostgreSQL's JSONB reorders keys, so the same row reads alike from both once parsed and sorted.
// Hand-written: a few lines for the subset of JSON a row holds (strings, finite numbers, booleans, null, JSON values).
// Every ledger row passes through here at sealing and at each verification, so it builds strings in loops rather than
// arrays, and the rows of one query, read as arrays of values, share one sorting of their column names (RowLayout).
import type { JsonValue } from '../../store/director-store.js';

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]!);
    return `${out}]`;
  }
  const keys = Object.keys(value);
  return new RowLayout(keys).canonical(keys.map((key) => value[key]!));
}

/** Column names sorted, each with its quoted name: what canonical JSON of every row with these columns needs. */
export class RowLayout {
  /** Indexes into a row's values, in the sorted order of their names. */
  private readonly order: readonly number[];
  private readonly names: readonly string[];

  constructor(columns: readonly string[]) {
    this.order = columns.map((_, i) => i).sort((a, b) => (columns[a]! < columns[b]! ? -1 : columns[a]! > columns[b]! ? 1 : 0));
    this.names = this.order.map((column, i) => `${i === 0 ? '' : ','}${JSON.stringify(columns[column])}:`);
  }

  /** Canonical JSON of the object whose values, in the layout's column order, are `values`. */
  canonical(values: readonly JsonValue[]): string {
    let out = '{';
    for (let i = 0; i < this.order.length; i++) {
      const value = values[this.order[i]!]!;
      out += this.names[i]! + scalarOrCanonical(value);
    }
    return `${out}}`;
  }
}

/** A value's canonical JSON; numbers and null without a call into JSON.stringify (the ledger's rows are mostly numbers). */
function scalarOrCanonical(value: JsonValue): string {
  switch (typeof value) {
    case 'number':
      // JSON's text for a finite number is JavaScript's; a non-finite one is null in JSON.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return value === null ? 'null' : canonicalJson(value);
  }
}
