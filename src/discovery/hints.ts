// The consumer hints the discovery proxy takes from a call, never a secret: the client's address, the proxy user, the
// user agent, the provider organization/project the call names, and a fingerprint of the provider key in the intake's
// form (`<algorithm>:<16 hex digits>`, a keyed HMAC when a fingerprint key is configured). The key itself is read only
// to hash it, and never kept.
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { keyFingerprint, normalizeIp, type ObservationSource } from '../policy/discovery.js';

const MAX_HINT = 200;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean === '' ? undefined : clean;
}

/** The provider credential a request carries: a bearer token, an API key header, a `key` query parameter, or SigV4's key id. */
export function providerCredential(headers: IncomingHttpHeaders, query: URLSearchParams | null): string | null {
  const authorization = header(headers, 'authorization');
  if (authorization !== undefined) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (bearer !== null) return bearer[1]!;
    // AWS SigV4: the access key id names the credential; the secret never travels.
    const sigv4 = /Credential=([A-Z0-9]{16,128})\//.exec(authorization);
    if (sigv4 !== null) return sigv4[1]!;
  }
  for (const name of ['x-api-key', 'api-key', 'x-goog-api-key']) {
    const value = header(headers, name);
    if (value !== undefined) return value;
  }
  return query?.get('key') ?? null;
}

export class Fingerprinter {
  private readonly key: string | null;

  constructor(key: string | undefined) {
    this.key = key ?? null;
  }

  fingerprint(credential: string): string {
    if (this.key === null) return keyFingerprint(credential);
    return `hmac-sha256:${createHmac('sha256', this.key).update(credential, 'utf8').digest('hex').slice(0, 16)}`;
  }
}

function clip(value: string | undefined, max = MAX_HINT): string | undefined {
  return value === undefined ? undefined : value.slice(0, max);
}

export interface CallParties {
  clientIp: string | undefined;
  proxyUser: string | null;
  host: string;
}

/** The hints of one call from its request (and the answer's headers, where a provider names the organization). */
export function sourceOf(
  parties: CallParties,
  request: IncomingHttpHeaders,
  query: URLSearchParams | null,
  response: IncomingHttpHeaders | null,
  fingerprints: Fingerprinter,
): ObservationSource {
  const source: ObservationSource = { host: parties.host.toLowerCase() };
  const ip = parties.clientIp === undefined ? null : normalizeIp(parties.clientIp);
  if (ip !== null) source.ip = ip;
  const credential = providerCredential(request, query);
  if (credential !== null) source.keyFingerprint = fingerprints.fingerprint(credential);
  const agent = clip(header(request, 'user-agent'), 512);
  if (agent !== undefined) source.userAgent = agent;
  if (parties.proxyUser !== null) source.user = clip(parties.proxyUser);
  const organization =
    header(request, 'openai-organization') ??
    (response === null ? undefined : (header(response, 'anthropic-organization-id') ?? header(response, 'openai-organization')));
  if (organization !== undefined) source.organization = clip(organization);
  const project = header(request, 'openai-project');
  if (project !== undefined) source.project = clip(project);
  return source;
}
