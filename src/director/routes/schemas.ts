// The API's shared shapes: path and query parameters, pagination, times as ISO strings, the error body.
import { z } from '@hono/zod-openapi';
import { DURATION } from '../../config/governance-schema.js';
import { SORT_ORDERS } from '../../schemas/listing-order.js';

export const errorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

export const nameParam = z.object({
  name: z
    .string()
    .min(1)
    .openapi({ param: { name: 'name', in: 'path' } }),
});
export const idParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

/** A sorted listing's direction: `desc` (the default: the newest, largest or last first) or `asc`. */
export const orderQuery = {
  order: z
    .enum(SORT_ORDERS)
    .optional()
    .openapi({
      param: { name: 'order', in: 'query' },
      description:
        '`desc` (the default) or `asc`. A cursor is good only for the `sort` and `order` it was handed out with: another is a 400',
    }),
};

export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .openapi({ param: { name: 'limit', in: 'query' } }),
  cursor: z
    .string()
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' } }),
};

/**
 * A time in ISO 8601 with its offset, or a date alone, which is that day's midnight UTC (as Date.parse reads it, which is
 * how every route reads these): `--from 2026-11-01` is what a person types for "from November".
 */
/** `7d`, `12h`: how far ahead a key list looks for keys that end. */
export const expiringWithin = z
  .string()
  .max(32)
  .regex(DURATION, 'a duration such as 7d, 12h or 30m')
  .openapi({ param: { name: 'expiringWithin', in: 'query', description: 'a duration such as 7d' }, example: '7d' });

export const isoTime = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: 'an ISO 8601 time such as 2026-11-01T00:00:00Z, or a date such as 2026-11-01 (midnight UTC)',
  })
  .openapi({ example: '2027-01-31T00:00:00Z' });

export function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

/**
 * The error responses a route can give, for the OpenAPI document: 400, 401 and 403 on every route (a NUL character in
 * the path or a query parameter is refused before any route reads it, and a path parameter can fail its schema), and
 * `statuses` besides.
 */
export function errors(...statuses: Array<400 | 404 | 409>) {
  const out: Record<number, { description: string; content: { 'application/json': { schema: typeof errorBody } } }> = {};
  const describe: Record<number, string> = {
    400: 'Invalid input (the issues name each field)',
    401: 'No or unknown admin token',
    403: "The token's role may not do this",
    404: 'No such entity',
    409: 'A name already taken, or a reference that does not hold',
  };
  for (const status of [400, 401, 403, ...statuses])
    out[status] = { description: describe[status]!, content: { 'application/json': { schema: errorBody } } };
  return out;
}

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function body<T extends z.ZodType>(schema: T) {
  return { body: { content: { 'application/json': { schema } }, required: true } };
}
