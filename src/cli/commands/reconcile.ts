// `sluice reconcile ...`: traffic from callers and to resources Sluice does not know yet, over /api/reconciliation.
// Discovered consumers are resolved (assigned, created, ignored) one by one or by rules; discovered resources are marked.
import { AdminClient, apiPath } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, parseLabels, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printFields, printJson, printTable, printUsage, time, type Cell } from '../table.js';

/** The OpenAPI document's DiscoveredConsumer. */
export interface DiscoveredConsumerView {
  id: number;
  identity: { kind: 'keyFingerprint' | 'ip' | 'userAgent'; value: string; host: string | null };
  hints: {
    ips: string[];
    keyFingerprints: string[];
    userAgents: string[];
    hosts: string[];
    observers: string[];
    users?: string[];
    organizations?: string[];
    projects?: string[];
    services?: string[];
  };
  firstSeenAt: string;
  lastSeenAt: string;
  calls: number;
  status: 'pending' | 'resolved' | 'ignored';
  consumer: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
}

interface RuleView {
  id: number;
  match: { cidr?: string; keyFingerprint?: string; userAgent?: string };
  consumer: string;
  note: string | null;
  createdAt: string;
}

interface ResourceView {
  id: string;
  provider: string;
  model: string;
  status: string;
  firstSeenAt: string;
  lastSeenAt: string;
  calls: number;
}

const STATUSES = ['pending', 'resolved', 'ignored'];

const USAGE = `Usage: sluice reconcile <subcommand> [options]

Traffic from callers and to models Sluice does not know yet (observed by a discovery proxy or seen at a gateway).

  list [--status pending|resolved|ignored]   discovered consumers (all pages), in the order discovered
  show ID                                    one discovered consumer with all its hints
  assign ID CONSUMER                         attribute it (and its past usage) to an existing consumer
  create ID --name N [--team T] [--owner O] [--label k=v]...
                                             create a consumer (its team must exist) and attribute it to that
  ignore ID                                  leave its usage unattributed and take it off the pending list
  resources                                  discovered resources: provider/models seen that nobody has reviewed
  resource PROVIDER/MODEL sanctioned|unsanctioned [--note TEXT]
                                             mark a discovered resource
  rules                                      reconciliation rules, oldest first (the order they are tried in)
  rule add --consumer C [--cidr X] [--fingerprint F] [--user-agent PREFIX] [--note TEXT]
                                             a rule; it also resolves the pending discoveries it matches
  rule delete ID                             remove a rule (what it resolved stays resolved)
${SHARED_HELP}`;

function identity(item: DiscoveredConsumerView): string {
  const { kind, value, host } = item.identity;
  const label = kind === 'keyFingerprint' ? 'key' : kind === 'ip' ? 'ip' : 'agent';
  return `${label} ${value}${host === null ? '' : ` @ ${host}`}`;
}

/** The hints besides the identity itself, briefly: what an admin recognises a caller by. */
function otherHints(item: DiscoveredConsumerView): string {
  const { ips, keyFingerprints, userAgents, hosts } = item.hints;
  const parts: string[] = [];
  const add = (label: string, values: string[], skip: string | null) => {
    const rest = values.filter((value) => value !== skip);
    if (rest.length > 0) parts.push(`${label}=${rest.slice(0, 2).join(',')}${rest.length > 2 ? `,+${rest.length - 2}` : ''}`);
  };
  add('key', keyFingerprints, item.identity.kind === 'keyFingerprint' ? item.identity.value : null);
  add('ip', ips, item.identity.kind === 'ip' ? item.identity.value : null);
  add('agent', userAgents, item.identity.kind === 'userAgent' ? item.identity.value : null);
  add('host', hosts, item.identity.host);
  return parts.join(' ');
}

function ruleMatch(rule: RuleView): string {
  return [
    rule.match.cidr === undefined ? null : `cidr=${rule.match.cidr}`,
    rule.match.keyFingerprint === undefined ? null : `key=${rule.match.keyFingerprint}`,
    rule.match.userAgent === undefined ? null : `agent^=${rule.match.userAgent}`,
  ]
    .filter((part) => part !== null)
    .join(' ');
}

