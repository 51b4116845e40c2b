// `sluice admin-tokens list|create|revoke`: who may use the director API, with which role, over /api/admin-tokens.
// Admin role only. A token's plaintext is printed once, when it is made.
import { AdminClient, apiPath } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printJson, printTable, printUsage, time } from '../table.js';

/** The OpenAPI document's AdminToken: never the secret, never its hash. */
interface AdminTokenView {
  id: string;
  name: string;
  role: string;
  team: string | null;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

interface CreatedAdminToken {
  token: AdminTokenView;
  plaintext: string;
}

const USAGE = `Usage: sluice admin-tokens <subcommand> [options]

  list                                              every admin token (never their secrets)
  create --name N --role admin|operator|viewer      a new token; its secret is printed this once
  create --name N --role team-owner --team T        a token that manages team T's consumers and keys
  revoke ID                                         the token stops working at once

Roles: admin (everything), operator (everything but admin tokens and changes to providers and webhooks), viewer
(read everything but admin tokens), team-owner (its own team's consumers and their keys). These commands need an admin
token.
${SHARED_HELP}`;

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const answer = await AdminClient.fromFlags(values).request<{ items: AdminTokenView[] }>('GET', '/api/admin-tokens');
  if (values.json) {
    printJson(answer);
    return 0;
  }
  printTable(
    ['ID', 'NAME', 'ROLE', 'TEAM', 'PREFIX', 'STATUS', 'CREATED', 'REVOKED'],
    answer.items.map((t) => [
      t.id,
      t.name,
      t.role,
      t.team,
      t.prefix,
      t.revokedAt === null ? 'active' : 'revoked',
      time(t.createdAt),
      time(t.revokedAt),
    ]),
    'admin tokens (the bootstrap token is not stored, so never listed)',
  );
  return 0;
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    { name: { type: 'string' }, role: { type: 'string' }, team: { type: 'string' } },
    USAGE,
  );
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  if (values.name === undefined) throw new UsageError('sluice admin-tokens create: name the token with --name (e.g. --name ci)', USAGE);
  if (values.role === undefined)
    throw new UsageError('sluice admin-tokens create: give its role with --role (admin, operator, viewer or team-owner)', USAGE);
  // The API checks the role and the team rule (a team-owner names its team, no other role does) and names the field.
  const body = { name: values.name, role: values.role, ...(values.team === undefined ? {} : { team: values.team }) };
  const created = await AdminClient.fromFlags(values).request<CreatedAdminToken>('POST', '/api/admin-tokens', body);
  const warning = 'This token will not be shown again: store it now (Sluice keeps only its hash).\n';
  // With --json the answer (secret included) is the output and the warning goes to stderr, so stdout stays parseable.
  if (values.json) {
    printJson(created);
    process.stderr.write(warning);
    return 0;
  }
  const { token } = created;
  const scope = token.team === null ? token.role : `${token.role} of team ${token.team}`;
  process.stdout.write(`created admin token ${token.id} "${token.name}" (${scope}):\n\n  ${created.plaintext}\n\n${warning}`);
  return 0;
}

async function revoke(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [id] = expectPositionals(positionals, ['ID'], USAGE);
  const token = await AdminClient.fromFlags(values).request<AdminTokenView>('POST', apiPath`/api/admin-tokens/${id!}/revoke`);
  if (values.json) printJson(token);
  else process.stdout.write(`revoked admin token ${token.id} "${token.name}" at ${time(token.revokedAt)}\n`);
  return 0;
}

export const adminTokensCommand: AdminCommand = {
  usage: USAGE,
  run: (args) => dispatchVerb('admin-tokens', USAGE, { list, create, revoke }, args),
};
