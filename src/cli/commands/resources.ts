// `sluice resources list|set`: models at providers (provider/model) and whether they are sanctioned, over /api/resources.
import type { ResourceStatus } from '../../config/governance-schema.js';
import { AdminClient, apiPath } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printJson, printTable, printUsage } from '../table.js';

/** The OpenAPI document's Resource. */
export interface ResourceView {
  id: string;
  status: ResourceStatus;
  note: string | null;
}

export const RESOURCE_STATUSES: readonly ResourceStatus[] = ['sanctioned', 'unsanctioned', 'unreviewed'];

const USAGE = `Usage: sluice resources <subcommand> [options]

  list                                                       resources with a status (any other is unreviewed)
  set PROVIDER/MODEL sanctioned|unsanctioned|unreviewed [--note TEXT]
${SHARED_HELP}`;

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const answer = await AdminClient.fromFlags(values).request<{ items: ResourceView[] }>('GET', '/api/resources');
  if (values.json) printJson(answer);
  else
    printTable(
      ['RESOURCE', 'STATUS', 'NOTE'],
      answer.items.map((r) => [r.id, r.status, r.note]),
      'resources with a status (every resource is unreviewed)',
    );
  return 0;
}

async function set(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { note: { type: 'string' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  const [id, status] = expectPositionals(positionals, ['PROVIDER/MODEL', 'STATUS'], USAGE) as [string, string];
  if (!/^[^/]+\/.+$/.test(id)) throw new UsageError(`"${id}" is not PROVIDER/MODEL (e.g. openai/gpt-4o-mini)`, USAGE);
  if (!(RESOURCE_STATUSES as readonly string[]).includes(status))
    throw new UsageError(`the status is one of ${RESOURCE_STATUSES.join(', ')}, got "${status}"`, USAGE);
  const body = { status, ...(values.note === undefined ? {} : { note: values.note }) };
  const saved = await AdminClient.fromFlags(values).request<ResourceView>('PUT', apiPath`/api/resources/${id}`, body);
  if (values.json) printJson(saved);
  else process.stdout.write(`${saved.id} is ${saved.status}${saved.note === null ? '' : ` (${saved.note})`}\n`);
  return 0;
}

export const resourcesCommand: AdminCommand = {
  usage: USAGE,
  run: (args) => dispatchVerb('resources', USAGE, { list, set }, args),
};