export function printDiscovered(item: DiscoveredConsumerView): void {
  const fields: Array<[string, Cell]> = [
    ['id', item.id],
    ['identity', identity(item)],
    ['status', item.status],
    ['consumer', item.consumer],
    ['calls', item.calls],
    ['first seen', time(item.firstSeenAt)],
    ['last seen', time(item.lastSeenAt)],
    ['ips', item.hints.ips.join(', ')],
    ['key fingerprints', item.hints.keyFingerprints.join(', ')],
    ['user agents', item.hints.userAgents.join(', ')],
    ['hosts', item.hints.hosts.join(', ')],
    ['observers', item.hints.observers.join(', ')],
    ['users', (item.hints.users ?? []).join(', ')],
    ['organizations', (item.hints.organizations ?? []).join(', ')],
    ['projects', (item.hints.projects ?? []).join(', ')],
    ['services', (item.hints.services ?? []).join(', ')],
    ['resolved by', item.resolvedBy],
    ['resolved at', time(item.resolvedAt)],
  ];
  printFields(fields);
}

function idArgument(value: string): string {
  if (!/^\d{1,15}$/.test(value))
    throw new UsageError(`"${value}" is not a discovered consumer's ID (a number; see sluice reconcile list)`, USAGE);
  return value;
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { status: { type: 'string' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const query = new URLSearchParams();
  if (values.status !== undefined) {
    if (!STATUSES.includes(values.status)) throw new UsageError(`--status is one of ${STATUSES.join(', ')}, got "${values.status}"`, USAGE);
    query.set('status', values.status);
  }
  const items = await AdminClient.fromFlags(values).listAll<DiscoveredConsumerView>('/api/reconciliation/consumers', query);
  if (values.json) printJson({ items, nextCursor: null });
  else {
    printTable(
      ['ID', 'IDENTITY', 'STATUS', 'CONSUMER', 'CALLS', 'LAST SEEN', 'HINTS'],
      items.map((item) => [item.id, identity(item), item.status, item.consumer, item.calls, time(item.lastSeenAt), otherHints(item)]),
      values.status === undefined ? 'discovered consumers' : `${values.status} discovered consumers`,
    );
  }
  return 0;
}

async function show(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [id] = expectPositionals(positionals, ['ID'], USAGE);
  const item = await AdminClient.fromFlags(values).request<DiscoveredConsumerView>(
    'GET',
    apiPath`/api/reconciliation/consumers/${idArgument(id!)}`,
  );
  if (values.json) printJson(item);
  else printDiscovered(item);
  return 0;
}

async function resolve(
  values: { url?: string | undefined; token?: string | undefined; json?: boolean | undefined },
  id: string,
  how: unknown,
  done: string,
): Promise<number> {
  const item = await AdminClient.fromFlags(values).request<DiscoveredConsumerView>(
    'POST',
    apiPath`/api/reconciliation/consumers/${idArgument(id)}/resolve`,
    how,
  );
  if (values.json) printJson(item);
  else process.stdout.write(`discovered consumer ${item.id} (${identity(item)}): ${done}; ${item.calls} calls follow\n`);
  return 0;
}

async function assign(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [id, consumer] = expectPositionals(positionals, ['ID', 'CONSUMER'], USAGE) as [string, string];
  return resolve(values, id, { consumer }, `assigned to ${consumer}`);
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      name: { type: 'string' },
      team: { type: 'string' },
      owner: { type: 'string' },
      label: { type: 'string', multiple: true },
    },
    USAGE,
  );
  if (values.help) return printUsage(USAGE);
  const [id] = expectPositionals(positionals, ['ID'], USAGE) as [string];
  if (values.name === undefined || values.name === '')
    throw new UsageError('sluice reconcile create: name the new consumer with --name', USAGE);
  const labels = parseLabels(values.label, USAGE);
  const consumer = {
    name: values.name,
    ...(values.team === undefined || values.team === '' ? {} : { team: values.team }),
    ...(values.owner === undefined || values.owner === '' ? {} : { owner: values.owner }),
    ...(labels === undefined ? {} : { labels }),
  };
  return resolve(
    values,
    id,
    { create: consumer },
    `created consumer ${values.name}${consumer.team === undefined ? '' : ` (team ${consumer.team})`} and assigned to it`,
  );
}

async function ignore(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [id] = expectPositionals(positionals, ['ID'], USAGE) as [string];
  return resolve(values, id, { ignore: true }, 'ignored; its usage stays unattributed');
}

