// Consumer keys and admin tokens: generated here, shown once, stored only as a SHA-256 hash and a display prefix.
import { createHash, randomBytes } from 'node:crypto';

/** The prefixes tell a leaked secret's kind at a glance (and to secret scanners): a consumer key or an admin token. */
const CONSUMER_KEY_PREFIX = 'sk-sluice-';
const ADMIN_TOKEN_PREFIX = 'sa-sluice-';
/** How much of a secret is kept in clear to tell keys apart in a listing. */
const DISPLAY_PREFIX_LENGTH = 12;

/**
 * The part of a secret shown in listings and the audit log: its first 12 characters, and never more than a quarter of
 * it. A generated secret (53 characters) shows its kind and two random characters; a key declared in sluice.yaml may be
 * as short as 8, and its first 12 would be all or most of it.
 */
export function displayPrefix(secret: string): string {
  return secret.slice(0, Math.min(DISPLAY_PREFIX_LENGTH, Math.floor(secret.length / 4)));
}

export interface GeneratedSecret {
  plaintext: string;
  hash: string;
  prefix: string;
}

/** The same hash the gateway computes from a presented key (src/policy/consumers.ts): SHA-256, hex. */
export function hashSecret(plaintext: string): string {
  return createHash('sha256').update(plaintext).digest('hex');
}

export function generateConsumerKey(): GeneratedSecret {
  return generate(CONSUMER_KEY_PREFIX);
}

export function generateAdminToken(): GeneratedSecret {
  return generate(ADMIN_TOKEN_PREFIX);
}

function generate(kind: string): GeneratedSecret {
  // 32 random bytes: far beyond guessing, and unsalted SHA-256 is then enough (there is no dictionary to try).
  const plaintext = `${kind}${randomBytes(32).toString('base64url')}`;
  return { plaintext, hash: hashSecret(plaintext), prefix: displayPrefix(plaintext) };
}
