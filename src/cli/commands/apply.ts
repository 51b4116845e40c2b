// `sluice apply -f FILE [--dry-run]`: makes the director match a declarative YAML file (GitOps). Each entity is read,
// then created, updated or left alone; nothing is ever deleted, and a second apply of the same file changes nothing.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { budgetSchema, budgetTemplateSchema, governanceFields, rateLimitSchema } from '../../config/governance-schema.js';
import { ConfigError, formatIssues, parseYamlWithEnv } from '../../config/load.js';
import { modelSchema } from '../../config/schema.js';
import { labelsRecord, nameText, ownerText, TEXT_LIMITS } from '../../config/limits.js';
import { AdminClient, ApiFailure, apiPath } from '../admin-client.js';
import { expectPositionals, parseCommand, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printJson, printUsage } from '../table.js';
import type { ResourceView } from './resources.js';

const USAGE = `Usage: sluice apply -f FILE [--dry-run]

Creates or updates what FILE declares, in this order: teams, models, consumers, budgets, budgetTemplates,
rateLimits, resources. Entities that already match are left alone; nothing is deleted. \${ENV} is replaced as in sluice.yaml.
With --dry-run only reads are sent, and each line says what would be done. "-f -" reads the file from stdin.

  teams:           [{ name, owner }]
  models:          [{ name, targets, pricing, retry }]             as in sluice.yaml (providers: the API or sluice.yaml)
  consumers:       [{ name, team, owner, labels, models }]     (keys are made with \`sluice keys create\`)
  budgets, budgetTemplates, rateLimits:                       as in sluice.yaml
  resources:       { provider/model: sanctioned | unsanctioned | unreviewed }
${SHARED_HELP}`;

// Teams and consumers have no schema in sluice.yaml's shape that fits (a declared consumer needs keys there), so
// they are spelled here; the API checks them again, with the name rules it owns.
const team = z.object({ name: nameText(), owner: ownerText() }).strict();
const consumer = z.object({
  name: nameText(),
  team: nameText().optional(),
  owner: ownerText().optional(),
  labels: labelsRecord().default({}),
  models: z.array(nameText()).max(TEXT_LIMITS.allowList).optional(),
}).strict();
const applyFile = z.object({
  teams: z.array(team).default([]),
  models: z.array(modelSchema).default([]),
  consumers: z.array(consumer).default([]),
  budgets: z.array(budgetSchema).default([]),
  budgetTemplates: z.array(budgetTemplateSchema).default([]),
  rateLimits: z.array(rateLimitSchema).default([]),
  resources: governanceFields.resources,
}).strict();
type ApplyFile = z.infer<typeof applyFile>;

/** One entity of the file: how to read it now, what the file wants, and the two calls that make it so. */
interface Step {
  kind: string;
  name: string;
  /** Where the entity is in the file, to name it when the API refuses it. */
  path: string;
  /** The entity as it stands, in the same form as `desired`, or null when absent. */
  current(): Promise<Record<string, unknown> | null>;
  desired: Record<string, unknown>;
  create(): Promise<unknown>;
  update(): Promise<unknown>;
}

type Action = 'created' | 'updated' | 'unchanged' | 'would create' | 'would update';

interface Outcome {
  kind: string;
  name: string;
  action: Action;
  /** The fields that differ (updates only). */
  changed: string[];
}

/** Reads, interpolates and validates the file; every problem names the file and the path in it (ConfigError, exit 2). */
export function readApplyFile(text: string, source: string, env: NodeJS.ProcessEnv = process.env): ApplyFile {
  const raw = parseYamlWithEnv(text, source, env);
  const consumers = (raw as { consumers?: unknown }).consumers;
  if (Array.isArray(consumers)) {
    consumers.forEach((entry, i) => {
      if (entry !== null && typeof entry === 'object' && 'keys' in entry) {
        throw new ConfigError(`${source}: consumers[${i}].keys: apply does not take keys; make them with \`sluice keys create ${String((entry as { name?: unknown }).name ?? 'CONSUMER')} --name N\``);
      }
    });
  }
  const result = applyFile.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, source));
  const problems: string[] = [];
  for (const key of ['teams', 'models', 'consumers', 'budgets', 'budgetTemplates', 'rateLimits'] as const) {
    const seen = new Set<string>();
    result.data[key].forEach(({ name }, i) => {
      if (seen.has(name)) problems.push(`${source}: ${key}[${i}].name: "${name}" is declared twice`);
      seen.add(name);
    });
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return result.data;
}

