// Removes provider credentials, by value, from text an upstream sent (error bodies, error frames in a stream) before
// that text reaches a client, a log line or the ledger. Upstreams echo keys back ("Incorrect API key provided: ...");
// a misconfigured proxy may echo another provider's, so one redactor covers every provider of the routing table.
import type { ProviderSettings } from '../settings.js';

const REDACTED = '[redacted]';

/**
 * Values shorter than this are not looked for: they would match ordinary words and numbers in messages (a header such as
 * `x-debug: 1`), and a credential that short guards nothing.
 */
const MIN_SECRET_LENGTH = 8;

/** Second line of defence, by shape: OpenAI and Anthropic keys, AWS access key ids, Google API keys, Slack-style tokens. */
const KEY_SHAPES =
  /\b(sk-[A-Za-z0-9_*-]{6,}|sk-ant-[A-Za-z0-9_*-]{6,}|(?:AKIA|ASIA)[0-9A-Z]{12,}|AIza[0-9A-Za-z_-]{20,}|ya29\.[0-9A-Za-z_.-]{10,})/g;

/**
 * The secrets of one provider: those in its config, and those it obtains while running (Vertex's OAuth tokens and the
 * key of a service account file, AWS credentials from the environment or an assumed role). Kept with the provider, so a
 * reload that reuses the provider keeps what it obtained.
 */
export class ProviderSecrets {
  private readonly configured: readonly string[];
  /** What each runtime source holds now and held before: a call in flight may still carry the previous token. */
  private readonly obtained: Map<string, { current: readonly string[]; previous: readonly string[] }>;
  /** Moves at every change, so a redactor knows to compile again. */
  version: number;

  constructor(configured: readonly string[]) {
    this.configured = configured;
    this.obtained = new Map();
    this.version = 0;
  }

  static of(config: ProviderSettings): ProviderSecrets {
    return new ProviderSecrets(configuredSecrets(config));
  }

  /** Registers credentials obtained at runtime under `source`, replacing what it held before the last change. */
  obtain(source: string, values: readonly (string | undefined)[]): void {
    const present = values.filter((value): value is string => value !== undefined && value !== '');
    const held = this.obtained.get(source);
    if (held !== undefined && sameValues(held.current, present)) return;
    this.obtained.set(source, { current: present, previous: held?.current ?? [] });
    this.version++;
  }

  *values(): Iterable<string> {
    yield* this.configured;
    for (const { current, previous } of this.obtained.values()) {
      yield* current;
      yield* previous;
    }
  }
}

/**
 * One routing table's redactor over the secrets of all its providers, compiled into one alternation (longest first) when
 * the table is built, and again only when a provider obtains a new credential. It runs on failures and error frames
 * only: a successful call never reaches it.
 */
export class SecretRedactor {
  private readonly sources: readonly ProviderSecrets[];
  private pattern: RegExp | null;
  private compiledVersion: number;

  constructor(sources: readonly ProviderSecrets[]) {
    this.sources = sources;
    this.pattern = null;
    this.compiledVersion = -1;
    this.compile();
  }

  redact(text: string): string {
    if (text === '') return text;
    if (this.version() !== this.compiledVersion) this.compile();
    const byValue = this.pattern === null ? text : text.replace(this.pattern, REDACTED);
    return byValue.replace(KEY_SHAPES, REDACTED);
  }

  private version(): number {
    let sum = 0;
    for (const source of this.sources) sum += source.version;
    return sum;
  }

  private compile(): void {
    this.compiledVersion = this.version();
    const forms = new Set<string>();
    for (const source of this.sources) for (const secret of source.values()) for (const form of formsOf(secret)) forms.add(form);
    const sorted = [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
    this.pattern = sorted.length === 0 ? null : new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  }
}

/** The secrets a provider's config holds: every credential field, the values of custom headers, a password in baseUrl. */
export function configuredSecrets(config: ProviderSettings): string[] {
  const secrets: string[] = [];
  for (const value of [config.apiKey, config.accessKeyId, config.secretAccessKey, config.sessionToken]) {
    if (value !== undefined && value !== '') secrets.push(value);
  }
  if (config.serviceAccountJson !== undefined) secrets.push(...serviceAccountSecrets(config.serviceAccountJson));
  for (const value of Object.values(config.headers ?? {})) secrets.push(...headerSecrets(value));
  if (config.baseUrl !== undefined) secrets.push(...userinfoSecrets(config.baseUrl));
  return secrets;
}

/** A service account key's private key and key id; the JSON itself when it cannot be read (it is a secret either way). */
export function serviceAccountSecrets(json: string): string[] {
  try {
    const account = JSON.parse(json) as { private_key?: unknown; private_key_id?: unknown };
    return [account.private_key, account.private_key_id].filter((value): value is string => typeof value === 'string' && value !== '');
  } catch {
    return [json];
  }
}

/** A header value, and the credential inside it: the token of `Bearer <token>`, the `user:pass` and password of Basic. */
function headerSecrets(value: string): string[] {
  const secrets = [value];
  const scheme = /^([A-Za-z][A-Za-z0-9-]*)\s+(\S+)$/.exec(value.trim());
  if (scheme !== null) {
    const token = scheme[2]!;
    secrets.push(token);
    if (scheme[1]!.toLowerCase() === 'basic') {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      secrets.push(decoded);
      const colon = decoded.indexOf(':');
      if (colon !== -1) secrets.push(decoded.slice(colon + 1));
    }
  }
  return secrets;
}

/** `https://user:pass@host`: the password, `user:pass`, and its Basic form. */
function userinfoSecrets(baseUrl: string): string[] {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return [];
  }
  if (url.password === '') return [];
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const pair = `${user}:${password}`;
  return [password, pair, Buffer.from(pair).toString('base64')];
}

/**
 * The forms a secret can take in an upstream's text: as is, URL-encoded, escaped inside a JSON string; a PEM key also
 * by each line of its body and by its body unbroken, so a quoted piece of it is caught too.
 */
function formsOf(secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
  if (secret.includes('-----BEGIN')) {
    const body = secret.split(/\r?\n/).filter((line) => line !== '' && !line.startsWith('-----'));
    forms.push(...body.filter((line) => line.length >= 16), body.join(''));
  }
  return forms;
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
