// The canonical form of a sealed row: JSON with every object's keys sorted, no whitespace. SQLite hands a JSON column
// back as written and PostgreSQL's JSONB reorders keys, so the same row reads alike from both once parsed and sorted.
// Hand-written: a dozen lines for the subset of JSON a row holds (strings, finite numbers, booleans, null, JSON values).
import type { JsonValue } from '../../store/director-store.js';

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`;
}
