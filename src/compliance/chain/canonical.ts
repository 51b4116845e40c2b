// The canonical form of a sealed row: JSON with every object's keys sorted, no whitespace. SQLite hands a JSON column
// back as written and PostgreSQL's JSONB reorders keys, so the same row reads alike from both once parsed and sorted.
// Hand-written: a few lines for the subset of JSON a row holds (strings, finite numbers, booleans, null, JSON values).
// Every ledger row passes through here at sealing and at each verification, so it builds strings in loops rather than
// arrays, and a page of rows of one query's shape sorts its column names once (RowLayout).
import type { JsonValue } from '../../store/director-store.js';

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]!);
    return `${out}]`;
  }
  return new RowLayout(Object.keys(value)).canonical(value);
}

/** An object's keys sorted, each with its quoted name: what canonical JSON of every object with these keys needs. */
export class RowLayout {
  /** The keys in the order the object holds them, to tell whether another object has this shape. */
  private readonly keys: readonly string[];
  private readonly sorted: readonly string[];
  private readonly names: readonly string[];

  constructor(keys: readonly string[]) {
    this.keys = keys;
    this.sorted = [...keys].sort();
    this.names = this.sorted.map((key, i) => `${i === 0 ? '' : ','}${JSON.stringify(key)}:`);
  }

  /** True when `value`'s own keys are this layout's, in the same order (rows of one query). */
  fits(value: { readonly [key: string]: JsonValue }): boolean {
    const keys = Object.keys(value);
    if (keys.length !== this.keys.length) return false;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== this.keys[i]) return false;
    return true;
  }

  /** Canonical JSON of an object with this layout's keys. */
  canonical(value: { readonly [key: string]: JsonValue }): string {
    let out = '{';
    for (let i = 0; i < this.sorted.length; i++) {
      const field = value[this.sorted[i]!]!;
      out += this.names[i]! + (field === null || typeof field !== 'object' ? JSON.stringify(field) : canonicalJson(field));
    }
    return `${out}}`;
  }
}
