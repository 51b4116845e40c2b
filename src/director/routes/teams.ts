// /api/teams: the teams consumers belong to and budgets are scoped by.
import { z } from '@hono/zod-openapi';
import type { Team } from '../../store/director-store.js';
import { authorize, authorizeTeam } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ownerText } from '../../config/limits.js';
import { teamInput } from '../../schemas/directory.js';
import { registerEntityRoutes } from './entity.js';
import { iso } from './schemas.js';

const team = z.object({ name: z.string(), owner: z.string(), createdAt: z.string() }).openapi('Team');
const teamPatch = z.object({ owner: ownerText() }).strict();

function render(value: Team) {
  return { name: value.name, owner: value.owner, createdAt: iso(value.createdAt)! };
}

export function registerTeamRoutes(app: DirectorApi, { store }: RouteDeps): void {
  registerEntityRoutes<Team, z.infer<typeof teamInput>, z.infer<typeof teamPatch>>(app, {
    path: '/api/teams',
    tag: 'teams',
    noun: 'team',
    view: team,
    render,
    list: {
      summary: 'List teams (a team-owner sees its own)',
      description: 'The teams',
      access: (c) => {
        const caller = c.get('caller');
        return caller.role === 'team-owner' ? caller : authorize(c, 'read');
      },
      items: async (caller) => (await store.listTeams()).filter((t) => caller.role !== 'team-owner' || t.name === caller.team),
    },
    create: {
      summary: 'Create a team',
      body: teamInput,
      errors: [400, 409],
      access: 'write',
      run: (caller, input) => store.createTeam(caller.actor, input),
    },
    get: {
      summary: 'One team',
      description: 'The team',
      access: (c, name) => authorizeTeam(c, 'read', name),
      find: (name) => store.getTeam(name),
    },
    update: {
      method: 'patch',
      summary: "Change a team's owner",
      body: teamPatch,
      description: 'Updated',
      errors: [400, 404],
      access: 'write',
      run: (caller, name, patch) => store.updateTeam(caller.actor, name, patch),
    },
    remove: {
      summary: 'Delete a team no consumer, budget, template or rate limit names',
      errors: [404, 409],
      access: 'write',
      run: (caller, name) => store.deleteTeam(caller.actor, name),
    },
  });
}
