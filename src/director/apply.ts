// Apply: the director made to match a declared document, all or nothing. In one store batch, every entity is read and
// every reference checked (against what the store holds and what the document itself declares) before the first write;
// any problem rolls the batch back and is answered with every problem by its path. Otherwise each entity is created,
// updated or left alone, in order (teams, models, consumers, budgets, templates, rate limits, resources), one audit record
// per change and one config version bump for all. Nothing is deleted. A dry run does the same, then rolls back.
import type { DirectorBatch } from '../store/director-store.js';
import type { ApplyDocument, ApplyOutcome } from '../schemas/apply-document.js';
import { ApiError, type Issue } from './errors.js';
import { consumerModelIssues, modelTargetIssues, policyIssues, resourceIssues, teamIssues, type KnownNames } from './references.js';

/** One entity of the document: what the file wants, what the store holds (null: absent), and the write that makes it so. */
interface Step {
  kind: string;
  name: string;
  path: string;
  desired: Record<string, unknown>;
  current: Record<string, unknown> | null;
  create(): Promise<unknown>;
  update(): Promise<unknown>;
}

/** JSON with sorted keys and no undefined fields, so equal values compare equal whatever order they were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : item,
  );
}

function differences(current: Record<string, unknown>, desired: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(current), ...Object.keys(desired)]);
  return [...keys].filter((key) => canonical(current[key]) !== canonical(desired[key]));
}

/** A definition kept whole by name (a budget, template or rate limit), compared with the stored one as it was validated. */
function definitionStep<T extends { name: string }>(
  kind: string,
  path: string,
  definition: T,
  found: { definition: T } | null,
  create: () => Promise<unknown>,
  update: () => Promise<unknown>,
): Step {
  return {
    kind,
    name: definition.name,
    path,
    desired: { ...definition },
    current: found === null ? null : { ...found.definition },
    create,
    update,
  };
}

/** Every entity as a step, its current state read in the batch. */
async function stepsOf(batch: DirectorBatch, document: ApplyDocument): Promise<Step[]> {
  const steps: Step[] = [];
  for (const [i, team] of document.teams.entries()) {
    const found = await batch.getTeam(team.name);
    steps.push({
      kind: 'team',
      name: team.name,
      path: `teams.${i}`,
      desired: { owner: team.owner },
      current: found === null ? null : { owner: found.owner },
      create: () => batch.createTeam(team),
      update: () => batch.updateTeam(team.name, { owner: team.owner }),
    });
  }
  const models = new Map((await batch.listModels()).map((model) => [model.name, model.definition]));
  for (const [i, model] of document.models.entries()) {
    const found = models.get(model.name);
    steps.push({
      // The document's definition has the defaults the route's schema fills in, so a stored one made from it compares equal.
      kind: 'model',
      name: model.name,
      path: `models.${i}`,
      desired: { ...model },
      current: found === undefined ? null : { ...found },
      create: () => batch.createModel(model),
      update: () => batch.updateModel(model.name, model),
    });
  }
  for (const [i, consumer] of document.consumers.entries()) {
    // The document states the whole consumer, as sluice.yaml does: a field left out is cleared, not kept.
    const desired = {
      team: consumer.team ?? null,
      owner: consumer.owner ?? null,
      labels: consumer.labels ?? {},
      models: consumer.models ?? null,
    };
    const found = await batch.getConsumer(consumer.name);
    steps.push({
      kind: 'consumer',
      name: consumer.name,
      path: `consumers.${i}`,
      desired,
      current: found === null ? null : { team: found.team, owner: found.owner, labels: found.labels, models: found.models },
      create: () => batch.createConsumer({ name: consumer.name, ...desired }),
      update: () => batch.updateConsumer(consumer.name, desired),
    });
  }
  for (const [i, budget] of document.budgets.entries()) {
    steps.push(
      definitionStep(
        'budget',
        `budgets.${i}`,
        budget,
        await batch.getDefinition('budget', budget.name),
        () => batch.createDefinition('budget', budget),
        () => batch.updateDefinition('budget', budget.name, budget),
      ),
    );
  }
  for (const [i, template] of document.budgetTemplates.entries()) {
    const current = await batch.getDefinition('budgetTemplate', template.name);
    steps.push(
      definitionStep(
        'budget template',
        `budgetTemplates.${i}`,
        template,
        current,
        () => batch.createDefinition('budgetTemplate', template),
        () => batch.updateDefinition('budgetTemplate', template.name, template),
      ),
    );
  }
  for (const [i, limit] of document.rateLimits.entries()) {
    steps.push(
      definitionStep(
        'rate limit',
        `rateLimits.${i}`,
        limit,
        await batch.getDefinition('rateLimit', limit.name),
        () => batch.createDefinition('rateLimit', limit),
        () => batch.updateDefinition('rateLimit', limit.name, limit),
      ),
    );
  }
  const resources = new Map((await batch.listResources()).map((resource) => [resource.id, resource]));
  for (const [id, status] of Object.entries(document.resources)) {
    const found = resources.get(id);
    steps.push({
      // A resource with no status is unreviewed, so declaring it unreviewed asks for nothing.
      kind: 'resource',
      name: id,
      path: `resources.${id}`,
      desired: { status },
      current: found !== undefined ? { status: found.status } : status === 'unreviewed' ? { status } : null,
      create: () => batch.createResource({ id, status }),
      update: () => batch.updateResource(id, { status }),
    });
  }
  return steps;
}