/** JSON with sorted keys and no undefined fields, so equal values compare equal whatever order the API wrote them in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item);
}

function differences(current: Record<string, unknown>, desired: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(current), ...Object.keys(desired)]);
  return [...keys].filter((key) => canonical(current[key]) !== canonical(desired[key]));
}

/** The stored form of a model, budget, template or rate limit, without the store's times, to compare with the file's. */
function definitionOf(stored: Record<string, unknown> | null): Record<string, unknown> | null {
  if (stored === null) return null;
  const { createdAt: _created, updatedAt: _updated, ...definition } = stored;
  return definition;
}

/** Definitions kept whole by name (models, budgets, templates, rate limits): POST to create, PUT to replace. */
function policySteps(steps: Step[], client: AdminClient, definitions: ReadonlyArray<{ name: string }>, policy: { key: string; kind: string; path: string }): void {
  definitions.forEach((definition, i) => {
    const one = `${policy.path}${apiPath`/${definition.name}`}`;
    steps.push({
      // The file's value has sluice.yaml's defaults filled in by the same schema the API applies, so a stored
      // definition made from this file compares equal to it.
      kind: policy.kind, name: definition.name, path: `${policy.key}[${i}]`, desired: { ...definition },
      current: async () => definitionOf(await client.find<Record<string, unknown>>(one)),
      create: () => client.request('POST', policy.path, definition),
      update: () => client.request('PUT', one, definition),
    });
  });
}

function stepsFor(file: ApplyFile, client: AdminClient): Step[] {
  const steps: Step[] = [];
  file.teams.forEach((t, i) => steps.push({
    kind: 'team', name: t.name, path: `teams[${i}]`, desired: { owner: t.owner },
    current: async () => {
      const found = await client.find<{ owner: string }>(apiPath`/api/teams/${t.name}`);
      return found === null ? null : { owner: found.owner };
    },
    create: () => client.request('POST', '/api/teams', { name: t.name, owner: t.owner }),
    update: () => client.request('PATCH', apiPath`/api/teams/${t.name}`, { owner: t.owner }),
  }));
  // Models before consumers and budgets, which may name them.
  policySteps(steps, client, file.models, { key: 'models', kind: 'model', path: '/api/models' });
  file.consumers.forEach((c, i) => {
    // The file states the whole consumer, as sluice.yaml does: a field left out is cleared, not kept.
    const desired = { team: c.team ?? null, owner: c.owner ?? null, labels: c.labels, models: c.models ?? null };
    steps.push({
      kind: 'consumer', name: c.name, path: `consumers[${i}]`, desired,
      current: async () => {
        const found = await client.find<Record<string, unknown>>(apiPath`/api/consumers/${c.name}`);
        return found === null ? null : { team: found.team, owner: found.owner, labels: found.labels, models: found.models };
      },
      create: () => client.request('POST', '/api/consumers', { name: c.name, ...desired }),
      update: () => client.request('PATCH', apiPath`/api/consumers/${c.name}`, desired),
    });
  });
  const policies = [
    { key: 'budgets', kind: 'budget', path: '/api/budgets' },
    { key: 'budgetTemplates', kind: 'budget template', path: '/api/budget-templates' },
    { key: 'rateLimits', kind: 'rate limit', path: '/api/rate-limits' },
  ] as const;
  for (const policy of policies) policySteps(steps, client, file[policy.key], policy);
  let resources: Promise<Map<string, ResourceView>> | undefined;
  for (const [id, status] of Object.entries(file.resources)) {
    steps.push({
      kind: 'resource', name: id, path: `resources.${id}`, desired: { status },
      current: async () => {
        // There is no GET for one resource; the list is read once for all of them.
        resources ??= client.request<{ items: ResourceView[] }>('GET', '/api/resources').then(({ items }) => new Map(items.map((r) => [r.id, r])));
        const found = (await resources).get(id);
        // A resource with no status is unreviewed, so declaring it unreviewed asks for nothing.
        if (found === undefined) return status === 'unreviewed' ? { status } : null;
        return { status: found.status };
      },
      create: () => client.request('PUT', apiPath`/api/resources/${id}`, { status }),
      update: () => client.request('PUT', apiPath`/api/resources/${id}`, { status }),
    });
  }
  return steps;
}

