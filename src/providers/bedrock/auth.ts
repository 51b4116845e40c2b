// Bedrock credentials and AWS Signature V4 signing (service "bedrock") with the maintained signer.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ProviderConfig } from '../../config/schema.js';
import { SluiceError } from '../../errors.js';
import type { UpstreamRequest } from '../provider.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** From the provider's config, else the standard AWS environment variables. */
export function resolveCredentials(config: ProviderConfig, env: NodeJS.ProcessEnv = process.env): AwsCredentials | null {
  const accessKeyId = config.accessKeyId ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = config.secretAccessKey ?? env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return null;
  const sessionToken = config.sessionToken ?? (config.accessKeyId === undefined ? env.AWS_SESSION_TOKEN : undefined);
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

export class BedrockSigner {
  private readonly signer: SignatureV4 | null;
  private readonly url: URL;
  private readonly providerName: string;

  constructor(providerName: string, url: URL, region: string, credentials: AwsCredentials | null) {
    this.providerName = providerName;
    this.url = url;
    this.signer = credentials === null ? null : new SignatureV4({ service: 'bedrock', region, credentials, sha256: Sha256 });
  }

  /** Signs one attempt: the signature carries the time, so every retry is signed afresh. */
  async sign(request: UpstreamRequest): Promise<UpstreamRequest> {
    if (this.signer === null) {
      throw new SluiceError('upstream_unavailable', `Provider ${this.providerName} (bedrock) has no AWS credentials: set accessKeyId/secretAccessKey or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.`);
    }
    const signed = await this.signer.sign({
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
