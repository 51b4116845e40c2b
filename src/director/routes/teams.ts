// /api/teams: the teams consumers belong to and budgets are scoped by.
import { createRoute, z } from '@hono/zod-openapi';
import type { Team } from '../../store/director-store.js';
import { authorize, authorizeTeam } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { nameText, ownerText } from '../../config/limits.js';
import { ApiError } from '../errors.js';
import { body, errors, iso, json, nameParam } from './schemas.js';

const team = z.object({ name: z.string(), owner: z.string(), createdAt: z.string() }).openapi('Team');
export const teamInput = z.object({ name: nameText(), owner: ownerText() }).strict();
const teamPatch = z.object({ owner: ownerText() }).strict();

function render(value: Team) {
  return { name: value.name, owner: value.owner, createdAt: iso(value.createdAt)! };
}

export function registerTeamRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(createRoute({
    method: 'get', path: '/api/teams', tags: ['teams'], summary: 'List teams (a team-owner sees its own)',
    responses: { 200: json(z.object({ items: z.array(team) }), 'The teams'), ...errors() },
  }), async (c) => {
    const caller = c.get('caller');
    if (caller.role !== 'team-owner') authorize(c, 'read');
    const teams = await store.listTeams();
    return c.json({ items: teams.filter((t) => caller.role !== 'team-owner' || t.name === caller.team).map(render) }, 200);
  });

  app.openapi(createRoute({
    method: 'post', path: '/api/teams', tags: ['teams'], summary: 'Create a team',
    request: body(teamInput), responses: { 201: json(team, 'Created'), ...errors(400, 409) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    return c.json(render(await store.createTeam(caller.actor, c.req.valid('json'))), 201);
  });

  app.openapi(createRoute({
    method: 'get', path: '/api/teams/{name}', tags: ['teams'], summary: 'One team',
    request: { params: nameParam }, responses: { 200: json(team, 'The team'), ...errors(404) },
  }), async (c) => {
    const { name } = c.req.valid('param');
    authorizeTeam(c, 'read', name);
    const found = await store.getTeam(name);
    if (found === null) throw new ApiError(404, 'not_found', `team "${name}" does not exist`);
    return c.json(render(found), 200);
  });

  app.openapi(createRoute({
    method: 'patch', path: '/api/teams/{name}', tags: ['teams'], summary: 'Change a team\'s owner',
    request: { params: nameParam, ...body(teamPatch) }, responses: { 200: json(team, 'Updated'), ...errors(400, 404) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    return c.json(render(await store.updateTeam(caller.actor, c.req.valid('param').name, c.req.valid('json'))), 200);
  });

  app.openapi(createRoute({
    method: 'delete', path: '/api/teams/{name}', tags: ['teams'], summary: 'Delete a team that has no consumers',
    request: { params: nameParam }, responses: { 204: { description: 'Deleted' }, ...errors(404, 409) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    await store.deleteTeam(caller.actor, c.req.valid('param').name);
    return c.body(null, 204);
  });
}
