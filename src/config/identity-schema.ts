// sluice.yaml's transport security and identity settings: TLS on a listener, client certificates, trusted proxies that
// forward the mesh's identity (Envoy's x-forwarded-client-cert), and the JWT issuers consumers and admins come from.
import { isIP } from 'node:net';
import { z } from 'zod';
import { httpUrl, settingText, TEXT_LIMITS } from './limits.js';

/** `10.0.0.0/8`, `fd00::/8`, or a bare address; what policy/discovery.ts' parseCidr reads (config imports nothing of policy). */
function isNetwork(text: string): boolean {
  const [address, prefix, extra] = text.trim().split('/');
  if (address === undefined || extra !== undefined || address.includes('%')) return false;
  const family = isIP(address);
  if (family === 0) return false;
  // An IPv4-mapped network (::ffff:10.0.0.0/104) stands for an IPv4 one: its prefix is at least the 96 mapping bits.
  const least = family === 6 && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? 96 : 0;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) >= least && Number(prefix) <= (family === 4 ? 32 : 128));
}

const file = () => z.string().min(1).max(TEXT_LIMITS.url);

export const tlsSchema = z
  .object({
    /** PEM certificate chain and private key; both files are read again when either changes, without a restart. */
    certFile: file(),
    keyFile: file(),
    /** TLSv1.2 (the default) or TLSv1.3. */
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
    /** An OpenSSL cipher list for TLS 1.2 (TLS 1.3's suites are node's); node's default when absent. */
    ciphers: settingText().optional(),
    /** PEM CA bundle client certificates are verified against: mTLS. */
    clientCaFile: file().optional(),
    /**
     * With a client CA: `require` (the default) refuses a call without a valid client certificate; `optional` lets a call
     * without one authenticate by Sluice key or JWT. A certificate from another CA is refused either way.
     */
    clientCertificate: z.enum(['require', 'optional']).default('require'),
  })
  .strict();

/** Asymmetric JWS algorithms only: `none` and the HS* family (a shared secret, forgeable with a public key) are never accepted. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const issuerFields = {
  /** The `iss` every token must carry. */
  issuer: z.string().min(1).max(TEXT_LIMITS.url),
  /** Where the issuer's signing keys are (its JWKS); cached, fetched again for an unknown `kid` at most once per cooldown. */
  jwksUri: httpUrl(),
  /** The `aud` a token must carry (one of them). */
  audience: z.union([settingText(), z.array(settingText()).min(1).max(20)]),
  algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).default(['RS256', 'ES256']),
  /** Allowed difference between the issuer's clock and ours for `exp` and `nbf`. */
  clockToleranceSeconds: z.number().int().min(0).max(600).default(30),
  /** The least time between two fetches of the JWKS (an unknown `kid` within it is refused, not fetched). */
  jwksCooldownSeconds: z.number().int().min(1).max(3600).default(30),
  /** How long fetched keys are used before they are fetched again. */
  jwksCacheSeconds: z.number().int().min(1).max(86_400).default(600),
  /** The claim naming the caller's team. */
  teamClaim: settingText().default('team'),
  /** The claim listing the caller's groups. */
  groupsClaim: settingText().default('groups'),
};

const jwtIssuer = z.object(issuerFields).strict();

const adminOidc = z
  .object({
    ...issuerFields,
    /** The claim naming the admin role (admin, operator, viewer or team-owner); a token without one is refused. */
    roleClaim: settingText().default('sluice_role'),
  })
  .strict();

export const identitySchema = z
  .object({
    /**
     * A client certificate (or forwarded identity) that no identity rule maps to a consumer: refused, or refused and
     * reported as a discovery.
     */
    unmappedCertificate: z.enum(['refuse', 'discover']).default('refuse'),
    /** Direct peers (CIDRs or addresses) whose x-forwarded-client-cert header is believed: the mesh's sidecars or waypoints. */
    trustedProxies: z
      .array(z.string().max(TEXT_LIMITS.setting).refine(isNetwork, 'an IPv4 or IPv6 network, e.g. 10.0.0.0/8'))
      .max(1000)
      .default([]),
    /** Issuers whose JWTs authenticate consumers (`Authorization: Bearer <JWT>`), mapped to consumers by identity rules. */
    jwtIssuers: z.array(jwtIssuer).max(20).default([]),
    /**
     * PEM bundle of the roots the certificates trusted proxies forward (Cert=, Chain=) must chain to: read at start and
     * at a reload. Without it the proxy's word is taken for the chain's root.
     */
    forwardedCaFile: file().optional(),
    /** An OIDC issuer whose tokens the director API takes in place of admin tokens, the role named by a claim. */
    adminOidc: adminOidc.optional(),
  })
  .strict()
  .refine((identity) => identity.forwardedCaFile === undefined || identity.trustedProxies.length > 0, {
    message: 'forwardedCaFile checks the certificates trusted proxies forward: list them in trustedProxies',
    path: ['forwardedCaFile'],
  });

export type TlsConfig = z.infer<typeof tlsSchema>;
export type IdentityConfig = z.infer<typeof identitySchema>;
export type JwtIssuerConfig = z.infer<typeof jwtIssuer>;
export type AdminOidcConfig = z.infer<typeof adminOidc>;
