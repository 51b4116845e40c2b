// Validation messages that say what is allowed: zod's own say "Invalid input" for a union, and name no keys for an unknown
// one. An error map for sluice.yaml (`sluice check`, `sluice start`), `sluice apply` files and the admin API's 400s; it
// answers for unions, enums and literals, wrong types, unknown keys and keys a map does not take, and leaves every other
// issue to zod (or to the message the schema itself gives). The value given is quoted only when it was a choice among names
// (an enum, a union of them, a map's key), and never at length: a wrongly typed field may hold a secret, so for those only
// its type is said.
import type { z } from 'zod';

type Schema = z.core.$ZodType;
type Definition = z.core.$ZodTypeDef & Record<string, unknown>;

/** Enough of a value to recognize it, never a whole secret. */
const QUOTE_LIMIT = 40;

function definitionOf(schema: Schema): Definition {
  return schema._zod.def as Definition;
}

/** What a value is, as a message says it: "a string", "a list", "nothing". */
function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  // What a query parameter such as `limit=abc` becomes when coerced to a number.
  if (Number.isNaN(value)) return 'something that is not a number';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length === 0
      ? 'an empty object'
      : `an object with ${keys.length === 1 ? 'key' : 'keys'} ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''}`;
  }
  return `a ${typeof value}`;
}

/** The value given where a name was expected: a short string quoted, anything else by its kind. */
function given(value: unknown): string {
  if (typeof value === 'string') return value.length <= QUOTE_LIMIT ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return kindOf(value);
}

/** "a, b or c"; with `comma` (a list of things that may themselves hold commas), "a, b, or c". */
function listed(items: readonly string[], conjunction: 'or' | 'and', comma = false): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')}${comma ? ',' : ''} ${conjunction} ${items.at(-1)}`;
}

const oneOf = (items: readonly string[], comma = false) => listed(items, 'or', comma);

/** The schema inside optional, default, nullable and the like. */
function unwrapped(schema: Schema): Schema {
  let current = schema;
  for (let depth = 0; depth < 10; depth++) {
    const definition = definitionOf(current);
    const inner = definition.innerType ?? (definition.type === 'pipe' ? definition.in : undefined);
    if (inner === undefined) return current;
    current = inner as Schema;
  }
  return current;
}

/** A field's expected value in a shape such as `{rolling: <a duration such as 24h>}`: its description, else its type. */
function describeField(schema: Schema): string {
  const inner = unwrapped(schema);
  const description = (inner as { description?: string }).description ?? (schema as { description?: string }).description;
  if (description !== undefined) return `<${description}>`;
  const definition = definitionOf(inner);
  if (definition.type === 'enum' || definition.type === 'literal' || definition.type === 'union') return alternatives(inner).join(' | ');
  return definition.type;
}

/** Each value a schema takes, as a message lists them: names bare, objects as their shape, other types by name. */
function alternatives(schema: Schema): string[] {
  const inner = unwrapped(schema);
  const definition = definitionOf(inner);
  switch (definition.type) {
    case 'enum':
      return Object.values(definition.entries as Record<string, string | number>).map(String);
    case 'literal':
      return (definition.values as unknown[]).map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
    case 'union':
      return (definition.options as Schema[]).flatMap(alternatives);
    case 'object': {
      const shape = Object.entries(definition.shape as Record<string, Schema>);
      return [`{${shape.map(([key, field]) => `${key}: ${describeField(field)}`).join(', ')}}`];
    }
    case 'array':
      return ['a list'];
    case 'record':
      return ['an object'];
    default:
      return [`a ${definition.type}`];
  }
}

/** The message for an issue zod would word vaguely; undefined leaves it to zod. */
export function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  const schema = issue.inst !== undefined && '_zod' in issue.inst && 'def' in issue.inst._zod ? (issue.inst as Schema) : undefined;
  switch (issue.code) {
    case 'invalid_union': {
      if (schema === undefined || definitionOf(schema).type !== 'union') return undefined;
      return `expected one of ${oneOf(alternatives(schema), true)}; got ${given(issue.input)}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
      return values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}; got ${given(issue.input)}`
        : `expected one of ${oneOf(values)}; got ${given(issue.input)}`;
    }
    case 'invalid_type': {
      // zod reports a fraction where a whole number is wanted as the wrong type (expected "int"), of type number all the
      // same: say what it must be, and the number (no secret) given.
      if (issue.expected === 'int' && typeof issue.input === 'number' && Number.isFinite(issue.input)) {
        return `expected a whole number; got ${issue.input}`;
      }
      // An enum or union fails as a wrong type when given, say, a number: list its values all the same. A lone object is
      // just "an object": its keys are for the message of a key that is wrong.
      const expected =
        schema === undefined || definitionOf(unwrapped(schema)).type === 'object'
          ? `a ${issue.expected}`.replace(/^a object$/, 'an object')
          : oneOf(alternatives(schema), true);
      if (issue.input === undefined) return `required: expected ${expected}`;
      return `expected ${expected}; got ${kindOf(issue.input)}`;
    }
    case 'unrecognized_keys': {
      const keys = issue.keys.map((key) => `"${key}"`);
      const shape = schema === undefined ? undefined : (definitionOf(schema).shape as Record<string, unknown> | undefined);
      const allowed = shape === undefined ? '' : `; the keys here are ${listed(Object.keys(shape), 'and')}`;
      return `unknown ${keys.length === 1 ? 'key' : 'keys'} ${keys.join(', ')}${allowed}`;
    }
    case 'invalid_key': {
      // zod says "Invalid key in record"; the reasons are the key schema's own issues (its regex's message). A key is a
      // name the user chose, not a secret, so it is quoted (when short) like a value given among names.
      const reasons = issue.issues.map((reason) => reason.message).join('; ');
      return `not a valid key (${reasons}); got ${given(issue.input)}`;
    }
    default:
      return undefined;
  }
}
