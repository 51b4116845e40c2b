// Bedrock credentials and AWS Signature V4 signing with the maintained signer: service "bedrock" for bedrock-runtime,
// "bedrock-mantle" for the Messages API on bedrock-mantle (as Anthropic's AnthropicBedrockMantle clients sign).
import type { SignatureV4 } from '@smithy/signature-v4';
import type { ProviderSettings } from '../settings.js';
import { SluiceError } from '../../errors.js';
import type { UpstreamRequest } from '../../wire/exchange.js';
import type { ProviderSecrets } from '../shared/secret-redactor.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type CredentialSource = AwsCredentials | (() => Promise<AwsCredentials>);

/**
 * From the provider's config, else the standard AWS environment variables, else a role assumed with a web identity
 * token (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, as EKS and other OIDC platforms set them; the SDK's own
 * provider makes the STS call, AWS_ENDPOINT_URL_STS points it elsewhere). Credentials from the environment or a role are
 * added to `secrets` as they become known, so error text never shows them.
 */
export function resolveCredentials(
  config: ProviderSettings,
  region: string,
  secrets: ProviderSecrets,
  env: NodeJS.ProcessEnv = process.env,
): CredentialSource | null {
  const accessKeyId = config.accessKeyId ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = config.secretAccessKey ?? env.AWS_SECRET_ACCESS_KEY;
  if (accessKeyId && secretAccessKey) {
    const sessionToken = config.sessionToken ?? (config.accessKeyId === undefined ? env.AWS_SESSION_TOKEN : undefined);
    secrets.obtain('aws-static', [accessKeyId, secretAccessKey, sessionToken]);
    return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
  }
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) {
    const settings = {
      webIdentityTokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE,
      roleArn: env.AWS_ROLE_ARN,
      roleSessionName: env.AWS_ROLE_SESSION_NAME ?? 'sluice',
      clientConfig: { region, ...(env.AWS_ENDPOINT_URL_STS && { endpoint: env.AWS_ENDPOINT_URL_STS }) },
    };
    // AWS's STS client is loaded at the first assumed role, not with the registry: every CLI command reads config,
    // which loads every provider.
    let assume: ReturnType<typeof import('@aws-sdk/credential-provider-web-identity').fromTokenFile> | null = null;
    return cachedUntilExpiry(async () => {
      assume ??= (await import('@aws-sdk/credential-provider-web-identity')).fromTokenFile(settings);
      const identity = await assume();
      secrets.obtain('aws-assumed-role', [identity.accessKeyId, identity.secretAccessKey, identity.sessionToken]);
      return { credentials: toCredentials(identity), expiresAt: identity.expiration?.getTime() ?? Number.POSITIVE_INFINITY };
    });
  }
  return null;
}

function toCredentials(identity: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): AwsCredentials {
  return identity.sessionToken
    ? { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey, sessionToken: identity.sessionToken }
    : { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey };
}

/** Assumed-role credentials are kept until five minutes before they expire, one refresh at a time. */
function cachedUntilExpiry(fetch: () => Promise<{ credentials: AwsCredentials; expiresAt: number }>): () => Promise<AwsCredentials> {
  let current: { credentials: AwsCredentials; expiresAt: number } | null = null;
  let pending: Promise<AwsCredentials> | null = null;
  return () => {
    if (current !== null && current.expiresAt - 5 * 60_000 > Date.now()) return Promise.resolve(current.credentials);
    pending ??= fetch().then(
      (fresh) => {
        current = fresh;
        pending = null;
        return fresh.credentials;
      },
      (error: unknown) => {
        pending = null;
        throw error;
      },
    );
    return pending;
  };
}

export class BedrockSigner {
  /**
   * The signer's modules are loaded when a Bedrock provider is made, not with the registry (every gateway and CLI command
   * loads it, most without a Bedrock provider).
   */
  private readonly signer: Promise<SignatureV4> | null;
  private readonly url: URL;
  private readonly providerName: string;

  /** `service`: the SigV4 signing name of the endpoint `url` reaches (`bedrock`, `bedrock-mantle`). */
  constructor(providerName: string, url: URL, region: string, credentials: CredentialSource | null, service = 'bedrock') {
    this.providerName = providerName;
    this.url = url;
    this.signer =
      credentials === null
        ? null
        : Promise.all([import('@smithy/signature-v4'), import('@aws-crypto/sha256-js')]).then(
            ([{ SignatureV4 }, { Sha256 }]) => new SignatureV4({ service, region, credentials, sha256: Sha256 }),
          );
  }

  /** Signs one attempt: the signature carries the time, so every retry is signed afresh. */
  async sign(request: UpstreamRequest): Promise<UpstreamRequest> {
    if (this.signer === null) {
      throw new SluiceError(
        'upstream_unavailable',
        `Provider ${this.providerName} (bedrock) has no AWS credentials: set accessKeyId/secretAccessKey, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN.`,
      );
    }
    const signed = await (
      await this.signer
    ).sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      ...(this.url.port !== '' && { port: Number(this.url.port) }),
      path: request.path,
      query: {},
      // undici sends the same Host from the origin; it must be signed but not sent twice.
      headers: { ...request.headers, host: this.url.host },
      body: request.body,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) if (name !== 'host') headers[name] = value;
    return { path: request.path, headers, body: request.body };
  }
}
