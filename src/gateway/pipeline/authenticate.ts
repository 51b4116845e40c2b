// Stage 1: who is calling. A client certificate (mTLS) or the identity a trusted mesh proxy forwards, mapped to a consumer
// by identity rules; else the bearer credential: a JWT from a configured issuer (async: its signature is checked), or a
// Sluice key, as `Authorization: Bearer` (OpenAI SDK) or `x-api-key` (Anthropic SDK). The key path is unchanged when no
// certificate or issuer is configured: one flag test, then the key map; a JWT is told from a key by its shape.
import type { IncomingMessage } from 'node:http';
import { SluiceError } from '../../errors.js';
import type { JwtVerifier, VerifiedToken } from '../../identity/jwt.js';
import { listClaim, looksLikeJwt, SigningKeysUnavailable, stringClaim, TokenRefused } from '../../identity/jwt.js';
import { CertificateRefused, peerIdentity, type PeerSettings } from '../../identity/peer.js';
import { identityLabel, type IdentityRules, type PresentedIdentity } from '../../identity/rules.js';
import type { Consumer, ConsumerDirectory } from '../../policy/consumers.js';

/** How this gateway identifies callers besides Sluice keys; built once at start from sluice.yaml's identity and TLS. */
export interface GatewayIdentity {
  /** Whether to look at the connection at all (a client CA or trusted proxies configured). */
  checksPeer: boolean;
  peer: PeerSettings;
  jwt: JwtVerifier | null;
  /** Told about an identity no rule maps (identity.unmappedCertificate: discover); null to only refuse it. */
  onUnmapped: ((identity: PresentedIdentity, req: IncomingMessage) => void) | null;
}

export const KEYS_ONLY: GatewayIdentity = {
  checksPeer: false,
  peer: { clientCertificates: false, certificateRequired: false, trustedProxies: null, forwardedRoots: null, logger: null },
  jwt: null,
  onUnmapped: null,
};

/** Where the authenticated identity goes (the call's ledger record); null for routes that record nothing. */
export interface IdentitySink {
  identity: string | null;
}

/**
 * The caller's consumer: at once for a certificate or a Sluice key, a promise for a JWT. Throws (or rejects with)
 * invalid_api_key (401) for a credential that does not verify, identity_not_mapped (403) for one that verifies but maps
 * to no consumer.
 */
export function authenticate(
  identity: GatewayIdentity,
  directory: ConsumerDirectory,
  rules: IdentityRules,
  req: IncomingMessage,
  sink: IdentitySink | null,
): Consumer | Promise<Consumer> {
  if (identity.checksPeer) {
    let peer: PresentedIdentity | null;
    try {
      peer = peerIdentity(identity.peer, req);
    } catch (error) {
      if (error instanceof CertificateRefused) throw new SluiceError('invalid_api_key', error.message);
      throw error;
    }
    if (peer !== null) return mapped(identity, rules, peer, req, sink);
  }
  const key = presentedKey(req);
  if (key === null)
    throw new SluiceError('invalid_api_key', 'No API key: send your Sluice key as "Authorization: Bearer <key>" or "x-api-key".');
  if (identity.jwt !== null && looksLikeJwt(key)) return byToken(identity, identity.jwt, rules, key, req, sink);
  const entry = directory.findEntry(key);
  if (entry === undefined) throw new SluiceError('invalid_api_key', 'Invalid API key: no consumer holds this Sluice key.');
  if (sink !== null) sink.identity = entry.identity;
  return entry.consumer;
}

async function byToken(
  identity: GatewayIdentity,
  verifier: JwtVerifier,
  rules: IdentityRules,
  token: string,
  req: IncomingMessage,
  sink: IdentitySink | null,
): Promise<Consumer> {
  let verified: VerifiedToken;
  try {
    verified = await verifier.verify(token);
  } catch (error) {
    if (error instanceof TokenRefused) throw new SluiceError('invalid_api_key', error.message);
    if (error instanceof SigningKeysUnavailable) throw new SluiceError('identity_unavailable', error.message);
    throw error;
  }
  const { payload, config } = verified;
  return mapped(
    identity,
    rules,
    {
      kind: 'jwt',
      issuer: verified.issuer,
      sub: verified.sub,
      team: stringClaim(payload, config.teamClaim),
      groups: listClaim(payload, config.groupsClaim),
    },
    req,
    sink,
  );
}

function mapped(
  identity: GatewayIdentity,
  rules: IdentityRules,
  presented: PresentedIdentity,
  req: IncomingMessage,
  sink: IdentitySink | null,
): Consumer {
  const label = identityLabel(presented);
  const found = rules.resolve(presented);
  if (found === null) {
    identity.onUnmapped?.(presented, req);
    throw new SluiceError('identity_not_mapped', `The identity ${label} is authenticated but no identity rule maps it to a consumer.`);
  }
  if (sink !== null) sink.identity = label;
  return found.consumer;
}

function presentedKey(req: IncomingMessage): string | null {
  const authorization = req.headers.authorization;
  if (authorization !== undefined && authorization.length > 7 && authorization.slice(0, 7).toLowerCase() === 'bearer ') {
    return authorization.slice(7).trim();
  }
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  return null;
}
