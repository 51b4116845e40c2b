// `sluice teams list|create|delete`: the teams consumers belong to and budgets are scoped by, over /api/teams.
import { AdminClient, apiPath } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printJson, printTable, printUsage, time } from '../table.js';

/** The OpenAPI document's Team. */
export interface TeamView {
  name: string;
  owner: string;
  createdAt: string;
}

const USAGE = `Usage: sluice teams <subcommand> [options]

  list                      every team (a team-owner token sees its own)
  create NAME --owner O     a new team
  delete NAME               a team no consumer, budget, template or rate limit names
${SHARED_HELP}`;

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const answer = await AdminClient.fromFlags(values).request<{ items: TeamView[] }>('GET', '/api/teams');
  if (values.json) printJson(answer);
  else
    printTable(
      ['NAME', 'OWNER', 'CREATED'],
      answer.items.map((t) => [t.name, t.owner, time(t.createdAt)]),
      'teams',
    );
  return 0;
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { owner: { type: 'string' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  const [name] = expectPositionals(positionals, ['NAME'], USAGE);
  if (values.owner === undefined) throw new UsageError("sluice teams create: name the team's owner with --owner", USAGE);
  const team = await AdminClient.fromFlags(values).request<TeamView>('POST', '/api/teams', { name, owner: values.owner });
  if (values.json) printJson(team);
  else process.stdout.write(`created team ${team.name} (owner ${team.owner})\n`);
  return 0;
}

async function remove(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [name] = expectPositionals(positionals, ['NAME'], USAGE);
  await AdminClient.fromFlags(values).request<null>('DELETE', apiPath`/api/teams/${name!}`);
  // 204 has no body: with --json there is nothing to print and the exit code says it worked.
  if (!values.json) process.stdout.write(`deleted team ${name}\n`);
  return 0;
}

export const teamsCommand: AdminCommand = {
  usage: USAGE,
  run: (args) => dispatchVerb('teams', USAGE, { list, create, delete: remove }, args),
};
