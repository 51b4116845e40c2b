// JWTs from configured issuers, verified with jose against each issuer's JWKS: fetched, cached, fetched again when a token
// names a `kid` the cache lacks (at most once per cooldown, so a flood of made-up kids cannot hammer the issuer; once
// per cooldown after a failed fetch too), checked for issuer, audience, expiry and not-before with a clock tolerance,
// and only for the asymmetric algorithms configured (never `none`, never HS*: a public key must not verify a MAC). A
// token without a `kid` is tried with each key of its algorithm the JWKS holds.
import type { createRemoteJWKSet, FetchImplementation, JWTPayload, JWTVerifyOptions } from 'jose';
import type { JwtIssuerConfig } from '../config/identity-schema.js';

/** A token that does not verify: the message says why, never the token. */
export class TokenRefused extends Error {}

/**
 * The issuer's signing keys could not be fetched (its JWKS endpoint down, slow, or answering what is not a key set): the
 * token is neither good nor bad, and the caller should hear "try again", not "your credential is wrong".
 */
export class SigningKeysUnavailable extends Error {}

export interface VerifiedToken {
  issuer: string;
  sub: string;
  payload: JWTPayload;
  config: JwtIssuerConfig;
}

/** The cheap test that picks the JWT path: a compact JWS starts with a base64url `{"` header and has two dots. */
export function looksLikeJwt(token: string): boolean {
  if (!token.startsWith('eyJ')) return false;
  const first = token.indexOf('.');
  return first !== -1 && token.indexOf('.', first + 1) !== -1 && token.indexOf('.', token.lastIndexOf('.') + 1) === -1;
}

type Jose = typeof import('jose');

interface Issuer {
  config: JwtIssuerConfig;
  keys: ReturnType<typeof createRemoteJWKSet>;
  options: JWTVerifyOptions;
}

export class JwtVerifier {
  /**
   * jose, loaded when a verifier is made (a config with JWT issuers), not with the modules that import this one: the
   * gateway and the director import it whether or not any issuer is configured.
   */
  private readonly jose: Promise<Jose>;
  private readonly configs: readonly JwtIssuerConfig[];
  /** Made with the first verification, once jose is there. */
  private issuers: Map<string, Issuer> | null;

  constructor(configs: readonly JwtIssuerConfig[]) {
    this.jose = import('jose');
    this.configs = configs;
    this.issuers = null;
  }

  async verify(token: string): Promise<VerifiedToken> {
    const jose = await this.jose;
    this.issuers ??= new Map(
      this.configs.map((config) => [
        config.issuer,
        {
          config,
          keys: jose.createRemoteJWKSet(new URL(config.jwksUri), {
            cooldownDuration: config.jwksCooldownSeconds * 1000,
            cacheMaxAge: config.jwksCacheSeconds * 1000,
            timeoutDuration: 5_000,
            [jose.customFetch]: heldBackAfterFailure(config.jwksCooldownSeconds * 1000),
          }),
          options: {
            issuer: config.issuer,
            audience: config.audience,
            algorithms: config.algorithms,
            clockTolerance: config.clockToleranceSeconds,
            requiredClaims: ['exp', 'sub'],
          },
        },
      ]),
    );
    let issuerName: string | undefined;
    try {
      issuerName = jose.decodeJwt(token).iss;
    } catch {
      throw new TokenRefused('The bearer token is not a well-formed JWT.');
    }
    const issuer = issuerName === undefined ? undefined : this.issuers.get(issuerName);
    if (issuer === undefined) throw new TokenRefused("The JWT's issuer (iss) is not one Sluice trusts.");
    const { config } = issuer;
    let verified: JWTPayload;
    try {
      verified = await verifiedPayload(jose, token, issuer);
    } catch (error) {
      if (keysUnavailable(jose.errors, error))
        throw new SigningKeysUnavailable(`The signing keys of issuer ${config.issuer} cannot be fetched.`);
      throw new TokenRefused(refusal(jose.errors, error));
    }
    // jose checks that `sub` is there, not what it is; a number or a list would be mapped (and labelled) as its text.
    if (typeof verified.sub !== 'string' || verified.sub === '') {
      throw new TokenRefused('The JWT\'s "sub" claim is not accepted (it must be a non-empty string).');
    }
    return { issuer: config.issuer, sub: verified.sub, payload: verified, config };
  }
}

