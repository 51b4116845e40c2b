// `sluice keys list|create|rotate|revoke`: a consumer's Sluice keys. A key's plaintext is printed once, when it is made.
import { AdminClient, apiPath } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, parseInteger, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printJson, printTable, printUsage, time } from '../table.js';

/** The OpenAPI document's ConsumerKey: never the secret, never its hash. */
interface KeyView {
  id: string;
  consumer: string;
  prefix: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

interface CreatedKey {
  key: KeyView;
  plaintext: string;
}

const MAX_GRACE_SECONDS = 30 * 86_400;

const USAGE = `Usage: sluice keys <subcommand> [options]

  list CONSUMER                              the consumer's keys (never their secrets)
  create CONSUMER --name N [--expires ISO]   a new key; its secret is printed this once
  rotate CONSUMER KEY_ID [--grace SECONDS] [--expires ISO | --no-expiry]
                                             a new key, ending when the old one was to end unless --expires or
                                             --no-expiry says otherwise; the old one keeps working for the grace
                                             (default a day)
  revoke CONSUMER KEY_ID                     the key stops working at once
${SHARED_HELP}`;

function status(key: KeyView, now: number): string {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now) return 'expired';
  return 'active';
}

function expiryText(key: KeyView): string {
  return key.expiresAt === null ? 'no expiry' : `expires ${time(key.expiresAt)}`;
}

/**
 * The one time a key's secret is shown. With --json the answer (secret included) is the output and the warning goes
 * to stderr, so stdout stays parseable.
 */
function showSecret(created: CreatedKey, json: boolean, headline: string): void {
  const warning = 'This key will not be shown again: store it now (Sluice keeps only its hash).\n';
  if (json) {
    printJson(created);
    process.stderr.write(warning);
    return;
  }
  process.stdout.write(`${headline}\n\n  ${created.plaintext}\n\n${warning}`);
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [consumer] = expectPositionals(positionals, ['CONSUMER'], USAGE);
  const answer = await AdminClient.fromFlags(values).request<{ items: KeyView[] }>('GET', apiPath`/api/consumers/${consumer!}/keys`);
  if (values.json) {
    printJson(answer);
    return 0;
  }
  const now = Date.now();
  printTable(
    ['ID', 'NAME', 'PREFIX', 'STATUS', 'CREATED', 'EXPIRES', 'REVOKED', 'LAST USED'],
    answer.items.map((k) => [
      k.id,
      k.name,
      k.prefix,
      status(k, now),
      time(k.createdAt),
      time(k.expiresAt),
      time(k.revokedAt),
      time(k.lastUsedAt),
    ]),
    `keys for consumer ${consumer}`,
  );
  return 0;
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { name: { type: 'string' }, expires: { type: 'string' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  const [consumer] = expectPositionals(positionals, ['CONSUMER'], USAGE);
  if (values.name === undefined) throw new UsageError('sluice keys create: name the key with --name (e.g. --name prod)', USAGE);
  // The API checks --expires (an ISO time with its offset) and names the field if it is wrong.
  const body = { name: values.name, ...(values.expires === undefined ? {} : { expiresAt: values.expires }) };
  const created = await AdminClient.fromFlags(values).request<CreatedKey>('POST', apiPath`/api/consumers/${consumer!}/keys`, body);
  showSecret(
    created,
    values.json === true,
    `created key ${created.key.id} "${created.key.name}" for consumer ${consumer} (${expiryText(created.key)}):`,
  );
  return 0;
}

async function rotate(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    { grace: { type: 'string' }, expires: { type: 'string' }, 'no-expiry': { type: 'boolean' } },
    USAGE,
  );
  if (values.help) return printUsage(USAGE);
  const [consumer, keyId] = expectPositionals(positionals, ['CONSUMER', 'KEY_ID'], USAGE);
  const grace = parseInteger('--grace', values.grace, 0, MAX_GRACE_SECONDS, USAGE);
  if (values.expires !== undefined && values['no-expiry'] === true)
    throw new UsageError('sluice keys rotate: give --expires ISO or --no-expiry, not both', USAGE);
  // Neither: the new key ends when the old one was to end (the API's default). The API checks --expires.
  const expiry = values['no-expiry'] === true ? { expiresAt: null } : values.expires === undefined ? {} : { expiresAt: values.expires };
  const client = AdminClient.fromFlags(values);
  const created = await client.request<CreatedKey>('POST', apiPath`/api/consumers/${consumer!}/keys/${keyId!}/rotate`, {
    ...(grace === undefined ? {} : { graceSeconds: grace }),
    ...expiry,
  });
  showSecret(
    created,
    values.json === true,
    `rotated key ${keyId} of consumer ${consumer}; the new key is ${created.key.id} (${expiryText(created.key)}):`,
  );
  if (!values.json) {
    // The rotation answer carries only the new key; the old key's end is read back, as rotation never lengthens a life.
    const keys = await client.request<{ items: KeyView[] }>('GET', apiPath`/api/consumers/${consumer!}/keys`);
    const old = keys.items.find((key) => key.id === keyId);
    if (old?.expiresAt)
      process.stdout.write(
        `The old key ${keyId} ${Date.parse(old.expiresAt) <= Date.now() ? 'stopped working at' : 'keeps working until'} ${time(old.expiresAt)}.\n`,
      );
  }
  return 0;
}

async function revoke(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [consumer, keyId] = expectPositionals(positionals, ['CONSUMER', 'KEY_ID'], USAGE);
  const key = await AdminClient.fromFlags(values).request<KeyView>('POST', apiPath`/api/consumers/${consumer!}/keys/${keyId!}/revoke`);
  if (values.json) printJson(key);
  else process.stdout.write(`revoked key ${key.id} "${key.name}" of consumer ${consumer} at ${time(key.revokedAt)}\n`);
  return 0;
}

export const keysCommand: AdminCommand = {
  usage: USAGE,
  run: (args) => dispatchVerb('keys', USAGE, { list, create, rotate, revoke }, args),
};
