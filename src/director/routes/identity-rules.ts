// /api/identity-rules: which consumer a client certificate (its SPIFFE id or subject), a mesh identity forwarded by a
// trusted proxy, or a JWT (its sub, team claim or groups) stands for. Exact, prefix, or pattern (`*` one path segment,
// `**` any rest) on one field. Gateways apply them from the next snapshot on.
import { z } from '@hono/zod-openapi';
import { IDENTITY_FIELDS, IDENTITY_MATCHES, issuerProblem, ruleProblem, storedRuleProblem } from '../../identity/rules.js';
import { nameText, noteText } from '../../config/limits.js';
import type { IdentityRule } from '../../store/director-store.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { NUMERIC_ID, registerEntityRoutes } from './entity.js';
import { iso } from './schemas.js';
import { consumerIssues, refuseIssues } from '../references.js';

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
    valid: z.boolean().openapi({
      description:
        'false for a rule that maps no one: stored before its value was checked, or a JWT rule without an issuer while several are configured',
    }),
    problem: z.string().nullable().openapi({ description: 'Why the rule maps no one (`value: ...`, `issuer: ...`); null when valid' }),
  })
  .openapi('IdentityRule');

export function registerIdentityRuleRoutes(app: DirectorApi, { store, jwtIssuers }: RouteDeps): void {
  const render = (value: IdentityRule) => {
    const problem = storedRuleProblem(value, jwtIssuers);
    return { ...value, createdAt: iso(value.createdAt)!, valid: problem === null, problem };
  };
  registerEntityRoutes<IdentityRule, z.infer<typeof ruleInput>, never>(app, {
    path: '/api/identity-rules',
    tag: 'identity',
    noun: 'identity rule',
    key: NUMERIC_ID,
    view: rule,
    render,
    list: { summary: 'Identity rules, oldest first', description: 'The rules', access: 'read', items: () => store.listIdentityRules() },
    create: {
      summary: 'Create a rule mapping a certificate, mesh identity or JWT to a consumer',
      body: ruleInput,
      errors: [400, 409],
      access: 'write',
      run: async (caller, input) => {
        // With several issuers a JWT rule must name its own; one naming an issuer not (yet) configured is taken, and listed as not valid.
        const problem =
          (input.issuer ?? null) === null && jwtIssuers.length > 1 ? issuerProblem({ field: input.field, issuer: null }, jwtIssuers) : null;
        if (problem !== null) {
          const message = problem.slice(problem.indexOf(':') + 2);
          throw new ApiError(400, 'invalid_request', `Invalid request: issuer: ${message}`, [{ path: 'issuer', message }]);
        }
        // 400 naming the field, as a budget naming a consumer that does not exist (the store would say 409).
        refuseIssues(
          'identity rule',
          await consumerIssues(input.consumer, { consumer: async (name) => (await store.getConsumer(name)) !== null }),
        );
        return store.createIdentityRule(caller.actor, input);
      },
    },
    get: { summary: 'One rule', description: 'The rule', access: 'read', find: (id) => store.getIdentityRule(Number(id)) },
    remove: {
      summary: 'Delete a rule',
      errors: [404],
      access: 'write',
      run: (caller, id) => store.deleteIdentityRule(caller.actor, Number(id)),
    },
  });
}