/** A refusal from the API, named by where the entity is in the file, with its field paths made file paths too. */
function located(error: unknown, source: string, step: Step): unknown {
  if (!(error instanceof ApiFailure)) return error;
  const issues = error.issues.map((issue) => ({ path: `${step.path}.${issue.path}`, message: issue.message }));
  return new ApiFailure(`${source}: ${step.path} (${step.kind} ${step.name}): ${error.message}`, error.status, error.code, issues);
}

function line(outcome: Outcome): string {
  const fields = outcome.changed.length > 0 ? ` (${outcome.changed.join(', ')})` : '';
  return `${outcome.kind} ${outcome.name}: ${outcome.action}${fields}\n`;
}

function summary(outcomes: readonly Outcome[], source: string, dryRun: boolean): string {
  const count = (...actions: Action[]) => outcomes.filter((o) => actions.includes(o.action)).length;
  const [created, updated, unchanged] = [count('created', 'would create'), count('updated', 'would update'), count('unchanged')];
  if (outcomes.length === 0) return `${source} declares nothing\n`;
  if (created + updated === 0) return `${source}: nothing to change; all ${unchanged} already match\n`;
  if (dryRun) return `dry run of ${source}: ${created} would be created, ${updated} would be updated, ${unchanged} unchanged; nothing was changed\n`;
  return `${source}: ${created} created, ${updated} updated, ${unchanged} unchanged\n`;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  if (values.file === undefined) throw new UsageError('sluice apply: name the file with -f FILE', USAGE);
  const source = values.file === '-' ? 'stdin' : values.file;
  let text: string;
  try {
    text = readFileSync(values.file === '-' ? 0 : values.file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${source}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const file = readApplyFile(text, source);
  const dryRun = values['dry-run'] === true;
  const client = AdminClient.fromFlags(values);
  const outcomes: Outcome[] = [];
  // Lines are printed as each entity is done, so a failure part-way leaves a record of what was already applied.
  const report = (outcome: Outcome) => {
    outcomes.push(outcome);
    if (!values.json) process.stdout.write(line(outcome));
  };
  let step: Step | undefined;
  try {
    for (step of stepsFor(file, client)) {
      const current = await step.current();
      if (current === null) {
        if (!dryRun) await step.create();
        report({ kind: step.kind, name: step.name, action: dryRun ? 'would create' : 'created', changed: [] });
        continue;
      }
      const changed = differences(current, step.desired);
      if (changed.length > 0 && !dryRun) await step.update();
      report({ kind: step.kind, name: step.name, action: changed.length === 0 ? 'unchanged' : dryRun ? 'would update' : 'updated', changed });
    }
  } catch (error) {
    if (values.json) printJson({ file: source, dryRun, complete: false, results: outcomes });
    throw step === undefined ? error : located(error, source, step);
  }
  if (values.json) printJson({ file: source, dryRun, complete: true, results: outcomes });
  else process.stdout.write(summary(outcomes, source, dryRun));
  return 0;
}

export const applyCommand: AdminCommand = { usage: USAGE, run };
