// AC-3 / AC-6 / IA-2: who may call, and who may administer. Every served call must carry an authenticated consumer, no
// call may be served against the resource policy, and full-power admin credentials stay few.
import { ADMIN_ROLES } from '../../store/director-store.js';
import { outcome, type Check } from '../check.js';

export const authenticatedCalls: Check = {
  id: 'authenticated-calls',
  title: 'Every served call had an authenticated consumer',
  description:
    "Counts the ledger's gateway rows of the period that were served (status below 400) without a consumer: a call " +
    'the gateway answered without a valid Sluice key.',
  method: 'TEST',
  async run({ evidence, period }) {
    const counts = await evidence.ledgerPeriodCounts(period.from, period.to);
    const problems = counts.servedAnonymous === 0 ? [] : [`${counts.servedAnonymous} calls served without an authenticated consumer`];
    return outcome(
      problems,
      `All ${counts.served} served calls of the period had an authenticated consumer.`,
      `${counts.servedAnonymous} of ${counts.served} served calls had no authenticated consumer.`,
      { servedCalls: counts.served, servedAnonymous: counts.servedAnonymous },
    );
  },
};

export const sanctionedModels: Check = {
  id: 'sanctioned-models',
  title: 'No call was served against the resource policy',
  description:
    'Counts, per provider/model, the served calls of the period whose ledger row records a resource-policy ' +
    'violation: a call to an unsanctioned (or, where the policy monitors them, unreviewed) model that was served because ' +
    'the policy only monitors. Where the policy enforces, such calls are refused (403) and this count stays 0.',
  method: 'TEST',
  async run({ evidence, period, config }) {
    const violations = await evidence.servedResourceViolations(period.from, period.to);
    const served = violations.reduce((sum, group) => sum + group.calls, 0);
    return outcome(
      violations.map((group) => `${group.name}: ${group.calls} calls served against the resource policy`),
      `No call of the period was served against the resource policy (unsanctioned: ${config.resourcePolicy.unsanctioned}, unreviewed: ${config.resourcePolicy.unreviewed}).`,
      `${served} calls to ${violations.length} unsanctioned or unreviewed models were served (policy for unsanctioned: ${config.resourcePolicy.unsanctioned}).`,
      { servedAgainstPolicy: served, resourcesServedAgainstPolicy: violations.length },
    );
  },
};

export const adminRoles: Check = {
  id: 'admin-roles',
  title: 'Admin tokens by role, full-power tokens kept few',
  description:
    'Counts the unrevoked admin tokens per role (admin, operator, viewer, team-owner). More unrevoked admin-role ' +
    'tokens than compliance.maxAdminTokens is a finding: changes to tokens and webhook secrets should rest with few.',
  method: 'EXAMINE',
  async run({ store, settings }) {
    const tokens = (await store.listAdminTokens()).filter((token) => token.revokedAt === null);
    const counts: Record<string, number> = {};
    for (const role of ADMIN_ROLES)
      counts[`${role.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}Tokens`] = tokens.filter((token) => token.role === role).length;
    const admins = tokens.filter((token) => token.role === 'admin');
    const problems = admins.length <= settings.maxAdminTokens ? [] : admins.map((token) => `admin token "${token.name}" (${token.id})`);
    return outcome(
      problems,
      `${admins.length} unrevoked admin-role tokens (at most ${settings.maxAdminTokens}); ${tokens.length - admins.length} with narrower roles.`,
      `${admins.length} unrevoked admin-role tokens, more than compliance.maxAdminTokens (${settings.maxAdminTokens}).`,
      counts,
    );
  },
};
