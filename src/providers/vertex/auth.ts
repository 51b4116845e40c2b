// Vertex AI credentials: a service account's signed JWT exchanged for an OAuth access token (RFC 7523), cached and
// refreshed before it expires. The JWT is made with jose; the exchange is one form POST to the key's token_uri.
import { readFile } from 'node:fs/promises';
import { preloadRequest, request } from '../../wire/undici.js';
import type { ProviderSettings } from '../settings.js';
import { asNumber, asObject, asString, tryParseJson } from '../../wire/json.js';
import type { ProviderSecrets } from '../shared/secret-redactor.js';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** Refresh this long before expiry, so no call goes out with a token about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;

interface ServiceAccount {
  clientEmail: string;
  privateKey: string;
  tokenUri: string;
  projectId: string | undefined;
}

export class VertexTokenSource {
  private readonly config: ProviderSettings;
  /** Where the key read from a file, the signed assertions and the access tokens go, so error text never shows them. */
  private readonly secrets: ProviderSecrets;
  private readonly now: () => number;
  private token: { value: string; expiresAt: number } | null;
  /** One refresh at a time: concurrent calls wait for the same exchange. */
  private refreshing: Promise<string> | null;
  private account: ServiceAccount | null;

  constructor(config: ProviderSettings, secrets: ProviderSecrets, now: () => number = Date.now) {
    this.config = config;
    this.secrets = secrets;
    this.now = now;
    this.token = null;
    this.refreshing = null;
    this.account = null;
    preloadRequest();
  }

  async accessToken(): Promise<string> {
    if (this.token !== null && this.token.expiresAt - REFRESH_MARGIN_MS > this.now()) return this.token.value;
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async projectId(): Promise<string | undefined> {
    return this.config.project ?? (await this.serviceAccount()).projectId;
  }

  private async refresh(): Promise<string> {
    const account = await this.serviceAccount();
    // jose is loaded at the first token, not with the registry (every CLI command reads config, which loads it).
    const { importPKCS8, SignJWT } = await import('jose');
    const key = await importPKCS8(account.privateKey, 'RS256');
    const issuedAt = Math.floor(this.now() / 1000);
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(account.clientEmail)
      .setAudience(account.tokenUri)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + 3600)
      .sign(key);
    // The assertion buys tokens for its hour: a token endpoint that quotes it back must not pass it on.
    this.secrets.obtain('assertion', [assertion]);
    const response = await request(account.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await response.body.text();
    const body = asObject(tryParseJson(text));
    if (response.statusCode !== 200 || typeof body.access_token !== 'string') {
      throw new Error(
        `the token endpoint refused the service account's assertion (HTTP ${response.statusCode}: ${asString(body.error_description) || asString(body.error) || 'no detail'})`,
      );
    }
    this.secrets.obtain('access-token', [body.access_token]);
    const lifetime = (asNumber(body.expires_in) ?? 3600) * 1000;
    this.token = { value: body.access_token, expiresAt: this.now() + lifetime };
    return body.access_token;
  }

  private async serviceAccount(): Promise<ServiceAccount> {
    if (this.account !== null) return this.account;
    const path = this.config.serviceAccountFile ?? process.env.GOOGLE_APPLICATION_CREDENTIALS;
    const text = this.config.serviceAccountJson ?? (path !== undefined ? await readFile(path, 'utf8') : undefined);
    if (text === undefined)
      throw new Error('no service account: set serviceAccountFile, serviceAccountJson or GOOGLE_APPLICATION_CREDENTIALS');
    const json = asObject(tryParseJson(text));
    const clientEmail = asString(json.client_email);
    const privateKey = asString(json.private_key);
    if (clientEmail === '' || privateKey === '') throw new Error('the service account JSON has no client_email or private_key');
    // A key from serviceAccountFile or GOOGLE_APPLICATION_CREDENTIALS is known only now (serviceAccountJson is already).
    this.secrets.obtain('service-account', [privateKey, asString(json.private_key_id) || undefined]);
    this.account = {
      clientEmail,
      privateKey,
      tokenUri: asString(json.token_uri) || DEFAULT_TOKEN_URI,
      projectId: asString(json.project_id) || undefined,
    };
    return this.account;
  }
}
