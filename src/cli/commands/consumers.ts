// `sluice consumers list|get|create|update|delete`: the applications that call the gateway, over /api/consumers.
import { AdminClient, apiPath } from '../admin-client.js';
import {
  dispatchVerb,
  expectPositionals,
  parseCommand,
  parseLabels,
  parseModels,
  SHARED_HELP,
  UsageError,
  type AdminCommand,
} from '../args.js';
import { labelList, printFields, printJson, printTable, printUsage, time } from '../table.js';

/** GET /api/consumers/{name}, as the OpenAPI document's Consumer. */
export interface ConsumerView {
  name: string;
  team: string | null;
  owner: string | null;
  labels: Record<string, string>;
  models: string[] | null;
  createdAt: string;
  updatedAt: string;
}

const USAGE = `Usage: sluice consumers <subcommand> [options]

  list [--team T] [--label k=v]...   every consumer (all pages), filtered by team and labels
  get NAME                           one consumer
  create NAME [--team T] [--owner O] [--label k=v]... [--models a,b]
  update NAME [--team T] [--owner O] [--label k=v]... [--models a,b]
                                     changes only the fields given; the --label flags replace all labels;
                                     an empty --team or --owner clears it, an empty --models allows every model
  delete NAME                        the consumer, its keys, identity and reconciliation rules (not one a budget or rate limit names)
${SHARED_HELP}`;

const FIELD_OPTIONS = {
  team: { type: 'string' },
  owner: { type: 'string' },
  label: { type: 'string', multiple: true },
  models: { type: 'string' },
} as const;

/** A consumer's models: null is no allow-list, which a table should say rather than leave blank. */
function modelList(models: string[] | null): string {
  return models === null ? '(all)' : models.join(',');
}

export function printConsumer(consumer: ConsumerView): void {
  printFields([
    ['name', consumer.name],
    ['team', consumer.team],
    ['owner', consumer.owner],
    ['labels', labelList(consumer.labels)],
    ['models', modelList(consumer.models)],
    ['created', time(consumer.createdAt)],
    ['updated', time(consumer.updatedAt)],
  ]);
}

/** The fields given as flags, in the API's spelling; an empty --team/--owner is null (cleared). */
function fieldsFrom(values: {
  team?: string | undefined;
  owner?: string | undefined;
  label?: string[] | undefined;
  models?: string | undefined;
}) {
  const fields: { team?: string | null; owner?: string | null; labels?: Record<string, string>; models?: string[] | null } = {};
  if (values.team !== undefined) fields.team = values.team === '' ? null : values.team;
  if (values.owner !== undefined) fields.owner = values.owner === '' ? null : values.owner;
  const labels = parseLabels(values.label, USAGE);
  if (labels !== undefined) fields.labels = labels;
  const models = parseModels(values.models);
  if (models !== undefined) fields.models = models;
  return fields;
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { team: FIELD_OPTIONS.team, label: FIELD_OPTIONS.label }, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const query = new URLSearchParams();
  if (values.team !== undefined) query.set('team', values.team);
  // Checked here too, so a malformed filter is a usage error before anything is sent.
  for (const [key, value] of Object.entries(parseLabels(values.label, USAGE) ?? {})) query.append('label', `${key}=${value}`);
  const items = await AdminClient.fromFlags(values).listAll<ConsumerView>('/api/consumers', query);
  if (values.json) printJson({ items, nextCursor: null });
  else
    printTable(
      ['NAME', 'TEAM', 'OWNER', 'LABELS', 'MODELS'],
      items.map((c) => [c.name, c.team, c.owner, labelList(c.labels), modelList(c.models)]),
      'consumers',
    );
  return 0;
}

async function get(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [name] = expectPositionals(positionals, ['NAME'], USAGE);
  const consumer = await AdminClient.fromFlags(values).request<ConsumerView>('GET', apiPath`/api/consumers/${name!}`);
  if (values.json) printJson(consumer);
  else printConsumer(consumer);
  return 0;
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, FIELD_OPTIONS, USAGE);
  if (values.help) return printUsage(USAGE);
  const [name] = expectPositionals(positionals, ['NAME'], USAGE);
  const consumer = await AdminClient.fromFlags(values).request<ConsumerView>('POST', '/api/consumers', { name, ...fieldsFrom(values) });
  if (values.json) {
    printJson(consumer);
    return 0;
  }
  process.stdout.write(`created consumer ${consumer.name}\n`);
  printConsumer(consumer);
  return 0;
}

async function update(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, FIELD_OPTIONS, USAGE);
  if (values.help) return printUsage(USAGE);
  const [name] = expectPositionals(positionals, ['NAME'], USAGE);
  const patch = fieldsFrom(values);
  if (Object.keys(patch).length === 0)
    throw new UsageError('sluice consumers update: nothing to change (give --team, --owner, --label or --models)', USAGE);
  const consumer = await AdminClient.fromFlags(values).request<ConsumerView>('PATCH', apiPath`/api/consumers/${name!}`, patch);
  if (values.json) {
    printJson(consumer);
    return 0;
  }
  process.stdout.write(`updated consumer ${consumer.name}\n`);
  printConsumer(consumer);
  return 0;
}

async function remove(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [name] = expectPositionals(positionals, ['NAME'], USAGE);
  await AdminClient.fromFlags(values).request<null>('DELETE', apiPath`/api/consumers/${name!}`);
  // The API answers 204 with no body, so --json has nothing to print; the exit code says it worked.
  if (!values.json) process.stdout.write(`deleted consumer ${name} and its keys\n`);
  return 0;
}

export const consumersCommand: AdminCommand = {
  usage: USAGE,
  run: (args) => dispatchVerb('consumers', USAGE, { list, get, create, update, delete: remove }, args),
};
