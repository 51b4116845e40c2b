// `sluice keys list|create|rotate|revoke`: a consumer's Sluice keys. A key's plaintext is printed once, when it is made.
import { AdminClient, apiPath } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, parseInteger, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printJson, printTable, printUsage, time } from '../table.js';
import { DURATION } from '../../config/governance-schema.js';

const DAY_MS = 86_400_000;
/** The most keys `list --expiring` without a consumer prints: the API's page limit. */
const EXPIRING_LIMIT = 1000;

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

  list CONSUMER [--expiring DURATION]        the consumer's keys (never their secrets); --expiring 7d: only those
                                             ending within 7 days
  list --expiring DURATION [--team T]        every consumer's keys (or one team's) ending within the duration,
                                             soonest first
  create CONSUMER --name N [--expires ISO | --no-expiry]
                                             a new key; its secret is printed this once. Without --expires the
                                             director's keys.defaultExpiry applies; keys.maxExpiry bounds --expires
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

/** `--expiring 7d` as the API takes it; anything else is a usage error here rather than a 400 naming a query parameter. */
function expiringFlag(value: string | undefined): string | undefined {
  if (value !== undefined && !DURATION.test(value))
    throw new UsageError(`sluice keys list: --expiring takes a duration such as 7d, 12h or 30m, got "${value}"`, USAGE);
  return value;
}

/** How long until a key ends, in whole days or hours: what an owner needs to plan a rotation. */
function endsIn(key: KeyView, now: number): string {
  if (key.expiresAt === null) return '';
  const ms = Date.parse(key.expiresAt) - now;
  if (ms <= 0) return 'ended';
  return ms >= DAY_MS ? `${Math.floor(ms / DAY_MS)}d` : `${Math.max(1, Math.floor(ms / 3_600_000))}h`;
}

/** `--expires ISO` or `--no-expiry` as the body's expiresAt; neither: absent, for the director's default. */
function expiryFlags(verb: string, values: { expires?: string; 'no-expiry'?: boolean }): { expiresAt?: string | null } {
  if (values.expires !== undefined && values['no-expiry'] === true)
    throw new UsageError(`sluice keys ${verb}: give --expires ISO or --no-expiry, not both`, USAGE);
  return values['no-expiry'] === true ? { expiresAt: null } : values.expires === undefined ? {} : { expiresAt: values.expires };
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { expiring: { type: 'string' }, team: { type: 'string' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  const expiring = expiringFlag(values.expiring);
  if (positionals.length === 0 && expiring !== undefined) return listExpiring(values, expiring);
  const [consumer] = expectPositionals(positionals, ['CONSUMER'], USAGE);
  if (values.team !== undefined) throw new UsageError("sluice keys list: --team is for every consumer's keys, without CONSUMER", USAGE);
  const query = expiring === undefined ? '' : `?${new URLSearchParams({ expiringWithin: expiring })}`;
  const answer = await AdminClient.fromFlags(values).request<{ items: KeyView[] }>(
    'GET',
    `${apiPath`/api/consumers/${consumer!}/keys`}${query}`,
  );
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
    `keys for consumer ${consumer}${expiring === undefined ? '' : ` ending within ${expiring}`}`,
  );
  return 0;
}

/** Every consumer's (or one team's) keys ending within the duration, soonest first: unrevoked and not yet expired. */
async function listExpiring(values: { team?: string; json?: boolean; url?: string; token?: string }, within: string): Promise<number> {
  const query = new URLSearchParams({ within, ...(values.team === undefined ? {} : { team: values.team }), limit: String(EXPIRING_LIMIT) });
  const answer = await AdminClient.fromFlags(values).request<{ items: KeyView[]; truncated: boolean }>(
    'GET',
    `/api/keys/expiring?${query}`,
  );
  if (values.json) printJson(answer);
  else {
    const now = Date.now();
    printTable(
      ['ID', 'CONSUMER', 'NAME', 'PREFIX', 'EXPIRES', 'ENDS IN', 'LAST USED'],
      answer.items.map((k) => [k.id, k.consumer, k.name, k.prefix, time(k.expiresAt), endsIn(k, now), time(k.lastUsedAt)]),
      `keys ending within ${within}${values.team === undefined ? '' : ` of team ${values.team}`}`,
    );
  }
  if (answer.truncated)
    process.stderr.write(
      `More keys end within ${within} than the ${EXPIRING_LIMIT} shown: narrow it with --team or a shorter --expiring.\n`,
    );
  return 0;
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    { name: { type: 'string' }, expires: { type: 'string' }, 'no-expiry': { type: 'boolean' } },
    USAGE,
  );
  if (values.help) return printUsage(USAGE);
  const [consumer] = expectPositionals(positionals, ['CONSUMER'], USAGE);
  if (values.name === undefined) throw new UsageError('sluice keys create: name the key with --name (e.g. --name prod)', USAGE);
  // Neither: the director's keys.defaultExpiry (if any). The API checks --expires (an ISO time with its offset, within
  // keys.maxExpiry) and --no-expiry (only without keys.maxExpiry), and names the field if either is refused.
  const body = { name: values.name, ...expiryFlags('create', values) };
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
  // Neither: the new key ends when the old one was to end (the API's default). The API checks --expires.
  const expiry = expiryFlags('rotate', values);
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