async function resources(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const answer = await AdminClient.fromFlags(values).request<{ items: ResourceView[] }>('GET', '/api/reconciliation/resources');
  if (values.json) printJson(answer);
  else {
    printTable(
      ['RESOURCE', 'CALLS', 'FIRST SEEN', 'LAST SEEN'],
      answer.items.map((r) => [r.id, r.calls, time(r.firstSeenAt), time(r.lastSeenAt)]),
      'discovered resources (every resource seen has a status)',
    );
  }
  return 0;
}

async function resource(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { note: { type: 'string' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  const [id, status] = expectPositionals(positionals, ['PROVIDER/MODEL', 'STATUS'], USAGE) as [string, string];
  if (!/^[^/]+\/.+$/.test(id)) throw new UsageError(`"${id}" is not PROVIDER/MODEL (e.g. openai/gpt-4o)`, USAGE);
  if (status !== 'sanctioned' && status !== 'unsanctioned')
    throw new UsageError(`the status is sanctioned or unsanctioned, got "${status}"`, USAGE);
  const body = { status, ...(values.note === undefined ? {} : { note: values.note }) };
  const saved = await AdminClient.fromFlags(values).request<{ id: string; status: string; note: string | null }>(
    'POST',
    apiPath`/api/reconciliation/resources/${id}/resolve`,
    body,
  );
  if (values.json) printJson(saved);
  else process.stdout.write(`${saved.id} is ${saved.status}${saved.note === null ? '' : ` (${saved.note})`}\n`);
  return 0;
}

async function rules(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const answer = await AdminClient.fromFlags(values).request<{ items: RuleView[] }>('GET', '/api/reconciliation/rules');
  if (values.json) printJson(answer);
  else
    printTable(
      ['ID', 'MATCH', 'CONSUMER', 'NOTE', 'CREATED'],
      answer.items.map((r) => [r.id, ruleMatch(r), r.consumer, r.note, time(r.createdAt)]),
      'reconciliation rules',
    );
  return 0;
}

async function ruleAdd(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      consumer: { type: 'string' },
      cidr: { type: 'string' },
      fingerprint: { type: 'string' },
      'user-agent': { type: 'string' },
      note: { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  if (values.consumer === undefined || values.consumer === '')
    throw new UsageError('sluice reconcile rule add: name the consumer with --consumer', USAGE);
  const match = {
    ...(values.cidr === undefined ? {} : { cidr: values.cidr }),
    ...(values.fingerprint === undefined ? {} : { keyFingerprint: values.fingerprint }),
    ...(values['user-agent'] === undefined ? {} : { userAgent: values['user-agent'] }),
  };
  if (Object.keys(match).length === 0)
    throw new UsageError('sluice reconcile rule add: give at least one of --cidr, --fingerprint, --user-agent', USAGE);
  const answer = await AdminClient.fromFlags(values).request<{ rule: RuleView; resolved: DiscoveredConsumerView[] }>(
    'POST',
    '/api/reconciliation/rules',
    {
      match,
      consumer: values.consumer,
      ...(values.note === undefined ? {} : { note: values.note }),
    },
  );
  if (values.json) {
    printJson(answer);
    return 0;
  }
  process.stdout.write(
    `rule ${answer.rule.id}: ${ruleMatch(answer.rule)} -> ${answer.rule.consumer}; resolved ${answer.resolved.length} pending discovered consumers\n`,
  );
  if (answer.resolved.length > 0) {
    printTable(
      ['ID', 'IDENTITY', 'CALLS'],
      answer.resolved.map((item) => [item.id, identity(item), item.calls]),
      'discovered consumers',
    );
  }
  return 0;
}

async function ruleDelete(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [id] = expectPositionals(positionals, ['ID'], USAGE) as [string];
  if (!/^\d{1,15}$/.test(id)) throw new UsageError(`"${id}" is not a rule's ID (a number; see sluice reconcile rules)`, USAGE);
  await AdminClient.fromFlags(values).request<null>('DELETE', apiPath`/api/reconciliation/rules/${id}`);
  if (!values.json) process.stdout.write(`deleted rule ${id}\n`);
  return 0;
}

function rule(args: string[]): Promise<number> {
  return dispatchVerb('reconcile rule', USAGE, { add: ruleAdd, delete: ruleDelete }, args);
}

export const reconcileCommand: AdminCommand = {
  usage: USAGE,
  run: (args) => dispatchVerb('reconcile', USAGE, { list, show, assign, create, ignore, resources, resource, rules, rule }, args),
};
