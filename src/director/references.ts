// The names an admin definition refers to must exist: the models a consumer may use, the providers a model routes to,
// what a budget, template or rate limit is scoped to (a consumer, a team, a model, a provider) or downgrades to, the
// provider of a resource. The routes check one
// entity against what exists; apply checks a whole document, where what exists includes what the document declares.
import type { ModelConfig } from '../config/schema.js';
import { ApiError, type Issue } from './errors.js';

export interface KnownNames {
  models: ReadonlySet<string>;
  providers: ReadonlySet<string>;
  /** Whether a consumer exists: a look-up, since there may be many. */
  consumer(name: string): Promise<boolean>;
  /** Whether a team exists. */
  team(name: string): Promise<boolean>;
}

/** What a budget, budget template or rate limit may name. */
export interface PolicyReferences {
  consumers?: unknown;
  /** A template's: which consumers it is materialized for. */
  selector?: unknown;
  resources?: unknown;
  onExhausted?: unknown;
}

/** Issue paths are the field's path within the entity, e.g. `resources.model`. */
export function consumerModelIssues(models: readonly string[] | null | undefined, known: Pick<KnownNames, 'models'>): Issue[] {
  if (models === null || models === undefined) return [];
  return models.filter((model) => !known.models.has(model)).map((model) => ({ path: 'models', message: `no model named "${model}"` }));
}

/**
 * A consumer's or team-owner token's `team` (`create.team` where a reconciliation resolution makes the consumer): a typo
 * would put it in no team's budgets, or govern nothing.
 */
export async function teamIssues(team: string | null | undefined, known: Pick<KnownNames, 'team'>, path = 'team'): Promise<Issue[]> {
  if (team === null || team === undefined || (await known.team(team))) return [];
  return [{ path, message: `no team named "${team}"` }];
}

/** A rule's or resolution's `consumer`: a typo would attribute traffic to nobody. */
export async function consumerIssues(
  consumer: string | undefined,
  known: Pick<KnownNames, 'consumer'>,
  path = 'consumer',
): Promise<Issue[]> {
  if (consumer === undefined || (await known.consumer(consumer))) return [];
  return [{ path, message: `no consumer named "${consumer}"` }];
}

/** Refuses (400, naming the field) what `issues` found in one entity the API was given. */
export function refuseIssues(noun: string, issues: Issue[]): void {
  if (issues.length > 0)
    throw new ApiError(400, 'invalid_request', `Invalid ${noun}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

export function modelTargetIssues(model: ModelConfig, known: Pick<KnownNames, 'providers'>): Issue[] {
  return model.targets.flatMap((target, i) =>
    known.providers.has(target.provider) ? [] : [{ path: `targets.${i}.provider`, message: `no provider named "${target.provider}"` }],
  );
}

export async function policyIssues(value: PolicyReferences, known: KnownNames): Promise<Issue[]> {
  const issues: Issue[] = [];
  const scope = value.consumers;
  if (typeof scope === 'object' && scope !== null && 'consumer' in scope && !(await known.consumer(String(scope.consumer)))) {
    issues.push({ path: 'consumers.consumer', message: `no consumer named "${String(scope.consumer)}"` });
  }
  // A team that does not exist binds no consumer: the budget or rate limit would never apply.
  if (typeof scope === 'object' && scope !== null && 'team' in scope && !(await known.team(String(scope.team)))) {
    issues.push({ path: 'consumers.team', message: `no team named "${String(scope.team)}"` });
  }
  const selector = value.selector;
  if (typeof selector === 'object' && selector !== null && 'team' in selector && !(await known.team(String(selector.team)))) {
    issues.push({ path: 'selector.team', message: `no team named "${String(selector.team)}"` });
  }
  const resources = value.resources;
  if (typeof resources === 'object' && resources !== null) {
    if ('model' in resources && !known.models.has(String(resources.model)))
      issues.push({ path: 'resources.model', message: `no model named "${String(resources.model)}"` });
    if ('provider' in resources && !known.providers.has(String(resources.provider)))
      issues.push({ path: 'resources.provider', message: `no provider named "${String(resources.provider)}"` });
  }
  const action = value.onExhausted;
  if (typeof action === 'object' && action !== null && 'downgrade' in action && !known.models.has(String(action.downgrade))) {
    issues.push({ path: 'onExhausted.downgrade', message: `no model named "${String(action.downgrade)}"` });
  }
  return issues;
}

/** A resource id is provider/model; its provider must exist. */
export function resourceIssues(id: string, known: Pick<KnownNames, 'providers'>): Issue[] {
  const provider = id.slice(0, id.indexOf('/'));
  return known.providers.has(provider) ? [] : [{ path: 'id', message: `no provider named "${provider}"` }];
}
