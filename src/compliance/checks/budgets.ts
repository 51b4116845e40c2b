// SC-5 / SA-8: every consumer with traffic is bounded by an enforced budget (its own, its team's, everyone's, or a
// template's instance), so no one application can exhaust the spend or capacity the others rely on.
import type { ConsumerScope } from '../../config/governance-schema.js';
import { compileBudgets } from '../../policy/budgets.js';
import { outcome, type Check } from '../check.js';

function covers(scope: ConsumerScope, consumer: { name: string; team: string | null }): boolean {
  if (scope === 'everyone') return true;
  if ('consumer' in scope) return scope.consumer === consumer.name;
  return scope.team === consumer.team;
}

export const budgetCoverage: Check = {
  id: 'budget-coverage',
  title: 'Every consumer with traffic falls under an enforced budget',
  description:
    "Compiles the director's budgets and budget templates (one instance per consumer a template selects) as " +
    'the gateway does, and names each consumer with calls in the period that no budget in enforce mode covers. Rate ' +
    'limits are counted as evidence but do not stand in for a budget.',
  method: 'TEST',
  async run({ evidence, store, period }) {
    const [budgets, templates, rateLimits, traffic] = await Promise.all([
      store.listDefinitions('budget'),
      store.listDefinitions('budgetTemplate'),
      store.listDefinitions('rateLimit'),
      evidence.callsByConsumer(period.from, period.to),
    ]);
    const consumers = [];
    for (const { name } of traffic) {
      const consumer = await store.getConsumer(name);
      consumers.push({ name, team: consumer?.team ?? null, labels: consumer?.labels ?? {} });
    }
    const compiled = compileBudgets(
      budgets.map((b) => b.definition),
      templates.map((t) => t.definition),
      rateLimits.map((r) => r.definition),
      consumers,
    );
    const enforced = compiled.filter((budget) => budget.kind === 'budget' && budget.mode === 'enforce');
    const uncovered = consumers.filter((consumer) => !enforced.some((budget) => covers(budget.consumers, consumer)));
    const calls = new Map(traffic.map((group) => [group.name, group.calls]));
    return outcome(
      uncovered.map((consumer) => `consumer "${consumer.name}" (${calls.get(consumer.name)} calls) has no enforced budget`),
      `All ${consumers.length} consumers with traffic fall under an enforced budget.`,
      `${uncovered.length} of ${consumers.length} consumers with traffic have no enforced budget.`,
      {
        consumersWithTraffic: consumers.length,
        consumersWithoutEnforcedBudget: uncovered.length,
        enforcedBudgets: enforced.length,
        rateLimits: rateLimits.length,
      },
    );
  },
};
