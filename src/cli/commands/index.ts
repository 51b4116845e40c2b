// The admin commands by name, and the one place their failures become messages and exit codes.
import { reportFailure } from '../admin-client.js';
import type { AdminCommand } from '../args.js';
import { adminTokensCommand } from './admin-tokens.js';
import { applyCommand } from './apply.js';
import { auditCommand } from './audit.js';
import { complianceCommand } from './compliance.js';
import { budgetsCommand, rateLimitsCommand, templatesCommand } from './budgets.js';
import { consumersCommand } from './consumers.js';
import { keysCommand } from './keys.js';
import { reconcileCommand } from './reconcile.js';
import { resourcesCommand } from './resources.js';
import { modelsCommand, providersCommand } from './routing.js';
import { teamsCommand } from './teams.js';
import { reportCommand, usageCommand } from './usage.js';
import { webhooksCommand } from './webhooks.js';

const ADMIN_COMMANDS: ReadonlyMap<string, AdminCommand> = new Map([
  ['consumers', consumersCommand],
  ['keys', keysCommand],
  ['teams', teamsCommand],
  ['budgets', budgetsCommand],
  ['templates', templatesCommand],
  ['ratelimits', rateLimitsCommand],
  ['providers', providersCommand],
  ['models', modelsCommand],
  ['resources', resourcesCommand],
  ['usage', usageCommand],
  ['report', reportCommand],
  ['audit', auditCommand],
  ['apply', applyCommand],
  ['reconcile', reconcileCommand],
  ['admin-tokens', adminTokensCommand],
  ['webhooks', webhooksCommand],
  ['compliance', complianceCommand],
]);

export function isAdminCommand(name: string | undefined): name is string {
  return name !== undefined && ADMIN_COMMANDS.has(name);
}

/** Runs `sluice NOUN ...args`; resolves to the exit code (0, 1 for API and connection errors, 2 for usage errors). */
export async function runAdminCommand(name: string, args: string[]): Promise<number> {
  try {
    return await ADMIN_COMMANDS.get(name)!.run(args);
  } catch (error) {
    return reportFailure(error);
  }
}
