// `sluice budgets|templates|ratelimits list|get|delete`: the three policy kinds share their routes' shape, so they share
// this file; only the columns differ. Creating and editing them goes through `sluice apply`, from a reviewed file.
import type {
  BudgetConfig,
  BudgetTemplateConfig,
  ConsumerScope,
  RateLimitConfig,
  ResourceScope,
  TemplateSelector,
  WindowConfig,
} from '../../config/governance-schema.js';
import { AdminClient, apiPath } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, SHARED_HELP, type AdminCommand } from '../args.js';
import { labelList, printFields, printJson, printTable, printUsage, time, type Cell } from '../table.js';
import { BURN_DOWN_USAGE_LINE, burnDown } from './burn-down.js';

/** What the API answers for each: the definition as sluice.yaml spells it, with the store's times. */
export type Stored<T> = T & { createdAt: string; updatedAt: string };

export interface PolicyKind<T> {
  noun: string;
  plural: string;
  command: string;
  path: string;
  /** How they are created and changed, for the usage text (default: `sluice apply`). */
  howToChange?: string;
  columns: string[];
  row(value: Stored<T>): Cell[];
  fields(value: Stored<T>): Array<[string, Cell]>;
}

export function consumerScope(scope: ConsumerScope): string {
  if (scope === 'everyone') return 'everyone';
  return 'consumer' in scope ? `consumer ${scope.consumer}` : `team ${scope.team}`;
}

export function resourceScope(scope: ResourceScope): string {
  if (scope === 'any') return 'any';
  if ('model' in scope) return `model ${scope.model}`;
  return 'provider' in scope ? `provider ${scope.provider}` : `resource ${scope.resource}`;
}

function selector(value: TemplateSelector): string {
  if (value === 'everyone') return 'everyone';
  return 'team' in value ? `team ${value.team}` : `labels ${labelList(value.labels)}`;
}

function window(value: WindowConfig): string {
  return typeof value === 'string' ? value : `rolling ${value.rolling}`;
}

function onExhausted(value: BudgetConfig['onExhausted']): string {
  return value === 'refuse' ? 'refuse' : `downgrade to ${value.downgrade}`;
}

/** A limit in its unit: USD for cost_usd, else tokens or requests. */
function limit(value: { measure: string; limit: number }): string {
  return value.measure === 'cost_usd' ? `$${value.limit}` : String(value.limit);
}

export function times(value: { createdAt: string; updatedAt: string }): Array<[string, Cell]> {
  return [
    ['created', time(value.createdAt)],
    ['updated', time(value.updatedAt)],
  ];
}

const BUDGETS: PolicyKind<BudgetConfig> = {
  noun: 'budget',
  plural: 'budgets',
  command: 'budgets',
  path: '/api/budgets',
  columns: ['NAME', 'CONSUMERS', 'RESOURCES', 'MEASURE', 'LIMIT', 'WINDOW', 'MODE', 'ON EXHAUSTED'],
  row: (b) => [
    b.name,
    consumerScope(b.consumers),
    resourceScope(b.resources),
    b.measure,
    limit(b),
    window(b.window),
    b.mode,
    onExhausted(b.onExhausted),
  ],
  fields: (b) => [
    ['name', b.name],
    ['consumers', consumerScope(b.consumers)],
    ['resources', resourceScope(b.resources)],
    ['measure', b.measure],
    ['limit', limit(b)],
    ['window', window(b.window)],
    ['mode', b.mode],
    ['alerts', b.alerts.map((a) => `${a}%`).join(',')],
    ['on exhausted', onExhausted(b.onExhausted)],
    ...times(b),
  ],
};

const TEMPLATES: PolicyKind<BudgetTemplateConfig> = {
  noun: 'budget template',
  plural: 'budget templates',
  command: 'templates',
  path: '/api/budget-templates',
  columns: ['NAME', 'SELECTOR', 'RESOURCES', 'MEASURE', 'LIMIT', 'WINDOW', 'MODE', 'ON EXHAUSTED'],
  row: (t) => [
    t.name,
    selector(t.selector),
    resourceScope(t.resources),
    t.measure,
    limit(t),
    window(t.window),
    t.mode,
    onExhausted(t.onExhausted),
  ],
  fields: (t) => [
    ['name', t.name],
    ['selector', selector(t.selector)],
    ['resources', resourceScope(t.resources)],
    ['measure', t.measure],
    ['limit', limit(t)],
    ['window', window(t.window)],
    ['mode', t.mode],
    ['alerts', t.alerts.map((a) => `${a}%`).join(',')],
    ['on exhausted', onExhausted(t.onExhausted)],
    ...times(t),
  ],
};

