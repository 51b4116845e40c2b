// The key expiry policy (sluice.yaml `keys`): the end a new consumer key gets when its creator gives none, and the latest
// end it may be given. The director applies it to every key made through its API: created or rotated, from the API, the
// CLI or the console. Keys declared in sluice.yaml are the operator's: they live as long as the file declares them.
import type { KeysConfig } from '../config/keys-schema.js';
import { durationMs } from '../config/governance-schema.js';

export interface KeyExpiryPolicy {
  /** `keys.defaultExpiry`, e.g. `90d`; null when not set. */
  readonly defaultExpiry: string | null;
  readonly maxExpiry: string | null;
}

/** A key's end as decided (epoch ms, or null for none), or why the one asked for is refused. */
export type ExpiryDecision = { expiresAt: number | null } | { refused: string };

export function keyExpiryPolicy(config: KeysConfig): KeyExpiryPolicy {
  return { defaultExpiry: config.defaultExpiry ?? null, maxExpiry: config.maxExpiry ?? null };
}

const iso = (at: number) => new Date(at).toISOString();

/** The end a key gets when none is asked for: the default lifetime, else the longest allowed, else none. */
function defaultEnd(policy: KeyExpiryPolicy, now: number): number | null {
  const lifetime = policy.defaultExpiry ?? policy.maxExpiry;
  return lifetime === null ? null : now + durationMs(lifetime);
}

function latestEnd(policy: KeyExpiryPolicy, now: number): number | null {
  return policy.maxExpiry === null ? null : now + durationMs(policy.maxExpiry);
}

/**
 * A new key's end: `requested` absent takes the default; null (no end) only when no maximum is set; a time no later
 * than the maximum allows. (Whether a given time is in the future is the caller's check.)
 */
export function newKeyExpiry(policy: KeyExpiryPolicy, requested: number | null | undefined, now: number): ExpiryDecision {
  if (requested === undefined) return { expiresAt: defaultEnd(policy, now) };
  const latest = latestEnd(policy, now);
  if (latest === null) return { expiresAt: requested };
  if (requested === null)
    return { refused: `a key without an end is not allowed: keys.maxExpiry is ${policy.maxExpiry}; give an end by ${iso(latest)}` };
  if (requested > latest)
    return { refused: `${iso(requested)} is later than keys.maxExpiry (${policy.maxExpiry}) allows: ${iso(latest)} at the latest` };
  return { expiresAt: requested };
}

/**
 * A rotated key's end. Rotation renews the secret, not the grant: absent, the new key keeps the old key's end, except
 * that a key without one gets the default end when a default or maximum is set (a key made before the policy does not
 * escape it by rotation), and an end past the maximum is brought back to it. Given, it is a new key's.
 */
export function rotatedKeyExpiry(
  policy: KeyExpiryPolicy,
  requested: number | null | undefined,
  inherited: number | null,
  now: number,
): ExpiryDecision {
  if (requested !== undefined) return newKeyExpiry(policy, requested, now);
  if (inherited === null) return { expiresAt: defaultEnd(policy, now) };
  const latest = latestEnd(policy, now);
  return { expiresAt: latest !== null && inherited > latest ? latest : inherited };
}