/**
 * The token's claims once its signature verifies with a key of the issuer. jose resolves one key per token: a token
 * without a `kid` matches every key of its algorithm, and when the JWKS holds several (an issuer mid-rotation publishes
 * the old and the new) jose throws JWKSMultipleMatchingKeys, which yields those keys for the caller to try (jose's
 * documented opt-in, createLocalJWKSet's example). Each is tried until one verifies; a signature only the issuer's key
 * makes proves the token whichever of its listed keys it is (a key listed twice verifies twice, and is still the issuer's).
 * Claims are checked with the key that verified, so an expired token is refused as expired.
 */
async function verifiedPayload(jose: Jose, token: string, issuer: Issuer): Promise<JWTPayload> {
  try {
    return (await jose.jwtVerify(token, issuer.keys, issuer.options)).payload;
  } catch (error) {
    if (!(error instanceof jose.errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return (await jose.jwtVerify(token, key, issuer.options)).payload;
      } catch (attempt) {
        if (!(attempt instanceof jose.errors.JWSSignatureVerificationFailed)) throw attempt;
      }
    }
    throw new jose.errors.JWSSignatureVerificationFailed();
  }
}

/**
 * jose's fetch of a JWKS, held back for `cooldownMs` after a fetch that failed (no answer, not 200, not a key set): jose's
 * own cooldown starts at a successful fetch only, so while an issuer is failing every token with a key id the cache lacks
 * (anyone can make one, no signature needed) would fetch again. A held-back fetch fails at once, as the failed one did.
 */
function heldBackAfterFailure(cooldownMs: number): FetchImplementation {
  let heldUntil = 0;
  return async (url, options) => {
    if (Date.now() < heldUntil) throw new Error(`The last JWKS fetch failed less than ${cooldownMs / 1000} s ago.`);
    // Failed until the answer proves to be a key set; read here (fetches are rare) and handed to jose as read.
    heldUntil = Date.now() + cooldownMs;
    const response = await fetch(url, options);
    if (response.status !== 200) return response;
    const text = await response.text();
    if (isKeySet(text)) heldUntil = 0;
    return new Response(text, { status: 200, headers: response.headers });
  };
}

function isKeySet(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { keys?: unknown } | null;
    return typeof parsed === 'object' && parsed !== null && Array.isArray(parsed.keys);
  } catch {
    return false;
  }
}

/**
 * Whether jose failed fetching the JWKS rather than judging the token: a timeout, a key set that is not one, a plain
 * JOSEError (jose's for a JWKS answer other than 200 or not JSON), or no JOSEError at all (the fetch itself failed).
 */
function keysUnavailable(errors: Jose['errors'], error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  return error instanceof errors.JWKSTimeout || error.code === 'ERR_JWKS_INVALID' || error.constructor === errors.JOSEError;
}

/** What went wrong, for the caller, from jose's error classes. */
function refusal(errors: Jose['errors'], error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The JWT has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) return `The JWT's "${error.claim}" claim is not accepted (${error.reason}).`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The JWT is signed with an algorithm Sluice does not accept.';
  if (error instanceof errors.JWKSNoMatchingKey) return "No key of the issuer matches the JWT's key id (kid).";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The JWT's signature does not verify.";
  return `The JWT does not verify (${(error as InstanceType<Jose['errors']['JOSEError']>).code}).`;
}

/** A string claim, or null. */
export function stringClaim(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** A list-of-strings claim (a lone string counts as one); at most 100 entries are looked at. */
export function listClaim(payload: JWTPayload, name: string): string[] {
  const value = payload[name];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return [];
  return value.slice(0, 100).filter((item): item is string => typeof item === 'string' && item !== '');
}