/** Every reference of every entity, against the store and the document together; issue paths are the document's. */
async function referenceIssues(batch: DirectorBatch, document: ApplyDocument): Promise<Issue[]> {
  const declaredTeams = new Set(document.teams.map((team) => team.name));
  const declaredConsumers = new Set(document.consumers.map((consumer) => consumer.name));
  const known: KnownNames = {
    models: new Set([...(await batch.listModels()).map((model) => model.name), ...document.models.map((model) => model.name)]),
    providers: new Set((await batch.listProviders()).map((provider) => provider.name)),
    consumer: async (name) => declaredConsumers.has(name) || (await batch.getConsumer(name)) !== null,
    team: async (name) => declaredTeams.has(name) || (await batch.getTeam(name)) !== null,
  };
  const issues: Issue[] = [];
  const at = (path: string, found: Issue[]) =>
    issues.push(...found.map((issue) => ({ path: `${path}.${issue.path}`, message: issue.message })));
  document.models.forEach((model, i) => at(`models.${i}`, modelTargetIssues(model, known)));
  for (const [i, consumer] of document.consumers.entries()) {
    at(`consumers.${i}`, await teamIssues(consumer.team, known));
    at(`consumers.${i}`, consumerModelIssues(consumer.models, known));
  }
  for (const key of ['budgets', 'budgetTemplates', 'rateLimits'] as const) {
    for (const [i, definition] of document[key].entries()) at(`${key}.${i}`, await policyIssues(definition, known));
  }
  for (const id of Object.keys(document.resources)) {
    issues.push(...resourceIssues(id, known).map((issue) => ({ path: `resources.${id}`, message: issue.message })));
  }
  return issues;
}

/** Runs in the caller's batch; throws ApiError 400 (the batch then rolls back) when any reference does not hold. */
export async function applyDocument(batch: DirectorBatch, document: ApplyDocument, dryRun: boolean): Promise<ApplyOutcome[]> {
  const issues = await referenceIssues(batch, document);
  if (issues.length > 0) {
    const listed = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new ApiError(
      400,
      'invalid_request',
      `Nothing was applied: ${issues.length === 1 ? 'a reference does' : `${issues.length} references do`} not hold: ${listed}`,
      issues,
    );
  }
  const outcomes: ApplyOutcome[] = [];
  for (const step of await stepsOf(batch, document)) {
    const { kind, name, path } = step;
    if (step.current === null) {
      // A dry run writes too, to meet every check the store makes; its batch is rolled back.
      await step.create();
      outcomes.push({ kind, name, path, action: dryRun ? 'would create' : 'created', changed: [] });
      continue;
    }
    const changed = differences(step.current, step.desired);
    if (changed.length > 0) await step.update();
    outcomes.push({ kind, name, path, action: changed.length === 0 ? 'unchanged' : dryRun ? 'would update' : 'updated', changed });
  }
  return outcomes;
}
