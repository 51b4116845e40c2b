// How the admin commands reach the director API: its URL, the admin token, one request function, and what a failure prints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/load.js';
import { UsageError } from './args.js';

const DEFAULT_URL = 'http://127.0.0.1:4001';
/** Where `sluice start` writes the bootstrap token it generates, relative to the folder it runs in. */
const TOKEN_FILE = join('data', 'admin.token');
/** A CLI call should fail, not hang, when the director stops answering mid-way. */
const TIMEOUT_MS = 30_000;

/** An error answer from the API: its message and, for validation errors, each field's path. */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

/** The director could not be reached at all; the message names the URL. */
export class ConnectionFailure extends Error {
  override name = 'ConnectionFailure';
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; issues?: unknown };
}

/** `/api/consumers/${name}`: every interpolated part is URL-encoded (resource ids carry a "/"). */
export function apiPath(strings: TemplateStringsArray, ...parts: string[]): string {
  return strings.reduce((out, text, i) => out + text + (i < parts.length ? encodeURIComponent(parts[i]!) : ''), '');
}

export class AdminClient {
  readonly url: string;
  private readonly token: string;
  /** Said with a 401, so the user knows which token was refused without the token being printed. */
  private readonly tokenSource: string;

  constructor(url: string, token: string, tokenSource: string) {
    this.url = url;
    this.token = token;
    this.tokenSource = tokenSource;
  }

  /**
   * Flags first, then the environment, then the token file `sluice start` writes. `env` and `cwd` are parameters so
   * the precedence is explicit, not hidden in globals.
   */
  static fromFlags(
    flags: { url?: string | undefined; token?: string | undefined },
    env: NodeJS.ProcessEnv = process.env,
    cwd = process.cwd(),
  ): AdminClient {
    const url = checkUrl(flags.url ?? (env.SLUICE_ADMIN_URL || DEFAULT_URL));
    let token: string | undefined;
    let source: string;
    if (flags.token !== undefined) [token, source] = [flags.token, '--token'];
    else if (env.SLUICE_ADMIN_TOKEN) [token, source] = [env.SLUICE_ADMIN_TOKEN, '$SLUICE_ADMIN_TOKEN'];
    else [token, source] = [readTokenFile(join(cwd, TOKEN_FILE)), `./${TOKEN_FILE}`];
    if (token === undefined || token.trim() === '') {
      throw new UsageError(
        `no admin token: pass --token, set SLUICE_ADMIN_TOKEN, or run where ./${TOKEN_FILE} (written by \`sluice start\`) is`,
      );
    }
    token = token.trim();
    // A header with such characters is refused by fetch with an error that quotes the value: check first, quote nothing.
    if (!/^[\x21-\x7e]+$/.test(token))
      throw new UsageError(`the admin token from ${source} has spaces or characters a header cannot carry`);
    return new AdminClient(url, token, source);
  }

  /** One call; the answer's JSON (null for 204), or an ApiFailure / ConnectionFailure. */
  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        // The admin API never redirects; following one would carry the token somewhere nobody named.
        redirect: 'error',
      });
    } catch (error) {
      throw new ConnectionFailure(this.describeConnectionError(error));
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ApiFailure(
          `${method} ${this.url}${path} answered HTTP ${response.status} with a body that is not JSON: is --url the admin port?`,
          response.status,
          'not_json',
        );
      }
    }
    if (response.status >= 400) throw this.failure(response.status, parsed);
    // The director's OpenAPI document (/api/openapi.json) is the contract for T; the CLI trusts its own server's shapes.
    return parsed as T;
  }

  /** A GET of a text answer (a CSV report); errors as request's. */
  async text(path: string): Promise<string> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        headers: { authorization: `Bearer ${this.token}` },
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      throw new ConnectionFailure(this.describeConnectionError(error));
    }
    const text = await response.text();
    if (response.status >= 400) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not the API's error body: the status says it.
      }
      throw this.failure(response.status, parsed);
    }
    return text;
  }

  /** A GET that answers null when the entity does not exist (the API's 404 `not_found`, not a wrong route). */
  async find<T>(path: string): Promise<T | null> {
    try {
      return await this.request<T>('GET', path);
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 404 && error.code === 'not_found') return null;
      throw error;
    }
  }

  /** Every item of a cursor-paged listing (`{ items, nextCursor }`), following nextCursor to the end. */
  async listAll<T>(path: string, query: URLSearchParams): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const page = new URLSearchParams(query);
      page.set('limit', '1000');
      if (cursor !== null) page.set('cursor', cursor);
      const answer: { items: T[]; nextCursor: string | null } = await this.request('GET', `${path}?${page}`);
      items.push(...answer.items);
      cursor = answer.nextCursor;
    } while (cursor !== null);
    return items;
  }

  private failure(status: number, parsed: unknown): ApiFailure {
    const error = (parsed as ErrorBody | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http_${status}`;
    let message = typeof error?.message === 'string' ? error.message : `the director answered HTTP ${status}`;
    if (status === 401) message += ` (the token came from ${this.tokenSource})`;
    const issues = Array.isArray(error?.issues)
      ? error.issues.filter(
          (issue): issue is { path: string; message: string } => typeof issue?.path === 'string' && typeof issue?.message === 'string',
        )
      : [];
    return new ApiFailure(message, status, code, issues);
  }

  private describeConnectionError(error: unknown): string {
    if (error instanceof DOMException && error.name === 'TimeoutError')
      return `the director at ${this.url} did not answer within ${TIMEOUT_MS / 1000} s`;
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const reason =
      typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (error as Error).message;
    return `cannot reach the director at ${this.url} (${reason})`;
  }
}

function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url "${value}" is not a URL (e.g. http://127.0.0.1:4001)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--url must be http:// or https://, got "${url.protocol}"`);
  // Credentials in a URL end up in error messages and shell history; the token has its own flag.
  if (url.username !== '' || url.password !== '')
    throw new UsageError('--url must not carry credentials; pass the admin token with --token');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function readTokenFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Prints a failure the way every admin command does and gives its exit code: 2 for usage and bad files, 1 for the rest. */
export function reportFailure(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`sluice: ${error.message}\n${error.usage === undefined ? '' : `\n${error.usage}`}`);
    return 2;
  }
  // A file `sluice apply` cannot use: its message names the file and the path, like `sluice check`'s (exit 2 there too).
  if (error instanceof ConfigError) {
    process.stderr.write(`sluice: the file was not applied; nothing was sent\n${error.message}\n`);
    return 2;
  }
  if (error instanceof ApiFailure) {
    process.stderr.write(describeApiFailure(error));
    return 1;
  }
  if (error instanceof ConnectionFailure) {
    process.stderr.write(`sluice: ${error.message}\n`);
    return 1;
  }
  throw error;
}

/**
 * A refusal's headline, then each field in error once, one a line. The director's message already lists the issues on
 * one line (for callers that read only the message): that list is left out of the headline rather than printed twice.
 */
function describeApiFailure(error: ApiFailure): string {
  if (error.issues.length === 0) return `sluice: ${error.message}\n`;
  const listed = error.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  const lines = error.issues.map((issue) => `  ${issue.path}: ${issue.message}\n`).join('');
  let headline = error.message;
  if (headline.endsWith(listed)) headline = headline.slice(0, -listed.length).replace(/[\s:;]+$/, '');
  else if (error.issues.some((issue) => issue.message === headline)) headline = '';
  // A message that is a headline already (e.g. apply's "the director found 4 problems:") is printed as it is.
  else return `sluice: ${headline}\n${lines}`;
  return `sluice: ${headline === '' ? 'Invalid request' : headline}:\n${lines}`;
}
