// Bad input for every operation of an OpenAPI 3.1 document, derived from its declared parameter and body schemas: each
// query parameter, path parameter and body field given values of the wrong type, shape, size, encoding or range, forged
// cursors, bodies that are not objects, nested without end or carrying unknown fields. What the director must answer to
// each is a 4xx in its error shape (test/director/bad-input.test.ts).

/** The part of JSON Schema 2020-12 the director's document uses. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  minItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  example?: unknown;
  default?: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: Schema;
}

export interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** One request of the battery: `field` is what it spoils (a parameter's name or a body field's dotted path). */
export interface BadRequest {
  method: string;
  path: string;
  /** Sent as it is, with content-type: application/json. */
  body?: string;
  field: string;
  what: string;
}

/** A value sent in a URL as it is (already percent-encoded, or deliberately not). */
const raw = (text: string) => ({ raw: text });
type QueryValue = string | { raw: string };

const encode = (value: QueryValue) => (typeof value === 'string' ? encodeURIComponent(value) : value.raw);

const base64url = (text: string) => Buffer.from(text).toString('base64url');

const BAD_DATES = [
  '2026-13-01',
  '2026-02-30',
  '2026-11-01T25:00:00Z',
  '2026-11-01T00:00:00+25:00',
  '0000-01-01',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '275761-01-01',
  '1969-12-31T23:59:59Z',
  '2026-11-01 00:00:00',
  '1700000000000',
];

/** Strings any query parameter or path segment may be given. */
const BAD_TEXT: QueryValue[] = [
  '',
  ' ',
  'abc',
  'nope-not-a-value',
  '-1',
  '0',
  '1.5',
  '1e400',
  '99999999999999999999',
  '-99999999999999999999',
  '9223372036854775808',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  '名前-ü-☃-𝄞',
  '\u202eevil',
  'x'.repeat(6000),
  raw('%FF'),
  raw('%ED%A0%80'),
  raw('%E2%82'),
  raw('%'),
  raw('%zz'),
  ...BAD_DATES,
];

/** Cursors no listing handed out: not base64, not JSON, JSON of the wrong shape, or positions no row can have. */
const FORGED_CURSORS: QueryValue[] = [
  '!!!',
  'bm90IGpzb24',
  base64url('{}'),
  base64url('"x"'),
  base64url('[]'),
  base64url('[null]'),
  base64url('[[1]]'),
  base64url('[1e300]'),
  base64url('[-1]'),
  base64url('[1.5]'),
  base64url('[9007199254740993]'),
  base64url('[99999999999999999999999]'),
  base64url('["x"]'),
  base64url('[""]'),
  base64url('["1:2"]'),
  base64url('["99999999999999999999:1"]'),
  base64url('["1:99999999999999999999"]'),
  base64url('["-1:-1"]'),
  base64url('[1, 2]'),
  base64url(`["${'x'.repeat(4000)}"]`),
  base64url('["\\ud800"]'),
  base64url('[{"a":1}]'),
  base64url('["a","b"]'),
];

/** Values any body field may be given in place of its own. */
const BAD_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 31,
  2 ** 63,
  Number.MAX_SAFE_INTEGER + 2,
  5e-324,
  '',
  ' ',
  'nope-not-a-value',
  '名前-ü-☃-𝄞',
  '\u202eevil',
  '\ud800',
  'x'.repeat(100_000),
  [],
  [1, 'two', null],
  {},
  { zzUnknown: 1 },
  ...BAD_DATES,
];

const DEEP_MARK = '\u0001deep\u0001';
const DEEP = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);

export class BadInput {
  constructor(private readonly document: OpenApiDocument) {}

