// Argument parsing for the admin commands: node:util parseArgs with the flags every command shares, and usage errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: the message and the command's usage go to stderr, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One admin noun (`sluice consumers ...`): its usage text and what runs it. */
export interface AdminCommand {
  usage: string;
  /** `args` is what follows the noun; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Taken by every admin command: where the director is, how to authenticate, and the output form. */
export const SHARED_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

/** Parses `args` strictly (an unknown flag is a usage error, not silently ignored), with the shared options added. */
export function parseCommand<const O extends OptionsConfig>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options: { ...SHARED_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message, usage);
  }
}

/** Exactly `names.length` positionals, named in the error when one is missing or extra. */
export function expectPositionals(positionals: string[], names: readonly string[], usage: string): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing ${names.slice(positionals.length).join(' ')}`, usage);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument "${positionals[names.length]}"`, usage);
  return positionals;
}

/** `--label k=v` flags as a record; a flag without "=" or with an empty key is a usage error. */
export function parseLabels(pairs: readonly string[] | undefined, usage: string): Record<string, string> | undefined {
  if (pairs === undefined) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--label "${pair}" is not key=value`, usage);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}

/** `--models a,b` as a list; an empty value means "no allow-list" (every model), which the API spells null. */
export function parseModels(value: string | undefined): string[] | null | undefined {
  if (value === undefined) return undefined;
  const models = value
    .split(',')
    .map((model) => model.trim())
    .filter((model) => model !== '');
  return models.length === 0 ? null : models;
}

/** A whole number within bounds, for --limit and --grace. */
export function parseInteger(flag: string, value: string | undefined, min: number, max: number, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`, usage);
  return number;
}

/**
 * Picks the verb (`list`, `get`, ...) from the first argument and runs it with the rest. `--help` alone prints the
 * usage; no verb or an unknown one is a usage error.
 */
export async function dispatchVerb(
  noun: string,
  usage: string,
  verbs: Record<string, (args: string[]) => Promise<number>>,
  args: string[],
): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === '--help' || verb === '-h') {
    process.stdout.write(usage);
    return 0;
  }
  if (verb === undefined) throw new UsageError(`sluice ${noun}: name a subcommand (${Object.keys(verbs).join(', ')})`, usage);
  const run = Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
  if (run === undefined)
    throw new UsageError(`sluice ${noun}: unknown subcommand "${verb}" (expected ${Object.keys(verbs).join(', ')})`, usage);
  return run(rest);
}

/** The shared flags, as the last lines of every admin command's usage. */
export const SHARED_HELP = `
Every admin command takes:
  --url URL      the director's admin port (default $SLUICE_ADMIN_URL, else http://127.0.0.1:4001)
  --token TOKEN  an admin token (default $SLUICE_ADMIN_TOKEN, else the contents of ./data/admin.token)
  --json         print the API's JSON answer instead of a table
`;
