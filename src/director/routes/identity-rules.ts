// /api/identity-rules: which consumer a client certificate (its SPIFFE id or subject), a mesh identity forwarded by a
// trusted proxy, or a JWT (its sub, team claim or groups) stands for. Exact, prefix, or pattern (`*` one path segment,
// `**` any rest) on one field. Gateways apply them from the next snapshot on.
import { createRoute, z } from '@hono/zod-openapi';
import { IDENTITY_FIELDS, IDENTITY_MATCHES, ruleProblem } from '../../identity/rules.js';
import { nameText, noteText } from '../../config/limits.js';
import type { IdentityRule } from '../../store/director-store.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { body, errors, iso, json } from './schemas.js';

const ruleInput = z
  .object({
    field: z.enum(IDENTITY_FIELDS).openapi({ description: 'spiffe or subject (certificates, XFCC); sub, team or group (JWTs)' }),
    match: z.enum(IDENTITY_MATCHES),
    value: z.string().min(1).max(1024).openapi({ example: 'spiffe://acme.mil/ns/payments/sa/checkout' }),
    issuer: z
      .string()
      .min(1)
      .max(2048)
      .nullable()
      .optional()
      .openapi({ description: 'JWT fields only: the issuer the rule is for (any configured issuer when absent)' }),
    consumer: nameText(),
    note: noteText().nullable().optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const problem = ruleProblem({ field: value.field, match: value.match, value: value.value, issuer: value.issuer ?? null });
    if (problem !== null)
      ctx.addIssue({ code: 'custom', path: [problem.slice(0, problem.indexOf(':'))], message: problem.slice(problem.indexOf(':') + 2) });
  })
  .openapi('IdentityRuleInput');

const rule = z
  .object({
    id: z.number(),
    field: z.enum(IDENTITY_FIELDS),
    match: z.enum(IDENTITY_MATCHES),
    value: z.string(),
    issuer: z.string().nullable(),
    consumer: z.string(),
    note: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('IdentityRule');

const numericId = z.object({
  id: z
    .string()
    .regex(/^\d{1,15}$/, 'a number')
    .openapi({ param: { name: 'id', in: 'path' } }),
});

function render(value: IdentityRule) {
  return { ...value, createdAt: iso(value.createdAt)! };
}

export function registerIdentityRuleRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/identity-rules',
      tags: ['identity'],
      summary: 'Identity rules, oldest first',
      responses: { 200: json(z.object({ items: z.array(rule) }), 'The rules'), ...errors() },
    }),
    async (c) => {
      authorize(c, 'read');
      return c.json({ items: (await store.listIdentityRules()).map(render) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/identity-rules',
      tags: ['identity'],
      summary: 'Create a rule mapping a certificate, mesh identity or JWT to a consumer',
      request: body(ruleInput),
      responses: { 201: json(rule, 'Created'), ...errors(400, 409) },
    }),
    async (c) => {
      const caller = authorize(c, 'write');
      return c.json(render(await store.createIdentityRule(caller.actor, c.req.valid('json'))), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/identity-rules/{id}',
      tags: ['identity'],
      summary: 'One rule',
      request: { params: numericId },
      responses: { 200: json(rule, 'The rule'), ...errors(404) },
    }),
    async (c) => {
      authorize(c, 'read');
      const { id } = c.req.valid('param');
      const found = await store.getIdentityRule(Number(id));
      if (found === null) throw new ApiError(404, 'not_found', `identity rule ${id} does not exist`);
      return c.json(render(found), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/identity-rules/{id}',
      tags: ['identity'],
      summary: 'Delete a rule',
      request: { params: numericId },
      responses: { 204: { description: 'Deleted' }, ...errors(404) },
    }),
    async (c) => {
      const caller = authorize(c, 'write');
      await store.deleteIdentityRule(caller.actor, Number(c.req.valid('param').id));
      return c.body(null, 204);
    },
  );
}