  /** Every operation as [method, template]. */
  operations(): Array<{ method: string; template: string; operation: Operation }> {
    return Object.entries(this.document.paths).flatMap(([template, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({ method: method.toUpperCase(), template, operation })),
    );
  }

  resolve(schema: Schema): Schema {
    if (schema.$ref === undefined) return schema;
    const name = schema.$ref.replace('#/components/schemas/', '');
    return this.resolve(this.document.components.schemas[name]!);
  }

  /**
   * The battery for one operation. `pathValues` gives each path parameter a value naming an entity that exists, so a
   * spoiled query or body reaches past the look-up; `valid`, a body that passes every check, to spoil field by field
   * (else one made from the schema).
   */
  requests(method: string, template: string, operation: Operation, pathValues: Record<string, string>, valid?: unknown): BadRequest[] {
    const parameters = operation.parameters ?? [];
    const fill = (overrides: Record<string, QueryValue>) =>
      template.replace(/\{([^}]+)\}/g, (_, name: string) => encode(overrides[name] ?? pathValues[name] ?? 'x'));
    const out: BadRequest[] = [];
    const bodySchema = operation.requestBody?.content['application/json']?.schema;
    const validValue = bodySchema === undefined ? undefined : (valid ?? this.sample(bodySchema));
    const validBody = validValue === undefined ? undefined : JSON.stringify(validValue);

    for (const parameter of parameters.filter((p) => p.in === 'path')) {
      for (const value of BAD_TEXT) {
        out.push({ method, path: fill({ [parameter.name]: value }), body: validBody, field: parameter.name, what: show(value) });
      }
    }
    const path = fill({});
    for (const parameter of parameters.filter((p) => p.in === 'query')) {
      const values = parameter.name === 'cursor' ? [...BAD_TEXT, ...FORGED_CURSORS] : BAD_TEXT;
      for (const value of values) {
        out.push({ method, path: `${path}?${parameter.name}=${encode(value)}`, body: validBody, field: parameter.name, what: show(value) });
      }
      out.push({
        method,
        path: `${path}?${parameter.name}=1&${parameter.name}=2`,
        body: validBody,
        field: parameter.name,
        what: 'given twice',
      });
    }
    if (bodySchema !== undefined) out.push(...this.bodies(method, path, bodySchema, validValue as Record<string, unknown>));
    return out;
  }

  /** Bodies that are not the declared object, then the declared object with each field spoiled in turn. */
  private bodies(method: string, path: string, schema: Schema, valid: Record<string, unknown>): BadRequest[] {
    const out: BadRequest[] = [];
    const whole = (body: string, what: string) => out.push({ method, path, body, field: '(body)', what });
    for (const body of ['', 'null', '[]', '"x"', '1', 'true', '{}', '{"a":', '{"a":1}{}', '\ufeff{}']) whole(body, JSON.stringify(body));
    whole('['.repeat(200_000) + ']'.repeat(200_000), 'arrays nested 200,000 deep');
    whole('{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000), 'objects nested 200,000 deep');
    whole(JSON.stringify({ ...valid, zzUnknown: 1 }), 'an unknown field');
    whole(`{"__proto__":{"polluted":true},${JSON.stringify(valid).slice(1)}`, 'a __proto__ field');
    whole(JSON.stringify(valid), 'the valid body (a second time: a duplicate)');
    whole(JSON.stringify(valid), 'the valid body (a duplicate)');
    for (const field of this.fields(schema, valid, '')) {
      for (const value of BAD_VALUES) {
        out.push({
          method,
          path,
          body: JSON.stringify(replaced(valid, field.path, value)),
          field: field.path.join('.'),
          what: show(value),
        });
      }
      // Deeper than JSON.stringify can write (or any recursive reader read): spliced into the text.
      out.push({
        method,
        path,
        body: JSON.stringify(replaced(valid, field.path, DEEP_MARK)).replace(JSON.stringify(DEEP_MARK), DEEP),
        field: field.path.join('.'),
        what: 'objects nested 100,000 deep',
      });
      if (field.array !== undefined) {
        const item = field.array;
        out.push({
          method,
          path,
          body: JSON.stringify(replaced(valid, field.path, [item, item])),
          field: field.path.join('.'),
          what: 'the same item twice',
        });
        out.push({
          method,
          path,
          body: JSON.stringify(
            replaced(
              valid,
              field.path,
              Array.from({ length: 20_000 }, () => item),
            ),
          ),
          field: field.path.join('.'),
          what: '20,000 items',
        });
      }
      if (field.record) {
        for (const key of ['', 'x'.repeat(5000), '__proto__', 'constructor', '名前'])
          out.push({
            method,
            path,
            body: JSON.stringify(replaced(valid, field.path, { [key]: 'v' })),
            field: field.path.join('.'),
            what: `the key ${show(key)}`,
          });
      }
    }
    return out;
  }

  /** The fields of an object schema and the objects nested in it (three levels), with a sample item for arrays. */
  private fields(schema: Schema, value: unknown, prefix: string, depth = 0): Array<{ path: string[]; array?: unknown; record: boolean }> {
    const object = this.objectOf(schema);
    if (object === undefined || depth > 2) return [];
    const out: Array<{ path: string[]; array?: unknown; record: boolean }> = [];
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      const path = [...(prefix === '' ? [] : prefix.split('.')), name];
      const resolved = this.resolve(property);
      const current = (value as Record<string, unknown> | undefined)?.[name];
      const items = this.arrayItems(resolved);
      const record = typeof this.objectOf(resolved)?.additionalProperties === 'object';
      out.push({ path, array: items === undefined ? undefined : this.sample(items), record });
      if (current !== undefined && current !== null && typeof current === 'object' && !Array.isArray(current))
        out.push(...this.fields(resolved, current, path.join('.'), depth + 1));
      if (Array.isArray(current) && items !== undefined && this.objectOf(items) !== undefined) {
        for (const inner of this.fields(items, current[0], '', depth + 1)) out.push({ ...inner, path: [...path, '0', ...inner.path] });
      }
    }
    return out;
  }