const RATE_LIMITS: PolicyKind<RateLimitConfig> = {
  noun: 'rate limit',
  plural: 'rate limits',
  command: 'ratelimits',
  path: '/api/rate-limits',
  columns: ['NAME', 'CONSUMERS', 'RESOURCES', 'PER', 'TOKENS/MIN', 'REQUESTS/MIN', 'MODE'],
  row: (r) => [r.name, consumerScope(r.consumers), resourceScope(r.resources), r.per, r.tokensPerMinute, r.requestsPerMinute, r.mode],
  fields: (r) => [
    ['name', r.name],
    ['consumers', consumerScope(r.consumers)],
    ['resources', resourceScope(r.resources)],
    ['per', r.per],
    ['tokens per minute', r.tokensPerMinute],
    ['requests per minute', r.requestsPerMinute],
    ['mode', r.mode],
    ...times(r),
  ],
};

/** Verbs one kind has beyond list, get and delete (budgets: burn-down), with their lines for the usage text. */
export interface ExtraVerbs {
  lines: string;
  verbs: Record<string, (args: string[], usage: string) => Promise<number>>;
}

export function policyCommand<T extends { name: string }>(kind: PolicyKind<T>, extra?: ExtraVerbs): AdminCommand {
  const usage = `Usage: sluice ${kind.command} <subcommand> [options]

  list          every ${kind.noun}
  get NAME      one ${kind.noun}
  delete NAME   remove a ${kind.noun}
${extra === undefined ? '' : `${extra.lines}\n`}
${kind.howToChange ?? `To create or change ${kind.plural}, declare them in a file and run \`sluice apply -f FILE\`.`}
${SHARED_HELP}`;

  const list = async (args: string[]): Promise<number> => {
    const { values, positionals } = parseCommand(args, {}, usage);
    if (values.help) return printUsage(usage);
    expectPositionals(positionals, [], usage);
    const answer = await AdminClient.fromFlags(values).request<{ items: Array<Stored<T>> }>('GET', kind.path);
    if (values.json) printJson(answer);
    else printTable(kind.columns, answer.items.map(kind.row), kind.plural);
    return 0;
  };

  const get = async (args: string[]): Promise<number> => {
    const { values, positionals } = parseCommand(args, {}, usage);
    if (values.help) return printUsage(usage);
    const [name] = expectPositionals(positionals, ['NAME'], usage);
    const found = await AdminClient.fromFlags(values).request<Stored<T>>('GET', `${kind.path}${apiPath`/${name!}`}`);
    if (values.json) printJson(found);
    else printFields(kind.fields(found));
    return 0;
  };

  const remove = async (args: string[]): Promise<number> => {
    const { values, positionals } = parseCommand(args, {}, usage);
    if (values.help) return printUsage(usage);
    const [name] = expectPositionals(positionals, ['NAME'], usage);
    await AdminClient.fromFlags(values).request<null>('DELETE', `${kind.path}${apiPath`/${name!}`}`);
    // 204 has no body: with --json there is nothing to print and the exit code says it worked.
    if (!values.json) process.stdout.write(`deleted ${kind.noun} ${name}\n`);
    return 0;
  };

  const extraVerbs = Object.fromEntries(
    Object.entries(extra?.verbs ?? {}).map(([verb, run]) => [verb, (args: string[]) => run(args, usage)]),
  );
  return { usage, run: (args) => dispatchVerb(kind.command, usage, { list, get, delete: remove, ...extraVerbs }, args) };
}

export const budgetsCommand = policyCommand(BUDGETS, { lines: BURN_DOWN_USAGE_LINE, verbs: { 'burn-down': burnDown } });
export const templatesCommand = policyCommand(TEMPLATES);
export const rateLimitsCommand = policyCommand(RATE_LIMITS);
