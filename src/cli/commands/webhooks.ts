// `sluice webhooks list|create|update|delete`: where budget alerts are POSTed, over /api/webhooks. The signing secret is
// write-only at the API, so it never comes back: it is read from a file, or generated here and printed this once.
// Secrets are never taken as a flag's value, which shell history and `ps` would keep.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AdminClient, apiPath } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printJson, printTable, printUsage, time } from '../table.js';

/** The OpenAPI document's Webhook: never the secret. */
interface WebhookView {
  id: string;
  url: string;
  createdAt: string;
}

const USAGE = `Usage: sluice webhooks <subcommand> [options]

  list                                           every webhook (never their secrets)
  create URL [--secret-file FILE]                a new webhook; without --secret-file a secret is generated
                                                 and printed this once
  update ID [URL] [--secret-file FILE | --new-secret]
                                                 a new URL, a new signing secret (--new-secret generates one
                                                 and prints it this once), or both
  delete ID                                      remove a webhook

Each alert is POSTed to every webhook, signed with its secret (x-sluice-signature: v1=<hex HMAC-SHA256 of
timestamp + "." + body>). A secret has at least 16 characters; a --secret-file's surrounding whitespace is dropped.
Listing needs a viewer, operator or admin token; changes need an admin token.
${SHARED_HELP}`;

const SECRET_WARNING = 'This secret will not be shown again: give it to the receiver now (the API never returns it).\n';

/** A fresh signing secret: 32 random bytes, URL-safe. */
function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --secret-file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, USAGE);
  }
  const secret = text.trim();
  if (secret === '') throw new UsageError(`--secret-file ${path} is empty`, USAGE);
  return secret;
}

/**
 * What a change prints. A secret made here is shown once: with --json it is added to the answer as `secret` (stdout
 * stays one parseable document) and the warning goes to stderr.
 */
function report(webhook: WebhookView, generated: string | null, json: boolean, headline: string): void {
  if (json) {
    printJson(generated === null ? webhook : { ...webhook, secret: generated });
    if (generated !== null) process.stderr.write(SECRET_WARNING);
    return;
  }
  if (generated === null) process.stdout.write(`${headline}\n`);
  else process.stdout.write(`${headline}; its signing secret:\n\n  ${generated}\n\n${SECRET_WARNING}`);
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const answer = await AdminClient.fromFlags(values).request<{ items: WebhookView[] }>('GET', '/api/webhooks');
  if (values.json) printJson(answer);
  else
    printTable(
      ['ID', 'URL', 'CREATED'],
      answer.items.map((w) => [w.id, w.url, time(w.createdAt)]),
      'webhooks',
    );
  return 0;
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { 'secret-file': { type: 'string' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  const [url] = expectPositionals(positionals, ['URL'], USAGE);
  const given = values['secret-file'] === undefined ? null : readSecretFile(values['secret-file']);
  const generated = given === null ? generateSecret() : null;
  // The API checks the URL (http or https) and the secret's length, and names the field.
  const webhook = await AdminClient.fromFlags(values).request<WebhookView>('POST', '/api/webhooks', { url, secret: given ?? generated });
  report(webhook, generated, values.json === true, `created webhook ${webhook.id} for ${webhook.url}`);
  return 0;
}

async function update(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { 'secret-file': { type: 'string' }, 'new-secret': { type: 'boolean' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  // The new address is a positional, as in create: --url already names the director.
  const [id, newUrl] = expectPositionals(positionals, positionals.length > 1 ? ['ID', 'URL'] : ['ID'], USAGE);
  if (values['secret-file'] !== undefined && values['new-secret'])
    throw new UsageError('give --secret-file or --new-secret, not both', USAGE);
  const body: { url?: string; secret?: string } = {};
  if (newUrl !== undefined) body.url = newUrl;
  const generated = values['new-secret'] ? generateSecret() : null;
  if (values['secret-file'] !== undefined) body.secret = readSecretFile(values['secret-file']);
  if (generated !== null) body.secret = generated;
  if (Object.keys(body).length === 0) throw new UsageError('sluice webhooks update: give a new URL, --secret-file or --new-secret', USAGE);
  const webhook = await AdminClient.fromFlags(values).request<WebhookView>('PATCH', apiPath`/api/webhooks/${id!}`, body);
  report(webhook, generated, values.json === true, `updated webhook ${webhook.id} (${webhook.url})`);
  return 0;
}

async function remove(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, USAGE);
  if (values.help) return printUsage(USAGE);
  const [id] = expectPositionals(positionals, ['ID'], USAGE);
  await AdminClient.fromFlags(values).request<null>('DELETE', apiPath`/api/webhooks/${id!}`);
  // 204 has no body: with --json there is nothing to print and the exit code says it worked.
  if (!values.json) process.stdout.write(`deleted webhook ${id}\n`);
  return 0;
}

export const webhooksCommand: AdminCommand = {
  usage: USAGE,
  run: (args) => dispatchVerb('webhooks', USAGE, { list, create, update, delete: remove }, args),
};
