// One registration for an entity's plain CRUD routes: the collection (list, create) and one entity by its key (get,
// replace or change, delete), each an OpenAPI operation with the same shapes: `{ items }` lists, 201 with the entity on
// create, 200 with it on get and update, 204 on delete, 404 `<noun> "<key>" does not exist` (`<noun> <id>` for a numeric
// id). What differs per entity is data (path, tag, summaries, schemas, statuses) and a few callbacks (who may, and the
// store call).
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { authorize, type ApiEnv, type Caller, type Need } from '../access.js';
import type { DirectorApi } from '../api.js';
import { ApiError } from '../errors.js';
import { body, errors, json, nameParam } from './schemas.js';

type Call = Context<ApiEnv>;
type ErrorStatus = 400 | 404 | 409;

/**
 * Who may call an operation: a role need, checked before anything else is read; or the entity's own check, given the call
 * and the key (or the body, for a create), returning the caller it let through.
 */
export type Access<Subject> = Need | ((c: Call, subject: Subject) => Caller | Promise<Caller>);

interface Operation<Subject> {
  summary: string;
  access: Access<Subject>;
}

/** One entity's path parameter: its field name and schema. */
export interface EntityKey {
  field: string;
  params: z.ZodObject<z.ZodRawShape>;
  /** Whether a 404 quotes the key (a name, the default) or not (a number). */
  quoted?: boolean;
}

/** Entities named by a numeric row id (`/api/identity-rules/{id}`); the callbacks get it as the path's digits. */
export const NUMERIC_ID: EntityKey = {
  field: 'id',
  params: z.object({
    id: z
      .string()
      .regex(/^\d{1,15}$/, 'a number')
      .openapi({ param: { name: 'id', in: 'path' } }),
  }),
  quoted: false,
};

const NAME_KEY: EntityKey = { field: 'name', params: nameParam, quoted: true };

type CreateOperation<Stored, Create> = Operation<Create> & { body: z.ZodType; errors: ErrorStatus[] } & (
    | { run(caller: Caller, input: Create): Promise<Stored> }
    | {
        /** A create that answers more than the entity (what it also did): the answer's schema, and run renders it. */
        answer: { view: z.ZodType; description: string };
        run(caller: Caller, input: Create): Promise<object>;
      }
  );

export interface EntityRoutes<Stored, Create = never, Update = never> {
  /** The collection, e.g. `/api/teams`; one entity is at `<path>/{name}` (or `{id}`: see `key`). */
  path: string;
  tag: string;
  /** In messages: `team "payments" does not exist`. */
  noun: string;
  /** The path parameter naming one entity (default: `name`, as routes/schemas.ts' nameParam; NUMERIC_ID for row ids). */
  key?: EntityKey;
  /** The entity as answers show it (for the OpenAPI document), and how a stored one is rendered into it. */
  view: z.ZodType;
  render(stored: Stored): object;
  list?: Operation<null> & { description: string; items(caller: Caller): Promise<Stored[]> };
  create?: CreateOperation<Stored, Create>;
  get?: Operation<string> & { description: string; find(key: string, caller: Caller): Promise<Stored | null> };
  update?: Operation<string> & {
    method: 'put' | 'patch';
    body: z.ZodType;
    /** The 200 answer's description: `Replaced`, `Updated`, `Set`. */
    description: string;
    errors: ErrorStatus[];
    /** A replacement (PUT) carries the entity's name, which must be the path's: renaming is a delete and a create. */
    samePathName?: boolean;
    run(caller: Caller, key: string, input: Update): Promise<Stored>;
  };
  remove?: Operation<string> & { errors: ErrorStatus[]; run(caller: Caller, key: string): Promise<void> };
}

function allowed<Subject>(c: Call, access: Access<Subject>, subject: Subject): Caller | Promise<Caller> {
  return typeof access === 'string' ? authorize(c, access) : access(c, subject);
}

/** Registers the operations the entity has, in the order list, create, get, update, remove. */
export function registerEntityRoutes<Stored, Create, Update>(app: DirectorApi, entity: EntityRoutes<Stored, Create, Update>): void {
  const { path, tag, noun, view, render } = entity;
  const key = entity.key ?? NAME_KEY;
  const one = `${path}/{${key.field}}`;
  const keyOf = (c: Call) => (c.req.valid('param' as never) as Record<string, string>)[key.field]!;
  const input = <T>(c: Call) => c.req.valid('json' as never) as T;

  const { list, create, get, update, remove } = entity;
  if (list !== undefined) {
    app.openapi(
      createRoute({
        method: 'get',
        path,
        tags: [tag],
        summary: list.summary,
        responses: { 200: json(z.object({ items: z.array(view) }), list.description), ...errors() },
      }),
      async (c) => {
        const caller = await allowed(c, list.access, null);
        return c.json({ items: (await list.items(caller)).map(render) }, 200);
      },
    );
  }

  if (create !== undefined) {
    app.openapi(
      createRoute({
        method: 'post',
        path,
        tags: [tag],
        summary: create.summary,
        request: body(create.body),
        responses: {
          201: 'answer' in create ? json(create.answer.view, create.answer.description) : json(view, 'Created'),
          ...errors(...create.errors),
        },
      }),
      async (c) => {
        const value = input<Create>(c);
        const caller = await allowed(c, create.access, value);
        return c.json('answer' in create ? await create.run(caller, value) : render(await create.run(caller, value)), 201);
      },
    );
  }

  if (get !== undefined) {
    app.openapi(
      createRoute({
        method: 'get',
        path: one,
        tags: [tag],
        summary: get.summary,
        request: { params: key.params },
        responses: { 200: json(view, get.description), ...errors(404) },
      }),
      async (c) => {
        const name = keyOf(c);
        const caller = await allowed(c, get.access, name);
        const found = await get.find(name, caller);
        if (found === null) throw new ApiError(404, 'not_found', `${noun} ${key.quoted === false ? name : `"${name}"`} does not exist`);
        return c.json(render(found), 200);
      },
    );
  }

  if (update !== undefined) {
    app.openapi(
      createRoute({
        method: update.method,
        path: one,
        tags: [tag],
        summary: update.summary,
        request: { params: key.params, ...body(update.body) },
        responses: { 200: json(view, update.description), ...errors(...update.errors) },
      }),
      async (c) => {
        const name = keyOf(c);
        const caller = await allowed(c, update.access, name);
        const value = input<Update>(c);
        if (update.samePathName === true) requireSameName(name, value as { name: string });
        return c.json(render(await update.run(caller, name, value)), 200);
      },
    );
  }

  if (remove !== undefined) {
    app.openapi(
      createRoute({
        method: 'delete',
        path: one,
        tags: [tag],
        summary: remove.summary,
        request: { params: key.params },
        responses: { 204: { description: 'Deleted' }, ...errors(...remove.errors) },
      }),
      async (c) => {
        const name = keyOf(c);
        await remove.run(await allowed(c, remove.access, name), name);
        return c.body(null, 204);
      },
    );
  }
}

function requireSameName(name: string, value: { name: string }): void {
  if (value.name === name) return;
  throw new ApiError(
    400,
    'invalid_request',
    `The body's name "${value.name}" is not the path's "${name}"; renaming is a delete and a create.`,
    [{ path: 'name', message: 'must match the path' }],
  );
}