  private objectOf(schema: Schema): Schema | undefined {
    const resolved = this.resolve(schema);
    if (resolved.properties !== undefined || typeOf(resolved) === 'object') return resolved;
    const branch = (resolved.anyOf ?? resolved.oneOf ?? []).map((s) => this.resolve(s)).find((s) => s.properties !== undefined);
    return branch;
  }

  private arrayItems(schema: Schema): Schema | undefined {
    const resolved = this.resolve(schema);
    if (resolved.items !== undefined) return resolved.items;
    return (resolved.anyOf ?? resolved.oneOf ?? []).map((s) => this.resolve(s)).find((s) => s.items !== undefined)?.items;
  }

  /** A value the schema accepts, as far as its declaration says: required fields only, first choices, examples. */
  sample(schema: Schema): unknown {
    const resolved = this.resolve(schema);
    if (resolved.example !== undefined && typeOf(resolved) !== 'object') return resolved.example;
    if (resolved.enum !== undefined) return resolved.enum.find((value) => value !== null);
    const choices = resolved.anyOf ?? resolved.oneOf;
    if (choices !== undefined) return this.sample(choices.find((choice) => typeOf(this.resolve(choice)) !== 'null')!);
    if (resolved.allOf !== undefined) return Object.assign({}, ...resolved.allOf.map((part) => this.sample(part)));
    switch (typeOf(resolved)) {
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const name of resolved.required ?? []) out[name] = this.sample(resolved.properties![name]!);
        return out;
      }
      case 'array':
        return Array.from({ length: Math.max(1, resolved.minItems ?? 1) }, () => this.sample(resolved.items ?? {}));
      case 'integer':
      case 'number':
        return resolved.minimum ?? (resolved.exclusiveMinimum === undefined ? 1 : resolved.exclusiveMinimum + 1);
      case 'boolean':
        return false;
      case 'string':
        if (resolved.format === 'uri') return 'https://fuzz.example.com/v1';
        if (resolved.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
        return 'fuzz-' + 'x'.repeat(Math.max(0, (resolved.minLength ?? 1) - 5));
      default:
        return 'fuzz';
    }
  }
}

function typeOf(schema: Schema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== 'null');
  return schema.type ?? (schema.properties !== undefined ? 'object' : undefined);
}

/** A copy of `value` with the field at `path` set to `to`. */
function replaced(value: unknown, path: string[], to: unknown): unknown {
  if (path.length === 0) return to;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) return value.map((item, i) => (String(i) === head ? replaced(item, rest, to) : item));
  const object = (value ?? {}) as Record<string, unknown>;
  return { ...object, [head]: replaced(object[head], rest, to) };
}

function show(value: unknown): string {
  const text =
    typeof value === 'string'
      ? JSON.stringify(value)
      : typeof value === 'object' && value !== null && 'raw' in value
        ? `raw ${String((value as { raw: string }).raw)}`
        : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 40)}... (${text.length} characters)` : text;
}
