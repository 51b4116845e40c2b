// Who may do what on the admin API: admin tokens (stored hashed) with roles, plus the bootstrap token from the config.
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import type { AdminOidcConfig } from '../config/identity-schema.js';
import { JwtVerifier, looksLikeJwt, SigningKeysUnavailable, stringClaim, TokenRefused } from '../identity/jwt.js';
import { ADMIN_ROLES, type AdminRole, type AdminToken, type DirectoryStore } from '../store/admin-store.js';
import { hashSecret } from '../store/secrets.js';
import { ApiError } from './errors.js';

/**
 * What a route needs: `read` (admin, operator, viewer), `write` (admin, operator), `admin` (admin only: admin tokens,
 * webhook secrets), or `team` (the above by method, and a team-owner for its own team's consumers and keys).
 */
export type Need = 'read' | 'write' | 'admin';

export interface Caller {
  /** Written to the audit log as who made a change. */
  actor: string;
  role: AdminRole;
  /** A team-owner's team. */
  team: string | null;
}

export type ApiEnv = { Variables: { caller: Caller } };

const BOOTSTRAP: Caller = { actor: 'bootstrap-token', role: 'admin', team: null };

export class AdminAuthenticator {
  private readonly store: DirectoryStore;
  private readonly bootstrap: Buffer | null;

  private readonly oidc: { config: AdminOidcConfig; verifier: JwtVerifier } | null;

  /**
   * `bootstrapToken`: an admin credential from the environment, for the first tokens to be made with. `oidc`: an issuer
   * whose JWTs are taken too, the role (and a team-owner's team) named by claims.
   */
  constructor(store: DirectoryStore, bootstrapToken: string | null, oidc: AdminOidcConfig | null = null) {
    this.store = store;
    this.bootstrap = bootstrapToken === null ? null : Buffer.from(hashSecret(bootstrapToken), 'hex');
    this.oidc = oidc === null ? null : { config: oidc, verifier: new JwtVerifier([oidc]) };
  }

  async authenticate(header: string | undefined): Promise<Caller> {
    if (header === undefined || !/^bearer /i.test(header)) {
      throw new ApiError(401, 'unauthenticated', 'Send an admin token as "Authorization: Bearer <token>".');
    }
    const presented = header.slice(7).trim();
    if (this.oidc !== null && looksLikeJwt(presented)) return this.fromOidc(this.oidc.config, this.oidc.verifier, presented);
    const hash = hashSecret(presented);
    if (this.bootstrap !== null && timingSafeEqual(Buffer.from(hash, 'hex'), this.bootstrap)) return BOOTSTRAP;
    const token = await this.store.findAdminTokenByHash(hash);
    if (token === null) throw new ApiError(401, 'unauthenticated', 'Unknown or revoked admin token.');
    return callerOf(token);
  }

  /** 401 for a token that does not verify; 403 for one that does but names no role (or a team-owner without a team). */
  private async fromOidc(config: AdminOidcConfig, verifier: JwtVerifier, token: string): Promise<Caller> {
    let verified;
    try {
      verified = await verifier.verify(token);
    } catch (error) {
      if (error instanceof TokenRefused) throw new ApiError(401, 'unauthenticated', error.message);
      if (error instanceof SigningKeysUnavailable) throw new ApiError(503, 'unavailable', error.message);
      throw error;
    }
    const role = stringClaim(verified.payload, config.roleClaim);
    if (role === null || !(ADMIN_ROLES as readonly string[]).includes(role)) {
      throw new ApiError(403, 'forbidden', `The token's "${config.roleClaim}" claim names no admin role (${ADMIN_ROLES.join(', ')}).`);
    }
    const team = stringClaim(verified.payload, config.teamClaim);
    if (role === 'team-owner' && team === null)
      throw new ApiError(403, 'forbidden', `A team-owner token needs a "${config.teamClaim}" claim.`);
    return { actor: `oidc:${verified.issuer}#${verified.sub}`, role: role as AdminRole, team: role === 'team-owner' ? team : null };
  }
}

function callerOf(token: AdminToken): Caller {
  return { actor: `admin-token:${token.name}#${token.id}`, role: token.role, team: token.team };
}

/** Refuses (403) a caller whose role does not grant `need`; team-owners pass only through `allowTeam`. */
export function authorize(c: Context<ApiEnv>, need: Need): Caller {
  const caller = c.get('caller');
  const granted =
    caller.role === 'admin' || (caller.role === 'operator' && need !== 'admin') || (caller.role === 'viewer' && need === 'read');
  if (!granted) throw forbidden(caller, need);
  return caller;
}

/** For consumers and keys: every role as `authorize`, and a team-owner when the team in question is its own. */
export function authorizeTeam(c: Context<ApiEnv>, need: Need, team: string | null | undefined): Caller {
  const caller = c.get('caller');
  if (caller.role === 'team-owner') {
    if (team !== null && team !== undefined && team === caller.team) return caller;
    throw new ApiError(403, 'forbidden', `A team-owner token manages only team ${caller.team}'s consumers.`);
  }
  return authorize(c, need);
}

function forbidden(caller: Caller, need: Need): ApiError {
  const what =
    need === 'admin'
      ? 'admin tokens and webhook secrets are for the admin role'
      : need === 'write'
        ? 'changes need the admin or operator role'
        : 'reading needs the admin, operator or viewer role';
  return new ApiError(403, 'forbidden', `Role ${caller.role} may not do this: ${what}.`);
}
