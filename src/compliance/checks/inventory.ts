// CM-8: the inventory of who uses AI and what: every consumer has an owner and a team, every provider/model with traffic
// has been reviewed (sanctioned or unsanctioned), and traffic from unknown callers does not wait for review too long.
import type { Consumer, DirectorStore } from '../../store/director-store.js';
import { days, iso, outcome, type Check } from '../check.js';

async function allConsumers(store: DirectorStore): Promise<Consumer[]> {
  const consumers: Consumer[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listConsumers({ limit: 1000, cursor });
    consumers.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return consumers;
}

export const consumerOwnership: Check = {
  id: 'consumer-ownership',
  title: 'Every consumer has an owner and a team',
  description:
    "Lists the director's consumers and names each without an owner or without a team: an application using AI " +
    'that nobody answers for.',
  method: 'EXAMINE',
  async run({ store }) {
    const consumers = await allConsumers(store);
    const problems = consumers
      .filter((c) => c.owner === null || c.team === null)
      .map(
        (c) =>
          `consumer "${c.name}" has no ${c.owner === null && c.team === null ? 'owner and no team' : c.owner === null ? 'owner' : 'team'}`,
      );
    return outcome(
      problems,
      `All ${consumers.length} consumers have an owner and a team.`,
      `${problems.length} of ${consumers.length} consumers lack an owner or a team.`,
      { consumers: consumers.length, consumersWithoutOwnerOrTeam: problems.length },
    );
  },
};

export const resourceReview: Check = {
  id: 'resource-review',
  title: 'Every provider/model with traffic has been reviewed',
  description:
    'Reads the provider/models the ledger saw in the period (gateway calls and observed traffic, from the hourly ' +
    'rollups) that have no status or the status unreviewed, and names each: a model in use that nobody has sanctioned or ' +
    'refused.',
  method: 'TEST',
  async run({ store, period }) {
    const unreviewed = (await store.listDiscoveredResources()).filter((resource) => resource.lastSeenAt + 3_600_000 > period.from);
    return outcome(
      unreviewed.map((resource) => `resource ${resource.id} (${resource.calls} calls, last ${iso(resource.lastSeenAt)}) is unreviewed`),
      'Every provider/model with traffic in the period is sanctioned or unsanctioned.',
      `${unreviewed.length} provider/models with traffic in the period have not been reviewed.`,
      { unreviewedResources: unreviewed.length, unreviewedCalls: unreviewed.reduce((sum, resource) => sum + resource.calls, 0) },
    );
  },
};

export const discoveryReview: Check = {
  id: 'discovery-review',
  title: 'Discovered consumers are reviewed in time',
  description:
    'Lists the discovered consumers (traffic from callers Sluice does not know, seen by the discovery proxy or ' +
    'OTLP intake) still pending, and names each first seen longer ago than compliance.pendingDiscoveryMaxAgeDays.',
  method: 'TEST',
  async run({ store, settings, now }) {
    const pending = [];
    let cursor: string | null = null;
    do {
      const page = await store.listDiscoveredConsumers({ status: 'pending', limit: 1000, cursor });
      pending.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    const limit = now - days(settings.pendingDiscoveryMaxAgeDays);
    const overdue = pending.filter((discovered) => discovered.firstSeenAt < limit);
    return outcome(
      overdue.map(
        (d) => `discovered consumer ${d.id} (${d.identity.kind} ${d.identity.value}, ${d.calls} calls) pending since ${iso(d.firstSeenAt)}`,
      ),
      `No discovered consumer has been pending longer than ${settings.pendingDiscoveryMaxAgeDays} days (${pending.length} pending).`,
      `${overdue.length} discovered consumers have been pending longer than ${settings.pendingDiscoveryMaxAgeDays} days.`,
      { pendingDiscoveries: pending.length, overduePendingDiscoveries: overdue.length },
    );
  },
};
