// Every key sluice.yaml takes is named in docs/, so a key added to the schema cannot go undocumented: walked from the
// schema itself (src/config/), each key must appear in a page as `key` (or `a.b.key`) or as `key:` in a YAML example.
// And the defaults docs/configuration.md's tables give are the ones the schema fills in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { configSchema } from '../../src/config/schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Definition {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  element?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  valueType?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
}

/** Each key of the schema, as a path such as `providers.<name>.baseUrl` or `budgets[].window.rolling`. */
function keysOf(schema: z.core.$ZodType, path: string, into: string[]): string[] {
  const definition = schema._zod.def as unknown as Definition;
  switch (definition.type) {
    case 'object':
      for (const [key, field] of Object.entries(definition.shape!)) {
        into.push(`${path}${key}`);
        keysOf(field, `${path}${key}.`, into);
      }
      break;
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      keysOf(definition.innerType!, path, into);
      break;
    case 'pipe':
      keysOf(definition.in!, path, into);
      break;
    case 'lazy':
      keysOf(definition.getter!(), path, into);
      break;
    case 'array':
      keysOf(definition.element!, `${path.replace(/\.$/, '')}[].`, into);
      break;
    case 'union':
      for (const option of definition.options!) keysOf(option, path, into);
      break;
    case 'record':
      keysOf(definition.valueType!, `${path}<name>.`, into);
      break;
  }
  return into;
}

test('every key sluice.yaml takes is named somewhere in docs/', () => {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => readFileSync(join(ROOT, 'docs', name), 'utf8'))
    .join('\n');
  const keys = [...new Set(keysOf(configSchema, '', []))];
  assert.ok(keys.length > 200, `${keys.length} keys found`);
  const undocumented = keys.filter((path) => {
    const key = path
      .split(/[.[\]]/)
      .filter((part) => part !== '' && part !== '<name>')
      .at(-1)!;
    return !new RegExp(`\`(?:[\\w.\\[\\]<>-]*\\.)?${key}\`|\\b${key}:`).test(docs);
  });
  assert.deepEqual(undocumented, [], 'keys the schema takes that no page of docs/ names');
});

test("the defaults in docs/configuration.md's tables are the ones the schema fills in", () => {
  const page = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
  // The counters' object form has defaults of its own; the string form, the default, has none to show.
  const defaults = { ...configSchema.parse({}), counters: configSchema.parse({ counters: { url: 'memory' } }).counters } as Record<
    string,
    unknown
  >;
  let compared = 0;
  for (const line of page.split('\n')) {
    // | `gateway.maxBodyBytes` | `10485760` (10 MiB) | meaning |
    const row = /^\| `([A-Za-z.]+)` \| `([^`]+)`/.exec(line);
    if (row === null) continue;
    const value = row[1]!.split('.').reduce<unknown>((object, key) => (object as Record<string, unknown> | undefined)?.[key], defaults);
    // Defaults computed at start (the data folder, a terminal, one per core) are not the schema's to fill in.
    if (value === undefined) continue;
    assert.equal(typeof value === 'object' ? JSON.stringify(value) : String(value), row[2], row[1]);
    compared += 1;
  }
  assert.ok(compared >= 30, `${compared} defaults compared`);
});
